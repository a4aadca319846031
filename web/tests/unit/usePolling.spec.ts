import { mount } from '@vue/test-utils'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { defineComponent, h } from 'vue'
import { usePolling } from '@/composables/usePolling'

function mountPoller(fn: () => Promise<unknown>, intervalMs: number) {
  return mount(defineComponent({ setup: () => (usePolling(fn, intervalMs), () => h('div')) }))
}

function setVisibility(state: 'visible' | 'hidden'): void {
  Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => state })
  document.dispatchEvent(new Event('visibilitychange'))
}

describe('usePolling', () => {
  beforeEach(() => {
    vi.useFakeTimers()
    setVisibility('visible')
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('calls every interval while mounted and stops on unmount', async () => {
    const fn = vi.fn(async () => {})
    const wrapper = mountPoller(fn, 1000)
    expect(fn).not.toHaveBeenCalled()
    await vi.advanceTimersByTimeAsync(1000)
    expect(fn).toHaveBeenCalledTimes(1)
    await vi.advanceTimersByTimeAsync(2000)
    expect(fn).toHaveBeenCalledTimes(3)
    wrapper.unmount()
    await vi.advanceTimersByTimeAsync(5000)
    expect(fn).toHaveBeenCalledTimes(3)
  })

  it('never overlaps a slow call and keeps going after a failure', async () => {
    let resolve!: () => void
    const fn = vi
      .fn<() => Promise<void>>()
      .mockImplementationOnce(() => new Promise<void>((r) => (resolve = r)))
      .mockImplementationOnce(async () => {
        throw new Error('boom')
      })
      .mockImplementation(async () => {})
    const wrapper = mountPoller(fn, 1000)
    await vi.advanceTimersByTimeAsync(1000)
    expect(fn).toHaveBeenCalledTimes(1)
    await vi.advanceTimersByTimeAsync(5000) // the first call is still running
    expect(fn).toHaveBeenCalledTimes(1)
    resolve()
    await vi.advanceTimersByTimeAsync(1000)
    expect(fn).toHaveBeenCalledTimes(2) // this one throws
    await vi.advanceTimersByTimeAsync(1000)
    expect(fn).toHaveBeenCalledTimes(3)
    wrapper.unmount()
  })

  it('skips hidden ticks and refreshes at once when the tab comes back', async () => {
    const fn = vi.fn(async () => {})
    const wrapper = mountPoller(fn, 1000)
    setVisibility('hidden')
    await vi.advanceTimersByTimeAsync(3000)
    expect(fn).not.toHaveBeenCalled()
    setVisibility('visible')
    await vi.advanceTimersByTimeAsync(0)
    expect(fn).toHaveBeenCalledTimes(1)
    await vi.advanceTimersByTimeAsync(1000)
    expect(fn).toHaveBeenCalledTimes(2)
    wrapper.unmount()
  })
})
