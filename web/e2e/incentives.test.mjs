// Incentives end to end: a user applies as a merchant, the region admin approves, the merchant
// publishes an offer, the demo resident (on a phone) redeems it and shows the QR code, the merchant
// accepts the typed code once and is refused the second time, and the statement counts the voucher.
// Then a region admin defines benefit policies and the resident claims one for its entitlement code.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { apiClient, desktop, launchBrowser, openPage, screenshot, scrollsSideways, signInUi, startServer, checkA11y } from './harness.mjs'

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

async function choose(page, select, filter, option) {
  await select.click()
  if (filter) await page.keyboard.type(filter)
  await page.getByRole('option', { name: option, exact: true }).click()
}

//! The error under the form item holding the input `name`, within `scope` (a page or a locator).
const fieldError = (scope, name) => {
  const page = typeof scope.page === 'function' ? scope.page() : scope
  return scope.locator('.el-form-item').filter({ has: page.locator(`[name=${name}]`) }).locator('.el-form-item__error')
}

async function personPoints(token) {
  const { accounts } = await api.get('/api/v1/accounts', token)
  return accounts.find((a) => a.kind === 'person').points
}

test('merchant joins, publishes an offer; a resident redeems it, the merchant accepts the code once, and the statement shows it', async () => {
  const cafePassword = 'Green-cafe-2026'
  await api.post('/api/v1/auth/register', { username: 'e2e_cafe', password: cafePassword, display_name: '绿叶咖啡老板' })

  // The applicant: a wrong licence number is refused beside its field, then the application goes in.
  const merchant = await openPage(browser, server.url, { viewport: desktop })
  const mp = merchant.page
  await signInUi(mp, 'e2e_cafe', cafePassword)
  await mp.goto('/merchant/apply')
  await mp.getByText('您还没有提交入驻申请').waitFor()
  await mp.fill('input[name=name]', '绿叶咖啡')
  await mp.fill('input[name=licence_no]', '12345')
  await choose(mp, mp.getByTestId('region-select'), '南山', '南山区 440305')
  await mp.fill('input[name=address]', '深圳市南山区科技园 1 号')
  await mp.fill('input[name=contact]', '李老板 13800000000')
  await mp.getByRole('button', { name: '提交申请' }).click()
  await fieldError(mp, 'licence_no').getByText('18-character unified social credit code').waitFor()
  await mp.fill('input[name=licence_no]', '91440300MA5EXAMP1X')
  await mp.getByRole('button', { name: '提交申请' }).click()
  const application = mp.getByTestId('application')
  await application.getByTestId('application-status').getByText('审核中').waitFor()
  await screenshot(mp, 'merchant-apply-desktop')
  await checkA11y(mp, 'merchant-apply-desktop')

  // The region admin approves it.
  const admin = await openPage(browser, server.url, { viewport: desktop })
  const ap = admin.page
  await signInUi(ap, 'region_admin')
  await ap.locator('aside.sidebar').getByRole('menuitem', { name: '商户入驻审核' }).click()
  const row = ap.getByTestId('applications-table').locator('.el-table__body-wrapper tr').filter({ hasText: '绿叶咖啡' })
  await row.getByText('91440300MA5EXAMP1X').waitFor()
  await screenshot(ap, 'console-merchant-applications-desktop')
  await checkA11y(ap, 'console-merchant-applications-desktop')
  await row.getByTestId('approve').click()
  await ap.getByText('已批准 绿叶咖啡').waitFor()
  const cafeToken = await api.login('e2e_cafe', cafePassword)
  const [cafe] = (await api.get('/api/v1/merchants', cafeToken)).merchants
  assert.equal(cafe.status, 'approved')

  // A second business of the same user is rejected: a reason is required beside its field.
  await api.post('/api/v1/merchants', { name: '绿叶快餐', licence_no: '91440300MA5EXAMP2Y', category: 'catering', region: '440305', address: '南山区 2 号', contact: '李老板' }, cafeToken)
  await ap.getByRole('button', { name: '刷新' }).click()
  const second = ap.getByTestId('applications-table').locator('.el-table__body-wrapper tr').filter({ hasText: '绿叶快餐' })
  await second.getByTestId('reject').click()
  const rejectDialog = ap.locator('.el-dialog')
  await rejectDialog.getByTestId('confirm-reject').click()
  await fieldError(rejectDialog, 'reason').getByText('reason is required').waitFor()
  await rejectDialog.locator('textarea[name=reason]').fill('营业执照经营范围不含餐饮。')
  await rejectDialog.getByTestId('confirm-reject').click()
  await ap.getByText('已驳回 绿叶快餐').waitFor()
  assert.equal((await api.get('/api/v1/merchants?status=pending', cafeToken)).merchants.length, 0)

  // The merchant sees the approval; the merchant menu appears without signing in again.
  await mp.reload()
  const approvedApp = application.filter({ hasText: '绿叶咖啡' })
  await approvedApp.getByTestId('application-status').getByText('已入驻').waitFor()
  const rejectedApp = application.filter({ hasText: '绿叶快餐' })
  await rejectedApp.getByTestId('application-status').getByText('已驳回').waitFor()
  await rejectedApp.getByTestId('decision-reason').getByText('营业执照经营范围不含餐饮。').waitFor()
  const sidebar = mp.locator('aside.sidebar')
  await sidebar.getByRole('menuitem', { name: '优惠管理' }).click()
  await mp.waitForURL('**/merchant/offers')
  await mp.getByText('还没有优惠').waitFor()
  await mp.getByTestId('new-offer').click()
  const dialog = mp.locator('.el-dialog')
  await dialog.locator('input[name=title_zh]').fill('自带杯咖啡立减 5 元')
  await dialog.locator('input[name=title_en]').fill('5 yuan off with your own cup')
  await dialog.locator('textarea[name=description]').fill('自带杯子购买任意咖啡可用。')
  await dialog.locator('input[name=points_cost]').fill('25')
  await dialog.locator('input[name=stock]').fill('5')
  await dialog.locator('input[name=per_user_limit]').fill('2')
  await dialog.locator('input[name=image_url]').fill('http://example.com/cup.png')
  // The validity window starts now and runs 30 days by default, shown in the pickers.
  assert.match(await dialog.locator('input[name=valid_from]').inputValue(), /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/)
  assert.match(await dialog.locator('input[name=valid_until]').inputValue(), /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/)
  await screenshot(mp, 'merchant-offer-form-desktop')
  await checkA11y(mp, 'merchant-offer-form-desktop')
  await dialog.getByTestId('save-offer').click()
  await fieldError(dialog, 'image_url').getByText('https:// URL or a path on this site').waitFor()
  await dialog.locator('input[name=image_url]').fill('/icons/icon.svg')
  await dialog.getByTestId('save-offer').click()
  const offerRow = mp.getByTestId('offers-table').locator('.el-table__body-wrapper tr').filter({ hasText: '自带杯咖啡立减 5 元' })
  await offerRow.getByTestId('offer-status').getByText('进行中').waitFor()
  const [offer] = (await api.get(`/api/v1/offers?merchant=${cafe.id}`)).offers
  assert.deepEqual([offer.points_cost, offer.stock, offer.issued, offer.per_user_limit, offer.regions], [25, 5, 0, 2, ['440300']])
  await offerRow.getByTestId('offer-remaining').getByText('5', { exact: true }).waitFor()
  await screenshot(mp, 'merchant-offers-desktop')
  await checkA11y(mp, 'merchant-offers-desktop')

  // The demo resident, on a phone, redeems the offer; the balance drops by what the API says.
  const residentToken = await api.login('resident')
  const before = await personPoints(residentToken)
  assert.ok(before >= 100, `the demo resident has ${before} points`)
  const resident = await openPage(browser, server.url)
  const rp = resident.page
  await signInUi(rp, 'resident')
  await rp.goto('/me/offers')
  await rp.getByTestId('points-balance').getByText(zh(before), { exact: true }).waitFor()
  const card = rp.getByTestId('offer').filter({ hasText: '自带杯咖啡立减 5 元' })
  await card.getByTestId('offer-cost').getByText('25 积分').waitFor()
  assert.equal(await scrollsSideways(rp), false, 'the offers page scrolls sideways at 375 px')
  await screenshot(rp, 'resident-offers-375')
  await checkA11y(rp, 'resident-offers-375')
  const redeemed = rp.waitForResponse((r) => r.url().endsWith(`/api/v1/offers/${offer.id}/redeem`))
  await card.getByTestId('redeem').click()
  await rp.locator('.el-dialog').getByTestId('confirm-redeem').click()
  const voucher = await (await redeemed).json()
  const afterRedeem = await personPoints(residentToken)
  assert.equal(afterRedeem, before - 25)
  await rp.getByTestId('points-balance').getByText(zh(afterRedeem), { exact: true }).waitFor()
  await card.getByTestId('offer-remaining').getByText('剩余 4').waitFor()
  const stocked = await api.get(`/api/v1/offers/${offer.id}`)
  assert.deepEqual([stocked.issued, stocked.remaining], [1, 4])

  // The voucher with its QR code (the SVG the API draws) and its code.
  await rp.getByTestId('to-vouchers').click()
  await rp.waitForURL('**/me/vouchers')
  const vcard = rp.locator(`[data-testid=voucher][data-voucher-id="${voucher.id}"]`)
  await vcard.getByTestId('voucher-status').getByText('未使用').waitFor()
  const qr = vcard.getByTestId('voucher-qr')
  await qr.waitFor()
  await rp.waitForFunction((el) => el.complete && el.naturalWidth > 0, await qr.elementHandle())
  const shownCode = await vcard.getByTestId('voucher-code').innerText()
  assert.equal(shownCode.replace(/\s/g, '').toLowerCase(), voucher.code.toLowerCase())
  assert.equal(await scrollsSideways(rp), false, 'the vouchers page scrolls sideways at 375 px')
  await screenshot(rp, 'resident-voucher-qr-375')
  await checkA11y(rp, 'resident-voucher-qr-375')

  // Editing: stock below what was issued is refused beside the field; raising it adds units.
  await offerRow.getByTestId('edit-offer').click()
  const editDialog = mp.locator('.el-dialog').filter({ has: mp.locator('input[name=title_zh]') })
  await editDialog.locator('input[name=title_zh]').waitFor()
  assert.equal(await editDialog.locator('input[name=title_zh]').inputValue(), '自带杯咖啡立减 5 元')
  assert.notEqual(await editDialog.locator('input[name=valid_until]').inputValue(), '')
  await editDialog.locator('input[name=stock]').fill('0')
  await editDialog.getByTestId('save-offer').click()
  await fieldError(editDialog, 'stock').getByText(/cannot fall below/).waitFor()
  await editDialog.locator('input[name=stock]').fill('8')
  await editDialog.getByTestId('save-offer').click()
  await offerRow.getByTestId('offer-remaining').getByText('7', { exact: true }).waitFor()
  assert.deepEqual(await api.get(`/api/v1/offers/${offer.id}`).then((o) => [o.stock, o.issued, o.remaining]), [8, 1, 7])

  // At the counter: the typed code (as grouped on the phone) is accepted once, then refused with why.
  await sidebar.getByRole('menuitem', { name: '核销券码' }).click()
  await mp.waitForURL('**/merchant/vouchers')
  await mp.fill('input[name=code]', shownCode)
  await mp.getByRole('button', { name: '核销', exact: true }).click()
  await mp.getByTestId('voucher-accepted').getByText('核销成功').waitFor()
  await mp.getByTestId('voucher-accepted').getByText('自带杯咖啡立减 5 元').waitFor()
  assert.equal((await api.get(`/api/v1/vouchers/${voucher.id}`, residentToken)).status, 'used')
  await mp.fill('input[name=code]', shownCode)
  await mp.getByRole('button', { name: '核销', exact: true }).click()
  const refusal = fieldError(mp, 'code')
  await refusal.getByText(/already used/).waitFor()
  await mp.getByTestId('voucher-refused').getByText('未能核销').waitFor()
  await mp.getByTestId('voucher-refused').getByText('与现有数据冲突').waitFor()
  await screenshot(mp, 'merchant-voucher-refused-desktop')
  await checkA11y(mp, 'merchant-voucher-refused-desktop')
  await rp.reload()
  await vcard.getByTestId('voucher-status').getByText('已使用').waitFor()
  // In English the same voucher reads in English, its title the merchant's English one.
  await rp.getByTestId('language-switch').click()
  await rp.getByRole('heading', { name: 'My vouchers' }).waitFor()
  await vcard.getByTestId('voucher-status').getByText('Used').waitFor()
  await vcard.getByText('5 yuan off with your own cup').waitFor()
  await rp.getByTestId('language-switch').click()
  await rp.getByRole('heading', { name: '我的券' }).waitFor()

  // A second voucher is cancelled unused: its points and its unit of stock come back.
  await rp.goto('/me/offers')
  await card.getByTestId('redeem').click()
  await rp.locator('.el-dialog').getByTestId('confirm-redeem').click()
  await rp.getByTestId('points-balance').getByText(zh(before - 50), { exact: true }).waitFor()
  await rp.goto('/me/vouchers')
  const unused = rp.getByTestId('voucher').filter({ has: rp.getByTestId('voucher-status').getByText('未使用') })
  await unused.getByTestId('cancel-voucher').click()
  await rp.locator('.el-message-box').getByRole('button', { name: '确定' }).click()
  await rp.getByText('已取消，25 积分已退回').waitFor()
  assert.equal(await personPoints(residentToken), before - 25)
  assert.equal((await api.get(`/api/v1/offers/${offer.id}`)).remaining, 7)

  // The month's statement counts both vouchers and offers the workbook.
  const month = new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 7)
  const statement = await api.get(`/api/v1/merchants/${cafe.id}/settlements/${month}`, cafeToken)
  const line = statement.lines.find((l) => l.offer_id === offer.id)
  assert.deepEqual([line.issued, line.used, line.cancelled], [2, 1, 1])
  await sidebar.getByRole('menuitem', { name: '月度结算' }).click()
  const stRow = mp.getByTestId('statement-table').locator('.el-table__body-wrapper tr').filter({ hasText: '自带杯咖啡立减 5 元' })
  await stRow.getByTestId('line-issued').getByText(zh(line.issued), { exact: true }).waitFor()
  await stRow.getByTestId('line-used').getByText(zh(line.used), { exact: true }).waitFor()
  await stRow.getByTestId('line-received').getByText(zh(line.points_received), { exact: true }).waitFor()
  await screenshot(mp, 'merchant-statement-desktop')
  await checkA11y(mp, 'merchant-statement-desktop')
  const download = mp.waitForEvent('download')
  await mp.getByTestId('download-xlsx').click()
  const file = await (await download).path()
  assert.equal(readFileSync(file).subarray(0, 2).toString(), 'PK', 'the statement download is an XLSX (zip) file')

  // Pausing takes the offer off the residents' list; it stays in the merchant's with its status.
  await sidebar.getByRole('menuitem', { name: '优惠管理' }).click()
  await offerRow.getByTestId('pause-offer').click()
  await offerRow.getByTestId('offer-status').getByText('已暂停').waitFor()
  assert.equal((await api.get('/api/v1/offers?region=440305')).offers.some((o) => o.id === offer.id), false)
  await offerRow.getByTestId('resume-offer').click()
  await offerRow.getByTestId('offer-status').getByText('进行中').waitFor()

  await merchant.assertClean()
  await admin.assertClean()
  await resident.assertClean()
})

test('a region admin defines benefit policies and a resident claims one for its entitlement code', async () => {
  const admin = await openPage(browser, server.url, { viewport: desktop })
  const ap = admin.page
  await signInUi(ap, 'region_admin')
  await ap.goto('/console/benefits')
  await ap.getByText('本地区没有生效的政策').waitFor()
  await ap.getByTestId('new-policy').click()
  const dialog = ap.locator('.el-dialog').filter({ has: ap.locator('input[name=name_zh]') })
  await dialog.locator('input[name=name_zh]').fill('公交乘车券')
  await dialog.locator('input[name=name_en]').fill('Bus ride')
  await choose(ap, dialog.getByTestId('policy-kind'), '', '公共交通')
  await dialog.locator('input[name=points_price]').fill('20')
  await dialog.locator('input[name=monthly_budget_units]').fill('10')
  await dialog.locator('input[name=per_user_monthly_limit]').fill('2')
  await dialog.getByTestId('save-policy').click()
  const rows = ap.getByTestId('policies-table').locator('.el-table__body-wrapper tr')
  await rows.filter({ hasText: '公交乘车券' }).getByTestId('policy-used').getByText('0 / 10').waitFor()

  // A webhook policy: an https URL is refused beside the field; the secret is shown once.
  await ap.getByTestId('new-policy').click()
  await dialog.locator('input[name=name_zh]').fill('停车费抵扣')
  await dialog.locator('input[name=name_en]').fill('Parking discount')
  await dialog.getByTestId('fulfilment-webhook').click()
  await dialog.locator('input[name=webhook_url]').fill('https://parking.example/claims')
  await dialog.getByTestId('save-policy').click()
  await fieldError(dialog, 'webhook_url').getByText('http://host:port/path').waitFor()
  await dialog.locator('input[name=webhook_url]').fill('http://127.0.0.1:9/claims')
  await dialog.getByTestId('save-policy').click()
  const secret = ap.getByTestId('webhook-secret')
  await secret.waitFor()
  assert.match((await secret.innerText()).trim(), /^[0-9a-f]{32,}$/)
  await screenshot(ap, 'console-benefit-secret-desktop')
  await checkA11y(ap, 'console-benefit-secret-desktop')
  await ap.getByTestId('secret-done').click()
  await ap.getByTestId('webhook-secret').waitFor({ state: 'detached' })
  await rows.filter({ hasText: '停车费抵扣' }).waitFor()
  const policy = (await api.get('/api/v1/benefits/policies?region=440305')).policies.find((p) => p.name_zh === '公交乘车券')
  assert.equal(policy.fulfilment, 'code')

  // The resident claims one unit and sees the entitlement code the API answered.
  const token = await api.login('resident')
  const before = await personPoints(token)
  const resident = await openPage(browser, server.url)
  const rp = resident.page
  await signInUi(rp, 'resident')
  await rp.goto('/me/benefits')
  await rp.getByTestId('points-balance').getByText(zh(before), { exact: true }).waitFor()
  const card = rp.getByTestId('policy').filter({ hasText: '公交乘车券' })
  await card.getByText('20 积分 / 份').waitFor()
  await card.getByTestId('claim').click()
  const claimed = rp.waitForResponse((r) => r.url().endsWith(`/api/v1/benefits/policies/${policy.id}/claims`))
  await rp.locator('.el-dialog').getByTestId('confirm-claim').click()
  const claim = await (await claimed).json()
  assert.equal(claim.status, 'fulfilled')
  await rp.getByTestId('entitlement-code').getByText(claim.entitlement_code).waitFor()
  await rp.getByTestId('claim-record').first().getByTestId('claim-code').getByText(claim.entitlement_code).waitFor()
  assert.equal(await personPoints(token), before - 20)
  await rp.getByTestId('points-balance').getByText(zh(before - 20), { exact: true }).waitFor()
  await card.getByTestId('policy-budget').getByText('本月已用 1 / 10 份').waitFor()
  assert.equal(await scrollsSideways(rp), false, 'the benefits page scrolls sideways at 375 px')
  await screenshot(rp, 'resident-benefit-claimed-375')
  await checkA11y(rp, 'resident-benefit-claimed-375')
  await ap.reload()
  await rows.filter({ hasText: '公交乘车券' }).getByTestId('policy-used').getByText('1 / 10').waitFor()

  await admin.assertClean()
  await resident.assertClean()
})
