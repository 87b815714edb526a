// Residents on a phone: the demo resident's account, and a new resident binding a metro card with
// the provider's confirmation code, then seeing the trips the provider reports.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { apiClient, desktop, launchBrowser, openPage, pseudonymise, screenshot, scrollsSideways, shanghaiIso, signInUi, startServer, checkA11y } from './harness.mjs'

let server, browser, api

before(async () => {
  server = await startServer()
  browser = await launchBrowser()
  api = apiClient(server.url)
})

after(async () => {
  await browser?.close()
  await server?.stop()
})

const zh = (n) => new Intl.NumberFormat('zh-CN').format(n)

test("the demo resident's account shows the API's totals, a daily chart and paged, explained history", async () => {
  const token = await api.login('resident')
  const me = await api.get('/api/v1/accounts/me', token)
  const firstPage = await api.get('/api/v1/accounts/me/records?limit=20&offset=0', token)
  assert.ok(me.totals.records > 20, 'the demo resident should have more than one page of records')

  const { page, assertClean } = await openPage(browser, server.url)
  await signInUi(page, 'resident')
  await page.waitForURL('**/me')
  await page.getByTestId('user-menu').getByText(me.name).waitFor()
  await page.getByTestId('points-balance').getByText(zh(me.points), { exact: true }).waitFor()
  await page.getByTestId('grams-total').getByText(zh(me.totals.grams)).waitFor()
  await page.getByTestId('records-count').getByText(zh(me.totals.records), { exact: true }).waitFor()
  await page.getByTestId('daily-chart').locator('canvas').waitFor()
  for (const domain of Object.keys(me.totals.by_domain)) {
    await page.getByTestId('by-domain').getByText(`${zh(me.totals.by_domain[domain])} g`).waitFor()
  }
  assert.equal(await scrollsSideways(page), false, 'the account page scrolls sideways at 375 px')
  await screenshot(page, 'resident-account-375')
  await checkA11y(page, 'resident-account-375')

  // The menu offers the resident's pages and no console.
  await page.getByRole('button', { name: '打开菜单' }).click()
  const drawer = page.locator('.el-drawer')
  await drawer.getByRole('menuitem', { name: '卡号绑定' }).waitFor()
  assert.equal(await drawer.getByText('省级管理').count(), 0)
  assert.equal(await drawer.getByText('数据提供方管理').count(), 0)
  await drawer.getByRole('menuitem', { name: '减排记录' }).click()

  await page.waitForURL('**/me/history')
  const records = page.getByTestId('history-record')
  await records.first().waitFor()
  assert.equal(await records.count(), firstPage.records.length)
  const first = firstPage.records[0]
  await records.first().locator('.el-collapse-item__header').click()
  await records.first().getByText(first.explanation.formula).first().waitFor()
  await records.first().getByText(first.provider_record_id).waitFor()
  assert.equal(await scrollsSideways(page), false, 'the history page scrolls sideways at 375 px')
  await screenshot(page, 'resident-history-375')
  await checkA11y(page, 'resident-history-375')
  const second = page.waitForResponse((r) => r.url().includes('/api/v1/accounts/me/records') && r.url().includes('offset=20'))
  await page.getByTestId('next-page').click()
  const secondPage = await (await second).json()
  await page.getByText(secondPage.records[0].provider_record_id, { exact: false }).first().waitFor({ state: 'attached' })
  await assertClean()
})

test('a new resident binds a metro card with the code the provider sets, and sees the trips reported afterwards', async () => {
  await api.post('/api/v1/auth/register', { username: 'e2e_rider', password: 'Metro-rider-2026', display_name: '地铁通勤者' })
  const admin = await api.login('province_admin')
  const { providers } = await api.get('/api/v1/providers', admin)
  const metro = await api.get(`/api/v1/providers/${providers.find((p) => p.key === 'demo-sz-metro').id}`, admin)
  const reference = 'SZT-E2E-0001'

  const resident = await openPage(browser, server.url)
  const rp = resident.page
  await signInUi(rp, 'e2e_rider', 'Metro-rider-2026')
  await rp.goto('/me/bindings')
  // An unknown provider is refused beside the provider field.
  await rp.fill('input[name=provider]', 'no-such-provider')
  await rp.fill('input[name=reference]', reference)
  await rp.getByRole('button', { name: '申请绑定' }).click()
  const providerItem = rp.locator('.el-form-item').filter({ has: rp.locator('input[name=provider]') })
  await providerItem.locator('.el-form-item__error').getByText('unknown provider no-such-provider').waitFor()
  await rp.fill('input[name=provider]', 'demo-sz-metro')
  await rp.getByRole('button', { name: '申请绑定' }).click()
  const binding = rp.getByTestId('binding').first()
  await binding.getByTestId('binding-status').getByText('待确认').waitFor()
  await binding.getByText('等待数据提供方发送确认码').waitFor()
  await screenshot(rp, 'resident-binding-pending-375')
  await checkA11y(rp, 'resident-binding-pending-375')

  // The provider sets the code it gave the card holder.
  const provider = await openPage(browser, server.url, { viewport: desktop })
  const pp = provider.page
  await signInUi(pp, 'provider')
  await pp.waitForURL('**/provider/bindings')
  const subject = pseudonymise(metro.pseudonym_key, reference)
  const row = pp.getByTestId('pending-bindings').locator('tr').filter({ hasText: subject })
  await row.locator('input[name=code]').fill('482913')
  await row.getByRole('button', { name: '设置确认码' }).click()
  await row.getByRole('button', { name: '重新设置' }).waitFor()
  await screenshot(pp, 'provider-bindings-desktop')
  await checkA11y(pp, 'provider-bindings-desktop')

  // The resident confirms: a wrong code first, then the right one.
  await rp.reload()
  await binding.getByText('数据提供方已发送确认码').waitFor()
  await binding.locator('input[name=code]').fill('000000')
  await binding.getByRole('button', { name: '确认绑定' }).click()
  await binding.locator('.el-form-item__error').getByText('wrong code').waitFor()
  await binding.locator('input[name=code]').fill('482913')
  await binding.getByRole('button', { name: '确认绑定' }).click()
  await binding.getByTestId('binding-status').getByText('已绑定').waitFor()

  // The provider reports two trips, signed with a fresh API key.
  const users = await api.get('/api/v1/users?q=provider&role=provider', admin)
  const key = await api.post(`/api/v1/users/${users.users[0].id}/api-keys`, { label: 'e2e' }, admin)
  const trips = [
    { provider_record_id: 'e2e-trip-1', subject_ref: subject, methodology: 'travel.metro', occurred_at: shanghaiIso(180), region: '440305', inputs: { distance_km: 10 } },
    { provider_record_id: 'e2e-trip-2', subject_ref: subject, methodology: 'travel.metro', occurred_at: shanghaiIso(60), region: '440305', inputs: { distance_km: 23.6 } },
  ]
  const report = await api.signed('POST', '/api/v1/ingest/batches', JSON.stringify(trips), key.key_id, key.secret)
  assert.equal(report.credited, 2, JSON.stringify(report))

  await rp.goto('/me')
  await rp.getByTestId('grams-total').getByText(zh(report.grams)).waitFor()
  await rp.getByTestId('records-count').getByText('2', { exact: true }).waitFor()
  await screenshot(rp, 'resident-account-after-trips-375')
  await checkA11y(rp, 'resident-account-after-trips-375')
  await rp.goto('/me/history')
  await rp.getByText('e2e-trip-2', { exact: false }).waitFor({ state: 'attached' })
  assert.equal(await rp.getByTestId('history-record').count(), 2)

  // Unbinding asks first, then ends the binding.
  await rp.goto('/me/bindings')
  await binding.getByRole('button', { name: '解除绑定' }).click()
  await rp.locator('.el-message-box').getByRole('button', { name: '确定' }).click()
  await rp.getByText('还没有绑定').waitFor()
  assert.equal((await api.get('/api/v1/bindings', await api.login('e2e_rider', 'Metro-rider-2026'))).bindings.length, 0)

  await resident.assertClean()
  await provider.assertClean()
})

test('a resident opens a household, adds a member, and sees the household total the API computes', async () => {
  await api.post('/api/v1/auth/register', { username: 'e2e_spouse', password: 'Family-time-2026', display_name: '家人' })
  const { page, assertClean } = await openPage(browser, server.url)
  await signInUi(page, 'resident')
  await page.goto('/me/households')
  await page.getByText('您还没有加入家庭').waitFor()
  await page.fill('input[name=name]', '陈家')
  await page.locator('.create .el-select').click()
  await page.keyboard.type('南山')
  await page.getByRole('option', { name: '南山区 440305' }).click()
  await page.getByRole('button', { name: '创建家庭' }).last().click()
  const household = page.getByTestId('household')
  await household.getByText('陈家').waitFor()
  await household.locator('input[name=username]').fill('no_such_user')
  await household.getByRole('button', { name: '添加', exact: true }).click()
  await household.locator('.el-form-item__error').getByText('no such user').waitFor()
  await household.locator('input[name=username]').fill('e2e_spouse')
  await household.getByRole('button', { name: '添加', exact: true }).click()
  await household.getByText('@e2e_spouse').waitFor()
  assert.equal(await scrollsSideways(page), false, 'the household page scrolls sideways at 375 px')
  await screenshot(page, 'resident-household-375')
  await checkA11y(page, 'resident-household-375')

  const token = await api.login('resident')
  const { accounts } = await api.get('/api/v1/accounts', token)
  const home = accounts.find((a) => a.kind === 'household')
  const statement = await api.get(`/api/v1/accounts/${home.id}`, token)
  await household.getByRole('link', { name: '陈家' }).click()
  await page.getByRole('heading', { name: '陈家' }).waitFor()
  await page.getByText('家庭合计减排量').waitFor()
  await page.getByTestId('household-shared').getByText(zh(statement.totals.household_shared_grams)).waitFor()
  await assertClean()
})

test('signing out ends the session and hides the personal menu', async () => {
  const { page, assertClean } = await openPage(browser, server.url)
  await signInUi(page, 'resident')
  await page.getByTestId('user-menu').click()
  await page.getByTestId('sign-out').click()
  await page.waitForURL((u) => u.pathname === '/')
  await page.getByRole('link', { name: '登录' }).waitFor()
  await page.goto('/me')
  await page.waitForURL((u) => u.pathname === '/login' && u.searchParams.get('next') === '/me')
  await assertClean()
})

test('a resident downloads their data, then deletes the account and can no longer sign in', async () => {
  await api.post('/api/v1/auth/register', { username: 'e2e_leaver', password: 'Leaving-soon-2026', display_name: '将要离开' })
  const { page, context, assertClean } = await openPage(browser, server.url)
  await signInUi(page, 'e2e_leaver', 'Leaving-soon-2026')
  await page.waitForURL('**/me')
  await page.goto('/me/data')

  const download = page.waitForEvent('download')
  await page.getByTestId('export-data').click()
  const file = await download
  assert.match(file.suggestedFilename(), /^tanpuhui-personal-data-\d{4}-\d{2}-\d{2}\.json$/)
  const exported = JSON.parse(await readFile(await file.path(), 'utf8'))
  assert.equal(exported.format, 'tanpuhui-personal-data/1')
  assert.equal(exported.user.username, 'e2e_leaver')
  assert.equal(exported.user.display_name, '将要离开')
  await page.getByTestId('exported').waitFor()
  await screenshot(page, 'resident-my-data-375')
  await checkA11y(page, 'resident-my-data-375')

  // A wrong password is refused beside the field, and the session survives it.
  await page.getByTestId('delete-password').fill('not-my-password')
  await page.getByTestId('delete-understand').click()
  await page.getByTestId('delete-account').click()
  await page.locator('.el-message-box').getByRole('button', { name: '注销账户' }).click()
  const passwordItem = page.locator('.el-form-item').filter({ has: page.getByTestId('delete-password') })
  await passwordItem.locator('.el-form-item__error').getByText('wrong password').waitFor()
  assert.equal(new URL(page.url()).pathname, '/me/data')

  await page.getByTestId('delete-password').fill('Leaving-soon-2026')
  await page.getByTestId('delete-account').click()
  await page.locator('.el-message-box').getByRole('button', { name: '注销账户' }).click()
  await page.waitForURL((u) => new URL(u).pathname === '/')
  await page.getByText('账户已注销').waitFor()
  await page.getByTestId('user-menu').waitFor({ state: 'detached' })
  const refused = await fetch(server.url + '/api/v1/auth/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'e2e_leaver', password: 'Leaving-soon-2026' }),
  })
  assert.equal(refused.status, 401)
  await assertClean()
  await context.close()
})
