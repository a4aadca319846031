import { flushPromises } from '@vue/test-utils'
import { beforeEach, describe, expect, it } from 'vitest'
import { createMemoryHistory, createRouter } from 'vue-router'
import { routes } from '@/router'
import { INTERNAL_KEY } from '@/stores/preferences'
import TopicsView from '@/views/TopicsView.vue'
import { freshPinia, jsonResponse, mountWithApp, stubFetch } from './helpers'

async function mountTopics() {
  const router = createRouter({ history: createMemoryHistory(), routes })
  await router.push('/clusters/prod/topics')
  await router.isReady()
  const w = mountWithApp(TopicsView, { pinia: freshPinia(), global: { plugins: [router], stubs: { RouterLink: true } } })
  await flushPromises()
  return w
}

describe('TopicsView', () => {
  beforeEach(() => localStorage.clear())

  it('shares the internal-topics switch with the dashboard and shows the totals under the same rule', async () => {
    const fetch = stubFetch(async (url) => {
      const u = new URL(String(url), 'http://x')
      const internal = u.searchParams.get('internal') === 'true'
      if (u.pathname === '/api/v1/clusters/prod') {
        return jsonResponse(200, { name: 'prod', bootstrapServers: [], zookeeper: '', embedded: false, topics: internal ? 3 : 2, msgsPerSec: internal ? 8.6 : 5, bytesPerSec: 2048, internalIncluded: internal })
      }
      if (u.pathname === '/api/v1/clusters/prod/topics') {
        const rows = [
          { name: 'a', internal: false, partitions: 1, msgsPerSec: 2, bytesPerSec: 1024 },
          { name: 'b', internal: false, partitions: 1, msgsPerSec: 3, bytesPerSec: 1024 },
        ]
        if (internal) rows.unshift({ name: '__consumer_offsets', internal: true, partitions: 50, msgsPerSec: 3.6, bytesPerSec: 0 })
        return jsonResponse(200, { items: rows, total: rows.length })
      }
      return jsonResponse(200, { items: [], total: 0 })
    })
    const w = await mountTopics()
    expect(w.find('[data-testid="topics-totals"]').text()).toContain('2 topics in all: 5 msg/s')
    expect(w.find('[data-testid="topics-totals"]').text()).toContain('internal topics left out')

    await w.find('[data-testid="topics-internal"] input').setValue(true)
    await flushPromises()
    expect(localStorage.getItem(INTERNAL_KEY)).toBe('true')
    expect(w.find('[data-testid="topics-totals"]').text()).toContain('3 topics in all: 8.6 msg/s')
    expect(w.find('[data-testid="topics-totals"]').text()).toContain('internal topics included')
    const urls = fetch.mock.calls.map((c) => String(c[0]))
    expect(urls).toContain('/api/v1/clusters/prod?internal=true')
    expect(urls.some((u) => u.startsWith('/api/v1/clusters/prod/topics?') && u.includes('internal=true'))).toBe(true)
  })

  it('starts from the stored preference', async () => {
    localStorage.setItem(INTERNAL_KEY, 'true')
    const fetch = stubFetch(async () => jsonResponse(200, { items: [], total: 0, name: 'prod', topics: 3, internalIncluded: true }))
    await mountTopics()
    const urls = fetch.mock.calls.map((c) => String(c[0]))
    expect(urls).toContain('/api/v1/clusters/prod?internal=true')
    expect(urls.some((u) => u.startsWith('/api/v1/clusters/prod/topics?') && u.includes('internal=true'))).toBe(true)
  })
})
