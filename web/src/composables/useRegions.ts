import { computed, shallowRef } from 'vue'
import { api } from '../api/client'
import type { Region } from '../api/types'
import { useFormat } from '../format'

const regions = shallowRef<Region[]>([])
let pending: Promise<void> | null = null

function fetchOnce(): Promise<void> {
  pending ??= api
    .get<{ regions: Region[] }>('/api/v1/regions')
    .then((r) => {
      regions.value = r.regions
    })
    .catch(() => {
      pending = null // try again next time; a label falls back to the code meanwhile
    })
  return pending
}

//! The GB/T 2260 region tree, fetched once per page load.
export function useRegions() {
  void fetchOnce()
  const { regionName } = useFormat()
  const byCode = computed(() => new Map(regions.value.map((r) => [r.code, r])))
  return {
    regions,
    label: (code: string | null | undefined) => (code ? regionName(byCode.value.get(code), code) : '—'),
    // Province, cities and districts, in the server's order, for pickers.
    options: computed(() => regions.value),
  }
}
