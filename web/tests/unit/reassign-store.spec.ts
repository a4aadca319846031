import { flushPromises } from '@vue/test-utils'
import { beforeEach, describe, expect, it } from 'vitest'
import type { ReassignmentPlan } from '@/api/types'
import { TOKEN_KEY } from '@/stores/auth'
import { useEventsStore } from '@/stores/events'
import { useReassignStore } from '@/stores/reassign'
import { freshPinia, jsonResponse, stubFetch } from './helpers'

const plan: ReassignmentPlan = {
  cluster: 'c',
  topics: ['orders'],
  brokers: [1, 2],
  replicationFactor: 0,
  snapshotSequence: 9,
  partitions: [
    { topic: 'orders', partition: 0, before: [0, 1], after: [1, 2], moved: 1 },
    { topic: 'orders', partition: 1, before: [1, 2], after: [1, 2], moved: 0 },
  ],
  movedReplicas: 1,
  changedPartitions: 1,
  rackAware: false,
}
const executed = {
  id: 4,
  partitions: [{ topic: 'orders', partition: 0, before: [0, 1], replicas: [1, 2] }],
  started: 1,
  failed: 0,
  throttleBytesPerSec: 1048576,
}
const record = (state: string) => ({
  id: 4,
  state,
  actor: 'alice',
  startedAt: '2026-01-01T00:00:00Z',
  finishedAt: state === 'running' ? null : '2026-01-01T00:00:05Z',
  throttleBytesPerSec: 1048576,
  partitions: [{ topic: 'orders', partition: 0, before: [0, 1], after: [1, 2] }],
})
/** The page's view: the partition moving until progress 1, and the server's record of reassignment 4. */
const ongoing = (progress: number, state = progress < 1 ? 'running' : 'completed') => ({
  items: progress < 1 ? [{ topic: 'orders', partition: 0, replicas: [0, 1, 2], target: [1, 2], adding: [2], removing: [0], isr: [0, 1], inSync: 1, total: 2, progress }] : [],
  total: progress < 1 ? 1 : 0,
  history: [record(state)],
})

describe('reassignment wizard', () => {
  beforeEach(() => {
    sessionStorage.setItem(TOKEN_KEY, 'tok')
    freshPinia()
  })

  it('goes select → plan → running (progress per partition) → done', async () => {
    let progress = 0.5
    const calls: { url: string; method: string; body: unknown }[] = []
    stubFetch(async (url, init) => {
      const u = String(url)
      calls.push({ url: u, method: init?.method ?? 'GET', body: init?.body ? JSON.parse(String(init.body)) : undefined })
      if (u.endsWith('/reassignments/plan')) return jsonResponse(200, plan)
      if (u.endsWith('/reassignments') && init?.method === 'POST') return jsonResponse(200, executed)
      if (u.endsWith('/reassignments')) return jsonResponse(200, ongoing(progress))
      return jsonResponse(404, { error: { code: 'not_found', message: u } })
    })
    const w = useReassignStore()
    w.start('c')
    expect(w.step).toBe('select')
    expect(w.canPlan).toBe(false)
    w.topics = ['orders']
    w.brokers = [1, 2]
    expect(w.canPlan).toBe(true)

    await w.makePlan()
    expect(w.error).toBeNull()
    expect(w.step).toBe('plan')
    expect(calls[0]).toEqual({ url: '/api/v1/clusters/c/reassignments/plan', method: 'POST', body: { topics: ['orders'], brokers: [1, 2] } })
    expect(w.moved.map((p) => p.partition)).toEqual([0])

    w.throttleMBps = 1
    await w.execute()
    expect(calls[1]!.body).toEqual({ plan, throttleBytesPerSec: 1048576 })
    expect(w.step).toBe('running')
    expect(w.rows).toEqual([{ topic: 'orders', partition: 0, target: [1, 2], error: undefined, progress: 0.5, ongoing: true }])

    progress = 1
    await w.refreshProgress()
    expect(w.step).toBe('done')
    expect(w.rows[0]!.progress).toBe(1)

    w.reset()
    expect(w.step).toBe('select')
    expect(w.plan).toBeNull()
  })

  it('is done when the server records completion, not when Kafka stops listing the moves', async () => {
    let view = ongoing(0.5)
    stubFetch(async (url, init) => {
      const u = String(url)
      if (u.endsWith('/reassignments/plan')) return jsonResponse(200, plan)
      if (u.endsWith('/reassignments') && init?.method === 'POST') return jsonResponse(200, executed)
      return jsonResponse(200, view)
    })
    const w = useReassignStore()
    const events = useEventsStore()
    w.start('c')
    w.topics = ['orders']
    w.brokers = [1, 2]
    await w.makePlan()
    await w.execute()
    expect(w.step).toBe('running')
    // Kafka lists nothing any more, but the server has not recorded the completion yet.
    view = ongoing(1, 'running')
    await w.refreshProgress()
    expect(w.step).toBe('running')
    // Another reassignment's event, or another cluster's, changes nothing.
    events.onReassignment(JSON.stringify({ cluster: 'c', id: 9, kind: 'completed', state: 'completed', remaining: 0, total: 1, at: '' }))
    events.onReassignment(JSON.stringify({ cluster: 'other', id: 4, kind: 'completed', state: 'completed', remaining: 0, total: 1, at: '' }))
    await flushPromises()
    expect(w.step).toBe('running')
    // The server's event for this one, when it records completion: done at once, without a poll.
    events.onReassignment(JSON.stringify({ cluster: 'c', id: 4, kind: 'completed', state: 'completed', remaining: 0, total: 1, at: '2026-01-01T00:00:05Z' }))
    await flushPromises()
    expect(w.step).toBe('done')
    expect(w.rows[0]!.progress).toBe(1)
  })

  it('follows progress and cancellation events of its reassignment', async () => {
    let view = ongoing(0.5)
    const gets: string[] = []
    stubFetch(async (url, init) => {
      const u = String(url)
      if (u.endsWith('/reassignments/plan')) return jsonResponse(200, plan)
      if (u.endsWith('/reassignments') && init?.method === 'POST') return jsonResponse(200, executed)
      gets.push(u)
      return jsonResponse(200, view)
    })
    const w = useReassignStore()
    const events = useEventsStore()
    w.start('c')
    w.topics = ['orders']
    w.brokers = [1, 2]
    await w.makePlan()
    await w.execute()
    const before = gets.length
    view = ongoing(0.75)
    events.onReassignment(JSON.stringify({ cluster: 'c', id: 4, kind: 'progress', state: 'running', remaining: 1, total: 1, at: '' }))
    await flushPromises()
    expect(gets.length).toBe(before + 1)
    expect(w.rows[0]!.progress).toBe(0.75)
    events.onReassignment(JSON.stringify({ cluster: 'c', id: 4, kind: 'cancelled', state: 'cancelled', remaining: 1, total: 1, at: '' }))
    await flushPromises()
    expect(w.step).toBe('cancelled')
  })

  it('shows the API’s refusal and stays on the step', async () => {
    stubFetch(async () => jsonResponse(400, { error: { code: 'bad_request', message: 'broker 7 is not in the cluster' } }))
    const w = useReassignStore()
    w.start('c')
    w.topics = ['orders']
    w.brokers = [7]
    await w.makePlan()
    expect(w.step).toBe('select')
    expect(w.error).toBe('broker 7 is not in the cluster')
    expect(w.busy).toBe(false)
  })

  it('cancels a running reassignment', async () => {
    stubFetch(async (url, init) => {
      const u = String(url)
      if (u.endsWith('/plan')) return jsonResponse(200, plan)
      if (init?.method === 'POST') return jsonResponse(200, executed)
      if (init?.method === 'DELETE') return jsonResponse(200, { items: [], total: 0 })
      return jsonResponse(200, ongoing(0.2))
    })
    const w = useReassignStore()
    w.start('c')
    w.topics = ['orders']
    w.brokers = [1, 2]
    await w.makePlan()
    await w.execute()
    expect(w.step).toBe('running')
    await w.cancel()
    expect(w.step).toBe('cancelled')
    // A cancelled wizard no longer polls.
    await w.refreshProgress()
    expect(w.step).toBe('cancelled')
  })

  it('starts afresh for another cluster', async () => {
    const w = useReassignStore()
    w.start('a')
    w.step = 'plan'
    w.start('a')
    expect(w.step).toBe('plan')
    w.start('b')
    expect(w.step).toBe('select')
  })
})
