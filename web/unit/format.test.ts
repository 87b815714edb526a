// Formatters: numbers grouped per locale, grams as kilograms, instants in Asia/Shanghai time, and
// the Shanghai calendar days the statistics windows are built from.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { defineComponent } from 'vue'
import { mount } from '@vue/test-utils'
import { shanghaiDay, windowQuery } from '../src/dates'
import { useFormat } from '../src/format'
import { i18n, setLocale } from '../src/i18n'

function formatIn(locale: 'zh-CN' | 'en') {
  setLocale(locale)
  let format: ReturnType<typeof useFormat> | undefined
  mount(
    defineComponent({
      setup() {
        format = useFormat()
        return () => null
      },
    }),
    { global: { plugins: [i18n] } },
  )
  return format!
}

describe('useFormat', () => {
  it('groups digits, shows a dash for no figure, and grams as kilograms to two places', () => {
    const f = formatIn('en')
    expect(f.num(1234567)).toBe('1,234,567')
    expect(f.num(0)).toBe('0')
    expect(f.num(null)).toBe('—')
    expect(f.num(undefined)).toBe('—')
    expect(f.kg(12345)).toBe('12.35')
    expect(f.kg(1_500_000)).toBe('1,500')
  })

  it('shows fen as yuan with two decimals, grouped', () => {
    const f = formatIn('en')
    expect(f.yuan(510000)).toBe('5,100.00')
    expect(f.yuan(5)).toBe('0.05')
    expect(f.yuan(null)).toBe('—')
  })

  it('shows instants in Asia/Shanghai time whatever the offset they were written with', () => {
    const f = formatIn('zh-CN')
    expect(f.at('2026-03-09T16:30:00Z')).toContain('2026/03/10')
    expect(f.at('2026-03-09T16:30:00Z')).toContain('00:30')
    expect(f.at('2026-03-10T00:30:00+08:00')).toBe(f.at('2026-03-09T16:30:00Z'))
    expect(f.at(null)).toBe('—')
    expect(f.at('not a time')).toBe('not a time')
  })

  it('picks the name in the locale, falling back to the other', () => {
    expect(formatIn('en').localName({ name_zh: '停车优惠', name_en: 'Parking' })).toBe('Parking')
    expect(formatIn('en').localName({ name_zh: '停车优惠', name_en: '' })).toBe('停车优惠')
    expect(formatIn('zh-CN').localName({ name_zh: '停车优惠', name_en: 'Parking' })).toBe('停车优惠')
  })
})

describe('Shanghai days', () => {
  afterEach(() => vi.useRealTimers())

  it('turns over at midnight in Shanghai, not UTC', () => {
    vi.useFakeTimers()
    vi.setSystemTime(new Date('2026-03-09T15:59:59Z')) // 23:59:59 in Shanghai
    expect(shanghaiDay()).toBe('2026-03-09')
    vi.setSystemTime(new Date('2026-03-09T16:00:00Z')) // midnight in Shanghai
    expect(shanghaiDay()).toBe('2026-03-10')
    expect(shanghaiDay(10)).toBe('2026-02-28')
  })

  it('builds a window of n days that includes today', () => {
    vi.useFakeTimers()
    vi.setSystemTime(new Date('2026-03-10T04:00:00Z'))
    expect(windowQuery(1)).toEqual({ from: '2026-03-10', to: '2026-03-10' })
    expect(windowQuery(365)).toEqual({ from: '2025-03-11', to: '2026-03-10' })
  })
})
