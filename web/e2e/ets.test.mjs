// ETS offsets and one-way auctions in the browser (docs/ets.md, docs/market.md). Tree planting in
// Shenzhen is ingested and issued as PHCER and admitted as offset-eligible. A verifier enters the
// demo ETS enterprise's verified emissions (100 t) for this year; the enterprise's surrender of 11
// units is refused beside the quantity naming the 10% rule, then 10 units (exactly the limit) are
// accepted, and the province's report shows them with its XLSX and signed export downloads. An
// exchange member announces an auction in the browser; another auction with a short window gets a
// bid refused below the reserve, then a sealed bid; it is cleared by `tanpuhui market
// close-auctions` and its result and pay-as-bid fill are shown.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { createPublicKey, randomBytes, verify } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { apiClient, binary, checkA11y, repoDir, desktop, launchBrowser, openPage, pseudonymise, screenshot, scrollsSideways, signInUi, startServer, writeJson } from './harness.mjs'

let server, browser, api, admin
const vintage = new Date().getFullYear() - 1
const complianceYear = Number(new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 4))
const product = 'PHCER-SINK-AUC'
const yuan = (fen) => (fen / 100).toLocaleString('zh-CN', { minimumFractionDigits: 2, maximumFractionDigits: 2 })

async function issueUnits() {
  const key = randomBytes(32).toString('hex')
  const subject = pseudonymise(key, 'TREE-ETS-1')
  const setup = {
    providers: [{ key: 'e2e-forest', name: '端到端测试林业局', kind: 'forestry', regions: ['440300'], methodologies: ['sink.tree_planting'], pseudonym_key: key }],
    residents: [{ username: 'e2e_ets_planter', display_name: '植树志愿者', region: '440305' }],
    bindings: [{ provider: 'e2e-forest', subject_ref: subject, username: 'e2e_ets_planter' }],
  }
  // 5,000 trees for a year at 6,000 g each: 30 t.
  const record = { provider_record_id: 'planting-ets-1', subject_ref: subject, methodology: 'sink.tree_planting', occurred_at: `${vintage}-12-05T09:30:00+08:00`, region: '440305', inputs: { trees: 5000, years: 1 } }
  writeJson(join(server.dir, 'setup.json'), setup)
  writeJson(join(server.dir, 'e2e-forest.ndjson'), JSON.stringify(record) + '\n')
  await server.cli(['ingest', join(server.dir, 'e2e-forest.ndjson'), '--setup', join(server.dir, 'setup.json'), '--json'])

  const batch = await api.post('/api/v1/certify/batches', { methodology: 'sink.tree_planting', region: '440300', vintage_from: `${vintage}-12-01`, vintage_until: `${vintage}-12-31`, notice_days_working: 0 }, admin)
  const { users: verifiers } = await api.get('/api/v1/users?role=verifier', admin)
  await api.post(`/api/v1/certify/batches/${batch.id}/verifier`, { user_id: verifiers[0].id }, admin)
  const verifier = await api.login('verifier')
  const opened = await api.get(`/api/v1/certify/batches/${batch.id}`, admin)
  await api.post(`/api/v1/certify/batches/${batch.id}/approval`, { grams: opened.grams_locked }, verifier)
  await api.post(`/api/v1/certify/batches/${batch.id}/issuance`, {}, admin)
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

async function userId(username, role) {
  const { users } = await api.get(`/api/v1/users?role=${role}`, admin)
  return users.find((u) => u.username === username).id
}

before(async () => {
  server = await startServer()
  browser = await launchBrowser()
  api = apiClient(server.url)
  admin = await api.login('province_admin')
  await issueUnits()
})

after(async () => {
  await browser?.close()
  await server?.stop()
})

test('an ETS enterprise surrenders PHCER: refused above 10% of verified emissions beside the quantity, accepted at the limit, reported', async () => {
  const yesterday = new Date(Date.now() + 8 * 3600_000 - 86_400_000).toISOString().slice(0, 10)
  await api.post('/api/v1/ets/scopes', { methodology: 'sink.tree_planting', effective_from: yesterday }, admin)
  const account = await api.post('/api/v1/registry/accounts', { kind: 'enterprise', name: '粤电控排企业', region: '440300', members: [await userId('ets_enterprise', 'ets_enterprise')] }, admin)
  await api.post('/api/v1/registry/transfers', { idempotency_key: 'e2e-ets-seed', from: 'GD-OP-440300', to: account.account_no, units: 15 }, admin)

  // The verifier enters 100 t of verified emissions in the browser; the province 90 t of allowances.
  const verifier = await openPage(browser, server.url, { viewport: desktop })
  await signInUi(verifier.page, 'verifier')
  await verifier.page.goto('/ets/verify')
  await verifier.page.fill('input[name=account_no]', account.account_no)
  await fillNumber(verifier.page, 'verify-year', complianceYear)
  await verifier.page.getByTestId('verify-find').click()
  await verifier.page.getByTestId('verified').getByText('尚未核定').waitFor()
  await fillNumber(verifier.page, 'verified-input', 100)
  await verifier.page.getByTestId('save-verified').click()
  await verifier.page.getByTestId('verified').getByText('100 吨').waitFor()
  await checkA11y(verifier.page, 'ets-verify-desktop')
  await verifier.assertClean()
  await put(`/api/v1/ets/accounts/${account.account_no}/years/${complianceYear}/allowances-surrendered`, { allowances_surrendered_t: 90 }, admin)

  const phone = await openPage(browser, server.url)
  await signInUi(phone.page, 'ets_enterprise')
  await phone.page.goto(`/ets/compliance?account=${account.account_no}&year=${complianceYear}`)
  await phone.page.getByTestId('remaining').getByText('10').waitFor()
  await phone.page.getByTestId('rules').getByText(`${complianceYear + 1}-06-20`).waitFor()
  await fillNumber(phone.page, 'surrender-units', 11)
  await phone.page.getByTestId('surrender').click()
  const refusal = phone.page.getByTestId('surrender-form').locator('.el-form-item__error')
  await refusal.getByText('max_offset_bp').waitFor()
  assert.match(await refusal.innerText(), /抵销不超过核定排放量的比例/)
  await screenshot(phone.page, 'ets-refused-375')
  await checkA11y(phone.page, 'ets-compliance-375')
  assert.equal(await scrollsSideways(phone.page), false, 'the compliance page scrolls sideways at 375 px')
  let year = await api.get(`/api/v1/ets/accounts/${account.account_no}/years/${complianceYear}`, admin)
  assert.equal(year.phcer_surrendered_t, 0)

  await fillNumber(phone.page, 'surrender-units', 10)
  await phone.page.getByTestId('surrender').click()
  await phone.page.getByTestId('surrendered').waitFor()
  await phone.page.getByTestId('phcer').getByText('10 吨').waitFor()
  await phone.page.getByTestId('compliance-status').getByText('已履约').waitFor()
  year = await api.get(`/api/v1/ets/accounts/${account.account_no}/years/${complianceYear}`, admin)
  assert.equal(year.phcer_surrendered_t, 10)
  assert.equal(year.phcer_home_province_t, 10)
  assert.equal(year.status, 'complied')
  await phone.assertClean()

  // The province's report, its workbook and the signed export.
  const provincePage = await openPage(browser, server.url, { viewport: desktop })
  await signInUi(provincePage.page, 'province_admin')
  await provincePage.page.goto(`/ets/reports?year=${complianceYear}`)
  await provincePage.page.getByTestId('report').getByText('粤电控排企业').waitFor()
  await provincePage.page.getByTestId('report-phcer').getByText('10').waitFor()
  await checkA11y(provincePage.page, 'ets-report-desktop')
  for (const [button, name] of [['download-xlsx', `ets-compliance-${complianceYear}.xlsx`], ['download-export', `ets-offsets-${complianceYear}.json`]]) {
    const [download] = await Promise.all([provincePage.page.waitForEvent('download'), provincePage.page.getByTestId(button).click()])
    assert.equal(download.suggestedFilename(), name)
    const bytes = readFileSync(await download.path())
    if (name.endsWith('.xlsx')) assert.equal(bytes.subarray(0, 2).toString(), 'PK')
    else assert.equal(JSON.parse(bytes.toString()).format, 'tanpuhui.ets-offset-export.v1')
  }
  // The export verifies with the platform's public key: the same bytes the page downloaded.
  const exported = await fetch(`${server.url}/api/v1/ets/exports/${complianceYear}`, { headers: { authorization: `Bearer ${admin}` } })
  const body = Buffer.from(await exported.arrayBuffer())
  const key = createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(exported.headers.get('x-public-key-ed25519'), 'hex')]), format: 'der', type: 'spki' })
  assert.ok(verify(null, body, key, Buffer.from(exported.headers.get('x-signature-ed25519'), 'hex')), 'the export verifies')
  assert.equal(JSON.parse(body.toString()).surrenders.length, 1)
  await provincePage.assertClean()
})

test('an exchange member announces an auction; a sealed bid below the reserve is refused, another clears pay-as-bid and the result is shown', async () => {
  const buyerUser = await api.post('/api/v1/users', { username: 'e2e_auction_buyer', password: 'Buyer-member-2026', display_name: '竞买会员', roles: [{ role: 'exchange_member' }] }, admin)
  const sellerAccount = await api.post('/api/v1/registry/accounts', { kind: 'exchange_member', name: '出让会员', region: '440300', members: [await userId('exchange_member', 'exchange_member')] }, admin)
  const buyerAccount = await api.post('/api/v1/registry/accounts', { kind: 'exchange_member', name: '竞买会员', region: '440300', members: [buyerUser.id] }, admin)
  await api.post('/api/v1/registry/transfers', { idempotency_key: 'e2e-auc-seed', from: 'GD-OP-440300', to: sellerAccount.account_no, units: 10 }, admin)
  await api.post('/api/v1/market/products', { code: product, name: '碳汇PHCER', methodology: 'sink.tree_planting', effective_from: new Date(Date.now() - 60_000).toISOString(), reference_price_fen: 5000, sessions: '00:00-24:00', fee_bp: 0 }, admin)
  const seller = await api.post('/api/v1/market/members', { account_no: sellerAccount.account_no, name: '出让会员', kind: 'enterprise' }, admin)
  const buyer = await api.post('/api/v1/market/members', { account_no: buyerAccount.account_no, name: '竞买会员', kind: 'enterprise' }, admin)
  await api.post(`/api/v1/market/members/${buyer.id}/deposits`, { idempotency_key: 'e2e-auc-dep', amount_fen: 10_000_000, bank_reference: 'E2E-BANK-AUC' }, admin)
  const sellerToken = await api.login('exchange_member')

  // The seller announces 4 t at 50.00 yuan in the browser (a day's window from the next minute).
  const desk = await openPage(browser, server.url, { viewport: desktop })
  await signInUi(desk.page, 'exchange_member')
  await desk.page.goto('/market/auctions/new')
  await desk.page.getByTestId('announce-member').getByText(`#${seller.id}`).waitFor()
  await fillNumber(desk.page, 'announce-quantity', 4)
  await fillNumber(desk.page, 'announce-reserve', 50)
  await checkA11y(desk.page, 'auction-announce-desktop')
  await desk.page.getByTestId('announce-submit').click()
  await desk.page.waitForURL(/\/market\/auctions\/\d+$/)
  const announced = await api.get(`/api/v1/market/auctions/${new URL(desk.page.url()).pathname.split('/').pop()}`)
  assert.equal(announced.quantity, 4)
  assert.equal(announced.reserve_price_fen, 5000)
  assert.ok(['upcoming', 'open'].includes(announced.phase), announced.phase)
  await desk.assertClean()

  // A second sale of 5 t with a window closing in 40 s, for the bid and the clearing.
  const closesAt = new Date(Math.ceil((Date.now() + 40_000) / 1000) * 1000)
  const seconds = (d) => d.toISOString().replace(/\.\d{3}Z$/, 'Z')
  const auction = await api.post('/api/v1/market/auctions', { idempotency_key: 'e2e-auc-short', product, announcer_member_id: seller.id, side: 'sell', quantity: 5, reserve_price_fen: 5000, opens_at: seconds(new Date()), closes_at: seconds(closesAt) }, sellerToken)

  const phone = await openPage(browser, server.url)
  await signInUi(phone.page, 'e2e_auction_buyer', 'Buyer-member-2026')
  await phone.page.goto(`/market/auctions/${auction.id}`)
  await phone.page.getByTestId('bid-form').waitFor()
  await fillNumber(phone.page, 'bid-price', 49.99)
  await fillNumber(phone.page, 'bid-quantity', 3)
  await phone.page.getByTestId('submit-bid').click()
  await phone.page.getByTestId('bid-form').locator('.el-form-item__error').first().waitFor()
  assert.equal(await phone.page.getByTestId('bid-form').locator('.el-form-item__error').count(), 1)
  await checkA11y(phone.page, 'auction-bid-refused-375')
  await fillNumber(phone.page, 'bid-price', 52)
  await phone.page.getByTestId('submit-bid').click()
  await phone.page.getByTestId('bid-state').getByText('已密封提交').waitFor()
  assert.equal(await scrollsSideways(phone.page), false, 'the auction page scrolls sideways at 375 px')

  // After the window, the cron job clears it: 3 t to the bidder at its own price.
  await new Promise((r) => setTimeout(r, Math.max(0, closesAt.getTime() - Date.now() + 1500)))
  // The cron job's command (it takes no data directory), run where the deployment keeps its data
  // key, as cron would be told to.
  execFileSync(binary, ['market', 'close-auctions', '--db', server.db], { cwd: repoDir })
  const cleared = await api.get(`/api/v1/market/auctions/${auction.id}`)
  assert.equal(cleared.phase, 'cleared')
  assert.equal(cleared.result.cleared_quantity, 3)
  assert.equal(cleared.result.average_price_fen, 5200)
  await phone.page.reload()
  await phone.page.getByTestId('cleared-quantity').getByText('3').waitFor()
  await phone.page.getByTestId('average-price').getByText(yuan(5200)).waitFor()
  await phone.page.getByTestId('cleared-amount').getByText(yuan(15600)).waitFor()
  await phone.page.getByTestId('bid-state').getByText('全部成交').waitFor()
  await phone.page.getByTestId('bid-filled').getByText('3').waitFor()
  await screenshot(phone.page, 'auction-result-375')
  await checkA11y(phone.page, 'auction-result-375')
  assert.equal(await scrollsSideways(phone.page), false, 'the auction result scrolls sideways at 375 px')

  await phone.page.goto('/market/auctions?state=cleared')
  await phone.page.getByTestId('auction-result').getByText(yuan(5200)).waitFor()
  await checkA11y(phone.page, 'auctions-375')
  assert.equal(await scrollsSideways(phone.page), false, 'the auctions list scrolls sideways at 375 px')
  await phone.assertClean()
})
