// The cities' yearly target-responsibility assessment end to end: the province sets the year's
// scheme (weights not summing to 100 are refused beside the rows), is refused a computation while
// cities lack a population, enters the 21 populations with their source, computes, reads each
// figure's source query, downloads the XLSX and PDF, and publishes; the public ranking shows the
// published run with its bar chart at 375 px; the Shenzhen admin sees its own city's detail and
// not another's.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { apiClient, checkA11y, desktop, launchBrowser, openPage, phone, screenshot, scrollsSideways, signInUi, startServer } from './harness.mjs'

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

async function choose(page, select, option) {
  await select.click()
  await page.getByRole('option', { name: option, exact: true }).click()
}

const year = new Date(Date.now() + 8 * 3600_000).getUTCFullYear()

test('the province sets the scheme and populations, computes, reads the sources, downloads and publishes; the ranking is public', async () => {
  const province = await openPage(browser, server.url, { viewport: desktop })
  const pp = province.page
  await signInUi(pp, 'province_admin')
  await pp.goto('/console/assessment')
  await pp.getByText(`尚未设定 ${year} 年考核方案。`).waitFor()

  // Three indicators: pilot status in bands, target progress, participants per 10,000 residents.
  for (let i = 0; i < 3; i++) await pp.getByTestId('add-indicator').click()
  const rows = pp.getByTestId('scheme-row')
  assert.equal(await rows.count(), 3)
  await choose(pp, rows.nth(2).getByTestId('scheme-key'), '每万常住人口参与人数')
  await rows.nth(0).getByTestId('scheme-weight').locator('input').fill('20')
  await rows.nth(1).getByTestId('scheme-weight').locator('input').fill('30')
  await rows.nth(2).getByTestId('scheme-weight').locator('input').fill('40')
  await rows.nth(0).getByText('分档', { exact: true }).click()
  await rows.nth(0).getByTestId('scheme-bands').fill('1:100')
  await rows.nth(2).getByTestId('scheme-full').locator('input').fill('1')
  await pp.getByTestId('save-scheme').click()
  await pp.getByTestId('scheme-error').getByText('weights must sum to 100, not 90').waitFor()
  await rows.nth(2).getByTestId('scheme-weight').locator('input').fill('50')
  await pp.getByTestId('weight-sum').getByText('权重合计 100').waitFor()
  await pp.getByTestId('save-scheme').click()
  await pp.getByText(`已保存 ${year} 年考核方案`).waitFor()
  const provinceToken = await api.login('province_admin')
  const scheme = await api.get(`/api/v1/assessment/schemes/${year}`, provinceToken)
  assert.deepEqual(
    scheme.indicators.map((i) => [i.key, i.weight, i.rule]),
    [
      ['pilot_status', 20, { kind: 'bands', bands: [{ min: 1, percent: 100 }] }],
      ['target_progress', 30, { kind: 'linear', floor: 0, full: 100 }],
      ['participants_per_10k', 50, { kind: 'linear', floor: 0, full: 1 }],
    ],
  )

  // No populations yet: the computation is refused, naming the first city without one.
  await pp.getByTestId('compute').click()
  await pp.getByText('广州市 has no resident population').waitFor()

  // The 21 cities' populations, the source copied to every row.
  const cityRows = pp.getByTestId('population-row')
  assert.equal(await cityRows.count(), 21)
  for (let i = 0; i < 21; i++) await cityRows.nth(i).getByTestId('population-residents').locator('input').fill('1000000')
  await pp.locator('[data-testid=population-row][data-region="440300"]').getByTestId('population-residents').locator('input').fill('17660000')
  await cityRows.nth(0).getByTestId('population-source').fill('广东省2025年国民经济和社会发展统计公报')
  await cityRows.nth(0).getByTestId('copy-source').click()
  await pp.getByTestId('save-populations').click()
  await pp.getByText('已保存 21 个城市的常住人口').waitFor()
  const { populations } = await api.get(`/api/v1/assessment/populations/${year}`, provinceToken)
  assert.equal(populations.length, 21)
  assert.ok(populations.every((p) => p.source === '广东省2025年国民经济和社会发展统计公报'))

  // Compute: 21 cities ranked; Shenzhen's figures carry their source queries.
  await pp.getByTestId('compute').click()
  await pp.getByTestId('run-state').getByText('已计算').waitFor()
  const { runs } = await api.get(`/api/v1/assessment/runs?year=${year}`, provinceToken)
  assert.equal(runs.length, 1)
  const run = await api.get(`/api/v1/assessment/runs/${runs[0].id}`, provinceToken)
  assert.equal(run.cities.length, 21)
  const shenzhen = run.cities.find((c) => c.region === '440300')
  const participants = shenzhen.results.find((r) => r.indicator === 'participants_per_10k')
  assert.equal(participants.source.query, 'ingest.reduction_totals')
  assert.equal(participants.source.population.residents, 17660000)
  const table = pp.getByTestId('ranking-table')
  assert.equal(await table.locator('.el-table__body-wrapper tr.el-table__row').count(), 21)
  const szRow = table.locator('.el-table__body-wrapper tr.el-table__row').filter({ hasText: '深圳市' })
  await szRow.getByTestId('ranking-total').getByText(String(shenzhen.total), { exact: true }).waitFor()
  await szRow.locator('.el-table__expand-icon').click()
  const detail = pp.locator('[data-testid=city-detail][data-region="440300"]')
  const figure = detail.locator('[data-testid=city-result][data-indicator=participants_per_10k]')
  await figure.getByTestId('result-source').getByText('"query": "ingest.reduction_totals"').waitFor()
  assert.match(await figure.getByTestId('result-source').textContent(), /reductions WHERE day >= :from_day/)
  await screenshot(pp, 'assessment-console-desktop')
  await checkA11y(pp, 'assessment-console-desktop')

  // The reports.
  const [xlsx] = await Promise.all([pp.waitForEvent('download'), pp.getByTestId('download-xlsx').click()])
  const xlsxBytes = await streamBytes(await xlsx.createReadStream())
  assert.equal(xlsxBytes.subarray(0, 2).toString(), 'PK')
  assert.match(xlsx.suggestedFilename(), /\.xlsx$/)
  const [pdf] = await Promise.all([pp.waitForEvent('download'), pp.getByTestId('download-pdf').click()])
  const pdfBytes = await streamBytes(await pdf.createReadStream())
  assert.equal(pdfBytes.subarray(0, 4).toString(), '%PDF')

  // Before publication nobody else sees the run; a city admin cannot set the scheme.
  const anonymous = await fetch(`${server.url}/api/v1/assessment/runs/${run.id}`)
  assert.equal(anonymous.status, 404)
  const szToken = await api.login('region_admin')
  const refused = await fetch(`${server.url}/api/v1/assessment/schemes/${year}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${szToken}` },
    body: JSON.stringify({ indicators: scheme.indicators }),
  })
  assert.equal(refused.status, 403)

  // Publish: the year freezes.
  await pp.getByTestId('publish').click()
  await pp.getByRole('button', { name: '确定' }).click()
  await pp.getByTestId('run-state').getByText('已发布').waitFor()
  await pp.getByTestId('scheme-frozen').waitFor()
  const again = await fetch(`${server.url}/api/v1/assessment/runs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${provinceToken}` },
    body: JSON.stringify({ year }),
  })
  assert.equal(again.status, 409)
  await province.assertClean()

  // The Shenzhen admin reads Shenzhen's detail, not Guangzhou's.
  const own = await api.get(`/api/v1/assessment/runs/${run.id}/cities/440300`, szToken)
  assert.equal(own.results[2].source.query, 'ingest.reduction_totals')
  const other = await fetch(`${server.url}/api/v1/assessment/runs/${run.id}/cities/440100`, { headers: { authorization: `Bearer ${szToken}` } })
  assert.equal(other.status, 403)
  assert.equal((await other.json()).error.code, 'forbidden')

  // The public ranking on a phone: the chart has a bar per city and the list fits 375 px.
  const visitor = await openPage(browser, server.url, { viewport: phone })
  const vp = visitor.page
  await vp.goto(`/assessment?year=${year}`)
  const published = await api.get(`/api/v1/assessment/published/${year}`)
  assert.equal(published.id, run.id)
  assert.equal(published.cities[0].results[0].figure, undefined) // scores only, no figures
  await vp.getByTestId('ranking-chart').waitFor()
  assert.equal(await vp.getByTestId('ranking-chart').getAttribute('data-bars'), '21')
  const cards = vp.getByTestId('public-ranking').locator('li')
  assert.equal(await cards.count(), 21)
  await cards.filter({ hasText: '深圳市' }).getByTestId('ranking-total').getByText(String(shenzhen.total), { exact: true }).waitFor()
  assert.equal(await scrollsSideways(vp), false, 'the public ranking scrolls sideways at 375 px')
  await screenshot(vp, 'assessment-ranking-375')
  await checkA11y(vp, 'assessment-ranking-375')
  await visitor.assertClean()
})

test('the console fits 375 px', async () => {
  const { page, assertClean } = await openPage(browser, server.url, { viewport: phone })
  await signInUi(page, 'province_admin')
  await page.goto('/console/assessment')
  await page.getByTestId('population-row').first().waitFor()
  await page.getByTestId('run-state').waitFor()
  assert.equal(await scrollsSideways(page), false, 'the assessment console scrolls sideways at 375 px')
  await screenshot(page, 'assessment-console-375')
  await checkA11y(page, 'assessment-console-375')
  await assertClean()
})

async function streamBytes(stream) {
  const chunks = []
  for await (const chunk of stream) chunks.push(chunk)
  return Buffer.concat(chunks)
}
