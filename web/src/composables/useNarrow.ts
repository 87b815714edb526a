// True on phone-width screens, so wide tables can leave out their secondary columns there.
import { onBeforeUnmount, ref } from 'vue'

export function useNarrow(maxWidthPx = 640) {
  const query = window.matchMedia(`(max-width: ${maxWidthPx}px)`)
  const narrow = ref(query.matches)
  const update = (e: MediaQueryListEvent) => {
    narrow.value = e.matches
  }
  query.addEventListener('change', update)
  onBeforeUnmount(() => query.removeEventListener('change', update))
  return narrow
}
