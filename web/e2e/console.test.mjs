// Region and province consoles on a desktop: held-record review, providers and their API keys,
// the methodology review lifecycle, and creating users.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { apiClient, desktop, launchBrowser, openPage, pseudonymise, screenshot, shanghaiIso, signInUi, startServer, writeJson, checkA11y } from './harness.mjs'

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

//! Two pairs of metro trips ten minutes apart, the second 100 km: anti-fraud holds each second trip.
async function ingestSpeedingTrips() {
  const key = randomBytes(32).toString('hex')
  const subject = pseudonymise(key, 'SZT-E2E-HELD')
  writeJson(join(server.dir, 'setup.json'), {
    providers: [{ key: 'e2e-metro', name: '端到端测试地铁', kind: 'transit_operator', regions: ['440300'], methodologies: ['travel.metro'], pseudonym_key: key }],
    residents: [{ username: 'e2e_held_rider', display_name: '被拦截的乘客', region: '440305' }],
    bindings: [{ provider: 'e2e-metro', subject_ref: subject, username: 'e2e_held_rider' }],
  })
  const trip = (id, minutesBack, km) => ({ provider_record_id: id, subject_ref: subject, methodology: 'travel.metro', occurred_at: shanghaiIso(minutesBack), region: '440305', inputs: { distance_km: km } })
  const records = [trip('held-a1', 2 * 1440 + 10, 5), trip('held-a2', 2 * 1440, 100), trip('held-b1', 1440 + 10, 5), trip('held-b2', 1440, 100)]
  const file = join(server.dir, 'e2e-metro.ndjson')
  writeJson(file, records.map((r) => JSON.stringify(r)).join('\n') + '\n')
  const { stdout } = await server.cli(['ingest', file, '--setup', join(server.dir, 'setup.json'), '--json'])
  const summary = JSON.parse(stdout.trim().split('\n').pop())
  assert.equal(summary.held, 2, stdout)
}

test('a region admin sees the console menu, and approves and rejects held records', async () => {
  await ingestSpeedingTrips()
  const { page, assertClean } = await openPage(browser, server.url, { viewport: desktop })
  await signInUi(page, 'region_admin')
  const sidebar = page.locator('aside.sidebar')
  await sidebar.getByText('地市管理', { exact: true }).waitFor()
  for (const item of ['数据提供方管理', '待审核记录', '方法学审核', '用户与角色']) await sidebar.getByRole('menuitem', { name: item }).waitFor()
  await page.getByTestId('roles').getByText('地市管理员 · 440300').waitFor()
  assert.equal(await sidebar.getByRole('menuitem', { name: '我的碳账户' }).count(), 0, 'an admin is not shown resident pages')
  assert.equal(await sidebar.getByRole('menuitem', { name: '绑定确认' }).count(), 0, 'an admin is not shown provider pages')
  await sidebar.getByRole('menuitem', { name: '待审核记录' }).click()

  const rows = page.getByTestId('records-table').locator('.el-table__body-wrapper tr')
  await rows.first().waitFor()
  assert.equal(await rows.count(), 2)
  await page.getByTestId('records-table').getByText('行程速度异常').first().waitFor()
  await screenshot(page, 'console-held-desktop')
  await checkA11y(page, 'console-held-desktop')

  await rows.first().getByTestId('approve').click()
  await page.getByText(/已批准并计入/).waitFor()
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=records-table] .el-table__body-wrapper tr').length === 1)

  await rows.first().getByTestId('reject').click()
  const dialog = page.locator('.el-dialog')
  await dialog.getByTestId('confirm-reject').click()
  await dialog.locator('.el-form-item__error').getByText('say why').waitFor()
  await dialog.locator('textarea[name=reason]').fill('同一张卡十分钟内乘坐 100 公里，不可能。')
  await dialog.getByTestId('confirm-reject').click()
  await page.getByText('没有待审核的记录').waitFor()
  const token = await api.login('region_admin')
  assert.equal((await api.get('/api/v1/ingest/held', token)).records.length, 0)
  await assertClean()
})

test('a region admin reviews the records quarantined in the region, filtered by reason in the URL', async () => {
  const key = randomBytes(32).toString('hex')
  writeJson(join(server.dir, 'tram-setup.json'), {
    providers: [{ key: 'e2e-tram', name: '端到端测试有轨电车', kind: 'transit_operator', regions: ['440300'], methodologies: ['travel.metro'], pseudonym_key: key }],
    residents: [],
    bindings: [],
  })
  const subject = pseudonymise(key, 'TRAM-1')
  const records = [
    { provider_record_id: 'tram-negative', subject_ref: subject, methodology: 'travel.metro', occurred_at: shanghaiIso(60), region: '440305', inputs: { distance_km: -3 } },
    { provider_record_id: 'tram-unknown', subject_ref: subject, methodology: 'travel.teleport', occurred_at: shanghaiIso(60), region: '440305', inputs: {} },
  ]
  const file = join(server.dir, 'e2e-tram.ndjson')
  writeJson(file, records.map((r) => JSON.stringify(r)).join('\n') + '\n')
  const { stdout } = await server.cli(['ingest', file, '--setup', join(server.dir, 'tram-setup.json'), '--json'])
  assert.equal(JSON.parse(stdout.trim().split('\n').pop()).quarantined, 2, stdout)

  const { page, assertClean } = await openPage(browser, server.url, { viewport: desktop })
  await signInUi(page, 'region_admin')
  await page.locator('aside.sidebar').getByRole('menuitem', { name: '隔离记录' }).click()
  const table = page.getByTestId('records-table')
  await table.getByText('tram-negative').waitFor()
  await table.getByText('tram-unknown').waitFor()
  await table.getByText('输入无效').waitFor()
  await screenshot(page, 'console-quarantined-desktop')
  await checkA11y(page, 'console-quarantined-desktop')
  await page.goto('/console/quarantined?reason=invalid_inputs')
  await table.getByText('tram-negative').waitFor()
  assert.equal(await table.getByText('tram-unknown').count(), 0)
  const token = await api.login('region_admin')
  const answer = await api.get('/api/v1/ingest/quarantined?reason=invalid_inputs', token)
  assert.deepEqual(answer.records.map((r) => r.provider_record_id).filter((id) => id.startsWith('tram-')), ['tram-negative'])
  await assertClean()
})

test('an admin lists providers, creates an API key that signs requests, and revokes it', async () => {
  const { page, assertClean } = await openPage(browser, server.url, { viewport: desktop })
  await signInUi(page, 'province_admin')
  await page.goto('/console/providers')
  const table = page.getByTestId('providers-table')
  await table.getByRole('link', { name: 'demo-sz-metro' }).waitFor()
  await screenshot(page, 'console-providers-desktop')
  await checkA11y(page, 'console-providers-desktop')
  await table.getByRole('link', { name: 'demo-sz-metro' }).click()
  await page.fill('input[name=label]', 'e2e console key')
  await page.getByTestId('create-key').click()
  const shown = await page.getByTestId('new-key').innerText()
  const keyId = /key_id: (\S+)/.exec(shown)?.[1]
  const secret = /secret: (\S+)/.exec(shown)?.[1]
  assert.ok(keyId && secret, shown)
  const me = await api.signed('GET', '/api/v1/provider/me', undefined, keyId, secret)
  assert.equal(me.key, 'demo-sz-metro')

  await page.fill('input[name=key_id]', keyId)
  await page.getByRole('button', { name: '吊销', exact: true }).click()
  await page.getByText(`密钥 ${keyId} 已吊销`).waitFor()
  await assert.rejects(api.signed('GET', '/api/v1/provider/me', undefined, keyId, secret), /401/)
  await assertClean()
})

test('the province drafts a new version, reviews, approves and activates it; the public catalogue then shows it', async () => {
  const { page, assertClean } = await openPage(browser, server.url, { viewport: desktop })
  await signInUi(page, 'province_admin')
  await page.waitForURL('**/console/methodologies')
  const table = page.getByTestId('versions-table')
  await table.locator('tr').filter({ hasText: 'travel.metro' }).filter({ hasText: 'v1' }).first().getByRole('link').click()
  await page.getByRole('button', { name: '以此为基础起草新版本' }).click()
  await page.waitForURL('**/console/methodologies/new?from=*')
  const text = page.locator('textarea[name=definition]')
  await page.waitForFunction(() => /version = 2/.test(document.querySelector('textarea[name=definition]')?.value ?? ''))
  const toml = (await text.inputValue()).replace(/^description_zh = ".*"$/m, 'description_zh = "地铁出行（2026 修订版，端到端测试）"')
  await text.fill(toml)
  await page.getByRole('button', { name: '检查' }).click()
  await page.getByText('检查通过，没有发现问题').waitFor()
  await page.getByTestId('save-draft').click()
  await page.waitForURL('**/console/methodology-versions/*')
  const state = page.getByTestId('version-state')
  await state.getByText('草稿').waitFor()

  await page.getByTestId('step-submit').click()
  await state.getByText('已提交').waitFor()
  await page.getByTestId('step-review').click()
  await state.getByText('评审中').waitFor()
  await page.getByTestId('step-comments').click()
  await page.locator('.el-dialog textarea[name=comment]').fill('因子沿用 2021 年深圳方法学，建议下一版更新。')
  await page.getByTestId('step-confirm').click()
  await page.getByTestId('comments').getByText('因子沿用 2021 年深圳方法学').waitFor()
  await page.getByTestId('step-approve').click()
  await page.locator('.el-dialog textarea[name=reason]').fill('专家评审通过')
  await page.getByTestId('step-confirm').click()
  await state.getByText('已批准').waitFor()
  await page.getByTestId('step-activate').click()
  await page.getByTestId('step-confirm').click()
  await state.getByText('生效中').waitFor()
  await screenshot(page, 'console-methodology-activated-desktop')
  await checkA11y(page, 'console-methodology-activated-desktop')

  const detail = await api.get('/api/v1/methodologies/travel.metro')
  const v2 = detail.versions.find((v) => v.version === 2)
  assert.equal(v2.state, 'active')
  await page.goto('/methodologies/travel.metro/')
  await page.getByText('v2 · 生效中').waitFor()
  await page.locator('.description').getByText('地铁出行（2026 修订版，端到端测试）').waitFor()
  await assertClean()
})

test("creating a user shows the server's refusal beside the roles, then creates a provider user", async () => {
  const { page, assertClean } = await openPage(browser, server.url, { viewport: desktop })
  await signInUi(page, 'province_admin')
  await page.goto('/console/users')
  await page.getByRole('button', { name: '创建用户' }).first().click()
  const dialog = page.locator('.el-dialog')
  await dialog.locator('input[name=username]').fill('e2e_city_admin')
  await dialog.locator('input[name=display_name]').fill('佛山市管理员')
  await dialog.locator('input[name=password]').fill('City-admin-2026')
  await dialog.locator('.role-row .el-select').first().click()
  await page.getByRole('option', { name: '地市管理员' }).click()
  await dialog.getByRole('button', { name: '创建用户' }).click()
  await dialog.locator('.el-form-item__error').getByText('needs a region').waitFor()
  await screenshot(page, 'console-users-error-desktop')
  await checkA11y(page, 'console-users-error-desktop')
  await dialog.locator('.role-row .el-select').nth(1).click()
  await page.getByRole('option', { name: '佛山市 440600' }).click()
  await dialog.getByRole('button', { name: '创建用户' }).click()
  await page.getByText(/已创建用户 e2e_city_admin/).waitFor()
  await page.getByRole('cell', { name: 'e2e_city_admin' }).waitFor()
  await assertClean()
})
