import { flushPromises } from '@vue/test-utils'
import { beforeEach, describe, expect, it } from 'vitest'
import MessageSearch from '@/components/topics/MessageSearch.vue'
import { parseEvents } from '@/api/search'
import { jsonResponse, mountWithApp, stubFetch } from './helpers'

const message = (offset: number, value: string) => ({
  partition: 0, offset, timestamp: '2026-01-01T00:00:00Z', key: { format: 'text', data: 'k' }, value: { format: 'json', data: value },
  headers: [], size: value.length, truncated: false,
})
const progress = { records: 10, bytes: 640, matches: 1, elapsedMs: 5, partitions: [{ partition: 0, start: 0, end: 10, position: 10, records: 10, bytes: 640, matches: 1, done: true }] }
const sse = (events: { type: string; [k: string]: unknown }[]) => events.map((e) => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`).join('')

/** A streamed answer whose body the test writes chunk by chunk, to see the page between events. */
function streamedResponse() {
  let push!: (s: string) => void
  let end!: () => void
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      push = (s) => c.enqueue(new TextEncoder().encode(s))
      end = () => c.close()
    },
  })
  return { res: new Response(body, { status: 200, headers: { 'Content-Type': 'text/event-stream' } }), push, end }
}

async function typeFilter(wrapper: ReturnType<typeof mountWithApp>, text: string) {
  const ta = wrapper.find('[data-testid="search-filter"] textarea, textarea[data-testid="search-filter"]')
  await ta.setValue(text)
}

describe('parseEvents', () => {
  it('splits complete events and keeps the unfinished rest', () => {
    const { events, rest } = parseEvents('event: progress\ndata: {"type":"progress"}\n\nevent: message\ndata: {"ty')
    expect(events).toEqual([{ type: 'progress' }])
    expect(rest).toBe('event: message\ndata: {"ty')
  })
})

describe('MessageSearch', () => {
  beforeEach(() => {
    document.body.innerHTML = ''
  })

  it('posts the filter and range, shows results and progress as they stream in, then why it ended', async () => {
    const s = streamedResponse()
    const fetch = stubFetch(async () => s.res)
    const wrapper = mountWithApp(MessageSearch, { props: { cluster: 'c', topic: 'orders', partitions: 3 } })
    await typeFilter(wrapper, 'json.amount > 100')
    await wrapper.find('[data-testid="search-run"]').trigger('click')
    await flushPromises()
    const [url, init] = fetch.mock.calls[0]!
    expect(String(url)).toBe('/api/v1/clusters/c/topics/orders/messages/search')
    expect(JSON.parse(String(init?.body))).toEqual({ filter: 'json.amount > 100', maxResults: 100 })
    expect(wrapper.find('[data-testid="search-cancel"]').exists()).toBe(true)

    s.push(sse([{ type: 'message', message: message(7, '{"amount":120}') }, { type: 'progress', progress }]))
    await flushPromises()
    await new Promise((r) => setTimeout(r, 0))
    await flushPromises()
    expect(wrapper.find('[data-testid="search-results"]').text()).toContain('"amount":120')
    expect(wrapper.find('[data-testid="search-progress"]').text()).toContain('Read 10 records')

    s.push(sse([{ type: 'done', done: { reason: 'max_records', progress, limits: { maxRecords: 10, maxBytes: 100, maxSeconds: 30, maxResults: 100 } } }]))
    s.end()
    await flushPromises()
    await new Promise((r) => setTimeout(r, 0))
    await flushPromises()
    const done = wrapper.find('[data-testid="search-done"]')
    expect(done.attributes('data-reason')).toBe('max_records')
    expect(done.text()).toContain('limit of 10 records')
    expect(wrapper.find('[data-testid="search-run"]').exists()).toBe(true)
  })

  it('cancels: the request is aborted and the page says the server stopped', async () => {
    let signal: AbortSignal | undefined
    const s = streamedResponse()
    stubFetch(async (_u, init) => {
      signal = init?.signal ?? undefined
      return s.res
    })
    const wrapper = mountWithApp(MessageSearch, { props: { cluster: 'c', topic: 'orders', partitions: 1 } })
    await typeFilter(wrapper, 'true')
    await wrapper.find('[data-testid="search-run"]').trigger('click')
    await flushPromises()
    await wrapper.find('[data-testid="search-cancel"]').trigger('click')
    await flushPromises()
    expect(signal?.aborted).toBe(true)
    expect(wrapper.find('[data-testid="search-done"]').attributes('data-reason')).toBe('cancelled')
  })

  it('shows where a filter does not compile, in Chinese too', async () => {
    stubFetch(async () =>
      jsonResponse(400, { error: { code: 'filter_invalid', message: 'filter does not compile', params: { line: 2, column: 3, detail: "undeclared reference to 'nosuch'" } } }),
    )
    const wrapper = mountWithApp(MessageSearch, { props: { cluster: 'c', topic: 'orders', partitions: 1 }, locale: 'zh-CN' })
    await typeFilter(wrapper, 'true &&\n  nosuch')
    await wrapper.find('[data-testid="search-run"]').trigger('click')
    await flushPromises()
    expect(wrapper.find('[data-testid="search-filter-error"]').text()).toBe("过滤条件无法编译（第 2 行，第 3 列）：undeclared reference to 'nosuch'")
  })
})
