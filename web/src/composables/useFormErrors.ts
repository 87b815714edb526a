// Puts an API error next to the field it names, or above the form when the field is not on it.
import { reactive, ref } from 'vue'
import { ApiError } from '../api/client'

export function useFormErrors() {
  const fields = reactive<Record<string, string>>({})
  const general = ref('')

  function clear(): void {
    for (const key of Object.keys(fields)) delete fields[key]
    general.value = ''
  }

  //! `known` are the field names the form shows; an error naming one of them lands beside it.
  function show(error: unknown, known: readonly string[]): void {
    clear()
    if (error instanceof ApiError) {
      if (error.field && known.includes(error.field)) fields[error.field] = error.message
      else general.value = error.message
      return
    }
    general.value = error instanceof Error ? error.message : String(error)
  }

  return { fields, general, clear, show }
}
