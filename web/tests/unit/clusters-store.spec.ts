import { beforeEach, describe, expect, it } from 'vitest'
import type { ClusterSummary } from '@/api/clusters'
import { SELECTED_CLUSTER_KEY, useClustersStore } from '@/stores/clusters'
import { clusterSummary, deferred, freshPinia, jsonResponse, stubFetch } from './helpers'

const cluster = (name: string, extra: Partial<ClusterSummary> = {}): ClusterSummary => clusterSummary({ name, ...extra })

describe('clusters store', () => {
  beforeEach(() => {
    localStorage.clear()
    freshPinia()
  })

  it('loads the list and selects the first cluster when none is chosen', async () => {
    const fetch = stubFetch(async () => jsonResponse(200, { items: [cluster('a'), cluster('b')], total: 2 }))
    const store = useClustersStore()
    expect(store.loaded).toBe(false)
    const p = store.load()
    expect(store.loading).toBe(true)
    await p
    expect(fetch).toHaveBeenCalledOnce()
    expect(String(fetch.mock.calls[0]?.[0])).toBe('/api/v1/clusters')
    expect(store.items.map((c) => c.name)).toEqual(['a', 'b'])
    expect(store.total).toBe(2)
    expect(store.loading).toBe(false)
    expect(store.loaded).toBe(true)
    expect(store.error).toBeNull()
    expect(store.selectedName).toBe('a')
    expect(store.selected?.name).toBe('a')
    expect(localStorage.getItem(SELECTED_CLUSTER_KEY)).toBe('a')
  })

  it('keeps a remembered selection that still exists and replaces one that does not', async () => {
    stubFetch(async () => jsonResponse(200, { items: [cluster('a'), cluster('b')], total: 2 }))
    localStorage.setItem(SELECTED_CLUSTER_KEY, 'b')
    freshPinia()
    const kept = useClustersStore()
    await kept.load()
    expect(kept.selectedName).toBe('b')

    localStorage.setItem(SELECTED_CLUSTER_KEY, 'gone')
    freshPinia()
    const replaced = useClustersStore()
    await replaced.load()
    expect(replaced.selectedName).toBe('a')
  })

  it('shares one request between concurrent loads', async () => {
    const gate = deferred<Response>()
    const fetch = stubFetch(() => gate.promise)
    const store = useClustersStore()
    const p1 = store.load()
    const p2 = store.load()
    gate.resolve(jsonResponse(200, { items: [cluster('a')], total: 1 }))
    await Promise.all([p1, p2])
    expect(fetch).toHaveBeenCalledOnce()
    expect(store.items).toHaveLength(1)
    // A later load is a new request.
    stubFetch(async () => jsonResponse(200, { items: [], total: 0 }))
    await store.load()
    expect(store.items).toHaveLength(0)
  })

  it('records the API error and keeps the previous list', async () => {
    stubFetch(async () => jsonResponse(200, { items: [cluster('a')], total: 1 }))
    const store = useClustersStore()
    await store.load()

    stubFetch(async () => jsonResponse(503, { error: { code: 'unavailable', message: 'store not ready' } }))
    await store.load()
    expect(store.error).toMatchObject({ status: 503, code: 'unavailable', message: 'store not ready' })
    expect(store.items.map((c) => c.name)).toEqual(['a'])
    expect(store.loading).toBe(false)

    // The next successful load clears the error.
    stubFetch(async () => jsonResponse(200, { items: [cluster('b')], total: 1 }))
    await store.load()
    expect(store.error).toBeNull()
    expect(store.items.map((c) => c.name)).toEqual(['b'])
  })

  it('reports a network failure as an ApiError with code network', async () => {
    stubFetch(async () => {
      throw new TypeError('Failed to fetch')
    })
    const store = useClustersStore()
    await store.load()
    expect(store.error).toMatchObject({ status: 0, code: 'network' })
    expect(store.loaded).toBe(false)
  })

  it('cancel() drops the load without reporting an error', async () => {
    stubFetch(
      (_input, init) =>
        new Promise<Response>((_resolve, reject) => {
          init?.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')))
        }),
    )
    const store = useClustersStore()
    const p = store.load()
    store.cancel()
    await p
    expect(store.error).toBeNull()
    expect(store.loading).toBe(false)
    expect(store.loaded).toBe(false)
  })
})
