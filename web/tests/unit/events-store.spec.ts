import { flushPromises, mount } from '@vue/test-utils'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { defineComponent, h, ref } from 'vue'
import type { SnapshotEvent } from '@/api/types'
import { useLiveRefresh } from '@/composables/useLiveRefresh'
import { setEventSourceFactory, useEventsStore } from '@/stores/events'
import { freshPinia } from './helpers'

/** A stand-in EventSource the test drives by hand. */
class FakeSource {
  static last: FakeSource | null = null
  onopen: ((ev: Event) => unknown) | null = null
  onerror: ((ev: Event) => unknown) | null = null
  readyState = 0
  closed = false
  listeners = new Map<string, ((e: MessageEvent) => void)[]>()
  constructor(public url: string) {
    FakeSource.last = this
  }
  addEventListener(name: string, fn: (e: MessageEvent) => void): void {
    this.listeners.set(name, [...(this.listeners.get(name) ?? []), fn])
  }
  close(): void {
    this.closed = true
  }
  open(): void {
    this.onopen?.(new Event('open'))
  }
  fail(): void {
    this.onerror?.(new Event('error'))
  }
  emit(name: string, data: string): void {
    for (const fn of this.listeners.get(name) ?? []) fn(new MessageEvent(name, { data }))
  }
}

const snap = (cluster: string, sequence: number, lag = 0): string =>
  JSON.stringify({
    cluster,
    sequence,
    lastPoll: '2026-01-01T00:00:00Z',
    controller: 1,
    partial: false,
    totals: { lag },
  } as Partial<SnapshotEvent>)

describe('events store (SSE)', () => {
  beforeEach(() => {
    freshPinia()
    FakeSource.last = null
    setEventSourceFactory((url) => new FakeSource(url) as unknown as EventSource)
  })

  it('connects once, tracks the connection and keeps the newest snapshot per cluster', () => {
    const events = useEventsStore()
    events.connect()
    events.connect()
    const src = FakeSource.last!
    expect(src.url).toBe('/api/v1/events')
    expect(events.connected).toBe(false)
    src.open()
    expect(events.connected).toBe(true)

    src.emit('snapshot', snap('a', 5, 10))
    src.emit('snapshot', snap('b', 1))
    expect(events.snapshots.a?.sequence).toBe(5)
    expect(events.snapshots.a?.totals.lag).toBe(10)
    // An older or repeated sequence and malformed data are ignored.
    src.emit('snapshot', snap('a', 4, 99))
    src.emit('snapshot', '{not json')
    src.emit('snapshot', '{"sequence": 9}')
    expect(events.snapshots.a?.totals.lag).toBe(10)
    expect(Object.keys(events.snapshots).sort()).toEqual(['a', 'b'])

    src.emit('alert', '{"subject":"lag"}')
    expect(events.alerts).toEqual([{ subject: 'lag' }])

    src.fail()
    expect(events.connected).toBe(false)
    events.disconnect()
    expect(src.closed).toBe(true)
  })

  it('keeps the latest reassignment event, each as a new value, and drops malformed ones', () => {
    const events = useEventsStore()
    events.connect()
    const src = FakeSource.last!
    const ev = { cluster: 'a', id: 3, kind: 'completed', state: 'completed', remaining: 0, total: 2, at: '2026-01-01T00:00:00Z' }
    src.emit('reassignment', JSON.stringify(ev))
    expect(events.reassignment).toEqual(ev)
    const first = events.reassignment
    src.emit('reassignment', JSON.stringify(ev))
    expect(events.reassignment).not.toBe(first) // the same change twice is still two events
    src.emit('reassignment', '{not json')
    src.emit('reassignment', '{"id": 4}')
    expect(events.reassignment).toEqual(ev)
  })
})

describe('useLiveRefresh', () => {
  beforeEach(() => {
    vi.useFakeTimers()
    freshPinia()
    setEventSourceFactory((url) => new FakeSource(url) as unknown as EventSource)
  })
  afterEach(() => vi.useRealTimers())

  function host(cluster: string, fn: () => Promise<unknown>) {
    const c = ref(cluster)
    const Comp = defineComponent({
      setup() {
        useLiveRefresh(c, fn, 5_000)
        return () => h('div')
      },
    })
    return { wrapper: mount(Comp), cluster: c }
  }

  it('refreshes on each new snapshot of its cluster only, and polls while the stream is down', async () => {
    const fn = vi.fn(async () => undefined)
    const { wrapper } = host('a', fn)
    const src = FakeSource.last!
    // Stream not open: polling does the work.
    await vi.advanceTimersByTimeAsync(5_000)
    expect(fn).toHaveBeenCalledTimes(1)

    src.open()
    await vi.advanceTimersByTimeAsync(5_000)
    expect(fn).toHaveBeenCalledTimes(1) // connected: no polling

    src.emit('snapshot', snap('b', 1))
    await flushPromises()
    expect(fn).toHaveBeenCalledTimes(1) // another cluster
    src.emit('snapshot', snap('a', 1))
    await flushPromises()
    expect(fn).toHaveBeenCalledTimes(2)
    src.emit('snapshot', snap('a', 2))
    await flushPromises()
    expect(fn).toHaveBeenCalledTimes(3)

    wrapper.unmount()
    src.emit('snapshot', snap('a', 3))
    await flushPromises()
    expect(fn).toHaveBeenCalledTimes(3)
  })

  it('never overlaps refreshes: one asked for during a call runs once after it', async () => {
    let release!: () => void
    const fn = vi.fn(() => new Promise<void>((r) => (release = r)))
    host('a', fn)
    const src = FakeSource.last!
    src.open()
    src.emit('snapshot', snap('a', 1))
    await flushPromises()
    src.emit('snapshot', snap('a', 2))
    src.emit('snapshot', snap('a', 3))
    await flushPromises()
    expect(fn).toHaveBeenCalledTimes(1)
    release()
    await flushPromises()
    expect(fn).toHaveBeenCalledTimes(2)
    release()
    await flushPromises()
    expect(fn).toHaveBeenCalledTimes(2)
  })
})
