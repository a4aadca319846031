// Calls fn every intervalMs while the component is mounted and the tab is visible, and once
// more as soon as a hidden tab becomes visible again. Calls never overlap: the next interval
// starts when the previous call has settled. (Until live updates arrive over SSE, pages refresh
// their stores this way.)
import { onBeforeUnmount, onMounted } from 'vue'

export function usePolling(fn: () => Promise<unknown>, intervalMs: number): void {
  let timer: ReturnType<typeof setTimeout> | null = null
  let stopped = false

  const visible = (): boolean => globalThis.document?.visibilityState !== 'hidden'

  function schedule(): void {
    if (stopped) return
    timer = setTimeout(tick, intervalMs)
  }

  async function tick(): Promise<void> {
    timer = null
    if (visible()) {
      try {
        await fn()
      } catch {
        // The caller's store records its own errors; polling just carries on.
      }
    }
    schedule()
  }

  function onVisibility(): void {
    if (!visible() || stopped) return
    // Back in view: refresh now instead of waiting out the interval.
    if (timer) clearTimeout(timer)
    void tick()
  }

  onMounted(() => {
    schedule()
    globalThis.document?.addEventListener('visibilitychange', onVisibility)
  })
  onBeforeUnmount(() => {
    stopped = true
    if (timer) clearTimeout(timer)
    globalThis.document?.removeEventListener('visibilitychange', onVisibility)
  })
}
