// Live updates over Server-Sent Events (GET /api/v1/events): the latest `snapshot` event per cluster,
// the recent `alert` events and the latest `reassignment` event (started, progress, completed,
// cancelled, failed: sent when the server records the change). Pages react to a cluster's sequence
// changing (useLiveRefresh) and to reassignment events; while the stream is down they fall back to polling.
import { defineStore } from 'pinia'
import { ref, shallowRef } from 'vue'
import type { ReassignmentEvent, SnapshotEvent } from '@/api/types'

export const EVENTS_URL = '/api/v1/events'
const MAX_ALERTS = 50

type EventSourceLike = Pick<EventSource, 'addEventListener' | 'close'> & {
  onopen: ((this: EventSource, ev: Event) => unknown) | null
  onerror: ((this: EventSource, ev: Event) => unknown) | null
  readyState: number
}

/** Creates the EventSource; replaced in tests. */
let factory: (url: string) => EventSourceLike = (url) => new EventSource(url, { withCredentials: true })

export function setEventSourceFactory(f: (url: string) => EventSourceLike): void {
  factory = f
}

export const useEventsStore = defineStore('events', () => {
  const connected = ref(false)
  const snapshots = shallowRef<Record<string, SnapshotEvent>>({})
  const alerts = shallowRef<unknown[]>([])
  /** The latest reassignment event; a new object for every event, so watchers see each one. */
  const reassignment = shallowRef<ReassignmentEvent | null>(null)
  let source: EventSourceLike | null = null

  function onSnapshot(data: string): void {
    let ev: SnapshotEvent
    try {
      ev = JSON.parse(data) as SnapshotEvent
    } catch {
      return // a malformed event is dropped; the next poll brings a good one
    }
    if (!ev || typeof ev.cluster !== 'string') return
    const prev = snapshots.value[ev.cluster]
    if (prev && prev.sequence >= ev.sequence) return
    snapshots.value = { ...snapshots.value, [ev.cluster]: ev }
  }

  function onAlert(data: string): void {
    try {
      alerts.value = [JSON.parse(data), ...alerts.value].slice(0, MAX_ALERTS)
    } catch {
      // ignored, as above
    }
  }

  function onReassignment(data: string): void {
    let ev: ReassignmentEvent
    try {
      ev = JSON.parse(data) as ReassignmentEvent
    } catch {
      return
    }
    if (!ev || typeof ev.cluster !== 'string' || typeof ev.kind !== 'string') return
    reassignment.value = ev
  }

  /** Opens the stream once; EventSource reconnects by itself (the server sends retry:). */
  function connect(): void {
    if (source) return
    try {
      source = factory(EVENTS_URL)
    } catch {
      source = null
      return
    }
    source.onopen = () => {
      connected.value = true
    }
    source.onerror = () => {
      connected.value = false
    }
    source.addEventListener('snapshot', (e) => onSnapshot((e as MessageEvent<string>).data))
    source.addEventListener('alert', (e) => onAlert((e as MessageEvent<string>).data))
    source.addEventListener('reassignment', (e) => onReassignment((e as MessageEvent<string>).data))
  }

  function disconnect(): void {
    source?.close()
    source = null
    connected.value = false
  }

  return { connected, snapshots, alerts, reassignment, connect, disconnect, onSnapshot, onAlert, onReassignment }
})
