// The group page and its offset-reset dialog judge a group from the same answer: the page's one
// group detail (state, members, and the server's "active" verdict on executing a reset).
import { flushPromises } from '@vue/test-utils'
import { beforeEach, describe, expect, it } from 'vitest'
import { createMemoryHistory, createRouter } from 'vue-router'
import { routes } from '@/router'
import GroupDetailView from '@/views/GroupDetailView.vue'
import { TOKEN_KEY } from '@/stores/auth'
import { freshPinia, jsonResponse, mountWithApp, stubFetch } from './helpers'

function detail(state: string, members: number, active: boolean) {
  return {
    name: 'billing', state, protocolType: 'consumer', protocol: 'range', coordinator: 2, members, topics: 1, lag: 4, lagSeconds: 0,
    memberList: Array.from({ length: members }, (_, i) => ({ id: `member-${i}`, clientId: 'cli', clientHost: '/10.0.0.1', assignment: [] })),
    topicList: [{ topic: 'orders', catchUp: { state: 'unknown', seconds: 0, minSeconds: 0, maxSeconds: null, consumeRate: 0, produceRate: 0, lagGrowingSeconds: 0, windowSeconds: 600 }, lag: 4, lagSeconds: 0, committedSum: 6, partitions: [{ partition: 0, committed: 6, end: 10, lag: 4, lagSeconds: 0, member: '' }] }],
    polledAt: '2026-01-01T00:00:00Z',
    status: null,
    active,
  }
}

async function openReset(d: ReturnType<typeof detail>) {
  sessionStorage.setItem(TOKEN_KEY, 'tok')
  stubFetch(async (url) => {
    const u = new URL(String(url), 'http://x')
    if (u.pathname === '/api/v1/clusters/c/groups/billing') return jsonResponse(200, d)
    if (u.pathname.endsWith('/lag')) return jsonResponse(200, { step: 0, items: [] })
    return jsonResponse(200, { items: [], total: 0 })
  })
  const router = createRouter({ history: createMemoryHistory(), routes })
  await router.push('/clusters/c/groups/billing')
  await router.isReady()
  const w = mountWithApp(GroupDetailView, {
    pinia: freshPinia(),
    attachTo: document.body,
    global: { plugins: [router], stubs: { SeriesChart: true } },
  })
  await flushPromises()
  await w.find('[data-testid="group-reset"]').trigger('click')
  await flushPromises()
  return w
}

describe('GroupDetailView and OffsetResetDialog', () => {
  beforeEach(() => sessionStorage.clear())

  it.each([
    { state: 'Stable', members: 2, active: true },
    { state: 'PreparingRebalance', members: 0, active: true },
    { state: 'Empty', members: 0, active: false },
  ])('agree on a $state group with $members members (active: $active)', async ({ state, members, active }) => {
    const w = await openReset(detail(state, members, active))
    const summary = w.find('[data-testid="group-summary"]').text()
    expect(summary).toContain(state)
    expect(w.findAll('[data-testid="group-members"] .el-table__row').length).toBe(members)
    const submit = document.querySelector('[data-testid="reset-submit"]') as HTMLButtonElement
    const reason = document.querySelector('[data-testid="reset-active"]')
    expect(submit.disabled).toBe(active)
    if (active) {
      expect(reason?.textContent).toContain(state)
      expect(reason?.textContent).toContain(String(members))
    } else {
      expect(reason).toBeNull()
    }
    w.unmount()
  })
})
