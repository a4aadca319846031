// The reassignment wizard: choose topics and target brokers → a proposed plan (before/after) →
// execute with a throttle → progress per partition → done, or cancelled. One wizard at a time.
// "Done" is what the server records (the reassignment's row says completed: its partitions are on their
// targets in a snapshot and its throttles are off), not the moment Kafka stops listing the partitions.
// The server's `reassignment` events move the wizard on at once; the page's polling is the fallback.
import { defineStore } from 'pinia'
import { computed, ref, shallowRef, watch } from 'vue'
import { osprey } from '@/api/osprey'
import type { ExecuteResult, OngoingReassignment, ReassignmentEvent, ReassignmentPlan, ReassignmentsView } from '@/api/types'
import { useAuthStore } from './auth'
import { useEventsStore } from './events'

export type WizardStep = 'select' | 'plan' | 'running' | 'done' | 'cancelled'

export const useReassignStore = defineStore('reassign', () => {
  const step = ref<WizardStep>('select')
  const cluster = ref('')
  const topics = ref<string[]>([])
  const brokers = ref<number[]>([])
  const replicationFactor = ref(0)
  /** Throttle in MB/s (0 = none); sent as bytes/s. */
  const throttleMBps = ref(50)
  const plan = shallowRef<ReassignmentPlan | null>(null)
  const result = shallowRef<ExecuteResult | null>(null)
  const progress = shallowRef<OngoingReassignment[]>([])
  const busy = ref(false)
  const error = ref<string | null>(null)
  /** The failure behind error, for the page to show in the user's language (see api/errorText.ts). */
  const failure = shallowRef<unknown>(null)

  const canPlan = computed(() => topics.value.length > 0 && brokers.value.length > 0 && !busy.value)
  const moved = computed(() => plan.value?.partitions.filter((p) => p.moved > 0 || !sameSet(p.before, p.after)) ?? [])
  /** Partitions of the running reassignment with their progress (1 when no longer ongoing). */
  const rows = computed(() => {
    const ongoing = new Map(progress.value.map((o) => [`${o.topic}/${o.partition}`, o]))
    return (result.value?.partitions ?? []).map((p) => {
      const o = ongoing.get(`${p.topic}/${p.partition}`)
      return { topic: p.topic, partition: p.partition, target: p.replicas, error: p.error, progress: o ? o.progress : 1, ongoing: !!o }
    })
  })

  function sameSet(a: number[], b: number[]): boolean {
    return a.length === b.length && a.every((x, i) => x === b[i])
  }

  function start(c: string): void {
    if (cluster.value !== c) reset()
    cluster.value = c
  }

  function reset(): void {
    step.value = 'select'
    plan.value = null
    result.value = null
    progress.value = []
    error.value = null
    failure.value = null
    busy.value = false
  }

  async function guarded(fn: () => Promise<void>): Promise<void> {
    busy.value = true
    error.value = null
    failure.value = null
    try {
      await fn()
    } catch (err) {
      if (err instanceof Error && err.name === 'AuthCancelled') return
      error.value = err instanceof Error ? err.message : String(err)
      failure.value = err
    } finally {
      busy.value = false
    }
  }

  function makePlan(): Promise<void> {
    const auth = useAuthStore()
    return guarded(async () => {
      plan.value = await auth.mutate(() =>
        osprey.planReassignment(cluster.value, {
          topics: topics.value,
          brokers: brokers.value,
          replicationFactor: replicationFactor.value || undefined,
        }),
      )
      step.value = 'plan'
    })
  }

  function execute(): Promise<void> {
    const auth = useAuthStore()
    const p = plan.value
    if (!p) return Promise.resolve()
    return guarded(async () => {
      result.value = await auth.mutate(() =>
        osprey.executeReassignment(cluster.value, p, Math.max(0, Math.round(throttleMBps.value * 1024 * 1024))),
      )
      step.value = 'running'
      await refreshProgressNow()
    })
  }

  /** Moves a running wizard on when the server has recorded the end of its reassignment. */
  function finishFrom(state: string): void {
    if (step.value !== 'running') return
    if (state === 'completed') {
      progress.value = []
      step.value = 'done'
    } else if (state === 'cancelled' || state === 'failed') {
      step.value = 'cancelled'
    }
  }

  function applyView(view: ReassignmentsView): void {
    const mine = new Set((result.value?.partitions ?? []).map((p) => `${p.topic}/${p.partition}`))
    progress.value = view.items.filter((o) => mine.has(`${o.topic}/${o.partition}`))
    const id = result.value?.id ?? 0
    if (id > 0) {
      const rec = view.history.find((h) => h.id === id)
      if (rec) finishFrom(rec.state)
    } else if (step.value === 'running' && progress.value.length === 0) {
      // Without a database nothing is recorded: Kafka no longer listing the moves is all there is.
      step.value = 'done'
    }
  }

  async function refreshProgressNow(): Promise<void> {
    applyView(await osprey.reassignments(cluster.value))
  }

  /** Reacts to a `reassignment` event of the stream for this wizard's reassignment. */
  function onEvent(ev: ReassignmentEvent | null): void {
    const id = result.value?.id ?? 0
    if (!ev || ev.cluster !== cluster.value || step.value !== 'running' || (id > 0 && ev.id !== id)) return
    if (ev.kind === 'completed' || ev.kind === 'cancelled' || ev.kind === 'failed') finishFrom(ev.state)
    else void refreshProgress()
  }
  const events = useEventsStore()
  watch(() => events.reassignment, onEvent)

  /** Called by the page's poller while running; errors are shown, not thrown. */
  async function refreshProgress(): Promise<void> {
    if (step.value !== 'running') return
    try {
      await refreshProgressNow()
    } catch (err) {
      error.value = err instanceof Error ? err.message : String(err)
      failure.value = err
    }
  }

  function cancel(): Promise<void> {
    const auth = useAuthStore()
    return guarded(async () => {
      await auth.mutate(() => osprey.cancelReassignment(cluster.value))
      step.value = 'cancelled'
    })
  }

  return {
    step,
    cluster,
    topics,
    brokers,
    replicationFactor,
    throttleMBps,
    plan,
    result,
    progress,
    busy,
    error,
    failure,
    canPlan,
    moved,
    rows,
    start,
    reset,
    makePlan,
    execute,
    refreshProgress,
    onEvent,
    cancel,
  }
})
