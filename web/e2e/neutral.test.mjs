// Carbon-neutral events in the browser (docs/neutral.md): tree planting is ingested and issued as
// PHCER; the demo enterprise holds 20 units in a registry account. It registers a conference
// with the footprint shown before saving (meals counted by calculator version 2), neutralises it
// with too few units (refused beside the quantity) then with the units required, and the public
// page opened from the URL the certificate carries shows the retired serial blocks, which open the
// registry explorer. A resident neutralises a personal footprint with points at the published rate.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { apiClient, checkA11y, desktop, launchBrowser, openPage, pseudonymise, screenshot, scrollsSideways, signInUi, startServer, writeJson } from './harness.mjs'

let server, browser, api
const year = new Date().getFullYear() - 1

async function issueUnits() {
  const key = randomBytes(32).toString('hex')
  const subject = pseudonymise(key, 'TREE-NEUTRAL-1')
  const setup = {
    providers: [{ key: 'e2e-forest', name: '端到端测试林业局', kind: 'forestry', regions: ['440300'], methodologies: ['sink.tree_planting'], pseudonym_key: key }],
    residents: [{ username: 'e2e_neutral_planter', display_name: '植树志愿者', region: '440305' }],
    bindings: [{ provider: 'e2e-forest', subject_ref: subject, username: 'e2e_neutral_planter' }],
  }
  // 5,000 trees for a year at 6,000 g each: 30 t.
  const record = { provider_record_id: 'planting-neutral-1', subject_ref: subject, methodology: 'sink.tree_planting', occurred_at: `${year}-12-05T09:30:00+08:00`, region: '440305', inputs: { trees: 5000, years: 1 } }
  writeJson(join(server.dir, 'setup.json'), setup)
  writeJson(join(server.dir, 'e2e-forest.ndjson'), JSON.stringify(record) + '\n')
  await server.cli(['ingest', join(server.dir, 'e2e-forest.ndjson'), '--setup', join(server.dir, 'setup.json'), '--json'])

  const admin = await api.login('province_admin')
  const batch = await api.post('/api/v1/certify/batches', { methodology: 'sink.tree_planting', region: '440300', vintage_from: `${year}-12-01`, vintage_until: `${year}-12-31`, notice_days_working: 0 }, admin)
  const { users: verifiers } = await api.get('/api/v1/users?role=verifier', admin)
  await api.post(`/api/v1/certify/batches/${batch.id}/verifier`, { user_id: verifiers[0].id }, admin)
  const verifier = await api.login('verifier')
  const opened = await api.get(`/api/v1/certify/batches/${batch.id}`, admin)
  await api.post(`/api/v1/certify/batches/${batch.id}/approval`, { grams: opened.grams_locked }, verifier)
  await api.post(`/api/v1/certify/batches/${batch.id}/issuance`, {}, admin)
  return admin
}

async function put(path, body, token) {
  const r = await fetch(server.url + path, { method: 'PUT', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) })
  const json = await r.json()
  if (!r.ok) throw new Error(`PUT ${path}: ${r.status} ${JSON.stringify(json)}`)
  return json
}

async function fillNumber(page, testId, value) {
  const input = page.getByTestId(testId).locator('input')
  await input.fill(String(value))
  await input.blur()
}

before(async () => {
  server = await startServer()
  browser = await launchBrowser()
  api = apiClient(server.url)
})

after(async () => {
  await browser?.close()
  await server?.stop()
})

test('an organiser registers an event, sees its footprint, neutralises it with held units, and its certificate opens the public page', async () => {
  const admin = await issueUnits()
  const { users } = await api.get('/api/v1/users?role=enterprise', admin)
  const organiser = users.find((u) => u.username === 'enterprise')
  const account = await api.post('/api/v1/registry/accounts', { kind: 'enterprise', name: '绿源小微企业', region: '440300', members: [organiser.id] }, admin)
  await api.post('/api/v1/registry/transfers', { idempotency_key: 'e2e-neutral-seed', from: 'GD-OP-440300', to: account.account_no, units: 20 }, admin)

  // 100 local rail trips, 70 hotel nights, 5,000 kWh and 400 meals with meat: 121,920 + 2,380,000
  // + 2,021,000 + 958,668 = 5,481,588 g, 6 units.
  const inputs = { travel: [{ mode: 'rail', band: 'local', attendees: 100 }], hotel_nights: 70, electricity_kwh: 5000, printed_kg: 0, meals: { meat: 400, vegetarian: 0 } }
  const expected = await api.post('/api/v1/neutral/footprint', { footprint: inputs })
  assert.equal(expected.grams, 5_481_588)
  assert.equal(expected.units_required, 6)

  const { page, assertClean } = await openPage(browser, server.url, { viewport: desktop })
  await signInUi(page, 'enterprise')
  await page.goto('/neutral/register')
  await page.getByTestId('meals-meat').waitFor()
  await page.fill('input[name=name]', '2026 粤港澳绿色低碳峰会')
  for (const [name, day] of [['starts_on', '2026-12-08'], ['ends_on', '2026-12-09']]) {
    await page.fill(`input[name=${name}]`, day)
    await page.press(`input[name=${name}]`, 'Enter')
    await page.keyboard.press('Escape')
  }
  await page.getByTestId('city-picker').click()
  await page.keyboard.type('深圳')
  await page.locator('.el-select-dropdown__item:visible', { hasText: '深圳市' }).first().click()
  await page.fill('input[name=venue]', '深圳会展中心')
  await fillNumber(page, 'travel-attendees', 100)
  await fillNumber(page, 'hotel-nights', 70)
  await fillNumber(page, 'electricity', 5000)
  await fillNumber(page, 'meals-meat', 400)
  await page.getByTestId('estimate').click()
  await page.getByTestId('estimate-units').getByText('6').waitFor()
  await page.getByTestId('estimate-tonnes').getByText('5.482').waitFor()
  await screenshot(page, 'neutral-register-desktop')
  await checkA11y(page, 'neutral-register-desktop')
  await page.getByTestId('register-event').click()
  await page.waitForURL(/\/neutral\/mine\/\d+$/)
  const id = Number(new URL(page.url()).pathname.split('/').pop())
  const registered = await api.get(`/api/v1/neutral/events/${id}`)
  assert.equal(registered.footprint.grams, 5_481_588)
  assert.equal(registered.footprint.calculator, 'footprint.event@2')
  assert.equal(registered.city, '440300')
  assert.equal(registered.starts_on, '2026-12-08')

  // Five units are one short: refused beside the quantity, nothing retired.
  await page.getByTestId('units-required').getByText('6').waitFor()
  await fillNumber(page, 'units-input', 5)
  await page.getByTestId('retire-units').click()
  await page.getByTestId('units-form').locator('.el-form-item__error', { hasText: '6' }).waitFor()
  await screenshot(page, 'neutral-refused-desktop')
  await checkA11y(page, 'neutral-refused-desktop')
  assert.equal((await api.get(`/api/v1/neutral/events/${id}`)).status, 'registered')
  await fillNumber(page, 'units-input', 6)
  await page.getByTestId('retire-units').click()
  await page.waitForURL(new RegExp(`/neutral/events/${id}$`))
  await page.getByTestId('event-status').getByText('已碳中和').waitFor()
  await assertClean()

  const event = await api.get(`/api/v1/neutral/events/${id}`)
  assert.equal(event.units_retired, 6)
  const serials = event.retirements.flatMap((r) => r.serials)
  assert.ok(serials.length > 0)
  const held = await api.get(`/api/v1/registry/accounts/${account.account_no}`, await api.login('enterprise'))
  assert.equal(held.held, 14)

  // The certificate carries the page's URL (its QR code and its metadata keywords).
  const pdf = await fetch(server.url + event.certificate)
  assert.equal(pdf.status, 200)
  assert.equal(pdf.headers.get('content-type'), 'application/pdf')
  const text = Buffer.from(await pdf.arrayBuffer()).toString('latin1')
  const url = text.match(/https?:\/\/[^\s()<>]+\/neutral\/events\/\d+/)?.[0]
  assert.ok(url, 'the certificate names the public page')
  const pagePath = new URL(url).pathname
  assert.equal(pagePath, `/neutral/events/${id}`)

  const phone = await openPage(browser, server.url)
  await phone.page.goto(pagePath)
  await phone.page.getByTestId('event-name').getByText('2026 粤港澳绿色低碳峰会').waitFor()
  await phone.page.getByTestId('event-tonnes').getByText('5.482').waitFor()
  await phone.page.getByTestId('neutral-banner').waitFor()
  for (const s of serials) await phone.page.getByTestId('retired-serial').getByText(s, { exact: true }).waitFor()
  assert.equal(await phone.page.getByTestId('certificate-link').getAttribute('href'), event.certificate)
  await phone.page.getByTestId('footprint-factor').filter({ hasText: 'food.meal.meat_based' }).waitFor()
  await screenshot(phone.page, 'neutral-event-375')
  await checkA11y(phone.page, 'neutral-event-375')
  assert.equal(await scrollsSideways(phone.page), false, 'the event page scrolls sideways at 375 px')
  await phone.page.getByTestId('retired-serial').first().click()
  await phone.page.waitForURL(/\/registry\?serial=/)
  await phone.page.getByTestId('block-status').getByText('已注销').first().waitFor()

  await phone.page.goto('/neutral/events')
  await phone.page.getByTestId('neutral-events').getByText('2026 粤港澳绿色低碳峰会').waitFor()
  await checkA11y(phone.page, 'neutral-events-375')
  assert.equal(await scrollsSideways(phone.page), false, 'the events list scrolls sideways at 375 px')
  await phone.assertClean()
})

test('a resident neutralises a personal footprint with points at the published rate', async () => {
  const admin = await api.login('province_admin')
  // The platform's inventory: the operator account's remaining units (issued by the first test).
  const rate = await put('/api/v1/neutral/points-rate', { points_per_unit: 1, inventory_account_no: 'GD-OP-440300' }, admin)
  assert.equal(rate.points_per_unit, 1)
  const resident = await api.login('resident')
  const before = (await api.get('/api/v1/accounts/me', resident)).points

  const phone = await openPage(browser, server.url)
  await signInUi(phone.page, 'resident')
  await phone.page.goto('/neutral/register')
  await phone.page.getByTestId('meals-meat').waitFor()
  await phone.page.fill('input[name=name]', '我的一周出行')
  for (const [name, day] of [['starts_on', '2026-11-23'], ['ends_on', '2026-11-29']]) {
    await phone.page.fill(`input[name=${name}]`, day)
    await phone.page.press(`input[name=${name}]`, 'Enter')
    await phone.page.keyboard.press('Escape')
  }
  await phone.page.getByTestId('city-picker').click()
  await phone.page.keyboard.type('广州')
  await phone.page.locator('.el-select-dropdown__item:visible', { hasText: '广州市' }).first().click()
  await fillNumber(phone.page, 'electricity', 100)
  await phone.page.getByTestId('estimate-units').getByText('1').waitFor()
  await checkA11y(phone.page, 'neutral-register-375')
  assert.equal(await scrollsSideways(phone.page), false, 'the register page scrolls sideways at 375 px')
  await phone.page.getByTestId('register-event').click()
  await phone.page.waitForURL(/\/neutral\/mine\/\d+$/)
  await phone.page.getByTestId('points-cost').getByText('1 积分').waitFor()
  await checkA11y(phone.page, 'neutral-neutralise-375')
  assert.equal(await scrollsSideways(phone.page), false, 'the neutralise page scrolls sideways at 375 px')
  await phone.page.getByTestId('pay-points').click()
  await phone.page.waitForURL(/\/neutral\/events\/\d+$/)
  await phone.page.getByTestId('event-status').getByText('已碳中和').waitFor()
  await phone.page.getByTestId('retired-serial').first().waitFor()
  assert.equal((await api.get('/api/v1/accounts/me', resident)).points, before - 1)

  await phone.page.goto('/neutral/mine')
  await phone.page.getByTestId('my-event').getByText('我的一周出行').waitFor()
  await checkA11y(phone.page, 'neutral-mine-375')
  assert.equal(await scrollsSideways(phone.page), false, 'my events scroll sideways at 375 px')
  await phone.assertClean()
})
