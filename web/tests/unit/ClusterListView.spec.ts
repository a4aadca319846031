import { flushPromises } from '@vue/test-utils'
import { beforeEach, describe, expect, it } from 'vitest'
import type { ClusterSummary } from '@/api/clusters'
import ClusterListView from '@/views/ClusterListView.vue'
import { clusterSummary, deferred, jsonResponse, mountWithApp, stubFetch } from './helpers'

const full: ClusterSummary = clusterSummary({
  name: 'prod',
  bootstrapServers: ['k1:9092', 'k2:9092'],
  zookeeper: 'zk1:2181,zk2:2181/kafka',
  embedded: false,
  brokers: 3,
  topics: 1200,
  partitions: 4800,
  underReplicated: 2,
  offline: 0,
  controller: 2,
  lastPoll: '2026-01-02T03:04:05Z',
})
const bare: ClusterSummary = clusterSummary({ name: 'local', bootstrapServers: ['127.0.0.1:9092'], zookeeper: '', embedded: true })
const failing: ClusterSummary = clusterSummary({
  name: 'down',
  bootstrapServers: ['127.0.0.1:9'],
  zookeeper: '',
  embedded: false,
  brokers: 0,
  lastPoll: '2026-01-02T03:04:05Z',
  partial: true,
  errors: ['metadata: connection refused'],
})

/** Cell texts of the data row whose name cell says `name`, in column order. */
function rowTexts(wrapper: ReturnType<typeof mountWithApp>, name: string): string[] {
  const row = wrapper
    .findAll('.el-table__body tr')
    .find((tr) => tr.find('[data-testid="cluster-name"]').exists() && tr.find('[data-testid="cluster-name"]').text() === name)
  expect(row, `row ${name}`).toBeDefined()
  return row!.findAll('td').map((td) => td.text().trim())
}

describe('ClusterListView', () => {
  beforeEach(() => localStorage.clear())

  it('shows the loading state until the first answer', async () => {
    const gate = deferred<Response>()
    stubFetch(() => gate.promise)
    const wrapper = mountWithApp(ClusterListView)
    await flushPromises()
    expect(wrapper.find('[data-testid="clusters-loading"]').exists()).toBe(true)
    expect(wrapper.find('[data-testid="clusters-table"]').exists()).toBe(false)
    expect(wrapper.find('[data-testid="clusters-empty"]').exists()).toBe(false)

    gate.resolve(jsonResponse(200, { items: [bare], total: 1 }))
    await flushPromises()
    expect(wrapper.find('[data-testid="clusters-loading"]').exists()).toBe(false)
    expect(wrapper.find('[data-testid="clusters-table"]').exists()).toBe(true)
  })

  it('shows the empty state when no cluster is configured', async () => {
    stubFetch(async () => jsonResponse(200, { items: [], total: 0 }))
    const wrapper = mountWithApp(ClusterListView)
    await flushPromises()
    const empty = wrapper.find('[data-testid="clusters-empty"]')
    expect(empty.exists()).toBe(true)
    expect(empty.text()).toContain('No clusters are configured.')
    expect(wrapper.find('[data-testid="clusters-table"]').exists()).toBe(false)
    expect(wrapper.find('[data-testid="clusters-count"]').text()).toBe('No clusters')
  })

  it("shows the server's error message and retries on request", async () => {
    const fetch = stubFetch(async () => jsonResponse(503, { error: { code: 'unavailable', message: 'store not ready' } }))
    const wrapper = mountWithApp(ClusterListView)
    await flushPromises()
    const alert = wrapper.find('[data-testid="clusters-error"]')
    expect(alert.exists()).toBe(true)
    expect(alert.text()).toContain('Could not load the clusters')
    expect(alert.text()).toContain('store not ready')
    expect(alert.text()).toContain('HTTP 503')
    expect(wrapper.find('[data-testid="clusters-table"]').exists()).toBe(false)
    expect(wrapper.find('[data-testid="clusters-empty"]').exists()).toBe(false)

    fetch.mockImplementation(async () => jsonResponse(200, { items: [bare], total: 1 }))
    await wrapper.find('[data-testid="clusters-retry"]').trigger('click')
    await flushPromises()
    expect(fetch).toHaveBeenCalledTimes(2)
    expect(wrapper.find('[data-testid="clusters-error"]').exists()).toBe(false)
    expect(wrapper.find('[data-testid="clusters-table"]').exists()).toBe(true)
  })

  it('translates a network failure', async () => {
    stubFetch(async () => {
      throw new TypeError('Failed to fetch')
    })
    const wrapper = mountWithApp(ClusterListView, { locale: 'zh-CN' })
    await flushPromises()
    const alert = wrapper.find('[data-testid="clusters-error"]')
    expect(alert.text()).toContain('无法加载集群')
    expect(alert.text()).toContain('无法连接到 Osprey 服务器。')
  })

  it('renders each cluster with its figures and a dash for every missing one', async () => {
    stubFetch(async () => jsonResponse(200, { items: [full, bare], total: 2 }))
    const wrapper = mountWithApp(ClusterListView)
    await flushPromises()
    expect(wrapper.find('[data-testid="clusters-count"]').text()).toBe('2 clusters')

    const headers = wrapper.findAll('.el-table__header th').map((th) => th.text().trim())
    expect(headers).toEqual([
      'Name',
      'Bootstrap servers',
      'ZooKeeper',
      'Brokers',
      'Topics',
      'Partitions',
      'Under-replicated',
      'Offline',
      'Controller',
      'Last poll',
    ])

    const prod = rowTexts(wrapper, 'prod')
    expect(prod.slice(0, 9)).toEqual(['prod', 'k1:9092k2:9092', 'zk1:2181zk2:2181/kafka', '3', '1,200', '4,800', '2', '0', '2'])
    expect(prod[9]).toMatch(/2026/)
    expect(prod[9]).not.toBe('—')

    const local = rowTexts(wrapper, 'local')
    expect(local[0]).toBe('localembedded')
    expect(local.slice(1)).toEqual(['127.0.0.1:9092', '—', '—', '—', '—', '—', '—', '—', '—'])

    // Non-zero under-replicated counts are flagged; zero offline is not.
    const bad = wrapper.findAll('[data-testid="cell-underReplicated"].bad')
    expect(bad.map((b) => b.text())).toEqual(['2'])
    expect(wrapper.findAll('[data-testid="cell-offline"].bad')).toHaveLength(0)
  })

  it('flags a cluster whose last poll failed and no other', async () => {
    stubFetch(async () => jsonResponse(200, { items: [full, failing], total: 2 }))
    const wrapper = mountWithApp(ClusterListView)
    await flushPromises()
    const flagged = wrapper.findAll('[data-testid="cluster-partial"]')
    expect(flagged).toHaveLength(1)
    expect(flagged[0]!.text()).toBe('partial data')
    expect(rowTexts(wrapper, 'down')[0]).toBe('downpartial data')
    expect(rowTexts(wrapper, 'prod')[0]).toBe('prod')
  })

  it('marks a cluster that does not answer as stale, in English and Chinese', async () => {
    const stale: ClusterSummary = { ...full, name: 'gone', staleSince: '2026-01-02T03:04:05Z' }
    for (const [locale, tag] of [
      ['en', 'not answering'],
      ['zh-CN', '无响应'],
    ] as const) {
      stubFetch(async () => jsonResponse(200, { items: [full, stale], total: 2 }))
      const wrapper = mountWithApp(ClusterListView, { locale })
      await flushPromises()
      const flagged = wrapper.findAll('[data-testid="cluster-stale"]')
      expect(flagged).toHaveLength(1)
      expect(rowTexts(wrapper, 'gone')[0]).toBe(`gone${tag}`)
      expect(rowTexts(wrapper, 'prod')[0]).toBe('prod')
    }
  })

  it('marks a cluster whose leaders are still being elected as starting', async () => {
    const fresh: ClusterSummary = { ...full, name: 'fresh', underReplicated: 0, starting: 10, brokersStarting: 0 }
    stubFetch(async () => jsonResponse(200, { items: [full, fresh], total: 2 }))
    const wrapper = mountWithApp(ClusterListView)
    await flushPromises()
    const flagged = wrapper.findAll('[data-testid="cluster-starting"]')
    expect(flagged).toHaveLength(1)
    expect(rowTexts(wrapper, 'fresh')[0]).toBe('freshstarting')
  })

  it('renders the column headers in Chinese', async () => {
    stubFetch(async () => jsonResponse(200, { items: [full], total: 1 }))
    const wrapper = mountWithApp(ClusterListView, { locale: 'zh-CN' })
    await flushPromises()
    const headers = wrapper.findAll('.el-table__header th').map((th) => th.text().trim())
    expect(headers).toContain('名称')
    expect(headers).toContain('副本不足')
    expect(wrapper.find('h1').text()).toBe('集群')
  })
})
