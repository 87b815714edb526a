// The public market data page on a desktop and a phone: tree planting is ingested with the CLI,
// certified with no public notice and issued over the API; two exchange members receive units and
// cash and trade a product that is open all day (today is declared a trading day, so the test does
// not depend on the weekday). The page shows the book's levels, the trade, and the day's candle with
// the figures the API answers.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { apiClient, checkA11y, desktop, launchBrowser, openPage, pseudonymise, screenshot, scrollsSideways, startServer, writeJson } from './harness.mjs'

let server, browser, api
const year = new Date().getFullYear() - 1
const shanghaiToday = new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10)
const product = 'PHCER-SINK-E2E'
const yuan = (fen) => (fen / 100).toLocaleString('zh-CN', { minimumFractionDigits: 2, maximumFractionDigits: 2 })

async function issueUnits() {
  const key = randomBytes(32).toString('hex')
  const subject = pseudonymise(key, 'TREE-MKT-1')
  const setup = {
    providers: [{ key: 'e2e-forest', name: '端到端测试林业局', kind: 'forestry', regions: ['440300'], methodologies: ['sink.tree_planting'], pseudonym_key: key }],
    residents: [{ username: 'e2e_market_planter', display_name: '植树志愿者', region: '440305' }],
    bindings: [{ provider: 'e2e-forest', subject_ref: subject, username: 'e2e_market_planter' }],
  }
  // 5,000 trees for a year at 6,000 g each: 30 t.
  const record = { provider_record_id: 'planting-mkt-1', subject_ref: subject, methodology: 'sink.tree_planting', occurred_at: `${year}-12-05T09:30:00+08:00`, region: '440305', inputs: { trees: 5000, years: 1 } }
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

before(async () => {
  process.env.TPH_MARKET_EXTRA_TRADING_DAYS = shanghaiToday
  server = await startServer()
  browser = await launchBrowser()
  api = apiClient(server.url)
})

after(async () => {
  await browser?.close()
  await server?.stop()
})

test('the market page shows the book, the trade and the daily candle the API answers', async () => {
  const admin = await issueUnits()
  const { users: exm } = await api.get('/api/v1/users?role=exchange_member', admin)
  const buyerUser = await api.post('/api/v1/users', { username: 'e2e_buyer', password: 'Buyer-member-2026', display_name: '买方会员', roles: [{ role: 'exchange_member' }] }, admin)
  const sellerAccount = await api.post('/api/v1/registry/accounts', { kind: 'exchange_member', name: '卖方会员', region: '440300', members: [exm[0].id] }, admin)
  const buyerAccount = await api.post('/api/v1/registry/accounts', { kind: 'exchange_member', name: '买方会员', region: '440300', members: [buyerUser.id] }, admin)
  await api.post('/api/v1/registry/transfers', { idempotency_key: 'e2e-mkt-seed', from: 'GD-OP-440300', to: sellerAccount.account_no, units: 20 }, admin)

  await api.post('/api/v1/market/products', { code: product, name: '碳汇PHCER', methodology: 'sink.tree_planting', effective_from: new Date(Date.now() - 60_000).toISOString(), reference_price_fen: 5000, sessions: '00:00-24:00', fee_bp: 0 }, admin)
  const seller = await api.post('/api/v1/market/members', { account_no: sellerAccount.account_no, name: '卖方会员', kind: 'enterprise' }, admin)
  const buyer = await api.post('/api/v1/market/members', { account_no: buyerAccount.account_no, name: '买方会员', kind: 'enterprise' }, admin)
  await api.post(`/api/v1/market/members/${buyer.id}/deposits`, { idempotency_key: 'e2e-dep', amount_fen: 10_000_000, bank_reference: 'E2E-BANK-1' }, admin)

  const sellerToken = await api.login(exm[0].username)
  const buyerToken = await api.login('e2e_buyer', 'Buyer-member-2026')
  const order = (token, member, side, price, quantity, k) =>
    api.post('/api/v1/market/orders', { idempotency_key: k, product, member_id: member, side, price_fen: price, quantity, time_in_force: 'day' }, token)
  await order(sellerToken, seller.id, 'sell', 5100, 6, 's1')
  const taken = await order(buyerToken, buyer.id, 'buy', 5100, 4, 'b1')
  assert.equal(taken.trades.length, 1, JSON.stringify(taken))
  await order(buyerToken, buyer.id, 'buy', 4900, 3, 'b2')

  const book = await api.get(`/api/v1/market/${product}/book`)
  const { trades } = await api.get(`/api/v1/market/${product}/trades`)
  const { bars } = await api.get(`/api/v1/market/${product}/daily`)
  assert.equal(book.asks[0].quantity, 2)
  assert.equal(book.bids[0].quantity, 3)
  assert.equal(trades.length, 1)
  assert.equal(bars.length, 1)

  const { page, assertClean } = await openPage(browser, server.url, { viewport: desktop })
  await page.goto(`/market?product=${product}`)
  await page.getByTestId('open-now').getByText('交易中').waitFor()
  await page.getByTestId('band').getByText(`${yuan(book.band.low_fen)} – ${yuan(book.band.high_fen)}`).waitFor()
  const ask = page.getByTestId('ask')
  await ask.getByText(yuan(5100)).waitFor()
  assert.equal(await ask.count(), 1)
  assert.match(await ask.innerText(), /\b2\b/)
  await page.getByTestId('bid').getByText(yuan(4900)).waitFor()
  const tradeRow = page.getByTestId('trades').locator('tbody tr')
  await tradeRow.getByText('挂牌点选').waitFor()
  await tradeRow.getByText(yuan(trades[0].amount_fen)).waitFor()
  await page.getByTestId('candles').locator('canvas').waitFor()
  const barRow = page.getByTestId('bars').locator('tbody tr')
  await barRow.getByText(bars[0].day).waitFor()
  await barRow.getByText(yuan(bars[0].close_fen)).first().waitFor()
  await screenshot(page, 'market-desktop')
  await checkA11y(page, 'market-desktop')
  await assertClean()

  const phone = await openPage(browser, server.url)
  await phone.page.goto(`/market?product=${product}`)
  await phone.page.getByTestId('candles').locator('canvas').waitFor()
  await phone.page.getByTestId('trades').getByText(yuan(5100)).waitFor()
  await screenshot(phone.page, 'market-375')
  await checkA11y(phone.page, 'market-375')
  assert.equal(await scrollsSideways(phone.page), false, 'the market page scrolls sideways at 375 px')
  await phone.assertClean()
})
