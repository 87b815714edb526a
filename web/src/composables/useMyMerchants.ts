// The merchants the signed-in user applied for (GET /merchants answers a non-admin only theirs), and
// the approved one the merchant pages act for — chosen from a picker when there are several.
import { computed, ref } from 'vue'
import { api } from '../api/client'
import type { Merchant } from '../api/types'
import { useLoad } from './useLoad'

const chosen = ref<number | null>(null)

export function useMyMerchants() {
  const list = useLoad(() => api.get<{ merchants: Merchant[] }>('/api/v1/merchants'))
  const approved = computed(() => (list.data.value?.merchants ?? []).filter((m) => m.status === 'approved'))
  const current = computed<Merchant | null>(
    () => approved.value.find((m) => m.id === chosen.value) ?? approved.value[0] ?? null,
  )
  return { list, approved, current, chosen }
}
