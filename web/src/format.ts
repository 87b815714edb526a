// Numbers and instants as people read them: grouped digits, Asia/Shanghai time (DESIGN.md §4).
import { computed } from 'vue'
import { useI18n } from 'vue-i18n'
import type { Region } from './api/types'

export function useFormat() {
  const { locale } = useI18n()
  const number = computed(() => new Intl.NumberFormat(locale.value, { maximumFractionDigits: 3 }))
  const dateTime = computed(
    () =>
      new Intl.DateTimeFormat(locale.value, {
        timeZone: 'Asia/Shanghai',
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
        hour12: false,
      }),
  )
  const money = computed(() => new Intl.NumberFormat(locale.value, { minimumFractionDigits: 2, maximumFractionDigits: 2 }))
  return {
    num: (n: number | null | undefined) => (n === null || n === undefined ? '—' : number.value.format(n)),
    //! Fen as yuan with two decimals.
    yuan: (fen: number | null | undefined) => (fen === null || fen === undefined ? '—' : money.value.format(fen / 100)),
    kg: (grams: number) => number.value.format(Math.round(grams / 10) / 100),
    at: (iso: string | null | undefined) => {
      if (!iso) return '—'
      const d = new Date(iso)
      return Number.isNaN(d.getTime()) ? iso : dateTime.value.format(d)
    },
    regionName: (r: Region | undefined, code: string) =>
      r ? (locale.value === 'en' ? r.name_en : r.name_zh) : code,
    localName: (item: { name_zh: string; name_en: string }) =>
      locale.value === 'en' ? item.name_en || item.name_zh : item.name_zh || item.name_en,
  }
}
