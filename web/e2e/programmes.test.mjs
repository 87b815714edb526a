// Low-carbon creation programmes end to end: the province drafts and publishes hotel criteria, a
// new user applies for a hotel in Nanshan with text and a PDF, the Shenzhen region admin scores
// (first below a minimum, then passing) and awards, and the title appears on the public list
// filtered by type and region, valid for the criteria's 36 months, with one point on the map.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { apiClient, checkA11y, desktop, launchBrowser, openPage, screenshot, signInUi, startServer } from './harness.mjs'

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

async function choose(page, select, filter, option) {
  await select.click()
  if (filter) await page.keyboard.type(filter)
  await page.getByRole('option', { name: option, exact: true }).click()
}

//! The error under the form item holding the input `name`.
const fieldError = (scope, name) => {
  const page = typeof scope.page === 'function' ? scope.page() : scope
  return scope.locator('.el-form-item').filter({ has: page.locator(`[name="${name}"]`) }).last().locator('.el-form-item__error')
}

//! Today in Asia/Shanghai and the last day of a title awarded today for `months`.
function validUntil(months) {
  const today = new Date(Date.now() + 8 * 3600_000)
  const y = today.getUTCFullYear()
  const m = today.getUTCMonth() + months
  const d = today.getUTCDate()
  const anniversary = new Date(Date.UTC(y, m, d))
  // A day that does not exist (29 February) ends on the month's last day.
  const last = anniversary.getUTCDate() === d ? new Date(anniversary.getTime() - 86_400_000) : new Date(Date.UTC(y, m + 1, 0))
  return last.toISOString().slice(0, 10)
}

const pdf = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n')

test('province publishes criteria, a user applies, the region admin scores and awards, the title is public', async () => {
  // The province drafts hotel criteria; weights that do not sum to 100 are refused beside them.
  const province = await openPage(browser, server.url, { viewport: desktop })
  const pp = province.page
  await signInUi(pp, 'province_admin')
  await pp.goto('/console/programme-criteria')
  await pp.getByText('暂无评价标准').waitFor()
  await pp.getByTestId('new-criteria').click()
  const dialog = pp.getByRole('dialog')
  await choose(pp, dialog.getByTestId('criteria-type'), null, '低碳酒店')
  await dialog.locator('input[name=name]').fill('低碳酒店评价指标（2026 版）')
  await dialog.locator('input[name="indicators[0].key"]').fill('energy')
  await dialog.locator('input[name="indicators[0].name"]').fill('能源管理')
  await dialog.locator('input[name="indicators[0].weight_percent"]').fill('60')
  await dialog.locator('input[name="indicators[0].max_score"]').fill('10')
  await dialog.locator('input[name="indicators[0].min_score"]').fill('5')
  await dialog.getByTestId('add-indicator').click()
  await dialog.locator('input[name="indicators[1].key"]').fill('waste')
  await dialog.locator('input[name="indicators[1].name"]').fill('减废')
  await dialog.locator('input[name="indicators[1].weight_percent"]').fill('30')
  await dialog.locator('input[name="indicators[1].max_score"]').fill('10')
  await dialog.getByTestId('save-criteria').click()
  await dialog.locator('.el-form-item__error').getByText('weights must sum to 100, not 90').waitFor()
  await dialog.locator('input[name="indicators[1].weight_percent"]').fill('40')
  await dialog.getByTestId('save-criteria').click()
  const row = pp.getByTestId('criteria-table').locator('.el-table__body-wrapper tr').filter({ hasText: '低碳酒店评价指标' })
  await row.getByTestId('criteria-state').getByText('草稿').waitFor()
  await row.getByTestId('publish-criteria').click()
  await pp.getByRole('button', { name: '确定' }).click()
  await row.getByTestId('criteria-state').getByText('现行').waitFor()
  await screenshot(pp, 'programme-criteria-desktop')
  await checkA11y(pp, 'programme-criteria-desktop')
  const { criteria } = await api.get('/api/v1/programmes/criteria?type=hotel')
  assert.equal(criteria.length, 1)
  assert.equal(criteria[0].state, 'published')
  assert.deepEqual(criteria[0].indicators.map((i) => [i.key, i.weight_percent, i.max_score, i.min_score]), [['energy', 60, 10, 5], ['waste', 40, 10, 0]])
  await province.assertClean()

  // A new user applies for a hotel in Nanshan.
  const password = 'Green-hotel-2026'
  await api.post('/api/v1/auth/register', { username: 'e2e_hotel', password, display_name: '海岸酒店经理' })
  const applicant = await openPage(browser, server.url, { viewport: desktop })
  const ap = applicant.page
  await signInUi(ap, 'e2e_hotel', password)
  await ap.goto('/programmes/apply')
  await ap.getByText('该类型尚无现行评价标准，暂不能申报。').waitFor()
  await choose(ap, ap.getByTestId('apply-type'), null, '低碳酒店')
  await ap.getByTestId('criteria-in-force').getByText('合格分 60').waitFor()
  await ap.fill('input[name=entity_name]', '深圳湾海岸酒店')
  await ap.fill('input[name=entity_type]', '酒店')
  await choose(ap, ap.getByTestId('apply-region'), '南山', '南山区 440305')
  await ap.fill('input[name=address]', '深圳市南山区滨海大道 1 号')
  await ap.fill('input[name=lon]', '121.47')
  await ap.fill('input[name=lat]', '22.52')
  await ap.fill('input[name=contact]', '陈经理 0755-00000000')
  await ap.fill('textarea[name="evidence.energy"]', '2025 年单位面积能耗下降 15%')
  await ap.getByTestId('apply-submit').click()
  await fieldError(ap, 'lon').getByText('must lie within Guangdong').waitFor()
  await ap.fill('input[name=lon]', '113.95')
  await ap.getByTestId('apply-submit').click()
  await fieldError(ap, 'evidence.waste').getByText('needs evidence').waitFor()
  await ap.setInputFiles('input[name="file.waste"]', { name: 'waste.pdf', mimeType: 'application/pdf', buffer: pdf })
  await ap.getByTestId('apply-submit').click()
  await ap.getByText('已提交申报：深圳湾海岸酒店').waitFor()
  await ap.getByTestId('my-applications').getByTestId('my-state').getByText('待评审').waitFor()
  await screenshot(ap, 'programme-apply-desktop')
  await checkA11y(ap, 'programme-apply-desktop')
  const hotelToken = await api.login('e2e_hotel', password)
  const [application] = (await api.get('/api/v1/programmes/applications', hotelToken)).applications
  assert.equal(application.state, 'submitted')
  assert.equal(application.region, '440305')
  assert.equal(application.lon, 113.95)
  assert.deepEqual(application.attachments.map((f) => [f.indicator, f.name, f.bytes]), [['waste', 'waste.pdf', pdf.length]])
  await applicant.assertClean()

  // The Shenzhen region admin scores: below energy's minimum first, then passing, and awards.
  const admin = await openPage(browser, server.url, { viewport: desktop })
  const rp = admin.page
  await signInUi(rp, 'region_admin')
  await rp.goto('/console/programmes')
  const appRow = rp.getByTestId('review-table').locator('.el-table__body-wrapper tr').filter({ hasText: '深圳湾海岸酒店' })
  await appRow.getByTestId('open-review').click()
  const drawer = rp.locator('.el-drawer')
  await drawer.getByText('2025 年单位面积能耗下降 15%').waitFor()
  await drawer.locator('input[name="scores.energy"]').fill('4')
  await drawer.locator('input[name="scores.waste"]').fill('10')
  await drawer.getByTestId('save-scores').click()
  // 4/10×60 + 10/10×40 = 64 reaches the pass mark, but energy is below its minimum of 5.
  await drawer.getByTestId('assessment-total').getByText('加权总分 64').waitFor()
  await drawer.getByTestId('assessment-passed').getByText('未达到评价标准', { exact: true }).waitFor()
  assert.equal(await drawer.getByTestId('award').isDisabled(), true)
  await drawer.locator('input[name="scores.energy"]').fill('8')
  await drawer.getByTestId('save-scores').click()
  await drawer.getByTestId('assessment-total').getByText('加权总分 88').waitFor()
  await drawer.getByTestId('assessment-passed').getByText('达到评价标准', { exact: true }).waitFor()
  await screenshot(rp, 'programme-review-desktop')
  await checkA11y(rp, 'programme-review-desktop')
  await drawer.getByTestId('award').click()
  await rp.getByText('已授予 深圳湾海岸酒店 称号').waitFor()
  await drawer.getByTestId('review-state-now').getByText('已授牌').waitFor()
  const adminToken = await api.login('region_admin')
  const awarded = await api.get(`/api/v1/programmes/applications/${application.id}`, adminToken)
  assert.equal(awarded.state, 'awarded')
  assert.equal(awarded.assessment.total_milli, 88_000)
  await admin.assertClean()

  // The public list, filtered by type and region, shows the title valid for 36 months.
  const visitor = await openPage(browser, server.url, { viewport: desktop })
  const vp = visitor.page
  await vp.goto('/programmes?type=hotel&region=440300')
  const titleRow = vp.getByTestId('titles-table').locator('.el-table__body-wrapper tr').filter({ hasText: '深圳湾海岸酒店' })
  await titleRow.getByTestId('title-status').getByText('有效').waitFor()
  const { titles, total } = await api.get('/api/v1/programmes/titles?type=hotel&region=440300')
  assert.equal(total, 1)
  assert.equal(titles[0].valid_until, validUntil(36))
  assert.equal(await titleRow.getByTestId('valid-until').textContent(), titles[0].valid_until)
  assert.equal(titles[0].lon, 113.95)
  await vp.getByTestId('titles-total').getByText('共 1 项').waitFor()
  // The map shows one point per listed title, filtered with the list.
  const map = vp.getByTestId('guangdong-map')
  await vp.locator('[data-testid=guangdong-map][data-points="1"]').waitFor()
  assert.equal(await map.getAttribute('data-points'), String(titles.length))
  await vp.getByTestId('titles-map-note').getByText('本页 1 个').waitFor()
  // Another region's list does not have it, nor does its map.
  await vp.goto('/programmes?type=hotel&region=440100')
  await vp.getByText('暂无称号').waitFor()
  await vp.locator('[data-testid=guangdong-map][data-points="0"]').waitFor()
  await screenshot(vp, 'programme-titles-desktop')
  await checkA11y(vp, 'programme-titles-desktop')
  await visitor.assertClean()
})
