// A share group (KIP-932) on its page and in the list, against a mocked API: its epochs, members,
// per share-partition start offset, lag with its source, in-flight records, delivery counts and
// archived records where the cluster reports them and "not reported" where it does not; the reset
// goes to the share group's own endpoint.
import { flushPromises } from '@vue/test-utils'
import { beforeEach, describe, expect, it } from 'vitest'
import { createMemoryHistory, createRouter } from 'vue-router'
import { routes } from '@/router'
import type { Locale } from '@/i18n'
import GroupDetailView from '@/views/GroupDetailView.vue'
import GroupsView from '@/views/GroupsView.vue'
import type { GroupDetail, GroupRow } from '@/api/types'
import { TOKEN_KEY } from '@/stores/auth'
import { freshPinia, jsonResponse, mountWithApp, stubFetch } from './helpers'

const catchUp = {
  consumeRate: 0, lagGrowingSeconds: 0, maxSeconds: null, minSeconds: 0, produceRate: 0, seconds: 0,
  state: 'caught_up' as const, windowSeconds: 0,
}
const row: GroupRow = {
  name: 'queue', state: 'Stable', type: 'share', protocolType: 'share', protocol: 'simple', coordinator: 1,
  members: 1, topics: 1, lag: 9, lagSeconds: 0, catchUp,
}
const figures = { reported: true, inFlight: 6, acquired: 2, redelivered: 3, archived: 1, archivedTotal: 4, maxDeliveries: 5 }
const reportedDetail: GroupDetail = {
  ...row, active: true, polledAt: '2026-01-01T00:00:00Z', status: null,
  share: { groupEpoch: 3, assignmentEpoch: 3, assignor: 'simple', figures },
  memberList: [{ id: 'm-1', clientId: 'worker', clientHost: '/10.0.0.1', epoch: 3, assignment: [{ topic: 'jobs', partitions: [0, 1] }], subscribedTopics: ['jobs'] }],
  topicList: [{
    topic: 'jobs', lag: 9, lagSeconds: 0, committedSum: 10, catchUp,
    partitions: [
      { partition: 0, committed: 10, end: 20, lag: 7, lagSeconds: 0, stable: 20, stableLag: 10,
        share: { startOffset: 10, lagSource: 'computed', inFlight: { endOffset: 16, available: 1, acquired: 2, acknowledged: 2, archived: 1, archivedTotal: 4,
          deliveries: [{ count: 1, records: 3 }, { count: 2, records: 2 }, { count: 5, records: 1 }] } } },
      { partition: 1, committed: -1, end: 5, lag: null, lagSeconds: 0, stable: 5, stableLag: null, share: { startOffset: -1 } },
    ],
  }],
}
const unreportedDetail: GroupDetail = {
  ...reportedDetail,
  share: { groupEpoch: 3, assignmentEpoch: 3, assignor: '', figures: { ...figures, reported: false } },
  topicList: [{ ...reportedDetail.topicList[0]!, partitions: [
    { partition: 0, committed: 10, end: 20, lag: 2, lagSeconds: 0, stable: 20, stableLag: 10, share: { startOffset: 10, lagSource: 'reported' } },
  ] }],
}

let calls: { url: string; method: string }[] = []
async function mount(path: string, view: typeof GroupDetailView | typeof GroupsView, detail: GroupDetail, locale: Locale = 'en') {
  calls = []
  sessionStorage.setItem(TOKEN_KEY, 'tok')
  stubFetch(async (url, init) => {
    const u = String(url)
    calls.push({ url: u, method: init?.method ?? 'GET' })
    if (u.includes('/share-offsets')) return jsonResponse(200, { dryRun: true, items: [{ topic: 'jobs', partition: 0, before: 10, after: 0 }], total: 1 })
    if (u.includes('/groups/queue/lag')) return jsonResponse(200, { from: 0, to: 0, step: 0, items: [], total: 0 })
    if (u.includes('/groups/queue')) return jsonResponse(200, detail)
    if (u.includes('/groups')) return jsonResponse(200, { items: [row, { ...row, name: 'old', type: 'classic' }], total: 2 })
    return jsonResponse(200, { items: [], total: 0 })
  })
  const router = createRouter({ history: createMemoryHistory(), routes })
  await router.push(path)
  await router.isReady()
  const w = mountWithApp(view, { pinia: freshPinia(), locale, attachTo: document.body, global: { plugins: [router], stubs: { SeriesChart: true } } })
  await flushPromises()
  return w
}

// Mounting the whole page is slow on a loaded machine (the first mount compiles Element Plus).
describe('share groups (KIP-932)', { timeout: 30_000 }, () => {
  beforeEach(() => sessionStorage.clear())

  it('shows members, start offsets, lag sources, in-flight records, delivery counts and archived records', async () => {
    const w = await mount('/clusters/c/groups/queue', GroupDetailView, reportedDetail)
    expect(w.find('[data-testid="group-type"]').text()).toBe('Share (KIP-932)')
    expect(w.find('[data-testid="share-group-epoch"]').text()).toBe('3')
    expect(w.find('[data-testid="share-in-flight"]').text()).toBe('6')
    expect(w.find('[data-testid="share-redelivered"]').text()).toBe('3')
    expect(w.find('[data-testid="share-archived"]').text()).toBe('4')
    expect(w.find('[data-testid="share-lag-definition"]').text()).toContain('high watermark − share-partition start offset (SPSO)')
    expect(w.find('[data-testid="share-not-reported"]').exists()).toBe(false)
    const parts = w.findAll('[data-testid="share-partitions"] tbody tr')
    expect(parts).toHaveLength(2)
    expect(parts[0]!.find('[data-testid="share-spso"]').text()).toBe('10')
    expect(parts[0]!.find('[data-testid="share-lag-source"]').text()).toBe('computed')
    expect(parts[0]!.find('[data-testid="share-deliveries"]').text()).toBe('1×3 · 2×2 · 5×1')
    expect(parts[0]!.find('[data-testid="share-partition-archived"]').text()).toBe('4')
    expect(parts[1]!.text()).toContain('not started')
    const members = w.findAll('[data-testid="group-members"] tbody tr')
    expect(members).toHaveLength(1)
    expect(members[0]!.find('[data-testid="member-epoch"]').text()).toBe('3')
    expect(members[0]!.find('[data-testid="member-reconciling"]').exists()).toBe(false)
    expect(members[0]!.text()).toContain('jobs: 0, 1')
    // The consumer-group partition table (committed offsets, read_committed lag) is not shown.
    expect(w.find('[data-testid="group-partitions"]').exists()).toBe(false)
    w.unmount()
  })

  it('says what the cluster does not report instead of showing numbers', async () => {
    const w = await mount('/clusters/c/groups/queue', GroupDetailView, unreportedDetail)
    expect(w.find('[data-testid="share-not-reported"]').exists()).toBe(true)
    expect(w.find('[data-testid="share-archived"]').text()).toBe('not reported')
    expect(w.find('[data-testid="share-deliveries"]').exists()).toBe(false)
    expect(w.find('[data-testid="share-lag-source"]').text()).toBe('reported')
    w.unmount()
  })

  it('says it in Chinese too', async () => {
    const z = await mount('/clusters/c/groups/queue', GroupDetailView, unreportedDetail, 'zh-CN')
    expect(z.find('[data-testid="share-archived"]').text()).toBe('未报告')
    expect(z.find('[data-testid="share-lag-source"]').text()).toBe('报告值')
    expect(z.find('[data-testid="group-type"]').text()).toBe('共享组（KIP-932）')
    z.unmount()
  })

  it('previews a reset through the share group endpoint', async () => {
    const w = await mount('/clusters/c/groups/queue', GroupDetailView, { ...unreportedDetail, active: false, members: 0, state: 'Empty' })
    await w.find('[data-testid="group-reset"]').trigger('click')
    await flushPromises()
    expect(document.body.querySelector('[data-testid="reset-hint"]')?.textContent).toContain('only while the share group is empty')
    ;(document.body.querySelector('[data-testid="reset-preview-button"]') as HTMLElement).click()
    await flushPromises()
    expect(calls.some((c) => c.method === 'POST' && c.url.includes('/groups/queue/share-offsets'))).toBe(true)
    expect(calls.some((c) => c.url.endsWith('/groups/queue/offsets'))).toBe(false)
    w.unmount()
  })

  it('lists a share group with its type', async () => {
    const w = await mount('/clusters/c/groups', GroupsView, reportedDetail)
    expect(w.findAll('[data-testid="group-type"]').map((x) => x.text())).toEqual(['Share (KIP-932)', 'Classic'])
    w.unmount()
  })
})
