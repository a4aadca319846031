import { flushPromises } from '@vue/test-utils'
import { beforeEach, describe, expect, it } from 'vitest'
import AvailabilityTimeline from '@/components/availability/AvailabilityTimeline.vue'
import { TOKEN_KEY } from '@/stores/auth'
import { jsonResponse, mountWithApp, stubFetch } from './helpers'

const from = '2026-01-02T03:00:00Z'
const to = '2026-01-03T03:00:00Z'
const event = (id: number, minute: number) => ({
  id, kind: 'isr_shrink', topic: 'orders', partition: id % 3, start: `2026-01-02T04:${String(minute).padStart(2, '0')}:00Z`,
  end: `2026-01-02T04:${String(minute).padStart(2, '0')}:00Z`, seconds: 0, brokers: [2], cause: '', detail: '',
})
const page = (ids: number[], next: string) => ({
  from, to, flapChanges: 4, flapMinutes: 10, events: ids.map((id) => event(id, 59 - id)), flapping: [], truncated: next !== '', next,
})

describe('AvailabilityTimeline', () => {
  beforeEach(() => {
    document.body.innerHTML = ''
    sessionStorage.setItem(TOKEN_KEY, 'tok')
  })

  it('loads older pages of the same window with the cursor of the last one, until there are none', async () => {
    const fetch = stubFetch(async (u) => {
      const before = new URL(String(u), 'http://x').searchParams.get('before')
      if (!before) return jsonResponse(200, page([1, 2], 'c2'))
      if (before === 'c2') return jsonResponse(200, page([3, 4], 'c4'))
      return jsonResponse(200, page([5], ''))
    })
    const wrapper = mountWithApp(AvailabilityTimeline, { props: { cluster: 'c', topic: 'orders' }, attachTo: document.body })
    await flushPromises()
    const rows = () => document.querySelectorAll('[data-testid="availability-events"] tbody tr').length
    const more = () => document.querySelector('[data-testid="availability-more"]') as HTMLButtonElement | null
    expect(rows()).toBe(2)
    more()!.click()
    await flushPromises()
    expect(rows()).toBe(4)
    more()!.click()
    await flushPromises()
    expect(rows()).toBe(5)
    expect(more()).toBeNull()

    const urls = fetch.mock.calls.map(([u]) => new URL(String(u), 'http://x'))
    expect(urls).toHaveLength(3)
    expect(urls.map((u) => u.searchParams.get('before'))).toEqual([null, 'c2', 'c4'])
    // Every older page asks for the first page's window.
    for (const u of urls.slice(1)) {
      expect(u.pathname).toBe('/api/v1/clusters/c/topics/orders/availability')
      expect(Number(u.searchParams.get('from'))).toBe(Date.parse(from) / 1000)
      expect(Number(u.searchParams.get('to'))).toBe(Date.parse(to) / 1000)
    }
    wrapper.unmount()
  })
})
