// The promotion site end to end. An editor writes an article whose Markdown carries hostile HTML,
// gives it a cover (a text file named .png refused beside the field), submits it; a second editor
// publishes it; the public list and the article page show it with its cover sizes and no script run;
// a two-character Chinese search finds it with a highlighted snippet; the feed link answers XML.
// The catalogue: an editor lists a certified product, the public list filters and exports it.
// Public ideas: the province opens a topic, a visitor posts an idea (contact required, then shown as
// awaiting moderation), the province-wide editor shows it, a resident supports it (twice refused),
// and the province marks it adopted with the proposal and the policy it led to.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { deflateSync } from 'node:zlib'
import { apiClient, checkA11y, demoPassword, desktop, launchBrowser, openPage, phone, screenshot, scrollsSideways, signInUi, startServer } from './harness.mjs'

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

//! A real PNG (w×h, a green gradient), so the server's libvips decodes and resizes it.
function png(w, h) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    return c >>> 0
  })
  const crc = (buf) => {
    let c = 0xffffffff
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8)
    return (c ^ 0xffffffff) >>> 0
  }
  const chunk = (type, data) => {
    const len = Buffer.alloc(4)
    len.writeUInt32BE(data.length)
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data])
    const sum = Buffer.alloc(4)
    sum.writeUInt32BE(crc(body))
    return Buffer.concat([len, body, sum])
  }
  const header = Buffer.alloc(13)
  header.writeUInt32BE(w, 0)
  header.writeUInt32BE(h, 4)
  header[8] = 8 // bit depth
  header[9] = 2 // RGB
  const rows = []
  for (let y = 0; y < h; y++) {
    const row = Buffer.alloc(1 + w * 3)
    for (let x = 0; x < w; x++) row.set([31, 100 + Math.round((x / w) * 120), 60 + Math.round((y / h) * 60)], 1 + x * 3)
    rows.push(row)
  }
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', header), chunk('IDAT', deflateSync(Buffer.concat(rows))), chunk('IEND', Buffer.alloc(0))])
}

const hostileMarkdown = [
  '厨余垃圾要先**沥干**再投放，减少运输中的水分和甲烷排放。',
  '',
  '<script>window.__pwned = "script"</script>',
  '',
  '<img src="x" onerror="window.__pwned = \'onerror\'">',
  '',
  '[点这里](javascript:window.__pwned=\'link\') 和 [省生态环境厅](https://gdee.gd.gov.cn/)',
  '',
  '<svg><script>window.__pwned = "svg"</script></svg>',
  '',
  '| 垃圾 | 去向 |',
  '|---|---|',
  '| 厨余 | 堆肥 |',
].join('\n')

test('an editor writes an article with hostile Markdown and a cover, another publishes it, the public reads and finds it safely', async () => {
  // A second province-wide editor reviews: an author never publishes their own article.
  const adminToken = await api.login('province_admin')
  await api.post('/api/v1/users', { username: 'e2e_reviewer', display_name: '审稿编辑', password: demoPassword, roles: [{ role: 'editor', region: '440000' }] }, adminToken)

  const author = await openPage(browser, server.url, { viewport: desktop })
  const ap = author.page
  await signInUi(ap, 'editor')
  await ap.locator('.nav-menu').getByText('稿件管理').click()
  await ap.waitForURL(/\/console\/articles/)
  await ap.getByTestId('new-article').click()
  await ap.waitForURL(/\/console\/articles\/new/)
  const form = ap.getByTestId('article-form')
  await choose(ap, form.getByTestId('article-kind'), null, '低碳知识')
  await choose(ap, form.getByTestId('article-region'), '440300', '深圳市 440300')
  await form.locator('input[name=title_zh]').fill('厨余垃圾分类小贴士')
  await form.locator('textarea[name=summary_zh]').fill('三步做好厨余垃圾分类。')
  await form.locator('textarea[name=body_zh]').fill(hostileMarkdown)
  await form.locator('input[name=tags]').fill('垃圾分类，厨余')
  // A slug with capitals is refused beside the slug field.
  await form.locator('input[name=slug]').fill('Bad Slug')
  await ap.getByTestId('article-save').click()
  await fieldError(form, 'slug').waitFor()
  await form.locator('input[name=slug]').fill('')
  await ap.getByTestId('article-save').click()
  await ap.waitForURL(/\/console\/articles\/\d+$/)
  const id = Number(new URL(ap.url()).pathname.split('/').pop())
  await ap.getByTestId('article-state').getByText('草稿').waitFor()

  // The preview is the server's sanitised rendering: no script, no handler, no javascript: link.
  const preview = ap.getByTestId('article-preview')
  await preview.getByText('厨余垃圾要先').waitFor()
  assert.equal(await preview.locator('script, svg, [onerror]').count(), 0)
  assert.equal(await preview.locator('a[href^="javascript"]').count(), 0)
  assert.equal(await preview.locator('a[href="https://gdee.gd.gov.cn/"]').count(), 1)
  assert.equal(await preview.locator('table td').first().textContent(), '厨余')

  // A text file named .png is refused beside the cover field; a real PNG is taken.
  const cover = ap.getByTestId('cover-input')
  await cover.setInputFiles({ name: 'cover.png', mimeType: 'image/png', buffer: Buffer.from('这不是图片，只是一段文字。\n') })
  const coverItem = ap.locator('.el-form-item').filter({ has: cover })
  await coverItem.locator('.el-form-item__error').waitFor()
  assert.equal(await ap.getByTestId('cover-preview').count(), 0)
  await cover.setInputFiles({ name: 'cover.png', mimeType: 'image/png', buffer: png(640, 360) })
  await ap.getByTestId('cover-preview').waitFor()
  await coverItem.locator('.el-form-item__error').waitFor({ state: 'detached' })
  await screenshot(ap, 'content-editor-desktop')
  await checkA11y(ap, 'content-editor-desktop')

  await ap.getByTestId('article-submit').click()
  await ap.getByTestId('article-state').getByText('待审核').waitFor()
  // The author cannot review their own article: the page offers no review buttons.
  await ap.getByTestId('await-review').waitFor()
  assert.equal(await ap.getByTestId('article-publish').count(), 0)
  await author.assertClean()

  // The reviewer returns it once (a comment required beside the field), the author resubmits, the
  // reviewer publishes.
  const reviewer = await openPage(browser, server.url, { viewport: desktop })
  const rp = reviewer.page
  await signInUi(rp, 'e2e_reviewer')
  await rp.goto('/console/articles?state=in_review')
  await rp.getByTestId('editorial-table').getByText('厨余垃圾分类小贴士').click()
  await rp.waitForURL(new RegExp(`/console/articles/${id}$`))
  await rp.getByTestId('article-return').click()
  const returnDialog = rp.getByRole('dialog')
  await returnDialog.getByTestId('reason-confirm').click()
  await fieldError(returnDialog, 'comment').waitFor()
  await returnDialog.locator('textarea[name=comment]').fill('请补充一张表格说明去向。')
  await returnDialog.getByTestId('reason-confirm').click()
  await rp.getByTestId('article-state').getByText('草稿').waitFor()
  await ap.reload()
  await ap.getByTestId('review-comment').getByText('请补充一张表格说明去向。').waitFor()
  await ap.getByTestId('article-submit').click()
  await ap.getByTestId('article-state').getByText('待审核').waitFor()
  await rp.reload()
  await rp.getByTestId('article-publish').click()
  await rp.getByTestId('article-state').getByText('已发布').waitFor()
  await checkA11y(rp, 'content-review-desktop')
  await reviewer.assertClean()

  const published = await api.get(`/api/v1/content/articles/${id}`)
  assert.equal(published.state, 'published')
  assert.deepEqual(published.tags, ['垃圾分类', '厨余'])
  assert.ok(published.cover?.['400'] && published.cover?.['1200'])

  // The public, on a phone: the knowledge list shows it; the page shows the sanitised body, the
  // cover in both sizes, tags, region, share link and feed links, and no script ran.
  const reader = await openPage(browser, server.url, { viewport: phone })
  const p = reader.page
  await p.goto('/articles?kind=knowledge')
  const item = p.getByTestId('article-item').filter({ hasText: '厨余垃圾分类小贴士' })
  await item.waitFor()
  assert.equal(await item.locator('img').getAttribute('src'), published.cover['400'])
  assert.equal(await scrollsSideways(p), false)
  await screenshot(p, 'content-articles-phone')
  await checkA11y(p, 'content-articles-phone')
  // The region filter is kept in the URL and still finds it (Shenzhen includes what lies within).
  await choose(p, p.getByTestId('articles-region'), '440300', '深圳市 440300')
  await p.waitForURL(/region=440300/)
  await item.waitFor()
  await item.getByRole('link', { name: '厨余垃圾分类小贴士' }).click()
  await p.waitForURL(new RegExp(`/articles/${id}$`))
  const body = p.getByTestId('article-body')
  await body.getByText('厨余垃圾要先').waitFor()
  assert.equal(await body.locator('script, svg, [onerror], [onclick]').count(), 0)
  assert.equal(await body.locator('a[href^="javascript"]').count(), 0)
  assert.equal(await p.evaluate(() => window.__pwned), undefined, 'no hostile script ran')
  const img = p.getByTestId('article-cover')
  const srcset = await img.getAttribute('srcset')
  assert.equal(srcset, `${published.cover['400']} 400w, ${published.cover['1200']} 1200w`)
  assert.equal(await img.evaluate((el) => el.complete && el.naturalWidth > 0), true, 'the cover loaded')
  assert.deepEqual(await p.getByTestId('article-tags').locator('a').allTextContents(), ['#垃圾分类', '#厨余'])
  assert.equal(await p.getByTestId('article-region').textContent(), '深圳市')
  assert.equal(await p.getByTestId('share-link').getAttribute('href'), `${server.url}/share/articles/${id}`)
  const share = await fetch(`${server.url}/share/articles/${id}`)
  assert.equal(share.status, 200)
  assert.match(await share.text(), /og:title/)
  assert.equal(await scrollsSideways(p), false)
  await screenshot(p, 'content-article-phone')
  await checkA11y(p, 'content-article-phone')

  // The feed links answer XML with the article in it.
  for (const testid of ['article-feed-rss', 'article-feed-atom-region']) {
    const href = await p.getByTestId(testid).getAttribute('href')
    assert.match(href, /kind=knowledge/)
    const r = await fetch(server.url + href)
    assert.equal(r.status, 200)
    assert.match(r.headers.get('content-type'), /xml/)
    const xml = await r.text()
    assert.match(xml, /^<\?xml/)
    assert.ok(xml.includes('厨余垃圾分类小贴士'), testid)
  }
  assert.match(await p.getByTestId('article-feed-rss-region').getAttribute('href'), /region=440300/)

  // A tag link lists the articles with that tag.
  await p.getByTestId('article-tags').getByText('#厨余').click()
  await p.waitForURL(/tag=/)
  await p.getByTestId('article-item').filter({ hasText: '厨余垃圾分类小贴士' }).waitFor()

  // Search: a two-character Chinese term finds it, the hit highlighted and nothing else marked up.
  await p.goto('/search')
  await p.getByTestId('search-input').fill('沥干')
  await p.getByTestId('search-submit').click()
  await p.waitForURL(/q=/)
  const hit = p.getByTestId('search-result').filter({ hasText: '厨余垃圾分类小贴士' })
  await hit.waitFor()
  const snippet = hit.getByTestId('search-snippet')
  assert.deepEqual(await snippet.locator('mark').allTextContents(), ['沥干'])
  assert.equal(await snippet.locator('*:not(mark):not(span)').count(), 0)
  const answer = await api.get(`/api/v1/content/search?q=${encodeURIComponent('沥干')}`)
  assert.equal(answer.results.length, await p.getByTestId('search-result').count())
  assert.match(answer.results[0].snippet_html, /<mark>沥干<\/mark>/)
  assert.equal(await scrollsSideways(p), false)
  await screenshot(p, 'content-search-phone')
  await checkA11y(p, 'content-search-phone')
  // A reload keeps the query.
  await p.reload()
  await hit.waitFor()
  await reader.assertClean()
})

test('an editor lists a certified product; the public catalogue filters and exports it', async () => {
  const editor = await openPage(browser, server.url, { viewport: desktop })
  const ep = editor.page
  await signInUi(ep, 'editor')
  await ep.goto('/console/catalogue')
  await ep.getByTestId('new-entry').click()
  const dialog = ep.getByRole('dialog')
  await dialog.locator('input[name=name_zh]').fill('一级能效变频空调')
  await dialog.locator('input[name=maker]').fill('珠海某电器有限公司')
  await ep.getByTestId('entry-has-cert').click()
  await dialog.locator('input[name=cert_body]').fill('中国质量认证中心')
  await dialog.locator('input[name=certificate]').fill('CQC-LC-2026-0001')
  // A certificate without its validity date is refused beside that field.
  await ep.getByTestId('entry-has-footprint').click()
  await dialog.locator('input[name=grams_per_unit]').fill('850000')
  await dialog.locator('input[name=unit]').fill('台')
  await dialog.locator('input[name=source]').fill('EPD-CN-2026-12')
  await dialog.getByTestId('entry-save').click()
  await fieldError(dialog, 'valid_until').waitFor()
  await dialog.locator('input[name=valid_until]').fill('2099-12-31')
  await dialog.locator('input[name=valid_until]').press('Enter')
  await dialog.locator('input[name=name_zh]').click()
  await dialog.getByTestId('entry-save').click()
  await ep.getByTestId('catalogue-console-table').getByText('一级能效变频空调').waitFor()
  await checkA11y(ep, 'content-catalogue-console-desktop')
  await editor.assertClean()

  const reader = await openPage(browser, server.url, { viewport: phone })
  const p = reader.page
  await p.goto('/catalogue')
  await choose(p, p.getByTestId('catalogue-certified'), null, '仅认证有效')
  await p.waitForURL(/certified=true/)
  const entry = p.getByTestId('catalogue-entry').filter({ hasText: '一级能效变频空调' })
  await entry.waitFor()
  assert.equal(await entry.getByTestId('entry-certificate').textContent(), 'CQC-LC-2026-0001')
  assert.equal(await entry.getByTestId('entry-footprint').textContent(), '850,000 克 CO₂e / 台')
  await entry.getByTestId('entry-certified').waitFor()
  const { entries } = await api.get('/api/v1/content/catalogue?certified=true')
  assert.equal(await p.getByTestId('catalogue-entry').count(), entries.length)
  // The uncertified list does not have it; the export of the certified list does.
  await choose(p, p.getByTestId('catalogue-certified'), null, '仅未认证')
  await p.waitForURL(/certified=false/)
  await p.waitForFunction(() => !document.body.innerText.includes('一级能效变频空调'))
  await choose(p, p.getByTestId('catalogue-certified'), null, '仅认证有效')
  const csv = await fetch(server.url + (await p.getByTestId('catalogue-csv').getAttribute('href')))
  assert.equal(csv.status, 200)
  assert.match(csv.headers.get('content-type'), /text\/csv/)
  assert.ok((await csv.text()).includes('CQC-LC-2026-0001'))
  const xlsx = await fetch(server.url + (await p.getByTestId('catalogue-xlsx').getAttribute('href')))
  assert.equal(Buffer.from(await xlsx.arrayBuffer()).subarray(0, 2).toString(), 'PK')
  assert.equal(await scrollsSideways(p), false)
  await screenshot(p, 'content-catalogue-phone')
  await checkA11y(p, 'content-catalogue-phone')
  await reader.assertClean()
})

test('an idea is posted, moderated, supported and adopted with what it led to', async () => {
  // The province opens a topic.
  const admin = await openPage(browser, server.url, { viewport: desktop })
  const ap = admin.page
  await signInUi(ap, 'province_admin')
  await ap.goto('/console/ideas')
  const topicForm = ap.getByTestId('topic-form')
  await ap.getByTestId('topic-submit').click()
  await fieldError(topicForm, 'title_zh').waitFor()
  await topicForm.locator('input[name=title_zh]').fill('如何让更多人绿色出行？')
  await topicForm.locator('textarea[name=description_zh]').fill('欢迎就公交、地铁和骑行提出建议。')
  await ap.getByTestId('topic-submit').click()
  await ap.getByTestId('console-topics').getByText('如何让更多人绿色出行？').waitFor()
  const { topics } = await api.get('/api/v1/content/ideas/topics')
  const topic = topics.find((x) => x.title_zh === '如何让更多人绿色出行？')

  // A visitor (not signed in, on a phone) posts: the contact is required, then it awaits moderation.
  const visitor = await openPage(browser, server.url, { viewport: phone })
  const vp = visitor.page
  await vp.goto(`/ideas?topic=${topic.id}`)
  await vp.getByTestId('topic-title').getByText('如何让更多人绿色出行？').waitFor()
  await vp.locator('input[name=title]').fill('地铁站增设共享单车停放区')
  await vp.locator('textarea[name=body]').fill('出站后骑行最后一公里更方便。')
  await vp.locator('input[name=display_name]').fill('南山市民')
  await vp.getByTestId('idea-submit').click()
  await fieldError(vp, 'contact').waitFor()
  await vp.locator('input[name=contact]').fill('13800000000')
  await vp.getByTestId('idea-submit').click()
  await vp.getByTestId('idea-pending').getByText('地铁站增设共享单车停放区').waitFor()
  assert.equal(await vp.getByTestId('idea').count(), 0, 'a pending idea is not shown')
  assert.equal(await scrollsSideways(vp), false)
  await screenshot(vp, 'content-ideas-phone')
  await checkA11y(vp, 'content-ideas-phone')
  await visitor.assertClean()

  // The province-wide editor sees the contact in the queue and shows the idea.
  const editor = await openPage(browser, server.url, { viewport: desktop })
  const ep = editor.page
  await signInUi(ep, 'editor')
  await ep.locator('.nav-menu').getByText('集思广益审核').click()
  const row = ep.getByTestId('pending-ideas').locator('tr').filter({ hasText: '地铁站增设共享单车停放区' })
  assert.equal(await row.getByTestId('pending-contact').textContent(), '13800000000')
  await checkA11y(ep, 'content-idea-moderation-desktop')
  await row.getByTestId('idea-show').click()
  await ep.getByTestId('shown-ideas').getByText('地铁站增设共享单车停放区').waitFor()
  await editor.assertClean()

  // A resident supports it once; a second support is refused.
  const resident = await openPage(browser, server.url, { viewport: phone })
  const rp = resident.page
  await signInUi(rp, 'resident')
  await rp.goto(`/ideas?topic=${topic.id}`)
  const idea = rp.getByTestId('idea').filter({ hasText: '地铁站增设共享单车停放区' })
  await idea.getByTestId('idea-supports').getByText('0 人支持').waitFor()
  assert.equal(await idea.textContent().then((t) => t.includes('13800000000')), false, 'the contact is never public')
  await idea.getByTestId('idea-support').click()
  await idea.getByTestId('idea-supports').getByText('1 人支持').waitFor()
  await idea.getByTestId('idea-support').click()
  await rp.locator('.error-alert').getByText('you support this idea already', { exact: false }).waitFor()
  await resident.assertClean()

  // The province adopts it: an unknown proposal is refused beside its field; a real one and a policy
  // are linked, and the public page shows both.
  const proposal = await api.post('/api/v1/methodology-proposals', { title: '共享单车接驳地铁的减排方法学', domain: 'travel', description: '骑行接驳地铁的最后一公里。', contact: 'e2e@example.org' })
  await ap.reload()
  await choose(ap, ap.getByTestId('console-topic'), null, '如何让更多人绿色出行？')
  const shownRow = ap.getByTestId('shown-ideas').locator('tr').filter({ hasText: '地铁站增设共享单车停放区' })
  await shownRow.getByTestId('idea-adopt').click()
  const dialog = ap.getByRole('dialog')
  await dialog.locator('textarea[name=note]').fill('已纳入 2027 年绿色出行工作方案。')
  await dialog.locator('input[name="links[0].proposal_id"]').fill('999999')
  await dialog.getByTestId('add-link').click()
  await dialog.locator('input[name="links[1].title"]').fill('绿色出行工作方案')
  await dialog.locator('input[name="links[1].url"]').fill('https://example.gov.cn/green-travel')
  await dialog.getByTestId('adopt-confirm').click()
  await fieldError(dialog, 'links[0].proposal_id').waitFor()
  await dialog.locator('input[name="links[0].proposal_id"]').fill(String(proposal.id))
  await dialog.getByTestId('adopt-confirm').click()
  await shownRow.getByText('已纳入 2027 年绿色出行工作方案。', { exact: false }).waitFor()
  await admin.assertClean()

  await rp.reload()
  await idea.getByTestId('idea-adopted').waitFor()
  const links = idea.getByTestId('idea-links')
  await links.getByText(`方法学提案 #${proposal.id}`).waitFor()
  assert.equal(await links.getByRole('link', { name: '政策：绿色出行工作方案' }).getAttribute('href'), 'https://example.gov.cn/green-travel')
  await screenshot(rp, 'content-idea-adopted-phone')
  await checkA11y(rp, 'content-idea-adopted-phone')
  await resident.assertClean()
})

test('the editor pages work on a phone without sideways scrolling', async () => {
  const editor = await openPage(browser, server.url, { viewport: phone })
  const p = editor.page
  await signInUi(p, 'editor')
  const { articles } = await api.get('/api/v1/content/articles?kind=knowledge')
  const pages = [
    ['/console/articles?state=published', 'editorial-table'],
    [`/console/articles/${articles[0].id}`, 'article-form'],
    ['/console/articles/new', 'article-form'],
    ['/console/catalogue', 'catalogue-console-table'],
    ['/console/ideas', 'shown-ideas'],
  ]
  for (const [path, testid] of pages) {
    await p.goto(path)
    await p.getByTestId(testid).waitFor()
    assert.equal(await scrollsSideways(p), false, path)
    await checkA11y(p, `content-phone ${path}`)
  }
  await screenshot(p, 'content-editor-phone')
  await editor.assertClean()
})
