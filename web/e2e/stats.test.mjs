// The reductions dashboards: the public one (province and cities) and the console's (counties,
// industries). A week of generated records for 2,000 residents is ingested first, so cities have
// enough subjects to show. Filters change the URL; a reload restores the same view; the Guangdong
// maps render with the figures the API gives.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { apiClient, binary, desktop, launchBrowser, openPage, repoDir, screenshot, signInUi, startServer } from './harness.mjs'

const run = promisify(execFile)
let server, browser, api, genDir

before(async () => {
  server = await startServer()
  browser = await launchBrowser()
  api = apiClient(server.url)
  genDir = mkdtempSync(join(tmpdir(), 'tph-stats-e2e-'))
  const data = join(repoDir, 'data')
  await run(binary, ['gen', '--residents', '2000', '--days', '7', '--seed', '20261130', '--out', genDir], { cwd: repoDir })
  const files = readdirSync(genDir).filter((f) => f.endsWith('.ndjson')).map((f) => join(genDir, f))
  await run(binary, ['ingest', '--db', server.db, '--data-dir', data, '--setup', join(genDir, 'setup.json'), ...files], {
    cwd: repoDir,
    maxBuffer: 1 << 24,
  })
})

after(async () => {
  await browser?.close()
  await server?.stop()
  if (genDir) rmSync(genDir, { recursive: true, force: true })
})

//! How many pixels of the map's canvas are painted in the scale's greens (the regions with figures).
async function greenPixels(page) {
  return page.evaluate(() => {
    const canvas = document.querySelector('[data-testid=guangdong-map] canvas')
    if (!canvas) return 0
    const ctx = canvas.getContext('2d')
    const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height)
    let n = 0
    for (let i = 0; i < data.length; i += 4) if (data[i + 1] > data[i] + 20 && data[i + 1] > data[i + 2] + 20) n++
    return n
  })
}

//! Waits until the element with this test id reads exactly `text`.
async function waitText(page, testId, text) {
  await page.waitForFunction(
    ([id, want]) => document.querySelector(`[data-testid=${id}]`)?.textContent?.trim() === want,
    [testId, text],
  )
}

async function choose(page, testId, optionText) {
  await page.getByTestId(testId).click()
  await page.locator('.el-select-dropdown__item:visible', { hasText: optionText }).first().click()
}

test('the public dashboard writes its filters into the URL, renders the city map, and a reload restores the view', async () => {
  const { page, assertClean } = await openPage(browser, server.url, { viewport: desktop })
  await page.goto('/stats')
  // The defaults are written into the URL, so the bare page is shareable as it stands.
  await page.waitForURL((u) => u.searchParams.get('from') && u.searchParams.get('interval') === 'month')
  const url = new URL(page.url())
  assert.equal(url.searchParams.get('region'), '440000')
  await page.getByRole('heading', { name: '碳普惠减排数据看板' }).waitFor()
  assert.equal(await page.getByTestId('filter-industry').count(), 0, 'the public page offers no industry filter')
  const query = `from=${url.searchParams.get('from')}&to=${url.searchParams.get('to')}`

  const totals = await api.get(`/api/v1/stats/totals?${query}`)
  assert.ok(totals.records > 1000, `the generated week was ingested (${totals.records} records)`)
  await waitText(page, 'total-records', new Intl.NumberFormat('zh-CN').format(totals.records))

  const map = page.getByTestId('guangdong-map')
  await map.locator('canvas').waitFor()
  await page.waitForFunction(() => document.querySelector('[data-testid=guangdong-map]')?.getAttribute('data-features') === '21')
  const { rows } = await api.get(`/api/v1/stats/top?${query}&by=region&n=100`)
  assert.equal(await map.getAttribute('data-values'), String(rows.length))
  assert.ok(rows.some((r) => !r.suppressed), 'some city has enough subjects to show')
  await page.waitForFunction(() => {
    const c = document.querySelector('[data-testid=guangdong-map] canvas')
    return c && c.width > 0
  })
  await page.waitForTimeout(500) // the map's entry animation
  assert.ok((await greenPixels(page)) > 500, 'cities with figures are shaded on the map')
  await page.getByTestId('series-chart').locator('canvas').waitFor()
  await screenshot(page, 'stats-public-province')

  // Filters change the URL.
  await page.getByTestId('preset-last30').click()
  await page.waitForURL((u) => u.searchParams.get('interval') === 'day')
  await choose(page, 'filter-domain', '绿色出行')
  await page.waitForURL((u) => u.searchParams.get('domain') === 'travel')
  await choose(page, 'filter-region', '深圳市')
  await page.waitForURL((u) => u.searchParams.get('region') === '440300')
  await choose(page, 'filter-subject-kind', '个人')
  await page.waitForURL((u) => u.searchParams.get('subject_kind') === 'person')
  const shared = page.url()
  const q = new URL(shared).searchParams
  const expected = await api.get(
    `/api/v1/stats/totals?from=${q.get('from')}&to=${q.get('to')}&region=440300&domain=travel&subject_kind=person`,
  )
  const shown = expected.suppressed ? '已隐藏' : new Intl.NumberFormat('zh-CN').format(expected.records)
  await waitText(page, 'total-records', shown)

  // A reload (or the link opened elsewhere) shows the same view.
  await page.reload()
  assert.equal(page.url(), shared)
  await page.getByTestId('filter-region').getByText('深圳市').waitFor()
  await page.getByTestId('filter-domain').getByText('绿色出行').waitFor()
  await page.getByTestId('filter-subject-kind').getByText('个人').waitFor()
  await waitText(page, 'total-records', shown)
  // The public map stays at city level, Shenzhen outlined.
  await page.waitForFunction(() => document.querySelector('[data-testid=guangdong-map]')?.getAttribute('data-level') === 'cities')
  await page.waitForTimeout(500)
  await screenshot(page, 'stats-public-shenzhen-travel')

  // The link opened in another browser shows the same view.
  const other = await openPage(browser, server.url, { viewport: desktop })
  await other.page.goto(shared.replace(server.url, ''))
  await other.page.getByTestId('filter-region').getByText('深圳市').waitFor()
  await other.assertClean()
  await assertClean()
})

test('a county asked of the public dashboard is refused with the reason the API gives', async () => {
  const { page } = await openPage(browser, server.url, { viewport: desktop })
  await page.goto('/stats?region=440305')
  await page.getByText('counties and industries are for the region and province consoles').first().waitFor()
})

test('the province console maps a city by county, breaks down by industry, and keeps its filters over a reload', async () => {
  const { page, assertClean } = await openPage(browser, server.url, { viewport: desktop })
  await signInUi(page, 'province_admin')
  await page.goto('/console/stats?region=440300')
  await page.waitForURL((u) => u.searchParams.get('from') && u.searchParams.get('region') === '440300')
  await page.getByRole('heading', { name: '减排数据分析' }).waitFor()
  await page.getByTestId('filter-industry').waitFor()
  const { regions } = await api.get('/api/v1/regions')
  const shenzhenCounties = regions.filter((r) => r.parent === '440300').length
  await page.waitForFunction(
    (n) => {
      const m = document.querySelector('[data-testid=guangdong-map]')
      return m?.getAttribute('data-level') === 'counties' && m.getAttribute('data-features') === String(n)
    },
    shenzhenCounties,
  )
  await page.waitForTimeout(500)
  assert.ok((await greenPixels(page)) > 500, "Shenzhen's districts with figures are shaded")
  // The industry breakdown draws what /stats/top?by=industry answers (enterprises of the region).
  const q = new URL(page.url()).searchParams
  const token = await api.login('province_admin')
  const industries = await api.get(`/api/v1/stats/top?from=${q.get('from')}&to=${q.get('to')}&region=440300&by=industry&n=30`, token)
  if (industries.rows.length > 0) await page.getByTestId('industry-chart').locator('canvas').waitFor()
  else await page.getByText('所选范围内暂无减排数据').first().waitFor()

  await choose(page, 'filter-interval', '按周')
  await page.waitForURL((u) => u.searchParams.get('interval') === 'week')
  await choose(page, 'filter-region', '南山区')
  await page.waitForURL((u) => u.searchParams.get('region') === '440305')
  const shared = page.url()
  await page.reload()
  assert.equal(page.url(), shared)
  await page.getByTestId('filter-region').getByText('南山区').waitFor()
  await page.getByTestId('filter-interval').getByText('按周').waitFor()
  await page.getByTestId('series-chart').locator('canvas').waitFor()
  await page.waitForTimeout(500)
  await screenshot(page, 'stats-console-nanshan')
  await assertClean()
})
