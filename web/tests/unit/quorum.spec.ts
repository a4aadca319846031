// The Quorum page of a KRaft cluster: in the navigation in the ZooKeeper page's place, its figures as
// the API gives them (en and zh-CN), and no quorum calls for a ZooKeeper-mode cluster.
import { flushPromises } from '@vue/test-utils'
import { beforeEach, describe, expect, it } from 'vitest'
import { createMemoryHistory, createRouter } from 'vue-router'
import type { ClusterSummary } from '@/api/clusters'
import type { Quorum, QuorumHistory } from '@/api/types'
import { routes } from '@/router'
import AppNav from '@/components/AppNav.vue'
import QuorumView from '@/views/QuorumView.vue'
import { useClustersStore } from '@/stores/clusters'
import { quorumSeries } from '@/utils/quorumSeries'
import { clusterSummary, freshPinia, jsonResponse, mountWithApp, stubFetch } from './helpers'

const polled = '2026-01-02T03:04:05Z'
const kraft = clusterSummary({ name: 'kraft', kraft: true, lastPoll: polled, controller: 3001 })
const zk = clusterSummary({ name: 'zk', zookeeper: 'zk1:2181', lastPoll: polled, controller: 1 })

const replica = (id: number, voter: boolean, leo: number, lag: number, lagSeconds: number, leader = false) => ({
  id, voter, leader, caughtUp: leader || (lagSeconds >= 0 && lagSeconds <= 10), logEndOffset: leo, lag, lagSeconds, lastFetchAgeSeconds: leader ? 0 : 2,
})
const quorum: Quorum = {
  leaderId: 3001, leaderEpoch: 7, highWatermark: 12345, leaderLogEndOffset: 12350,
  voters: [replica(3001, true, 12350, 0, 0, true), replica(3002, true, 12350, 0, 1), replica(3003, true, 12000, 350, 42)],
  observers: [replica(1, false, 12340, 10, -1)],
  majority: 2, caughtUpVoters: 2, caughtUpWithinSeconds: 10,
  nodes: [{ id: 3001, listeners: [{ name: 'CONTROLLER', host: 'ctl-1', port: 9093 }] }],
  features: [{ name: 'metadata.version', level: 21, supportedMin: 1, supportedMax: 25 }], featuresEpoch: 40,
  brokers: [{ id: 1, host: 'b1', port: 9092, up: true, fenced: true, observer: true, voter: false }],
  fencedKnown: true, epochChanges: 2, flapWindowSeconds: 600, version: 2, readAt: polled,
}
const history: QuorumHistory = {
  from: '2026-01-02T02:04:05Z', to: polled,
  points: [
    { time: '2026-01-02T03:00:00Z', leaderId: 3002, leaderEpoch: 6, highWatermark: 12000, maxVoterLag: 0, maxVoterLagSeconds: 0 },
    { time: '2026-01-02T03:01:00Z', leaderId: 3001, leaderEpoch: 7, highWatermark: 12300, maxVoterLag: 350, maxVoterLagSeconds: 42 },
  ],
  leaderChanges: [{ time: '2026-01-02T03:01:00Z', from: 3002, to: 3001, epoch: 7 }],
}

async function routerAt(path: string) {
  const router = createRouter({ history: createMemoryHistory(), routes })
  await router.push(path)
  await router.isReady()
  return router
}

function stub() {
  return stubFetch(async (url) => {
    const u = new URL(String(url), 'http://x')
    if (u.pathname === '/api/v1/clusters') return jsonResponse(200, { items: [kraft, zk], total: 2 })
    if (u.pathname === '/api/v1/clusters/kraft/quorum') return jsonResponse(200, quorum)
    if (u.pathname === '/api/v1/clusters/kraft/quorum/history') return jsonResponse(200, history)
    return jsonResponse(404, { error: { code: 'not_found', message: 'no' } })
  })
}
const paths = (fetch: ReturnType<typeof stub>) => fetch.mock.calls.map((c) => new URL(String(c[0]), 'http://x').pathname)

describe('the Quorum page', () => {
  beforeEach(() => localStorage.clear())

  it('takes the ZooKeeper page\'s place in the navigation of a KRaft cluster', async () => {
    stub()
    const pinia = freshPinia()
    await useClustersStore(pinia).load()
    for (const [name, quorumShown, zkShown] of [['kraft', true, false], ['zk', false, true]] as const) {
      const router = await routerAt(`/clusters/${name}/topics`)
      const w = mountWithApp(AppNav, { pinia, global: { plugins: [router] } })
      await flushPromises()
      expect(w.find('[data-testid="nav-quorum"]').exists(), name).toBe(quorumShown)
      expect(w.find('[data-testid="nav-zookeeper"]').exists(), name).toBe(zkShown)
      w.unmount()
    }
  })

  it('shows the leader, epoch, high watermark and every voter and observer with its lag', async () => {
    stub()
    const pinia = freshPinia()
    await useClustersStore(pinia).load()
    const router = await routerAt('/clusters/kraft/quorum')
    const w = mountWithApp(QuorumView, { pinia, global: { plugins: [router] } })
    await flushPromises()
    const stat = (id: string) => w.find(`[data-testid="${id}"] [data-testid="stat-value"]`).text()
    expect(stat('quorum-leader')).toBe('3001')
    expect(stat('quorum-epoch')).toBe('7')
    expect(stat('quorum-hw')).toBe('12,345')
    expect(stat('quorum-caught-up')).toBe('2 / 3')
    expect(w.find('[data-testid="quorum-at-risk"]').text()).toContain('One more voter failure loses the quorum')
    const ids = w.findAll('[data-testid="replica-id"]').map((e) => e.text())
    expect(ids).toEqual(['3001', '3002', '3003', '1'])
    expect(w.findAll('[data-testid="replica-lag"]').map((e) => e.text())).toEqual(['0', '0', '350', '10'])
    expect(w.findAll('[data-testid="replica-lag-seconds"]').map((e) => e.text())).toEqual(['0 s', '1 s', '42 s', '—'])
    expect(w.findAll('[data-testid="replica-role"]').map((e) => e.text())).toEqual(['voter', 'voter', 'voter', 'observer'])
    expect(w.text()).toContain('CONTROLLER ctl-1:9093')
    expect(w.find('[data-testid="quorum-features"]').text()).toContain('metadata.version')
    expect(w.find('[data-testid="broker-fenced-1"]').exists()).toBe(true)
    expect(w.findAll('[data-testid="quorum-change"]').map((e) => e.text()).join()).toContain('3002 → 3001')
  })

  it('in Chinese', async () => {
    stub()
    const pinia = freshPinia()
    await useClustersStore(pinia).load()
    const router = await routerAt('/clusters/kraft/quorum')
    const w = mountWithApp(QuorumView, { pinia, locale: 'zh-CN', global: { plugins: [router] } })
    await flushPromises()
    expect(w.text()).toContain('KRaft 仲裁')
    expect(w.text()).toContain('即活动控制器')
    expect(w.findAll('[data-testid="replica-role"]').map((e) => e.text())).toEqual(['投票者', '投票者', '投票者', '观察者'])
    expect(w.find('[data-testid="quorum-at-risk"]').text()).toContain('再有一个投票者故障')
  })

  it('says a ZooKeeper-mode cluster has none, without asking the server', async () => {
    const fetch = stub()
    const pinia = freshPinia()
    await useClustersStore(pinia).load()
    const router = await routerAt('/clusters/zk/quorum')
    const w = mountWithApp(QuorumView, { pinia, global: { plugins: [router] } })
    await flushPromises()
    expect(w.find('[data-testid="quorum-none"]').exists()).toBe(true)
    expect(paths(fetch).filter((p) => p.includes('quorum'))).toEqual([])
  })
})

describe('the quorum history series', () => {
  it('breaks the lines where the console did not poll, and has whole seconds of lag', () => {
    const at = (s: number) => new Date(Date.UTC(2026, 0, 2, 3, 0, s)).toISOString()
    const point = (s: number, leaderId: number, lagSeconds = 0.4) => ({ time: at(s), leaderId, leaderEpoch: 1, highWatermark: 1, maxVoterLag: 0, maxVoterLagSeconds: lagSeconds })
    const s = quorumSeries({ from: at(0), to: at(59 * 60), points: [point(0, 1), point(2, 1), point(4, -1, 2.6), point(6, 3), point(1200, 1)], leaderChanges: [] })!
    expect(s.items.map((p) => p.values.leader)).toEqual([1, 1, null, 3, null, 1])
    expect(s.items[2]!.values.lagSeconds).toBe(3)
    expect(s.items[0]!.values.lagSeconds).toBe(0)
    expect(s.items[4]!.ts).toBe(s.items[3]!.ts + 1)
  })
})
