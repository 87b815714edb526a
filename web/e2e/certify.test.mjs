// Certification and the PHCER registry, through the UI, on a desktop: credited tree planting of the
// previous December (ingested with the CLI) is put in two batches. The first keeps the default
// public notice: the public sees it under notice and comments, and the verifier is refused a
// decision until the notice ends. The second is opened with no notice (notice_days_working 0, which
// the API allows), so the whole review can run now: corrections asked and answered, a sampled
// reduction deducted, a quantity approved, PHCER issued, serials looked up, units transferred and
// retired. The server's clock cannot move, so the first batch's review after its notice is not
// reachable here.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { apiClient, desktop, launchBrowser, openPage, phone, pseudonymise, screenshot, scrollsSideways, signInUi, startServer, writeJson, checkA11y } from './harness.mjs'

let server, browser, api
const year = new Date().getFullYear() - 1
const day = (d) => `${year}-12-${String(d).padStart(2, '0')}`
const batches = {}

// Seven planters in Nanshan: two plant on December 2 and 3 (first batch), four on December 12–15
// (second batch), one on December 24 (a batch the verifier rejects). 6,000 g per tree-year.
const plantings = [
  { ref: 'TREE-A1', day: 2, trees: 50 },
  { ref: 'TREE-A2', day: 3, trees: 40 },
  { ref: 'TREE-B1', day: 12, trees: 300 },
  { ref: 'TREE-B2', day: 13, trees: 300 },
  { ref: 'TREE-B3', day: 14, trees: 300 },
  { ref: 'TREE-B4', day: 15, trees: 345 },
  { ref: 'TREE-C1', day: 24, trees: 20 },
]

async function ingestPlantings() {
  const key = randomBytes(32).toString('hex')
  const setup = {
    providers: [{ key: 'e2e-forest', name: '端到端测试林业局', kind: 'forestry', regions: ['440300'], methodologies: ['sink.tree_planting'], pseudonym_key: key }],
    residents: [],
    bindings: [],
  }
  const records = plantings.map((p, n) => {
    const username = `e2e_planter_${n}`
    const subject = pseudonymise(key, p.ref)
    setup.residents.push({ username, display_name: `植树志愿者${n}`, region: '440305' })
    setup.bindings.push({ provider: 'e2e-forest', subject_ref: subject, username })
    return { provider_record_id: `planting-${p.ref}`, subject_ref: subject, methodology: 'sink.tree_planting', occurred_at: `${day(p.day)}T09:30:00+08:00`, region: '440305', inputs: { trees: p.trees, years: 1 } }
  })
  writeJson(join(server.dir, 'forest-setup.json'), setup)
  const file = join(server.dir, 'e2e-forest.ndjson')
  writeJson(file, records.map((r) => JSON.stringify(r)).join('\n') + '\n')
  const { stdout } = await server.cli(['ingest', file, '--setup', join(server.dir, 'forest-setup.json'), '--json'])
  const summary = JSON.parse(stdout.trim().split('\n').pop())
  assert.equal(summary.credited, plantings.length, stdout)
}

before(async () => {
  server = await startServer()
  browser = await launchBrowser()
  api = apiClient(server.url)
  await ingestPlantings()
})

after(async () => {
  await browser?.close()
  await server?.stop()
})

const num = (n) => new Intl.NumberFormat('zh-CN').format(n)

//! Picks an option of the Element Plus select in `scope` labelled `label`.
async function choose(page, select, option) {
  await select.click()
  await page.getByRole('option', { name: option }).click()
}

async function typeDate(page, name, value) {
  const input = page.locator(`.el-dialog input[name=${name}]`)
  await input.click()
  await input.fill(value)
  await input.press('Enter')
}

//! Opens a batch through the console dialog and returns its id (from the page it lands on).
async function openBatch(page, { from, until, noticeDays }) {
  await page.goto('/console/batches')
  await page.getByTestId('open-batch').click()
  const dialog = page.locator('.el-dialog')
  await choose(page, dialog.getByTestId('methodology-select'), /^sink\.tree_planting · /)
  await typeDate(page, 'vintage_from', from)
  await typeDate(page, 'vintage_until', until)
  if (noticeDays !== undefined) await dialog.locator('input[name=notice_days_working]').fill(String(noticeDays))
  await dialog.getByTestId('confirm-open').click()
  await page.waitForURL(/\/console\/batches\/\d+$/)
  return Number(new URL(page.url()).pathname.split('/').pop())
}

test('a region admin opens a batch; the public sees it under notice and comments; the verifier must wait for the notice', async () => {
  const admin = await openPage(browser, server.url, { viewport: desktop })
  await signInUi(admin.page, 'region_admin')
  await admin.page.locator('aside.sidebar').getByRole('menuitem', { name: '核证批次' }).click()
  await admin.page.getByRole('heading', { name: '核证批次' }).waitFor()

  // A period that has not ended is refused beside the "until" date.
  await admin.page.getByTestId('open-batch').click()
  const dialog = admin.page.locator('.el-dialog')
  await choose(admin.page, dialog.getByTestId('methodology-select'), /^sink\.tree_planting · /)
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date())
  await typeDate(admin.page, 'vintage_from', `${today.slice(0, 4)}-01-01`)
  await typeDate(admin.page, 'vintage_until', today)
  await dialog.getByTestId('confirm-open').click()
  await dialog.locator('.el-form-item__error').getByText('the vintage period must have ended before today').waitFor()
  await dialog.getByRole('button', { name: '取消' }).click()

  const id = await openBatch(admin.page, { from: day(1), until: day(10) })
  batches.noticed = id
  const batch = await api.get(`/api/v1/certify/batches/${id}`)
  assert.equal(batch.records_locked, 2)
  assert.equal(batch.grams_locked, (50 + 40) * 6000)
  assert.equal(batch.in_notice, true)
  const facts = admin.page.getByTestId('batch-facts')
  await facts.getByTestId('records-locked').getByText('2', { exact: true }).waitFor()
  await facts.getByTestId('grams-locked').getByText(num(batch.grams_locked), { exact: true }).waitFor()
  await facts.getByTestId('notice-tag').getByText('公示中').waitFor()
  const report = await api.get(`/api/v1/certify/batches/${id}/report`, await api.login('region_admin'))
  await admin.page.getByTestId('report-grams').getByText(num(report.grams), { exact: true }).waitFor()
  await admin.page.getByTestId('sample-seed').getByText(report.sample_seed).waitFor()
  assert.equal(await admin.page.getByTestId('report-sample').locator('.el-table__body-wrapper tr.el-table__row').count(), report.sample.length)
  await screenshot(admin.page, 'certify-batch-opened-desktop')
  await checkA11y(admin.page, 'certify-batch-opened-desktop')
  await admin.assertClean()

  // Anyone, not signed in: the batch is listed under public notice; a comment needs a name.
  const visitor = await openPage(browser, server.url, { viewport: desktop })
  await visitor.page.goto('/notices')
  await visitor.page.getByTestId('batches-table').getByRole('link', { name: String(id), exact: true }).click()
  await visitor.page.waitForURL(`**/notices/${id}`)
  await visitor.page.getByTestId('notice-tag').getByText('公示中').waitFor()
  await visitor.page.getByTestId('report-restricted').waitFor()
  await visitor.page.locator('textarea[name=body]').fill('植树地点能否公开，便于公众实地查看？')
  await visitor.page.getByTestId('send-comment').click()
  await visitor.page.locator('.el-form-item__error').getByText('author is required').waitFor()
  await visitor.page.locator('input[name=author]').fill('南山区居民')
  await visitor.page.getByTestId('send-comment').click()
  await visitor.page.getByTestId('comments').getByText('植树地点能否公开').waitFor()
  const { comments } = await api.get(`/api/v1/certify/batches/${id}/comments`)
  assert.deepEqual(comments.map((c) => [c.author, c.body]), [['南山区居民', '植树地点能否公开，便于公众实地查看？']])
  await screenshot(visitor.page, 'certify-notice-comment-desktop')
  await checkA11y(visitor.page, 'certify-notice-comment-desktop')
  await visitor.assertClean()

  // The province assigns the verifier, who may not decide while the notice runs.
  const province = await openPage(browser, server.url, { viewport: desktop })
  await signInUi(province.page, 'province_admin')
  await province.page.goto(`/console/batches/${id}`)
  await province.page.getByTestId('step-assign').click()
  await choose(province.page, province.page.getByTestId('verifier-select'), /\(verifier, \d+\)/)
  await province.page.getByTestId('step-confirm').click()
  await province.page.getByTestId('batch-trail').getByText('指派核证机构').waitFor()
  await province.assertClean()

  const verifier = await openPage(browser, server.url, { viewport: desktop })
  await signInUi(verifier.page, 'verifier')
  await verifier.page.locator('aside.sidebar').getByRole('menuitem', { name: '待核证批次' }).click()
  await verifier.page.getByTestId('batches-table').getByRole('link', { name: String(id), exact: true }).click()
  await verifier.page.getByTestId('notice-hint').waitFor()
  await verifier.page.getByTestId('step-approve').click()
  await verifier.page.getByTestId('step-confirm').click()
  await verifier.page.locator('.el-dialog .el-alert').getByText(/public notice runs until/).waitFor()
  assert.equal((await api.get(`/api/v1/certify/batches/${id}`)).state, 'open')
  await verifier.assertClean()
})

test('a batch without notice is reviewed, issued, found in the explorer, transferred and retired', async () => {
  const admin = await openPage(browser, server.url, { viewport: desktop })
  await signInUi(admin.page, 'region_admin')
  const id = await openBatch(admin.page, { from: day(11), until: day(20), noticeDays: 0 })
  batches.issued = id
  const opened = await api.get(`/api/v1/certify/batches/${id}`)
  assert.equal(opened.records_locked, 4)
  assert.equal(opened.grams_locked, (300 + 300 + 300 + 345) * 6000)
  await admin.page.getByTestId('notice-tag').getByText('公示期已结束').waitFor()

  const province = await openPage(browser, server.url, { viewport: desktop })
  await signInUi(province.page, 'province_admin')
  await province.page.goto(`/console/batches/${id}`)
  await province.page.getByTestId('step-assign').click()
  await choose(province.page, province.page.getByTestId('verifier-select'), /\(verifier, \d+\)/)
  await province.page.getByTestId('step-confirm').click()
  await province.page.getByTestId('batch-trail').getByText('指派核证机构').waitFor()

  // The verifier asks for corrections; the region answers; review resumes.
  const verifier = await openPage(browser, server.url, { viewport: desktop })
  await signInUi(verifier.page, 'verifier')
  await verifier.page.goto(`/verify/batches/${id}`)
  await verifier.page.getByTestId('step-corrections').click()
  await verifier.page.locator('.el-dialog textarea[name=note]').fill('请补充 12 月 15 日植树活动的组织方证明。')
  await verifier.page.getByTestId('step-confirm').click()
  await verifier.page.getByTestId('batch-state').getByText('待补正').waitFor()

  await admin.page.reload()
  await admin.page.getByTestId('step-respond').click()
  await admin.page.locator('.el-dialog textarea[name=note]').fill('已上传组织方盖章的活动记录。')
  await admin.page.getByTestId('step-confirm').click()
  await admin.page.getByTestId('batch-state').getByText('进行中').waitFor()
  assert.equal((await api.get(`/api/v1/certify/batches/${id}`)).state, 'open')

  // Deduct the first sampled reduction: a reason is required beside it, then it is released.
  await verifier.page.reload()
  const report = await api.get(`/api/v1/certify/batches/${id}/report`, await api.login('verifier'))
  const first = report.sample[0]
  const sampleRows = verifier.page.getByTestId('report-sample').locator('.el-table__body-wrapper tr.el-table__row')
  await sampleRows.first().waitFor() // count() does not wait for the table to render
  assert.equal(await sampleRows.count(), report.sample.length)
  await sampleRows.filter({ hasText: first.provider_record_id }).locator('.el-checkbox').click()
  await verifier.page.getByTestId('step-deduct').click()
  await verifier.page.getByTestId('step-confirm').click()
  await verifier.page.locator('.el-dialog .el-form-item__error').getByText('deductions[0].reason is required').waitFor()
  await verifier.page.locator(`.el-dialog input[name=reason-${first.reduction_id}]`).fill('组织方证明未覆盖该记录')
  await verifier.page.getByTestId('step-confirm').click()
  const deducted = await api.get(`/api/v1/certify/batches/${id}`)
  assert.equal(deducted.grams_released, first.grams)
  assert.equal(deducted.grams_locked, opened.grams_locked - first.grams)
  await verifier.page.getByTestId('grams-released').getByText(num(first.grams), { exact: true }).waitFor()

  // More than is locked is refused beside the quantity; what is locked is approved.
  await verifier.page.getByTestId('step-approve').click()
  const grams = verifier.page.locator('.el-dialog input[name=grams]')
  assert.equal(Number((await grams.inputValue()).replace(/\D/g, '')), deducted.grams_locked)
  await grams.fill(String(deducted.grams_locked + 1))
  await verifier.page.getByTestId('step-confirm').click()
  await verifier.page.locator('.el-dialog .el-form-item__error').getByText(/at most the \d+ g still locked/).waitFor()
  await grams.fill(String(deducted.grams_locked))
  await verifier.page.locator('.el-dialog textarea[name=note]').fill('抽样核查通过')
  await verifier.page.getByTestId('step-confirm').click()
  await verifier.page.getByTestId('batch-state').getByText('已核准').waitFor()
  await verifier.page.getByTestId('grams-approved').getByText(num(deducted.grams_locked), { exact: true }).waitFor()
  await screenshot(verifier.page, 'certify-verifier-approved-desktop')
  await checkA11y(verifier.page, 'certify-verifier-approved-desktop')
  await verifier.assertClean()

  // The province issues: whole tonnes, the rest carried over, the sink's buffer share rounded up.
  await province.page.reload()
  await province.page.getByTestId('step-issue').click()
  await province.page.getByTestId('step-confirm').click()
  await province.page.getByTestId('batch-state').getByText('已签发').waitFor()
  const issued = await api.get(`/api/v1/certify/batches/${id}`)
  const approved = deducted.grams_locked
  assert.equal(issued.units_issued, Math.floor(approved / 1e6))
  assert.equal(issued.carry_out_grams, approved % 1e6)
  assert.equal(issued.buffer_units, Math.ceil((issued.units_issued * 1000) / 10000))
  await province.page.getByTestId('units-issued').getByText(num(issued.units_issued), { exact: true }).waitFor()
  await province.page.getByTestId('buffer-units').getByText(num(issued.buffer_units), { exact: true }).waitFor()
  await province.page.getByTestId('carry-out').getByText(num(issued.carry_out_grams), { exact: true }).waitFor()
  const { issuances } = await api.get('/api/v1/registry/issuances')
  const issuance = issuances.find((i) => i.batch_no === id)
  const shown = await province.page.getByTestId('issued-serials').locator('a').allInnerTexts()
  assert.deepEqual(shown, issuance.serials)
  const pdf = await fetch(server.url + (await province.page.getByTestId('certificate').getAttribute('href')))
  assert.equal(pdf.headers.get('content-type'), 'application/pdf')
  assert.equal(Buffer.from(await pdf.arrayBuffer()).subarray(0, 5).toString(), '%PDF-')
  await screenshot(province.page, 'certify-issued-desktop')
  await checkA11y(province.page, 'certify-issued-desktop')
  await province.assertClean()

  // The public explorer: totals and the operator's block, looked up by serial.
  const operatorSerial = issuance.serials[0]
  const visitor = await openPage(browser, server.url, { viewport: desktop })
  await visitor.page.goto('/registry')
  const totals = await api.get('/api/v1/registry/totals')
  await visitor.page.getByTestId('total-issued').getByText(num(totals.all.issued), { exact: true }).waitFor()
  await visitor.page.getByTestId('chart-vintage').locator('canvas').waitFor()
  await visitor.page.getByTestId('issuances-table').getByRole('button', { name: operatorSerial }).click()
  const result = visitor.page.getByTestId('serial-result')
  await result.getByTestId('block-holder').getByText(issued.operator_account).waitFor()
  await result.getByTestId('block-status').getByText('持有').waitFor()
  await result.getByTestId('block-units').getByText(num(issuance.units - issuance.buffer_units), { exact: true }).waitFor()
  await visitor.page.locator('input[name=serial]').fill('CN-GD-PHCER-not-a-serial')
  await visitor.page.getByTestId('find-serial').click()
  await visitor.page.locator('.el-form-item__error').getByText(/a serial is CN-GD-PHCER/).waitFor()
  await visitor.assertClean()

  // The region admin opens an enterprise account, transfers a unit to it and retires another.
  await admin.page.locator('aside.sidebar').getByRole('menuitem', { name: '登记账户' }).click()
  const accounts = admin.page.getByTestId('accounts-table')
  await accounts.getByRole('button', { name: issued.operator_account }).waitFor()
  await admin.page.getByTestId('open-account').click()
  await admin.page.locator('.el-dialog input[name=name]').fill('深圳绿色科技有限公司')
  await admin.page.getByTestId('members-select').click()
  await admin.page.keyboard.type('enterprise')
  await admin.page.getByRole('option', { name: /\(enterprise\)$/ }).click()
  // A multiple select stays open after a pick; a click elsewhere in the form closes it.
  await admin.page.locator('.el-dialog input[name=name]').click()
  await admin.page.getByRole('option', { name: /\(enterprise\)$/ }).waitFor({ state: 'hidden' })
  await admin.page.getByTestId('confirm-open-account').click()
  const message = await admin.page.getByText(/已开立账户 GD-ENT-440300-\d+/).innerText()
  const enterpriseNo = /GD-ENT-440300-\d+/.exec(message)[0]
  // The account's member sees it among theirs, empty until the transfer.
  const enterpriseToken = await api.login('enterprise')
  const theirs = (await api.get('/api/v1/registry/accounts', enterpriseToken)).accounts
  assert.deepEqual(theirs.map((a) => [a.account_no, a.name, a.held]), [[enterpriseNo, '深圳绿色科技有限公司', 0]])
  const enterprise = { account_no: enterpriseNo }

  await accounts.getByRole('button', { name: issued.operator_account }).click()
  await admin.page.waitForURL(`**/registry/accounts/${issued.operator_account}`)
  const held = issuance.units - issuance.buffer_units
  await admin.page.getByTestId('held').getByText(num(held), { exact: true }).waitFor()
  await admin.page.getByTestId('step-transfer').click()
  await admin.page.locator('.el-dialog input[name=to]').fill('GD-ENT-440300-999999')
  await admin.page.getByTestId('step-confirm').click()
  await admin.page.locator('.el-dialog .el-form-item__error').getByText('no such account').waitFor()
  await admin.page.locator('.el-dialog input[name=to]').fill(enterprise.account_no)
  await admin.page.getByTestId('step-confirm').click()
  await admin.page.getByText('已转让 1 吨').waitFor()
  await admin.page.getByTestId('held').getByText(num(held - 1), { exact: true }).waitFor()
  const transferred = (await api.get(`/api/v1/registry/accounts/${enterprise.account_no}`, enterpriseToken)).blocks
  assert.deepEqual(await admin.page.getByTestId('moved-serials').locator('a').allInnerTexts(), transferred.map((b) => b.serial))

  await admin.page.getByTestId('step-retire').click()
  await admin.page.getByTestId('step-confirm').click()
  await admin.page.locator('.el-dialog .el-form-item__error').getByText('beneficiary is required').waitFor()
  await admin.page.locator('.el-dialog input[name=beneficiary]').fill('2026 深圳马拉松组委会')
  await choose(admin.page, admin.page.getByTestId('reason-select'), '碳中和活动')
  await admin.page.locator('.el-dialog textarea[name=note]').fill('赛事碳中和')
  await admin.page.getByTestId('step-confirm').click()
  await admin.page.getByText('已注销 1 吨').waitFor()
  await admin.page.getByTestId('retired').getByText('1', { exact: true }).waitFor()
  const { retirements } = await api.get('/api/v1/registry/retirements')
  assert.equal(retirements.length, 1)
  assert.equal(retirements[0].beneficiary, '2026 深圳马拉松组委会')
  const retiredSerial = retirements[0].serials[0]
  assert.deepEqual(await admin.page.getByTestId('moved-serials').locator('a').allInnerTexts(), retirements[0].serials)
  await screenshot(admin.page, 'registry-account-retired-desktop')
  await checkA11y(admin.page, 'registry-account-retired-desktop')

  // The retired serial in the explorer: its beneficiary and reason; the retirements list has it.
  await admin.page.getByTestId('moved-serials').getByRole('link', { name: retiredSerial }).click()
  await admin.page.waitForURL('**/registry?serial=*')
  const found = admin.page.getByTestId('serial-result')
  await found.getByTestId('block-status').getByText('已注销').waitFor()
  await found.getByTestId('block-beneficiary').getByText('2026 深圳马拉松组委会').waitFor()
  await found.getByTestId('block-reason').getByText('碳中和活动').waitFor()
  const lookup = await api.get(`/api/v1/registry/serials/${retiredSerial}`)
  assert.equal(lookup.blocks[0].retirement.beneficiary, '2026 深圳马拉松组委会')
  await admin.page.getByTestId('retirements-table').getByText('2026 深圳马拉松组委会').waitFor()
  const after = await api.get('/api/v1/registry/totals')
  assert.deepEqual([after.all.issued, after.all.held, after.all.retired], [issuance.units, issuance.units - 1, 1])
  await admin.page.getByTestId('total-retired').getByText('1', { exact: true }).waitFor()
  await screenshot(admin.page, 'registry-explorer-retired-desktop')
  await checkA11y(admin.page, 'registry-explorer-retired-desktop')
  await admin.assertClean()
})

test('the verifier rejects a batch with a reason, its reductions are released; the province cancels a buffer unit', async () => {
  const admin = await openPage(browser, server.url, { viewport: desktop })
  await signInUi(admin.page, 'region_admin')
  const id = await openBatch(admin.page, { from: day(21), until: day(31), noticeDays: 0 })
  const opened = await api.get(`/api/v1/certify/batches/${id}`)
  assert.equal(opened.grams_locked, 20 * 6000)
  const province = await openPage(browser, server.url, { viewport: desktop })
  await signInUi(province.page, 'province_admin')
  await province.page.goto(`/console/batches/${id}`)
  await province.page.getByTestId('step-assign').click()
  await choose(province.page, province.page.getByTestId('verifier-select'), /\(verifier, \d+\)/)
  await province.page.getByTestId('step-confirm').click()
  await province.page.getByTestId('batch-trail').getByText('指派核证机构').waitFor()

  const verifier = await openPage(browser, server.url, { viewport: desktop })
  await signInUi(verifier.page, 'verifier')
  await verifier.page.getByTestId('batches-table').getByRole('link', { name: String(id), exact: true }).click()
  await verifier.page.getByTestId('step-reject').click()
  await verifier.page.getByTestId('step-confirm').click()
  await verifier.page.locator('.el-dialog .el-form-item__error').waitFor()
  await verifier.page.locator('.el-dialog textarea[name=reason]').fill('植树活动无组织方证明，无法核实。')
  await verifier.page.getByTestId('step-confirm').click()
  await verifier.page.getByTestId('batch-state').getByText('已驳回').waitFor()
  const rejected = await api.get(`/api/v1/certify/batches/${id}`)
  assert.equal(rejected.state, 'rejected')
  assert.equal(rejected.grams_released, opened.grams_locked)
  await verifier.page.getByTestId('grams-released').getByText(num(rejected.grams_released), { exact: true }).waitFor()
  await verifier.assertClean()

  // No longer under notice or review: gone from the public list, still there among all batches.
  const visitor = await openPage(browser, server.url, { viewport: desktop })
  await visitor.page.goto('/notices')
  await visitor.page.getByTestId('batches-table').getByRole('link', { name: String(batches.noticed), exact: true }).waitFor()
  assert.equal(await visitor.page.getByTestId('batches-table').getByRole('link', { name: String(id), exact: true }).count(), 0)
  await visitor.page.getByTestId('show-all').click()
  await visitor.page.getByTestId('batches-table').getByRole('link', { name: String(id), exact: true }).click()
  await visitor.page.getByTestId('batch-trail').getByText('植树活动无组织方证明').waitFor()
  await visitor.page.getByText('该批次已结束审核，不再接受意见。').waitFor()
  await visitor.assertClean()

  // The province cancels the buffer pool's unit (as on a reversal); a reason is required.
  await province.page.locator('aside.sidebar').getByRole('menuitem', { name: '登记账户' }).click()
  await province.page.getByTestId('accounts-table').getByRole('button', { name: 'GD-BUFFER' }).click()
  await province.page.getByTestId('held').getByText('1', { exact: true }).waitFor()
  await province.page.getByTestId('step-cancel').click()
  await province.page.getByTestId('step-confirm').click()
  await province.page.locator('.el-dialog .el-form-item__error').waitFor()
  await province.page.locator('.el-dialog textarea[name=cancel_reason]').fill('林地火灾，碳汇逆转')
  await province.page.getByTestId('step-confirm').click()
  await province.page.getByText('已撤销 1 吨').waitFor()
  await province.page.getByTestId('held').getByText('0', { exact: true }).waitFor()
  const buffer = await api.get('/api/v1/registry/accounts/GD-BUFFER', await api.login('province_admin'))
  assert.deepEqual([buffer.held, buffer.cancelled], [0, 1])
  await province.assertClean()
})

test('the explorer on a phone, in English: totals and a serial lookup fit 375 px', async () => {
  const { page, assertClean } = await openPage(browser, server.url, { viewport: phone })
  const totals = await api.get('/api/v1/registry/totals')
  const { issuances } = await api.get('/api/v1/registry/issuances')
  const serial = issuances[0].serials.at(-1)
  const lookup = await api.get(`/api/v1/registry/serials/${serial}`)
  await page.goto(`/registry?serial=${serial}`)
  await page.getByTestId('language-switch').click()
  await page.getByRole('heading', { name: 'PHCER registry' }).waitFor()
  await page.getByTestId('total-held').getByText(num(totals.all.held), { exact: true }).waitFor()
  const result = page.getByTestId('serial-result')
  await result.getByTestId('block-holder').getByText(lookup.blocks[0].holder.account).waitFor()
  assert.equal(lookup.blocks[0].holder.kind, 'buffer')
  assert.equal(lookup.blocks[0].status, 'cancelled')
  await result.getByTestId('block-status').getByText('Cancelled').waitFor()
  await result.getByText('Buffer pool').waitFor()
  await result.getByTestId('block-reason').getByText(lookup.blocks[0].cancellation.reason).waitFor()
  assert.equal(await scrollsSideways(page), false, 'the registry explorer scrolls sideways at 375 px')
  await screenshot(page, 'registry-explorer-en-375')
  await checkA11y(page, 'registry-explorer-en-375')
  await checkA11y(page, 'registry-explorer-en-375')
  await page.goto('/notices')
  await page.getByRole('heading', { name: 'Public notices' }).waitFor()
  await page.getByTestId('batches-table').getByRole('link', { name: String(batches.noticed), exact: true }).waitFor()
  await assertClean()
})
