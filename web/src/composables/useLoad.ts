import { ref, shallowRef, type Ref, type ShallowRef } from 'vue'

export interface Loaded<T> {
  data: ShallowRef<T | null>
  loading: Ref<boolean>
  error: ShallowRef<unknown>
  load: () => Promise<void>
}

//! One API read with its loading and error state; `load` again to refresh.
export function useLoad<T>(fetcher: () => Promise<T>): Loaded<T> {
  const data = shallowRef<T | null>(null)
  const loading = ref(false)
  const error = shallowRef<unknown>(null)
  let generation = 0
  async function load(): Promise<void> {
    const mine = ++generation
    loading.value = true
    error.value = null
    try {
      const value = await fetcher()
      if (mine === generation) data.value = value
    } catch (e) {
      if (mine === generation) error.value = e
    } finally {
      if (mine === generation) loading.value = false
    }
  }
  return { data, loading, error, load }
}
