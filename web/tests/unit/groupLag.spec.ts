// An unknown lag or end offset (null from the API; a negative value is the older "unknown" marker)
// shows as "—" on the group pages, never as -1 or as 0.
import { flushPromises } from '@vue/test-utils'
import { beforeEach, describe, expect, it } from 'vitest'
import { createMemoryHistory, createRouter } from 'vue-router'
import { routes } from '@/router'
import { setEventSourceFactory } from '@/stores/events'
import { MISSING, formatUnsigned } from '@/utils/format'
import GroupDetailView from '@/views/GroupDetailView.vue'
import GroupsView from '@/views/GroupsView.vue'
import { freshPinia, jsonResponse, mountWithApp, stubFetch } from './helpers'

async function mountAt(path: string, view: typeof GroupsView | typeof GroupDetailView) {
  const router = createRouter({ history: createMemoryHistory(), routes })
  await router.push(path)
  await router.isReady()
  const w = mountWithApp(view, {
    pinia: freshPinia(),
    global: { plugins: [router], stubs: { RouterLink: true, SeriesChart: true, OffsetResetDialog: true } },
  })
  await flushPromises()
  return w
}

const cells = (w: Awaited<ReturnType<typeof mountAt>>, table: string) =>
  w.findAll(`[data-testid="${table}"] .el-table__body tr`).map((tr) => tr.findAll('td').map((td) => td.text()))

describe('unknown lag', () => {
  beforeEach(() => {
    localStorage.clear()
    setEventSourceFactory(() => {
      throw new Error('no SSE here')
    })
  })

  it('formats null and negative as MISSING, zero and more as numbers', () => {
    expect(formatUnsigned(null, 'en')).toBe(MISSING)
    expect(formatUnsigned(-1, 'en')).toBe(MISSING)
    expect(formatUnsigned(0, 'en')).toBe('0')
    expect(formatUnsigned(1234, 'en')).toBe('1,234')
  })

  it('shows "—" for a group whose lag is unknown in the groups list', async () => {
    stubFetch(async () =>
      jsonResponse(200, {
        items: [
          { name: 'unknown', state: 'Stable', protocolType: 'consumer', protocol: 'range', coordinator: 1, members: 1, topics: 1, lag: null, lagSeconds: 0 },
          { name: 'old-marker', state: 'Stable', protocolType: 'consumer', protocol: 'range', coordinator: 1, members: 1, topics: 1, lag: -1, lagSeconds: 0 },
          { name: 'known', state: 'Stable', protocolType: 'consumer', protocol: 'range', coordinator: 1, members: 1, topics: 1, lag: 7, lagSeconds: 0 },
        ],
        total: 3,
      }),
    )
    const w = await mountAt('/clusters/prod/groups', GroupsView)
    const rows = cells(w, 'groups-table')
    expect(rows).toHaveLength(3)
    expect(rows[0]).toContain(MISSING)
    expect(rows[1]).toContain(MISSING)
    expect(rows[0]?.join(' ')).not.toContain('-1')
    expect(rows[1]?.join(' ')).not.toContain('-1')
    expect(rows[2]).toContain('7')
  })

  it('shows "—" for an unknown end offset and lag on the group page', async () => {
    stubFetch(async (url) => {
      const u = new URL(String(url), 'http://x')
      if (u.pathname === '/api/v1/clusters/prod/groups/g') {
        return jsonResponse(200, {
          name: 'g', state: 'Stable', protocolType: 'consumer', protocol: 'range', coordinator: 1, members: 0, topics: 1,
          lag: null, lagSeconds: 0, memberList: [], polledAt: '2026-01-01T00:00:00Z', status: null, active: false,
          topicList: [{ topic: 'orders', catchUp: { state: 'unknown', seconds: 0, minSeconds: 0, maxSeconds: null, consumeRate: 0, produceRate: 0, lagGrowingSeconds: 0, windowSeconds: 600 }, lag: null, lagSeconds: 0, committedSum: 4, partitions: [{ partition: 0, committed: 4, end: null, lag: null, lagSeconds: 0 }] }],
        })
      }
      return jsonResponse(200, { items: [], total: 0, series: [] })
    })
    const w = await mountAt('/clusters/prod/groups/g', GroupDetailView)
    expect(w.find('[data-testid="group-lag"]').text()).toBe(MISSING)
    const [row] = cells(w, 'group-partitions')
    // Columns: topic, partition, committed, end offset, lag, …
    expect(row?.slice(1, 5)).toEqual(['0', '4', MISSING, MISSING])
  })
})
