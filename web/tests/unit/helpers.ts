// Shared test helpers: canned fetch responses and a mount with the app's plugins.
import { mount, type ComponentMountingOptions } from '@vue/test-utils'
import { createPinia, setActivePinia, type Pinia } from 'pinia'
import { vi, type Mock } from 'vitest'
import type { Component } from 'vue'
import { createAppI18n, type Locale } from '@/i18n'
import type { ClusterSummary } from '@/api/clusters'

/** A cluster as the server lists it before its first poll (every figure null), with fields set. */
export function clusterSummary(fields: Partial<ClusterSummary> & Pick<ClusterSummary, 'name'>): ClusterSummary {
  return {
    source: 'config', bootstrapServers: [`${fields.name}:9092`], zookeeper: '', embedded: false,
    brokers: null, brokersUp: null, brokersStarting: null, topics: null, partitions: null,
    underReplicated: null, offline: null, underMinIsr: null, starting: null, groups: null, lag: null,
    msgsPerSec: null, bytesPerSec: null, controller: null, lastPoll: null, partial: false,
    internalIncluded: false, internal: null, kraft: false,
    ...fields,
  }
}

export function jsonResponse(status: number, body: unknown, statusText = ''): Response {
  return new Response(JSON.stringify(body), { status, statusText, headers: { 'Content-Type': 'application/json' } })
}

export function textResponse(status: number, body: string, statusText = ''): Response {
  return new Response(body, { status, statusText, headers: { 'Content-Type': 'text/html' } })
}

/** Replaces the global fetch with a mock answering every call through `impl`. */
export function stubFetch(impl: (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>): Mock {
  const fn = vi.fn(impl)
  vi.stubGlobal('fetch', fn)
  return fn
}

/** A promise the test settles by hand, for observing in-between (loading) states. */
export function deferred<T>() {
  let resolve!: (v: T) => void
  let reject!: (e: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

export function freshPinia(): Pinia {
  const pinia = createPinia()
  setActivePinia(pinia)
  return pinia
}

export function mountWithApp<C extends Component>(
  component: C,
  opts: { pinia?: Pinia; locale?: Locale } & ComponentMountingOptions<C> = {},
) {
  const { pinia = freshPinia(), locale = 'en', ...rest } = opts
  return mount(component, {
    ...rest,
    global: {
      stubs: { RouterLink: true },
      ...(rest.global ?? {}),
      // Extra plugins (a router, say) come after the app's own.
      plugins: [pinia, createAppI18n(locale), ...(rest.global?.plugins ?? [])],
    },
  } as ComponentMountingOptions<C>)
}
