// Page data that comes from one API call: data, loading, loaded, error, and load() that cancels
// the previous call. A failed reload keeps the last data on screen under the error.
import { onBeforeUnmount, ref, shallowRef, type Ref, type ShallowRef } from 'vue'
import { ApiError, ClientErrorCode } from '@/api/client'

export interface Resource<T> {
  data: ShallowRef<T | null>
  loading: Ref<boolean>
  loaded: Ref<boolean>
  error: ShallowRef<ApiError | null>
  load: () => Promise<void>
  reset: () => void
}

export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err
  return new ApiError(0, ClientErrorCode.Network, err instanceof Error ? err.message : String(err))
}

export function useResource<T>(loader: (signal: AbortSignal) => Promise<T>): Resource<T> {
  const data = shallowRef<T | null>(null)
  const loading = ref(false)
  const loaded = ref(false)
  const error = shallowRef<ApiError | null>(null)
  let ctrl: AbortController | null = null

  async function load(): Promise<void> {
    ctrl?.abort()
    const mine = new AbortController()
    ctrl = mine
    loading.value = true
    try {
      const v = await loader(mine.signal)
      if (mine.signal.aborted) return
      data.value = v
      loaded.value = true
      error.value = null
    } catch (err) {
      if (mine.signal.aborted) return
      error.value = toApiError(err)
    } finally {
      if (ctrl === mine) {
        loading.value = false
        ctrl = null
      }
    }
  }

  function reset(): void {
    ctrl?.abort()
    data.value = null
    loaded.value = false
    error.value = null
  }

  // Only inside a component; tests may call useResource outside one.
  try {
    onBeforeUnmount(() => ctrl?.abort())
  } catch {
    /* not in a component */
  }
  return { data, loading, loaded, error, load, reset }
}
