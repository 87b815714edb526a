// Search snippets become text and highlight segments: only the server's exact <mark> tokens
// highlight, entities decode once, and any other markup stays visible text.
import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import { coverSrc, coverSrcset, parseTags, regionCovers, snippetSegments } from '../src/content'
import SearchSnippet from '../src/components/SearchSnippet.vue'

describe('snippetSegments', () => {
  it('splits the hits the server marked', () => {
    expect(snippetSegments('乘坐<mark>地铁</mark>出行，<mark>地铁</mark>减排')).toEqual([
      { text: '乘坐', mark: false },
      { text: '地铁', mark: true },
      { text: '出行，', mark: false },
      { text: '地铁', mark: true },
      { text: '减排', mark: false },
    ])
  })
  it('decodes the escaped text once and keeps tags as text', () => {
    expect(snippetSegments('a &lt;script&gt;alert(1)&lt;/script&gt; &amp;amp; <mark>b</mark>')).toEqual([
      { text: 'a <script>alert(1)</script> &amp; ', mark: false },
      { text: 'b', mark: true },
    ])
  })
  it('treats stray markup as text, not as a highlight', () => {
    const segments = snippetSegments('<img src=x onerror=alert(1)><mark onclick="x">c</mark>')
    expect(segments.every((s) => !s.mark || s.text === '')).toBe(true)
    expect(segments.map((s) => s.text).join('')).toBe('<img src=x onerror=alert(1)><mark onclick="x">c')
  })
  it('decodes numeric entities and leaves unknown ones', () => {
    expect(snippetSegments('&#30899;&#x78B3;&bogus;')).toEqual([{ text: '碳碳&bogus;', mark: false }])
  })
  it('gives nothing for an empty snippet', () => {
    expect(snippetSegments('')).toEqual([])
  })
})

describe('SearchSnippet', () => {
  it('renders marks as <mark> elements and everything else as text', () => {
    const w = mount(SearchSnippet, { props: { html: '&lt;b onclick=&quot;x&quot;&gt;低碳&lt;/b&gt; <mark>地铁</mark><script>alert(1)</script>' } })
    expect(w.findAll('mark').map((m) => m.text())).toEqual(['地铁'])
    expect(w.find('b').exists()).toBe(false)
    expect(w.find('script').exists()).toBe(false)
    expect(w.text()).toContain('<b onclick="x">低碳</b>')
    expect(w.text()).toContain('<script>alert(1)</script>')
  })
})

describe('covers', () => {
  const cover = { '1200': '/media/covers/abc-1200.jpg', '400': '/media/covers/abc-400.jpg' }
  it('lists every width in the srcset, smallest first', () => {
    expect(coverSrcset(cover)).toBe('/media/covers/abc-400.jpg 400w, /media/covers/abc-1200.jpg 1200w')
    expect(coverSrcset(null)).toBe('')
  })
  it('picks the smallest size wide enough', () => {
    expect(coverSrc(cover, 300)).toBe('/media/covers/abc-400.jpg')
    expect(coverSrc(cover, 800)).toBe('/media/covers/abc-1200.jpg')
    expect(coverSrc(cover, 2000)).toBe('/media/covers/abc-1200.jpg')
  })
})

describe('regions and tags', () => {
  it('a province covers its cities and districts, a city its districts', () => {
    expect(regionCovers('440000', '440305')).toBe(true)
    expect(regionCovers('440300', '440305')).toBe(true)
    expect(regionCovers('440300', '440100')).toBe(false)
    expect(regionCovers('440305', '440305')).toBe(true)
  })
  it('splits tags on commas of either width and 、, without duplicates', () => {
    expect(parseTags('地铁, 骑行，垃圾分类、地铁\n ')).toEqual(['地铁', '骑行', '垃圾分类'])
  })
})
