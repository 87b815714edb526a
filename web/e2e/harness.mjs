// Test harness: a real tanpuhui server on a fresh SQLite database with the demo data, and Debian's
// Chromium driven by playwright-core. Each test file starts its own server and browser.
import { spawn, execFile } from 'node:child_process'
import { createHmac, createHash, randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import assert from 'node:assert/strict'
import { chromium } from 'playwright-core'

const run = promisify(execFile)
export const webDir = resolve(fileURLToPath(new URL('..', import.meta.url)))
export const repoDir = resolve(webDir, '..')
export const binary = resolve(webDir, process.env.TPH_BINARY || '../build/tanpuhui')
export const artifacts = join(webDir, 'e2e', 'artifacts')
export const demoPassword = process.env.TPH_DEMO_PASSWORD || 'Tanpuhui-demo-2026'
const dataDir = join(repoDir, 'data')

function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer()
    s.unref()
    s.on('error', fail)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => ok(port))
    })
  })
}

//! Starts `tanpuhui serve` on a new database (migrated, demo users and data) and waits for /healthz.
export async function startServer() {
  const dir = mkdtempSync(join(tmpdir(), 'tph-e2e-'))
  const db = `sqlite:${join(dir, 'tanpuhui.db')}`
  const opts = { cwd: repoDir, env: { ...process.env, TPH_DEMO_PASSWORD: demoPassword } }
  await run(binary, ['migrate', '--db', db, '--data-dir', dataDir], opts)
  await run(binary, ['demo', '--db', db, '--data-dir', dataDir], opts)
  const port = await freePort()
  const child = spawn(
    binary,
    ['serve', '--db', db, '--listen', `127.0.0.1:${port}`, '--web-root', join(webDir, 'dist'), '--data-dir', dataDir],
    { cwd: repoDir, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let log = ''
  child.stdout.on('data', (d) => (log += d))
  child.stderr.on('data', (d) => (log += d))
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 20_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`tanpuhui serve exited ${child.exitCode}:\n${log}`)
    try {
      const r = await fetch(`${url}/healthz`)
      if (r.ok) break
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`tanpuhui serve did not answer /healthz:\n${log}`)
    await new Promise((r) => setTimeout(r, 100))
  }
  return {
    url,
    db,
    dir,
    log: () => log,
    //! Runs a tanpuhui subcommand against this database.
    cli: (args) => run(binary, [...args, '--db', db, '--data-dir', dataDir], opts),
    async stop() {
      child.kill('SIGTERM')
      await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)))
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

//! A small API client for setting up and checking what the browser shows.
export function apiClient(url) {
  async function call(method, path, body, token) {
    const headers = { 'content-type': 'application/json' }
    if (token) headers.authorization = `Bearer ${token}`
    const r = await fetch(url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
    const json = await r.json()
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(json)}`)
    return json
  }
  return {
    get: (path, token) => call('GET', path, undefined, token),
    post: (path, body, token) => call('POST', path, body, token),
    async login(username, password = demoPassword) {
      return (await call('POST', '/api/v1/auth/login', { username, password })).token
    },
    //! A provider's signed request (docs/api.md: provider request signing).
    async signed(method, path, bodyText, keyId, secret) {
      const ts = String(Math.floor(Date.now() / 1000))
      const nonce = randomBytes(12).toString('hex')
      const hash = createHash('sha256').update(bodyText ?? '').digest('hex')
      const sig = createHmac('sha256', secret).update([method, path, ts, nonce, hash].join('\n')).digest('hex')
      const r = await fetch(url + path, {
        method,
        headers: { 'content-type': 'application/json', 'x-tph-key': keyId, 'x-tph-timestamp': ts, 'x-tph-nonce': nonce, 'x-tph-signature': sig },
        body: bodyText,
      })
      const json = await r.json()
      if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(json)}`)
      return json
    },
  }
}

export function pseudonymise(pseudonymKey, reference) {
  return createHmac('sha256', pseudonymKey).update(reference.trim()).digest('hex')
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  })
}

export const phone = { width: 375, height: 740 }
export const desktop = { width: 1366, height: 860 }

//! A fresh browser context and page that records console errors, page errors, failed requests and
//! server errors. Client errors (4xx) are the tests' own doing and are asserted where they happen.
export async function openPage(browser, baseURL, { viewport = phone, locale = 'zh-CN' } = {}) {
  const context = await browser.newContext({ baseURL, viewport, locale })
  const page = await context.newPage()
  const problems = []
  page.on('console', (m) => {
    if (m.type() !== 'error' && m.type() !== 'warning') return
    const text = m.text()
    if (/Failed to load resource: the server responded with a status of 4\d\d/.test(text)) return
    problems.push(`console ${m.type()}: ${text}`)
  })
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`))
  page.on('requestfailed', (r) => {
    // A navigation cancels the requests of the page it leaves; that is not a failure.
    if (r.failure()?.errorText === 'net::ERR_ABORTED') return
    problems.push(`request failed: ${r.method()} ${r.url()} ${r.failure()?.errorText}`)
  })
  page.on('response', (r) => {
    if (r.status() >= 500) problems.push(`server error: ${r.status()} ${r.request().method()} ${r.url()}`)
  })
  page.setDefaultTimeout(10_000)
  return {
    page,
    context,
    problems,
    async assertClean() {
      // A component the app forgot to register renders as an unknown <el-...> element, silently in
      // a production build.
      const unknown = await page.evaluate(() => [...new Set([...document.querySelectorAll('*')].map((e) => e.tagName.toLowerCase()).filter((t) => t.startsWith('el-')))])
      assert.deepEqual(unknown, [], 'unregistered components on the page')
      assert.deepEqual(problems, [], 'the page logged errors or had failed requests')
    },
  }
}

export async function screenshot(page, name) {
  mkdirSync(artifacts, { recursive: true })
  await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true })
}

//! True when the document is wider than the viewport (a horizontal scroll bar).
export async function scrollsSideways(page) {
  return page.evaluate(() => {
    const width = document.documentElement.clientWidth
    if (document.documentElement.scrollWidth > width || document.body.scrollWidth > width) return true
    // Also anything poking out to the right that a hidden overflow would mask.
    return [...document.querySelectorAll('body *')].some((el) => {
      const r = el.getBoundingClientRect()
      return r.width > 0 && r.right > width + 1 && getComputedStyle(el).position !== 'fixed'
    })
  })
}

export async function signInUi(page, username, password = demoPassword) {
  await page.goto('/login')
  await page.fill('input[name=username]', username)
  await page.fill('input[name=password]', password)
  await page.click('button[type=submit]')
  await page.waitForURL((u) => !u.pathname.startsWith('/login'))
}

const axeScript = createRequire(import.meta.url).resolve('axe-core/axe.min.js')

//! Runs axe-core on the page as it stands (WCAG 2.x A and AA rules and best practices) and fails on
//! any violation of impact serious or critical, naming the rule and the elements.
export async function checkA11y(page, name) {
  // Colours and dialogs caught halfway through a CSS transition (a button turning green, a message
  // box closing) are not what anyone reads: let every finite animation end first.
  await page.evaluate(async () => {
    for (let round = 0; round < 5; round++) {
      // Two frames first, so transitions just queued (an element rendered a moment ago) have begun.
      await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))
      const running = document.getAnimations().filter((a) => a.playState === 'running' && a.effect?.getComputedTiming().endTime !== Infinity)
      if (running.length === 0) return
      await Promise.all(running.map((a) => a.finished.catch(() => undefined)))
    }
  })
  const loaded = await page.evaluate(() => typeof window.axe !== 'undefined')
  if (!loaded) await page.addScriptTag({ path: axeScript })
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ['violations'] })
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 5).map((n) => `${n.target.join(' ')}: ${n.failureSummary?.split('\n').slice(1).join(' ')}`),
    }))
  })
  const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
  assert.deepEqual(serious, [], `accessibility (axe-core) on ${name}: serious or critical violations`)
}

export function writeJson(path, value) {
  writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value))
}

//! An RFC 3339 instant `minutesBack` minutes ago, in Asia/Shanghai's offset.
export function shanghaiIso(minutesBack) {
  const d = new Date(Date.now() + 8 * 3600_000 - minutesBack * 60_000)
  return d.toISOString().slice(0, 19) + '+08:00'
}
