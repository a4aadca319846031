// The configured clusters and which one the user is looking at. Pages read this store; only
// load() talks to the API.
import { defineStore } from 'pinia'
import { computed, ref, shallowRef } from 'vue'
import { listClusters, type ClusterSummary } from '@/api/clusters'
import { ApiError, ClientErrorCode } from '@/api/client'
import { readStorage, writeStorage } from '@/utils/storage'

export const SELECTED_CLUSTER_KEY = 'osprey.cluster'

export const useClustersStore = defineStore('clusters', () => {
  const items = shallowRef<ClusterSummary[]>([])
  const total = ref(0)
  const loading = ref(false)
  /** Whether at least one load has finished successfully. */
  const loaded = ref(false)
  const error = shallowRef<ApiError | null>(null)
  const selectedName = ref<string | null>(readStorage(SELECTED_CLUSTER_KEY))

  let inFlight: Promise<void> | null = null
  let controller: AbortController | null = null

  const selected = computed(() => items.value.find((c) => c.name === selectedName.value) ?? null)

  function select(name: string): void {
    selectedName.value = name
    writeStorage(SELECTED_CLUSTER_KEY, name)
  }

  /**
   * Loads the cluster list. Concurrent calls share one request. On failure the previous
   * list stays visible and `error` says why.
   */
  function load(): Promise<void> {
    if (inFlight) return inFlight
    loading.value = true
    controller = new AbortController()
    const signal = controller.signal
    inFlight = (async () => {
      try {
        const res = await listClusters({ signal })
        items.value = res.items
        total.value = res.total
        loaded.value = true
        error.value = null
        // Keep the switcher pointing at a cluster that exists.
        const first = res.items[0]
        if (first && !res.items.some((c) => c.name === selectedName.value)) select(first.name)
      } catch (err) {
        if (signal.aborted) return
        error.value =
          err instanceof ApiError
            ? err
            : new ApiError(0, ClientErrorCode.Network, err instanceof Error ? err.message : String(err))
      } finally {
        loading.value = false
        inFlight = null
        controller = null
      }
    })()
    return inFlight
  }

  /** Cancels a load in progress (for example when the page goes away). */
  function cancel(): void {
    controller?.abort()
  }

  return { items, total, loading, loaded, error, selectedName, selected, select, load, cancel }
})
