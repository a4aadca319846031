// The operations page against a mocked API: the election answer's per-partition leaders, before and
// after, as the server read them; the reassignment history following the server's events.
import { flushPromises } from '@vue/test-utils'
import { beforeEach, describe, expect, it } from 'vitest'
import { createMemoryHistory, createRouter } from 'vue-router'
import { routes } from '@/router'
import OperationsView from '@/views/OperationsView.vue'
import { TOKEN_KEY } from '@/stores/auth'
import { useEventsStore } from '@/stores/events'
import { freshPinia, jsonResponse, mountWithApp, stubFetch } from './helpers'

const election = {
  items: [
    { topic: 'orders', partition: 0, leaderBefore: 2, preferredLeader: 1, leaderAfter: 1, result: 'elected' },
    { topic: 'orders', partition: 1, leaderBefore: 2, preferredLeader: 2, leaderAfter: 2, result: 'not_needed' },
    { topic: 'orders', partition: 2, leaderBefore: 3, preferredLeader: 1, leaderAfter: 3, result: 'pending', error: 'not shown after 10s' },
  ],
  total: 3,
  elected: 1,
  notNeeded: 1,
  pending: 1,
  failed: 0,
  topics: [{ topic: 'orders', leaderSkewBefore: 50, preferredLeaderBefore: 33.3, leaderSkewAfter: 0, preferredLeaderAfter: 66.7 }],
}

describe('OperationsView election', () => {
  beforeEach(() => sessionStorage.clear())

  it('lists every partition in scope with its leader before and after', async () => {
    sessionStorage.setItem(TOKEN_KEY, 'tok')
    stubFetch(async (url, init) => {
      const u = String(url)
      if (init?.method === 'POST' && u.endsWith('/elections')) return jsonResponse(200, election)
      if (u.includes('/reassignments')) return jsonResponse(200, { items: [], total: 0, history: [] })
      return jsonResponse(200, { items: [], total: 0 })
    })
    const router = createRouter({ history: createMemoryHistory(), routes })
    await router.push('/clusters/c/operations')
    await router.isReady()
    const w = mountWithApp(OperationsView, { pinia: freshPinia(), global: { plugins: [router] } })
    await flushPromises()
    await w.find('[data-testid="election-run"]').trigger('click')
    await flushPromises()
    expect(w.find('[data-testid="election-summary"]').text()).toContain('1 elected, 1 already preferred, 0 failed.')
    expect(w.find('[data-testid="election-summary"]').text()).toContain('1 accepted by the controller')
    const rows = w.findAll('[data-testid="election-partitions"] tbody tr')
    expect(rows).toHaveLength(3)
    expect(rows[0]!.find('[data-testid="election-leaders"]').text()).toBe('2 → 1')
    expect(rows[0]!.text()).toContain('elected')
    expect(rows[1]!.text()).toContain('already preferred')
    expect(rows[2]!.find('[data-testid="election-leaders"]').text()).toBe('3 → 3')
    expect(rows[2]!.text()).toContain('not shown yet')
    w.unmount()
  })
})

describe('OperationsView election of a whole cluster', () => {
  beforeEach(() => sessionStorage.clear())

  it('shows every partition of a large answer a page at a time', async () => {
    sessionStorage.setItem(TOKEN_KEY, 'tok')
    const items = Array.from({ length: 120 }, (_, i) => ({ topic: 't', partition: i, leaderBefore: 1, preferredLeader: 1, leaderAfter: 1, result: 'not_needed' }))
    stubFetch(async (url, init) => {
      const u = String(url)
      if (init?.method === 'POST' && u.endsWith('/elections'))
        return jsonResponse(200, { items, total: 120, elected: 0, notNeeded: 120, pending: 0, failed: 0, topics: [] })
      if (u.includes('/reassignments')) return jsonResponse(200, { items: [], total: 0, history: [] })
      return jsonResponse(200, { items: [], total: 0 })
    })
    const router = createRouter({ history: createMemoryHistory(), routes })
    await router.push('/clusters/c/operations')
    await router.isReady()
    const w = mountWithApp(OperationsView, { pinia: freshPinia(), global: { plugins: [router] } })
    await flushPromises()
    await w.find('[data-testid="election-run"]').trigger('click')
    await flushPromises()
    expect(w.find('[data-testid="election-summary"]').text()).toContain('0 elected, 120 already preferred')
    expect(w.findAll('[data-testid="election-partitions"] tbody tr')).toHaveLength(50)
    expect(w.find('[data-testid="election-pager"]').text()).toContain('120')
    w.unmount()
  })
})

describe('OperationsView reassignment history', () => {
  beforeEach(() => sessionStorage.clear())

  it('reloads the history by itself when the server records a reassignment change', async () => {
    let history: unknown[] = []
    stubFetch(async (url) => {
      if (String(url).endsWith('/clusters/c/reassignments')) return jsonResponse(200, { items: [], total: 0, history })
      return jsonResponse(200, { items: [], total: 0 })
    })
    const pinia = freshPinia()
    const router = createRouter({ history: createMemoryHistory(), routes })
    await router.push('/clusters/c/operations')
    await router.isReady()
    const w = mountWithApp(OperationsView, { pinia, global: { plugins: [router] } })
    await flushPromises()
    expect(w.find('[data-testid="reassign-history"]').text()).toContain('None yet.')
    history = [
      { id: 7, state: 'completed', actor: 'alice', startedAt: '2026-01-01T00:00:00Z', finishedAt: '2026-01-01T00:00:05Z', throttleBytesPerSec: 0, partitions: [] },
    ]
    // Another cluster's change is not this page's.
    useEventsStore(pinia).onReassignment(JSON.stringify({ cluster: 'other', id: 1, kind: 'completed', state: 'completed', remaining: 0, total: 1, at: '' }))
    await flushPromises()
    expect(w.find('[data-testid="reassign-history"]').text()).toContain('None yet.')
    useEventsStore(pinia).onReassignment(JSON.stringify({ cluster: 'c', id: 7, kind: 'completed', state: 'completed', remaining: 0, total: 1, at: '' }))
    await flushPromises()
    const text = w.find('[data-testid="reassign-history"]').text()
    expect(text).not.toContain('None yet.')
    expect(text).toContain('completed')
    expect(text).toContain('alice')
    w.unmount()
  })
})
