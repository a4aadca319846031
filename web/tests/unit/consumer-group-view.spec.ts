// A consumer group (KIP-848) on its page and in the list, against a mocked API: the type, the
// group and assignment epochs, the assignor, and per member its epoch, reconciling flag and target.
import { flushPromises } from '@vue/test-utils'
import { beforeEach, describe, expect, it } from 'vitest'
import { createMemoryHistory, createRouter } from 'vue-router'
import { routes } from '@/router'
import GroupDetailView from '@/views/GroupDetailView.vue'
import GroupsView from '@/views/GroupsView.vue'
import type { GroupDetail, GroupRow } from '@/api/types'
import { freshPinia, jsonResponse, mountWithApp, stubFetch } from './helpers'

const catchUp = {
  consumeRate: 0, lagGrowingSeconds: 0, maxSeconds: null, minSeconds: 0, produceRate: 0, seconds: 0,
  state: 'caught_up' as const, windowSeconds: 0,
}
const row: GroupRow = {
  name: 'modern', state: 'Reconciling', type: 'consumer', protocolType: 'consumer', protocol: 'uniform', coordinator: 1,
  members: 2, topics: 1, lag: 0, lagSeconds: 0, catchUp,
}
const detail: GroupDetail = {
  ...row, active: true, polledAt: '2026-01-01T00:00:00Z', status: null, topicList: [],
  consumer: { groupEpoch: 7, assignmentEpoch: 7, assignor: 'uniform', reconciling: 1 },
  memberList: [
    { id: 'a', clientId: 'c-a', clientHost: '/h', epoch: 7, assignment: [{ topic: 'orders', partitions: [0, 1] }],
      target: [{ topic: 'orders', partitions: [0, 1] }], subscribedTopics: ['orders'] },
    { id: 'b', clientId: 'c-b', clientHost: '/h', epoch: 6, assignment: [], reconciling: true,
      target: [{ topic: 'orders', partitions: [2] }], subscribedRegex: 'ord.*' },
  ],
}

async function mount(path: string, view: typeof GroupDetailView | typeof GroupsView) {
  stubFetch(async (url) => {
    const u = String(url)
    if (u.includes('/groups/modern/lag')) return jsonResponse(200, { from: 0, to: 0, step: 0, items: [], total: 0 })
    if (u.includes('/groups/modern')) return jsonResponse(200, detail)
    if (u.includes('/groups')) return jsonResponse(200, { items: [row, { ...row, name: 'old', type: 'classic', state: 'Stable' }], total: 2 })
    return jsonResponse(200, { items: [], total: 0 })
  })
  const router = createRouter({ history: createMemoryHistory(), routes })
  await router.push(path)
  await router.isReady()
  const w = mountWithApp(view, { pinia: freshPinia(), global: { plugins: [router] } })
  await flushPromises()
  return w
}

describe('consumer groups (KIP-848)', () => {
  beforeEach(() => sessionStorage.clear())

  it('shows the rebalance state and each member against its target', async () => {
    const w = await mount('/clusters/c/groups/modern', GroupDetailView)
    expect(w.find('[data-testid="group-type"]').text()).toBe('Consumer (KIP-848)')
    expect(w.find('[data-testid="group-epoch"]').text()).toBe('7')
    expect(w.find('[data-testid="group-assignment-epoch"]').text()).toBe('7')
    expect(w.find('[data-testid="group-assignor"]').text()).toBe('uniform')
    expect(w.find('[data-testid="group-reconciling"]').text()).toBe('1')
    const members = w.findAll('[data-testid="group-members"] tbody tr')
    expect(members).toHaveLength(2)
    expect(members[0]!.find('[data-testid="member-epoch"]').text()).toBe('7')
    expect(members[0]!.find('[data-testid="member-reconciling"]').text()).toBe('At target')
    expect(members[1]!.find('[data-testid="member-reconciling"]').text()).toBe('Reconciling')
    expect(members[1]!.find('[data-testid="member-target"]').text()).toContain('orders: 2')
    expect(members[1]!.text()).toContain('/ord.*/')
    w.unmount()
  })

  it('lists each group with its type', async () => {
    const w = await mount('/clusters/c/groups', GroupsView)
    const types = w.findAll('[data-testid="group-type"]').map((x) => x.text())
    expect(types).toEqual(['Consumer (KIP-848)', 'Classic'])
    w.unmount()
  })
})
