import { flushPromises } from '@vue/test-utils'
import { beforeEach, describe, expect, it } from 'vitest'
import { createMemoryHistory, createRouter } from 'vue-router'
import { routes } from '@/router'
import { setEventSourceFactory } from '@/stores/events'
import { usePreferencesStore } from '@/stores/preferences'
import DashboardView from '@/views/DashboardView.vue'
import { freshPinia, jsonResponse, mountWithApp, stubFetch } from './helpers'

async function mountAt(cluster: string) {
  const router = createRouter({ history: createMemoryHistory(), routes })
  await router.push(`/clusters/${cluster}/dashboard`)
  await router.isReady()
  const pinia = freshPinia()
  const w = mountWithApp(DashboardView, { pinia, global: { plugins: [router], stubs: { RouterLink: true, LazyChart: true } } })
  await flushPromises()
  return w
}

const stat = (w: Awaited<ReturnType<typeof mountAt>>, key: string) => w.find(`[data-testid="stat-${key}"] [data-testid="stat-value"]`).text()

describe('DashboardView', () => {
  beforeEach(() => {
    localStorage.clear() // preferences (internal topics) start from their defaults
    // No live stream in unit tests: the factory throws, the page falls back to polling.
    setEventSourceFactory(() => {
      throw new Error('no SSE here')
    })
  })

  it('shows the cluster’s figures, marks problems and lists top groups and topics', async () => {
    const fetch = stubFetch(async (url) => {
      const u = new URL(String(url), 'http://x')
      switch (u.pathname) {
        case '/api/v1/clusters/prod':
          return jsonResponse(200, {
            name: 'prod', bootstrapServers: [], zookeeper: '', embedded: false,
            brokers: 3, brokersUp: 2, topics: 1200, partitions: 4800, underReplicated: 7, offline: 0, underMinIsr: 1,
            groups: 40, lag: 12345, msgsPerSec: 1500.5, bytesPerSec: 3 * 1024 * 1024, controller: 2, lastPoll: '2026-01-01T00:00:00Z',
          })
        case '/api/v1/clusters/prod/groups':
          return jsonResponse(200, { items: [{ name: 'billing', state: 'Stable', lag: 900, lagSeconds: 75 }], total: 1 })
        case '/api/v1/clusters/prod/topics':
          return jsonResponse(200, { items: [{ name: 'orders', msgsPerSec: 800, bytesPerSec: 2048 }], total: 1 })
        case '/api/v1/alerts/active':
          return jsonResponse(200, {
            items: [
              { fingerprint: 'f1', cluster: 'prod', state: 'firing', severity: 'critical', subject: 'broker 3', summary: 'broker 3 is down', activeAt: '2026-01-01T00:00:00Z' },
              { fingerprint: 'f2', cluster: 'other', state: 'firing', severity: 'warning', subject: 'x', summary: 'elsewhere', activeAt: '2026-01-01T00:00:00Z' },
            ],
            total: 2,
          })
        default:
          return jsonResponse(200, { step: 0, items: [{ ts: 1, values: { msgsPerSec: 1, bytesPerSec: 2, lag: 3 } }] })
      }
    })
    const w = await mountAt('prod')
    expect(stat(w, 'brokers')).toBe('2 / 3')
    expect(w.find('[data-testid="stat-brokers"]').classes()).toContain('bad')
    expect(w.find('[data-testid="stat-brokers"]').text()).toContain('1 down')
    expect(stat(w, 'controller')).toBe('2')
    expect(stat(w, 'topics')).toBe('1,200')
    expect(stat(w, 'underReplicated')).toBe('7')
    expect(w.find('[data-testid="stat-underReplicated"]').classes()).toContain('bad')
    expect(w.find('[data-testid="stat-offline"]').classes()).not.toContain('bad')
    expect(stat(w, 'lag')).toBe('12,345')
    expect(stat(w, 'bytesPerSec')).toBe('3 MiB/s')
    expect(w.find('[data-testid="top-groups"]').text()).toContain('1 m 15 s')
    expect(w.find('[data-testid="recent-alerts"]').text()).toContain('broker 3 is down')
    expect(w.find('[data-testid="recent-alerts"]').text()).not.toContain('elsewhere')
    const urls = fetch.mock.calls.map((c) => String(c[0]))
    expect(urls).toContain('/api/v1/clusters/prod/groups?sort=lag&order=desc&limit=5')
    expect(urls).toContain('/api/v1/clusters/prod/topics?sort=msgsPerSec&order=desc&limit=5')
    expect(urls.some((u) => u.startsWith('/api/v1/clusters/prod/metrics/cluster?from=') && u.includes('step=raw'))).toBe(true)
  })

  it('shows a pending alert as pending, not by its severity, with the moment its condition began', async () => {
    stubFetch(async (url) => {
      const u = new URL(String(url), 'http://x')
      switch (u.pathname) {
        case '/api/v1/clusters/prod':
          return jsonResponse(200, { name: 'prod', bootstrapServers: [], zookeeper: '', embedded: false, brokers: 3, brokersUp: 3, topics: 1 })
        case '/api/v1/alerts/active':
          return jsonResponse(200, {
            items: [
              { fingerprint: 'f1', cluster: 'prod', state: 'firing', severity: 'critical', subject: 'broker 3', summary: 'down', activeAt: '2026-01-01T12:41:00Z', firedAt: '2026-01-01T12:42:00Z' },
              { fingerprint: 'f2', cluster: 'prod', state: 'pending', severity: 'warning', subject: 'group g', summary: 'lag', activeAt: '2026-01-01T12:42:00Z', firesAt: '2026-01-01T12:43:00Z' },
            ],
            total: 2,
          })
        default:
          return jsonResponse(200, { items: [], total: 0 })
      }
    })
    const w = await mountAt('prod')
    const pending = w.find('[data-testid="recent-alert-pending"]')
    expect(pending.find('[data-testid="alert-state-pending"]').text()).toBe('pending')
    expect(pending.find('[data-testid="alert-state-pending"]').classes()).not.toContain('el-tag--warning')
    const firing = w.find('[data-testid="recent-alert-firing"]')
    expect(firing.find('[data-testid="alert-state-firing"]').text()).toBe('firing')
    expect(firing.find('[data-testid="alert-state-firing"]').classes()).toContain('el-tag--danger')
  })

  it('shows a starting cluster as starting, with its registering broker neither down nor red', async () => {
    stubFetch(async (url) => {
      const u = new URL(String(url), 'http://x')
      if (u.pathname === '/api/v1/clusters/prod') {
        return jsonResponse(200, {
          name: 'prod', bootstrapServers: [], zookeeper: '', embedded: false, brokers: 3, brokersUp: 2, brokersStarting: 1,
          topics: 1, partitions: 10, underReplicated: 0, offline: 0, underMinIsr: 0, starting: 10,
        })
      }
      return jsonResponse(200, { items: [], total: 0 })
    })
    const w = await mountAt('prod')
    const banner = w.find('[data-testid="dashboard-starting"]')
    expect(banner.exists()).toBe(true)
    expect(banner.text()).toContain('10 partitions and 1 brokers')
    expect(w.find('[data-testid="stat-brokers"]').classes()).not.toContain('bad')
    expect(w.find('[data-testid="stat-brokers"]').text()).toContain('1 starting')
    expect(w.find('[data-testid="stat-brokers"]').text()).not.toContain('down')
    expect(w.find('[data-testid="stat-offline"]').classes()).not.toContain('bad')
  })

  it('follows the internal-topics preference for its totals and says which rule applies', async () => {
    const fetch = stubFetch(async (url) => {
      const u = new URL(String(url), 'http://x')
      if (u.pathname === '/api/v1/clusters/prod') {
        const internal = u.searchParams.get('internal') === 'true'
        return jsonResponse(200, {
          name: 'prod', bootstrapServers: [], zookeeper: '', embedded: false, brokers: 3, brokersUp: 3,
          topics: internal ? 3 : 2, msgsPerSec: internal ? 8.6 : 5, underReplicated: 0, offline: 0, underMinIsr: 0,
          internalIncluded: internal,
          internal: { topics: 1, partitions: 50, underReplicated: 2, offline: 0, underMinIsr: 0, starting: 0, messages: 0, sizeBytes: 0, msgsPerSec: 3.6, bytesPerSec: 0 },
        })
      }
      return jsonResponse(200, { items: [], total: 0 })
    })
    const w = await mountAt('prod')
    expect(stat(w, 'topics')).toBe('2')
    expect(stat(w, 'msgsPerSec')).toBe('5')
    expect(w.find('[data-testid="totals-rule"]').text()).toContain('Totals leave out the internal topic (such as __consumer_offsets)')
    // Internal problems left out of the figure still show on the card.
    expect(w.find('[data-testid="stat-underReplicated"]').text()).toContain('+2 in internal topics')
    expect(w.find('[data-testid="stat-underReplicated"]').classes()).toContain('bad')

    usePreferencesStore().setShowInternal(true)
    await flushPromises()
    expect(stat(w, 'topics')).toBe('3')
    expect(stat(w, 'msgsPerSec')).toBe('8.6')
    expect(w.find('[data-testid="totals-rule"]').text()).toContain('Totals include the internal topic')
    const urls = fetch.mock.calls.map((c) => String(c[0]))
    expect(urls).toContain('/api/v1/clusters/prod?internal=true')
    expect(urls).toContain('/api/v1/clusters/prod/topics?sort=msgsPerSec&order=desc&limit=5&internal=true')
  })

  it('says when there is no such cluster', async () => {
    stubFetch(async () => jsonResponse(404, { error: { code: 'not_found', message: 'cluster "nope" not found' } }))
    const w = await mountAt('nope')
    expect(w.find('[data-testid="dashboard-not-found"]').exists()).toBe(true)
    expect(w.find('[data-testid="dashboard-error"]').text()).toContain('cluster "nope" not found')
    expect(w.find('[data-testid="dashboard-stats"]').exists()).toBe(false)
  })

  it('says since when the figures are stale while the cluster does not answer', async () => {
    stubFetch(async (url) => {
      const u = new URL(String(url), 'http://x')
      if (u.pathname === '/api/v1/clusters/prod') {
        return jsonResponse(200, {
          name: 'prod', bootstrapServers: [], zookeeper: '', embedded: false, brokers: 3, brokersUp: 0, topics: 2, partitions: 4,
          underReplicated: 0, offline: 0, underMinIsr: 0, groups: 1, lag: 0, msgsPerSec: 0, bytesPerSec: 0, controller: null,
          lastPoll: '2026-01-01T00:05:00Z', staleSince: '2026-01-01T00:00:00Z', partial: true, errors: ['metadata: connection refused'],
        })
      }
      if (u.pathname === '/api/v1/alerts/active') return jsonResponse(200, { items: [], total: 0 })
      return jsonResponse(200, { items: [], total: 0 })
    })
    const w = await mountAt('prod')
    expect(w.get('[data-testid="dashboard-stale"]').text()).toContain('stale since')
  })
})
