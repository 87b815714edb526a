// Renders the PWA's PNG icons from the SVGs in public/icons with headless Chromium.
// Run after changing an SVG: node scripts/icons.mjs (the PNGs are committed).
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'

const dir = fileURLToPath(new URL('../public/icons/', import.meta.url))
const jobs = [
  ['icon.svg', 'icon-192.png', 192],
  ['icon.svg', 'icon-512.png', 512],
  ['icon-maskable.svg', 'icon-maskable-512.png', 512],
]
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu'],
})
const page = await browser.newPage()
for (const [svg, png, size] of jobs) {
  await page.setViewportSize({ width: size, height: size })
  const markup = readFileSync(dir + svg, 'utf8')
  await page.setContent(`<html><body style="margin:0;background:transparent">${markup.replace('<svg ', `<svg width="${size}" height="${size}" `)}</body></html>`)
  await page.screenshot({ path: dir + png, omitBackground: true, clip: { x: 0, y: 0, width: size, height: size } })
}
await browser.close()
