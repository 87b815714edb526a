// The home page's province-wide figures, leaderboards with the resident's profile and community,
// and the carbon credit card: every figure the pages show is checked against the API, on a phone.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { apiClient, checkA11y, launchBrowser, openPage, screenshot, scrollsSideways, signInUi, startServer } from './harness.mjs'

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

const zh = (n) => new Intl.NumberFormat('zh-CN', { maximumFractionDigits: 3 }).format(n)
const tonnes = (grams) => Math.round(grams / 1000) / 1000
const kg = (grams) => zh(Math.round(grams / 10) / 100)

//! The Asia/Shanghai day `daysBack` days ago, as the home page computes its window.
function shanghaiDay(daysBack = 0) {
  return new Date(Date.now() + 8 * 3600_000 - daysBack * 86_400_000).toISOString().slice(0, 10)
}
const homeWindow = () => `from=${shanghaiDay(364)}&to=${shanghaiDay(0)}`

//! The error under the form item holding the input `name`.
const fieldError = (page, name) => page.locator('.el-form-item').filter({ has: page.locator(`[name=${name}]`) }).locator('.el-form-item__error')

async function personPoints(token) {
  const { accounts } = await api.get('/api/v1/accounts', token)
  return accounts.find((a) => a.kind === 'person').points
}

async function expectHomeTotals(page, totals) {
  const totalsBox = page.getByTestId('province-totals')
  await totalsBox.waitFor()
  assert.equal(await page.getByTestId('total-participants').textContent(), zh(totals.participants))
  assert.equal(await page.getByTestId('total-tonnes').textContent(), zh(tonnes(totals.grams)))
  assert.equal(await page.getByTestId('total-points-redeemed').textContent(), zh(totals.points_redeemed))
  assert.equal(await page.getByTestId('total-phcer').textContent(), zh(totals.phcer.units_issued))
}

test('home shows the province-wide participants, tonnes, points redeemed and PHCER the API gives, and charts by domain and city', async () => {
  const totals = await api.get(`/api/v1/stats/totals?${homeWindow()}`)
  assert.equal(typeof totals.participants, 'number')
  assert.equal(typeof totals.points_redeemed, 'number')
  assert.ok(totals.participants >= 1, 'the demo resident has been credited')
  assert.ok(totals.grams > 0)

  const { page, assertClean } = await openPage(browser, server.url)
  await page.goto('/')
  await expectHomeTotals(page, totals)

  // One bar per domain and per city the API ranks; the charts draw on a canvas.
  const domains = await api.get(`/api/v1/stats/top?${homeWindow()}&by=domain&n=30`)
  const cities = await api.get(`/api/v1/stats/top?${homeWindow()}&by=region&n=30`)
  assert.ok(domains.rows.length >= 1 && cities.rows.length >= 1)
  assert.ok(cities.rows.some((r) => r.key === '440300'), 'the demo trips are in Shenzhen')
  await page.getByTestId('domain-chart').locator('canvas').waitFor()
  await page.getByTestId('city-chart').locator('canvas').waitFor()
  assert.equal(await page.getByRole('img', { name: '近 365 天各领域减排量（吨 CO₂e）条形图' }).count(), 1)
  assert.equal(await page.getByRole('img', { name: '近 365 天各地市减排量（吨 CO₂e）条形图' }).count(), 1)
  assert.equal(await scrollsSideways(page), false, 'the home page fits 375 px')
  await screenshot(page, 'engage-home-totals-375')
  await checkA11y(page, 'engage-home-totals-375')
  await assertClean()
})

test('a resident chooses a nickname and a community and sees the week, month and all-time boards the API ranks', async () => {
  const adminToken = await api.login('region_admin')
  const community = await api.post('/api/v1/communities', { region: '440305', name: '蛇口低碳社区' }, adminToken)
  await api.post('/api/v1/auth/register', { username: 'e2e_rival', password: 'Green-rival-2026', display_name: '对手' })
  const rivalToken = await api.login('e2e_rival', 'Green-rival-2026')
  await fetch(`${server.url}/api/v1/rankings/profile`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${rivalToken}` },
    body: JSON.stringify({ nickname: '已占用的昵称', listed: true }),
  })

  const { page, assertClean } = await openPage(browser, server.url)
  await signInUi(page, 'resident')
  const token = await api.login('resident')
  await page.goto('/me/rankings')
  await page.getByTestId('not-listed-yet').waitFor()

  // The server's refusals land beside the nickname.
  await page.fill('input[name=nickname]', '绿')
  await page.getByTestId('save-profile').click()
  await fieldError(page, 'nickname').getByText('nickname is 2 characters to 48 bytes').waitFor()
  await page.fill('input[name=nickname]', '已占用的昵称')
  await page.getByTestId('save-profile').click()
  await fieldError(page, 'nickname').getByText('the nickname is taken').waitFor()

  // Listed, in the community.
  await page.fill('input[name=nickname]', '南山通勤者')
  await page.getByTestId('community').click()
  await page.getByRole('option', { name: /蛇口低碳社区/ }).click()
  await page.getByTestId('save-profile').click()
  await page.getByTestId('not-listed-yet').waitFor({ state: 'detached' })
  const profile = await api.get('/api/v1/rankings/profile', token)
  assert.deepEqual([profile.nickname, profile.listed, profile.community_id], ['南山通勤者', true, community.id])

  // Each board shows the entries and the place the API answers for this resident.
  async function expectBoard(query, label) {
    const board = await api.get(`/api/v1/leaderboards?${query}&limit=50`, token)
    if (board.entries.length === 0) {
      await page.getByText('这个排行榜上还没有人').waitFor()
    } else {
      await page.getByTestId('leaderboard').waitFor()
      await page.waitForFunction((n) => document.querySelectorAll('[data-testid=board-entry]').length === n, board.entries.length)
      assert.deepEqual(await page.getByTestId('entry-nickname').allTextContents(), board.entries.map((e) => e.nickname), label)
      assert.deepEqual(await page.getByTestId('entry-kg').allTextContents(), board.entries.map((e) => `${kg(e.grams)} kg`), label)
    }
    if (board.yours) {
      await page.getByTestId('my-rank').getByText(`我的名次：第 ${board.yours.rank} 名，${kg(board.yours.grams)} kg`).waitFor()
    } else {
      await page.getByTestId('my-rank').waitFor({ state: 'detached' })
    }
    return board
  }
  const scope = page.getByTestId('scope')
  const period = page.getByTestId('period')
  const all = await (async () => {
    await period.getByText('累计').click()
    return expectBoard('period=all', 'province, all time')
  })()
  assert.ok(all.yours && all.entries.some((e) => e.nickname === '南山通勤者' && e.you), 'the credited demo resident is listed')
  await period.getByText('本月').click()
  await expectBoard('period=month', 'province, this month')
  await period.getByText('本周').click()
  await expectBoard('period=week', 'province, this week')
  await period.getByText('累计').click()
  await scope.getByText('深圳市').click()
  await expectBoard('period=all&region=440300', 'Shenzhen, all time')
  await scope.getByText('蛇口低碳社区').click()
  const inCommunity = await expectBoard(`period=all&community=${community.id}`, 'community, all time')
  assert.deepEqual(inCommunity.entries.map((e) => e.nickname), ['南山通勤者'])
  assert.equal(await scrollsSideways(page), false, 'the rankings page fits 375 px')
  await screenshot(page, 'engage-rankings-375')
  await checkA11y(page, 'engage-rankings-375')

  // Leaving every board asks first, then the resident is off the list.
  await page.getByTestId('opt-out').click()
  await page.getByRole('button', { name: '确定' }).click()
  await page.getByTestId('opt-out').waitFor({ state: 'detached' })
  assert.equal((await api.get('/api/v1/rankings/profile', token)).listed, false)
  await scope.getByText('全省').click()
  const after = await expectBoard('period=all', 'province after opting out')
  assert.ok(!after.entries.some((e) => e.nickname === '南山通勤者'))
  await assertClean()
})

test('a resident links a card, sees the published rate, converts points and follows the conversion', async () => {
  const provinceToken = await api.login('province_admin')
  const partner = await api.post('/api/v1/card-partners', { code: 'e2e-bank', name: '绿色银行广东分行', rate_points: 10, rate_reward: 3 }, provinceToken)

  const { page, assertClean } = await openPage(browser, server.url)
  await signInUi(page, 'resident')
  const token = await api.login('resident')
  const before = await personPoints(token)
  const totalsBefore = await api.get(`/api/v1/stats/totals?${homeWindow()}`)
  await page.goto('/me/cards')
  await page.getByTestId('points-balance').getByText(zh(before), { exact: true }).waitFor()
  const listed = (await api.get('/api/v1/card-partners')).partners.find((p) => p.id === partner.id)
  assert.deepEqual([listed.rate_points, listed.rate_reward], [10, 3])
  await page.getByTestId('partner').filter({ hasText: listed.name }).getByTestId('partner-rate').getByText('10 碳积分 = 3 银行积分').waitFor()
  await page.getByText('还没有关联信用卡').waitFor()

  // A token that is not the bank's form is refused beside its field; the right one links.
  await page.getByTestId('link-partner').click()
  await page.getByRole('option', { name: '绿色银行广东分行' }).click()
  await page.fill('input[name=card_token]', 'short')
  await page.getByTestId('link-submit').click()
  await fieldError(page, 'card_token').getByText("card_token is the bank's token").waitFor()
  await page.fill('input[name=card_token]', 'tok_6222_e2e_0001')
  await page.getByTestId('link-submit').click()
  await page.getByTestId('card').getByTestId('card-token').getByText('tok_6222_e2e_0001').waitFor()
  const [card] = (await api.get('/api/v1/cards', token)).cards
  assert.equal(card.card_token, 'tok_6222_e2e_0001')

  // Not a multiple of the rate: refused beside the points; 100 points give 30 card points.
  await page.getByTestId('convert').click()
  const points = page.locator('.el-dialog input[name=points]')
  await points.fill('15')
  await page.getByTestId('confirm-convert').click()
  await fieldError(page, 'points').waitFor()
  assert.match(await fieldError(page, 'points').textContent(), /multiple of the partner's rate of 10/)
  await points.fill('100')
  await page.getByTestId('confirm-convert').click()
  await page.locator('.el-dialog').first().waitFor({ state: 'hidden' })
  await page.getByTestId('conversion').first().waitFor()
  const [conversion] = (await api.get('/api/v1/card-conversions', token)).conversions
  assert.deepEqual([conversion.points, conversion.reward_points, conversion.status], [100, 30, 'pending'])
  assert.equal(await page.getByTestId('conversion-line').first().textContent(), '100 碳积分 → 30 银行积分（10:3）')
  assert.equal(await page.getByTestId('conversion-status').first().textContent(), '待提交银行')
  const afterPoints = await personPoints(token)
  assert.equal(afterPoints, before - 100)
  await page.getByTestId('points-balance').getByText(zh(afterPoints), { exact: true }).waitFor()
  assert.equal(await scrollsSideways(page), false, 'the card page fits 375 px')
  await screenshot(page, 'engage-cards-375')
  await checkA11y(page, 'engage-cards-375')

  // The conversion counts among the points redeemed province-wide, and the home page shows it.
  const totalsAfter = await api.get(`/api/v1/stats/totals?${homeWindow()}`)
  assert.equal(totalsAfter.points_redeemed, totalsBefore.points_redeemed + 100)
  assert.equal(totalsAfter.participants, totalsBefore.participants)
  await page.goto('/')
  await expectHomeTotals(page, totalsAfter)

  // Unlinking asks first; the conversion stays.
  await page.goto('/me/cards')
  await page.getByTestId('unlink').click()
  await page.getByRole('button', { name: '确定' }).click()
  await page.getByText('还没有关联信用卡').waitFor()
  assert.equal((await api.get('/api/v1/cards', token)).cards.find((c) => c.id === card.id).status, 'unlinked')
  assert.equal(await page.getByTestId('conversion').count(), 1)
  await assertClean()
})
