// Refreshes a page's data when a new snapshot of its cluster arrives over SSE, and by polling every
// fallbackMs while the event stream is down. Calls never overlap; a refresh asked for during a call
// runs once after it.
import { onBeforeUnmount, onMounted, watch, type Ref } from 'vue'
import { usePolling } from './usePolling'
import { useEventsStore } from '@/stores/events'

export function useLiveRefresh(cluster: Ref<string>, fn: () => Promise<unknown>, fallbackMs = 10_000): void {
  const events = useEventsStore()
  let running = false
  let again = false

  async function run(): Promise<void> {
    if (running) {
      again = true
      return
    }
    running = true
    try {
      await fn()
    } catch {
      // the page's store keeps its own error
    } finally {
      running = false
      if (again) {
        again = false
        void run()
      }
    }
  }

  const stop = watch(
    () => events.snapshots[cluster.value]?.sequence,
    (seq, old) => {
      if (seq !== undefined && seq !== old) void run()
    },
  )
  onMounted(() => events.connect())
  onBeforeUnmount(stop)
  usePolling(async () => {
    if (!events.connected) await run()
  }, fallbackMs)
}
