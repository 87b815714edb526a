// Client logic of the content pages: search snippets turned into text and highlight segments (never
// HTML), cover srcsets, cover uploads, and the regions an editor or admin works in.
import { ApiError } from './api/client'
import type { Article, RoleName } from './api/types'
import { session } from './session'

export interface SnippetSegment {
  text: string
  mark: boolean
}

const entities: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", '#39': "'", '#x27': "'", nbsp: '\u00a0' }

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/g, (whole, name: string) => {
    const known = entities[name]
    if (known !== undefined) return known
    if (name.startsWith('#x')) {
      const code = Number.parseInt(name.slice(2), 16)
      return Number.isFinite(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole
    }
    if (name.startsWith('#')) {
      const code = Number.parseInt(name.slice(1), 10)
      return Number.isFinite(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole
    }
    return whole
  })
}

//! The server's snippet (HTML-escaped text, hits wrapped in <mark>…</mark>) as plain-text segments.
//! Only the exact `<mark>` and `</mark>` tokens mean anything; every other character, a tag included,
//! stays text, so rendering the segments as text nodes cannot inject markup.
export function snippetSegments(snippetHtml: string): SnippetSegment[] {
  const out: SnippetSegment[] = []
  let mark = false
  for (const piece of snippetHtml.split(/(<mark>|<\/mark>)/)) {
    if (piece === '<mark>') {
      mark = true
      continue
    }
    if (piece === '</mark>') {
      mark = false
      continue
    }
    if (piece === '') continue
    const text = decodeEntities(piece)
    const last = out[out.length - 1]
    if (last && last.mark === mark) last.text += text
    else out.push({ text, mark })
  }
  return out
}

//! `srcset` of an article's cover sizes ("/media/covers/…-400.jpg 400w, …-1200.jpg 1200w").
export function coverSrcset(cover: Article['cover']): string {
  if (!cover) return ''
  return Object.entries(cover)
    .map(([w, path]) => ({ w: Number(w), path }))
    .filter((c) => Number.isFinite(c.w) && c.w > 0)
    .sort((a, b) => a.w - b.w)
    .map((c) => `${c.path} ${c.w}w`)
    .join(', ')
}

//! The smallest cover size at least `width` px wide (or the largest there is).
export function coverSrc(cover: Article['cover'], width: number): string {
  if (!cover) return ''
  const sizes = Object.entries(cover)
    .map(([w, path]) => ({ w: Number(w), path }))
    .sort((a, b) => a.w - b.w)
  return (sizes.find((s) => s.w >= width) ?? sizes[sizes.length - 1])?.path ?? ''
}

//! Uploads a cover as the raw body with the file's type; the server checks the bytes.
export async function uploadCover(articleId: number, file: Blob): Promise<Article> {
  const headers: Record<string, string> = { accept: 'application/json' }
  if (session.token) headers.authorization = `Bearer ${session.token}`
  headers['content-type'] = file.type || 'application/octet-stream'
  let response: Response
  try {
    response = await fetch(`/api/v1/content/articles/${articleId}/cover`, { method: 'PUT', headers, body: file })
  } catch (e) {
    throw new ApiError(0, 'network', '', e instanceof Error ? e.message : String(e))
  }
  const text = await response.text()
  let parsed: unknown
  try {
    parsed = text ? JSON.parse(text) : undefined
  } catch {
    parsed = undefined
  }
  if (!response.ok) {
    const err = (parsed as { error?: { code?: unknown; field?: unknown; message?: unknown } } | undefined)?.error
    throw new ApiError(
      response.status,
      typeof err?.code === 'string' ? err.code : 'http_' + response.status,
      typeof err?.field === 'string' ? err.field : '',
      typeof err?.message === 'string' ? err.message : response.statusText,
    )
  }
  return parsed as Article
}

//! True when region `code` is `scope` or lies within it (GB/T 2260: province XX0000, city XXXX00).
export function regionCovers(scope: string, code: string): boolean {
  if (scope.endsWith('0000')) return code.startsWith(scope.slice(0, 2))
  if (scope.endsWith('00')) return code.startsWith(scope.slice(0, 4))
  return code === scope
}

//! The regions the signed-in user holds `role` in (a province admin: the whole province).
export function regionsOf(...roles: RoleName[]): string[] {
  const grants = session.user?.roles ?? []
  const out = new Set<string>()
  for (const g of grants) {
    if (!roles.includes(g.role)) continue
    if (g.role === 'province_admin') out.add('440000')
    else if (g.region) out.add(g.region)
  }
  return [...out]
}

//! Splits a tag field ("垃圾分类, 地铁，骑行") into tags: commas (also 、 and full-width) or new lines.
export function parseTags(text: string): string[] {
  return [...new Set(text.split(/[,，、\n]/).map((t) => t.trim()).filter((t) => t !== ''))]
}
