// A cluster's pages against what the cluster list says about it: an unknown cluster gets one
// "no such cluster" state and no page calls; a cluster without ZooKeeper gets no ZooKeeper page
// and no ZooKeeper calls.
import { flushPromises } from '@vue/test-utils'
import { beforeEach, describe, expect, it } from 'vitest'
import { createMemoryHistory, createRouter } from 'vue-router'
import type { ClusterSummary } from '@/api/clusters'
import { routes } from '@/router'
import AppNav from '@/components/AppNav.vue'
import ClusterGate from '@/components/ClusterGate.vue'
import ZooKeeperView from '@/views/ZooKeeperView.vue'
import { useClustersStore } from '@/stores/clusters'
import { clusterSummary, freshPinia, jsonResponse, mountWithApp, stubFetch } from './helpers'

const summary = (name: string, zookeeper: string): ClusterSummary => clusterSummary({ name, zookeeper, bootstrapServers: ['h:9092'] })

async function routerAt(path: string) {
  const router = createRouter({ history: createMemoryHistory(), routes })
  await router.push(path)
  await router.isReady()
  return router
}

function stubClusters(items: ClusterSummary[]) {
  return stubFetch(async (url) => {
    const u = new URL(String(url), 'http://x')
    if (u.pathname === '/api/v1/clusters') return jsonResponse(200, { items, total: items.length })
    return jsonResponse(200, { items: [], total: 0 })
  })
}

const called = (fetch: ReturnType<typeof stubFetch>) => fetch.mock.calls.map((c) => new URL(String(c[0]), 'http://x').pathname)

describe('an unknown cluster', () => {
  beforeEach(() => localStorage.clear())

  it('shows one "no such cluster" state and loads nothing of the page', async () => {
    const fetch = stubClusters([summary('prod', '')])
    const router = await routerAt('/clusters/nope/dashboard')
    const w = mountWithApp(ClusterGate, { global: { plugins: [router] } })
    await flushPromises()
    await flushPromises()
    expect(w.find('[data-testid="no-such-cluster"]').exists()).toBe(true)
    expect(w.text()).toContain('nope')
    expect(w.find('[data-testid="dashboard-page"], [data-testid="live-badge"], [data-testid="error"]').exists()).toBe(false)
    // Only the cluster list was asked (once more, in case the cluster was created since it loaded).
    expect(new Set(called(fetch))).toEqual(new Set(['/api/v1/clusters']))
  })

  it('in Chinese too', async () => {
    stubClusters([summary('prod', '')])
    const router = await routerAt('/clusters/nope/topics')
    const w = mountWithApp(ClusterGate, { locale: 'zh-CN', global: { plugins: [router] } })
    await flushPromises()
    await flushPromises()
    expect(w.find('[data-testid="no-such-cluster"]').text()).toContain('没有这个集群')
  })

  it('mounts the page of a known cluster', async () => {
    stubClusters([summary('prod', '')])
    const router = await routerAt('/clusters/prod/topics')
    const w = mountWithApp(ClusterGate, { global: { plugins: [router] } })
    await flushPromises()
    expect(w.find('[data-testid="no-such-cluster"]').exists()).toBe(false)
    expect(w.find('[data-testid="cluster-gate-loading"]').exists()).toBe(false)
  })
})

describe('a cluster without ZooKeeper', () => {
  it('has no ZooKeeper entry in the navigation', async () => {
    stubClusters([summary('kraft', ''), summary('zk', 'zk1:2181')])
    const pinia = freshPinia()
    await useClustersStore(pinia).load()
    for (const [name, shown] of [['kraft', false], ['zk', true]] as const) {
      const router = await routerAt(`/clusters/${name}/topics`)
      const w = mountWithApp(AppNav, { pinia, global: { plugins: [router] } })
      await flushPromises()
      expect(w.find('[data-testid="nav-topics"]').exists(), name).toBe(true)
      expect(w.find('[data-testid="nav-zookeeper"]').exists(), name).toBe(shown)
      w.unmount()
    }
  })

  it('says so on the ZooKeeper page without asking the server about ZooKeeper', async () => {
    const fetch = stubClusters([summary('kraft', '')])
    const pinia = freshPinia()
    await useClustersStore(pinia).load()
    const router = await routerAt('/clusters/kraft/zookeeper')
    const w = mountWithApp(ZooKeeperView, { pinia, global: { plugins: [router] } })
    await flushPromises()
    expect(w.find('[data-testid="zk-none"]').exists()).toBe(true)
    expect(called(fetch).filter((p) => p.includes('zookeeper'))).toEqual([])
  })
})
