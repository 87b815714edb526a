// Themed campaigns end to end: the Shenzhen region admin defines a campaign on the console (a
// missing start and a multiplier of 1 refused beside their fields), starting a few seconds from now;
// once it runs, a metro ride in Nanshan is ingested and earns the multiplier's bonus; the public
// page (a phone) lists the campaign with its window, methodology, multiplier, announcement and the
// figures GET /campaigns/{id}/stats publishes.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { apiClient, checkA11y, desktop, launchBrowser, openPage, phone, pseudonymise, screenshot, scrollsSideways, signInUi, startServer, writeJson } from './harness.mjs'

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

const fieldError = (scope, name) => {
  const page = typeof scope.page === 'function' ? scope.page() : scope
  return scope.locator('.el-form-item').filter({ has: page.locator(`[name="${name}"]`) }).last().locator('.el-form-item__error')
}

//! `ms` from now as the date picker shows it, in the browser's time zone.
const pickerTime = (page, ms) =>
  page.evaluate((ms) => {
    const d = new Date(Date.now() + ms)
    const p = (n) => String(n).padStart(2, '0')
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`
  }, ms)

async function ingestMetroRide() {
  const key = randomBytes(32).toString('hex')
  const subject = pseudonymise(key, 'CARD-E2E-1')
  const setup = {
    providers: [{ key: 'e2e-metro', name: '端到端测试地铁', kind: 'transit_operator', regions: ['440300'], methodologies: ['travel.metro'], pseudonym_key: key }],
    residents: [{ username: 'e2e_rider', display_name: '活动骑手', region: '440305' }],
    bindings: [{ provider: 'e2e-metro', subject_ref: subject, username: 'e2e_rider' }],
  }
  const now = new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 19) + '+08:00'
  const record = { provider_record_id: 'ride-campaign-1', subject_ref: subject, methodology: 'travel.metro', occurred_at: now, region: '440305', inputs: { distance_km: 20 } }
  writeJson(join(server.dir, 'metro-setup.json'), setup)
  const file = join(server.dir, 'e2e-metro.ndjson')
  writeJson(file, JSON.stringify(record) + '\n')
  const { stdout } = await server.cli(['ingest', file, '--setup', join(server.dir, 'metro-setup.json'), '--json'])
  const summary = JSON.parse(stdout.trim().split('\n').pop())
  assert.equal(summary.credited, 1, stdout)
}

test('a region admin defines a campaign, a ride in its window earns the bonus, the public page shows its figures', async () => {
  const admin = await openPage(browser, server.url, { viewport: desktop })
  const ap = admin.page
  await signInUi(ap, 'region_admin')
  await ap.locator('.nav-menu').getByText('主题活动管理').click()
  await ap.waitForURL(/\/console\/campaigns/)
  await ap.getByTestId('new-campaign').click()
  const dialog = ap.getByRole('dialog')
  // Nothing filled: the window's start is refused beside its field.
  await dialog.getByTestId('campaign-submit').click()
  await fieldError(dialog, 'starts_at').waitFor()

  await dialog.locator('input[name=name_zh]').fill('全国低碳日·深圳地铁双倍积分')
  await dialog.locator('input[name=name_en]').fill('National Low-Carbon Day: metro points in Shenzhen')
  await dialog.locator('textarea[name=announcement_zh]').fill('活动期间乘坐地铁，积分按 1.5 倍发放。')
  const startsIn = 25_000
  const starts = await pickerTime(ap, startsIn)
  const startedAt = Date.now()
  await dialog.locator('input[name=starts_at]').fill(starts)
  await dialog.locator('input[name=starts_at]').press('Enter')
  await dialog.locator('input[name=ends_at]').fill(await pickerTime(ap, 2 * 86_400_000))
  await dialog.locator('input[name=ends_at]').press('Enter')
  await dialog.getByTestId('campaign-methodologies').click()
  await ap.getByRole('option', { name: '地铁出行 (travel.metro)', exact: true }).click()
  await ap.keyboard.press('Escape')
  // A multiplier of 1 is no campaign: refused beside it.
  await dialog.locator('input[name=multiplier]').fill('1')
  await dialog.locator('input[name=multiplier]').press('Tab')
  await dialog.getByTestId('campaign-submit').click()
  await fieldError(dialog, 'multiplier').waitFor()
  await dialog.locator('input[name=multiplier]').fill('1.5')
  await dialog.locator('input[name=multiplier]').press('Tab')
  await dialog.getByTestId('campaign-submit').click()
  await dialog.waitFor({ state: 'hidden' })
  const card = ap.getByTestId('console-campaign').filter({ hasText: '全国低碳日·深圳地铁双倍积分' })
  await card.getByText('未开始').waitFor()
  await screenshot(ap, 'campaign-console-desktop')
  await checkA11y(ap, 'campaign-console-desktop')
  await admin.assertClean()

  const { campaigns } = await api.get('/api/v1/campaigns?region=440300')
  const campaign = campaigns.find((c) => c.name_zh === '全国低碳日·深圳地铁双倍积分')
  assert.equal(campaign.multiplier_permille, 1500)
  assert.deepEqual(campaign.methodologies, ['travel.metro'])
  assert.equal(campaign.region, '440300')

  // Once the window opens, a ride earns the bonus.
  const wait = startedAt + startsIn + 1500 - Date.now()
  if (wait > 0) await new Promise((r) => setTimeout(r, wait))
  await ingestMetroRide()
  const { figures } = await api.get(`/api/v1/campaigns/${campaign.id}/stats`)
  assert.equal(figures.records, 1)
  assert.equal(figures.subjects, 1)
  assert.ok(figures.bonus_points > 0, JSON.stringify(figures))

  // The public page, on a phone.
  const reader = await openPage(browser, server.url, { viewport: phone })
  const p = reader.page
  await p.goto('/campaigns')
  const pub = p.getByTestId('campaign').filter({ hasText: '全国低碳日·深圳地铁双倍积分' })
  await pub.getByTestId('campaign-status').getByText('进行中').waitFor()
  assert.equal(await pub.getByTestId('campaign-multiplier').textContent(), '×1.5')
  assert.equal(await pub.getByTestId('campaign-methodologies').textContent(), '地铁出行')
  assert.equal(await pub.getByTestId('campaign-announcement').textContent(), '活动期间乘坐地铁，积分按 1.5 倍发放。')
  assert.match(await pub.getByTestId('campaign-window').textContent(), /^\d{4}\/\d{2}\/\d{2} \d{2}:\d{2} 至 \d{4}\/\d{2}\/\d{2} \d{2}:\d{2}$/)
  const figs = pub.getByTestId('campaign-figures')
  await figs.waitFor()
  assert.equal(await figs.getByTestId('figure-records').textContent(), String(figures.records))
  assert.equal(await figs.getByTestId('figure-subjects').textContent(), String(figures.subjects))
  assert.equal(await figs.getByTestId('figure-points').textContent(), figures.points.toLocaleString('zh-CN'))
  assert.equal(await figs.getByTestId('figure-bonus').textContent(), figures.bonus_points.toLocaleString('zh-CN'))
  assert.equal(await figs.getByTestId('figure-kg').textContent(), (Math.round(figures.grams / 10) / 100).toLocaleString('zh-CN'))
  assert.equal(await scrollsSideways(p), false)
  await screenshot(p, 'campaigns-phone')
  await checkA11y(p, 'campaigns-phone')
  // The status filter is kept in the URL; an ended-only list does not show it.
  await p.getByTestId('campaigns-status').click()
  await p.getByRole('option', { name: '已结束', exact: true }).click()
  await p.waitForURL(/status=ended/)
  await pub.waitFor({ state: 'detached' })
  // In English, the English name.
  await p.goto('/campaigns?status=active')
  await p.getByTestId('language-switch').click()
  await p.getByTestId('campaign').filter({ hasText: 'National Low-Carbon Day: metro points in Shenzhen' }).waitFor()
  assert.equal(await scrollsSideways(p), false)
  await checkA11y(p, 'campaigns-phone-en')
  await reader.assertClean()

  // The console on a phone.
  await ap.setViewportSize(phone)
  await ap.reload()
  await card.waitFor()
  assert.equal(await scrollsSideways(ap), false)
  await checkA11y(ap, 'campaign-console-phone')
})
