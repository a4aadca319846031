// Pages with logic of their own, against a mocked API: the ZooKeeper browser, runtime broker
// actions, the offset reset preview and the token dialog.
import { flushPromises } from '@vue/test-utils'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createMemoryHistory, createRouter } from 'vue-router'
import { routes } from '@/router'
import OffsetResetDialog from '@/components/groups/OffsetResetDialog.vue'
import AuditView from '@/views/AuditView.vue'
import TokenDialog from '@/components/TokenDialog.vue'
import RuntimeView from '@/views/RuntimeView.vue'
import ZooKeeperView from '@/views/ZooKeeperView.vue'
import { TOKEN_KEY, useAuthStore } from '@/stores/auth'
import { freshPinia, jsonResponse, mountWithApp, stubFetch } from './helpers'
import type { ZkServer, ZkStatus } from '@/api/types'

/** Clicks a button of the open Element Plus message box (it renders into document.body). */
async function confirmBox(label: string): Promise<void> {
  await vi.waitFor(() => {
    const btn = [...document.querySelectorAll<HTMLButtonElement>('.el-message-box button')].find((b) => b.textContent?.trim() === label)
    if (!btn) throw new Error(`no "${label}" button in a message box`)
    btn.click()
  })
  await flushPromises()
}

async function routerAt(path: string) {
  const router = createRouter({ history: createMemoryHistory(), routes })
  await router.push(path)
  await router.isReady()
  return router
}

describe('ZooKeeperView', () => {
  beforeEach(() => sessionStorage.clear())

  it('shows each server and browses the tree by clicking children', async () => {
    // Typed with the generated schema, so the mock is the shape the server sends.
    const zkServer: ZkServer = {
      address: 'zk1:2181', ok: true, mode: 'leader', version: '3.8.4', avgLatencyMs: 0.5, maxLatencyMs: 3,
      connections: 3, outstanding: 0, nodeCount: 42, zxid: 16,
    }
    const fetch = stubFetch(async (url) => {
      const u = new URL(String(url), 'http://x')
      if (u.pathname.endsWith('/zookeeper/status'))
        return jsonResponse(200, {
          items: [zkServer],
          total: 1,
        })
      const path = u.searchParams.get('path')
      if (path === '/')
        return jsonResponse(200, { path: '/', data: { format: 'null', data: '' }, stat: { version: 0, numChildren: 1, ephemeralOwner: 0, mtime: 0 }, children: ['brokers'] })
      return jsonResponse(200, {
        path,
        data: { format: 'json', data: '{"ids":[1]}' },
        stat: { version: 2, numChildren: 0, ephemeralOwner: 0, mtime: '2026-01-01T00:00:00Z' },
        children: [],
      })
    })
    const pinia = freshPinia()
    const router = await routerAt('/clusters/prod/zookeeper')
    const w = mountWithApp(ZooKeeperView, { pinia, global: { plugins: [router] } })
    await flushPromises()
    expect(w.find('[data-testid="zk-status"]').text()).toContain('zk1:2181')
    expect(w.find('[data-testid="zk-status"]').text()).toContain('leader')
    expect(w.find('[data-testid="zk-status"]').text()).toContain('0.5')
    expect(w.get('[data-testid="zk-latency"]').text()).not.toBe('—')
    expect(w.find('[data-testid="zk-data"]').text()).toBe('(no data)')
    await w.find('[data-testid="zk-child"]').trigger('click')
    await flushPromises()
    expect(fetch.mock.calls.map((c) => String(c[0]))).toContain('/api/v1/clusters/prod/zookeeper/tree?path=%2Fbrokers')
    expect(w.find('[data-testid="zk-data"]').text()).toBe('{\n  "ids": [\n    1\n  ]\n}')
    expect(w.find('[data-testid="zk-path"]').text()).toContain('brokers')
  })

  it('says since when the console cannot reach ZooKeeper, in English and 中文, and why a znode cannot be read', async () => {
    const status: ZkStatus = {
      connected: false, readAt: '2026-12-06T17:00:00Z', unreachableSince: '2026-12-06T17:00:30Z', error: 'zookeeper does not answer',
      items: [{ address: 'zk1:2181', ok: false, avgLatencyMs: 0, maxLatencyMs: 0, connections: 0, outstanding: 0, nodeCount: 0, zxid: 0, error: 'connection refused' }],
      total: 1,
    }
    stubFetch(async (url) => {
      if (new URL(String(url), 'http://x').pathname.endsWith('/zookeeper/status')) return jsonResponse(200, status)
      return jsonResponse(503, { error: { code: 'zookeeper_unavailable', message: 'ZooKeeper does not answer (unreachable since 2026-12-06T17:00:30Z)' } })
    })
    const router = await routerAt('/clusters/prod/zookeeper')
    const en = mountWithApp(ZooKeeperView, { pinia: freshPinia(), global: { plugins: [router] } })
    await flushPromises()
    expect(en.get('[data-testid="zk-unreachable"]').text()).toContain('The console has not reached ZooKeeper since')
    expect(en.get('[data-testid="zk-status"]').text()).toContain('zk1:2181')
    // The server that did not answer has no figures, not zeros.
    expect(en.get('[data-testid="zk-latency"]').text()).toBe('—')
    expect(en.text()).toContain('ZooKeeper does not answer; try again when it is back.')
    const zh = mountWithApp(ZooKeeperView, { pinia: freshPinia(), locale: 'zh-CN', global: { plugins: [router] } })
    await flushPromises()
    expect(zh.get('[data-testid="zk-unreachable"]').text()).toContain('起无法连接 ZooKeeper')
  })

  it('shows no warning while ZooKeeper answers', async () => {
    stubFetch(async (url) => {
      if (new URL(String(url), 'http://x').pathname.endsWith('/zookeeper/status'))
        return jsonResponse(200, { connected: true, readAt: '2026-12-06T17:00:00Z', items: [], total: 0 })
      return jsonResponse(200, { path: '/', data: { format: 'null', data: '' }, stat: { version: 0, numChildren: 0, ephemeralOwner: 0, mtime: 0 }, children: [] })
    })
    const router = await routerAt('/clusters/prod/zookeeper')
    const w = mountWithApp(ZooKeeperView, { pinia: freshPinia(), global: { plugins: [router] } })
    await flushPromises()
    expect(w.find('[data-testid="zk-status"]').exists()).toBe(true)
    expect(w.find('[data-testid="zk-unreachable"]').exists()).toBe(false)
  })

  it('says so when the cluster has no ZooKeeper', async () => {
    stubFetch(async () => jsonResponse(404, { error: { code: 'no_zookeeper', message: 'this cluster has no ZooKeeper configured' } }))
    const pinia = freshPinia()
    const router = await routerAt('/clusters/kraft/zookeeper')
    const w = mountWithApp(ZooKeeperView, { pinia, global: { plugins: [router] } })
    await flushPromises()
    expect(w.find('[data-testid="zk-none"]').exists()).toBe(true)
    expect(w.find('[data-testid="zk-status"]').exists()).toBe(false)
  })
})

describe('RuntimeView', () => {
  it('shows broker cards and posts the chosen action with the token', async () => {
    sessionStorage.setItem(TOKEN_KEY, 'tok')
    const cluster = {
      name: 'rt',
      metadataStore: 'local',
      brokers: [
        { id: 1, addr: '127.0.0.1:9101', state: 'running', controller: true },
        { id: 2, addr: '127.0.0.1:9102', state: 'killed', controller: false },
      ],
    }
    const fetch = stubFetch(async (url, init) => {
      if (init?.method === 'POST') return jsonResponse(200, {})
      if (String(url) === '/api/v1/runtime/clusters') return jsonResponse(200, { items: [cluster], total: 1 })
      return jsonResponse(200, { items: [], total: 0 })
    })
    const pinia = freshPinia()
    const router = await routerAt('/runtime')
    const w = mountWithApp(RuntimeView, { pinia, global: { plugins: [router] } })
    await flushPromises()
    const b1 = w.find('[data-testid="runtime-broker-1"]')
    expect(b1.text()).toContain('controller')
    expect(b1.find('[data-testid="runtime-broker-state"]').text()).toBe('running')
    expect(w.find('[data-testid="runtime-broker-2"] [data-testid="runtime-broker-state"]').text()).toBe('killed')
    // A killed broker cannot be killed again.
    expect(w.find('[data-testid="kill-2"]').attributes('disabled')).toBeDefined()
    await w.find('[data-testid="kill-1"]').trigger('click')
    await flushPromises()
    await confirmBox('Kill')
    const post = fetch.mock.calls.find((c) => c[1]?.method === 'POST')!
    expect(String(post[0])).toBe('/api/v1/runtime/clusters/rt/brokers/1/kill')
    expect(new Headers(post[1]?.headers).get('Authorization')).toBe('Bearer tok')
  })

  it('says so when the server runs no clusters of its own', async () => {
    stubFetch(async () => jsonResponse(404, { error: { code: 'not_found', message: 'no route' } }))
    const pinia = freshPinia()
    const router = await routerAt('/runtime')
    const w = mountWithApp(RuntimeView, { pinia, global: { plugins: [router] } })
    await flushPromises()
    expect(w.find('[data-testid="runtime-unavailable"]').exists()).toBe(true)
  })
})

describe('OffsetResetDialog', () => {
  it('previews a reset as a dry run and shows before → after', async () => {
    sessionStorage.setItem(TOKEN_KEY, 'tok')
    const fetch = stubFetch(async () =>
      jsonResponse(200, { dryRun: true, items: [{ topic: 'orders', partition: 0, before: 10, after: 0 }], total: 1 }),
    )
    const w = mountWithApp(OffsetResetDialog, {
      props: { cluster: 'c', group: 'g', topics: ['orders'], modelValue: false },
      attachTo: document.body,
    })
    await w.setProps({ modelValue: true })
    await flushPromises()
    ;(document.querySelector('[data-testid="reset-preview-button"]') as HTMLButtonElement).click()
    await flushPromises()
    const [url, init] = fetch.mock.calls[0]!
    expect(String(url)).toBe('/api/v1/clusters/c/groups/g/offsets')
    expect(JSON.parse(String(init?.body))).toEqual({ strategy: 'latest', dryRun: true })
    const table = document.querySelector('[data-testid="reset-preview"]')
    expect(table?.textContent).toContain('orders')
    expect(table?.textContent).toContain('10')
    expect(w.emitted('done')).toBeUndefined()
    w.unmount()
  })

  it('offers only the preview for a group the page knows is active, and says why', async () => {
    sessionStorage.setItem(TOKEN_KEY, 'tok')
    const fetch = stubFetch(async () =>
      jsonResponse(200, { dryRun: true, items: [{ topic: 'orders', partition: 0, before: 10, after: 0 }], total: 1 }),
    )
    const w = mountWithApp(OffsetResetDialog, {
      props: { cluster: 'c', group: 'g', topics: ['orders'], state: 'Stable', members: 2, active: true, modelValue: false },
      attachTo: document.body,
    })
    await w.setProps({ modelValue: true })
    await flushPromises()
    const submit = document.querySelector('[data-testid="reset-submit"]') as HTMLButtonElement
    expect(submit.disabled).toBe(true)
    const reason = document.querySelector('[data-testid="reset-active"]')
    expect(reason?.textContent).toContain('Stable')
    expect(reason?.textContent).toContain('2')
    const preview = document.querySelector('[data-testid="reset-preview-button"]') as HTMLButtonElement
    expect(preview.disabled).toBe(false)
    preview.click()
    await flushPromises()
    expect(fetch).toHaveBeenCalledOnce()
    expect(JSON.parse(String(fetch.mock.calls[0]![1]?.body))).toMatchObject({ dryRun: true })
    expect(document.querySelector('[data-testid="reset-preview"]')?.textContent).toContain('orders')
    // Once the group is empty, Reset is offered again.
    await w.setProps({ state: 'Empty', members: 0, active: false })
    expect(submit.disabled).toBe(false)
    expect(document.querySelector('[data-testid="reset-active"]')).toBeNull()
    w.unmount()
  })
})

describe('AuditView', () => {
  beforeEach(() => sessionStorage.clear())

  it('asks an anonymous visitor to sign in instead of calling the admin-only API', async () => {
    const fetch = stubFetch(async () => jsonResponse(401, { error: { code: 'unauthorized', message: 'no' } }))
    const w = mountWithApp(AuditView)
    await flushPromises()
    expect(fetch.mock.calls.map((c) => String(c[0])).filter((u) => u.startsWith('/api/v1/audit'))).toEqual([])
    expect(w.find('[data-testid="audit-sign-in"]').text()).toContain('sign in')
    expect(w.find('[data-testid="audit-error"]').exists()).toBe(false)
    w.unmount()
  })

  it('loads the log with the token once there is one', async () => {
    sessionStorage.setItem(TOKEN_KEY, 'tok')
    const fetch = stubFetch(async () =>
      jsonResponse(200, { items: [{ id: 1, at: '2026-01-01T00:00:00Z', actor: 'admin-token', action: 'topic.create', cluster: 'c', target: 't', params: '{}', result: 'ok' }], total: 1 }),
    )
    const w = mountWithApp(AuditView)
    await flushPromises()
    const call = fetch.mock.calls.find((c) => String(c[0]).startsWith('/api/v1/audit'))!
    expect(new Headers(call[1]?.headers).get('Authorization')).toBe('Bearer tok')
    expect(w.find('[data-testid="audit-sign-in"]').exists()).toBe(false)
    expect(w.find('[data-testid="audit-table"]').text()).toContain('topic.create')
    w.unmount()
  })
})

describe('TokenDialog', () => {
  it('hands the typed token to the waiting mutation', async () => {
    freshPinia()
    sessionStorage.clear()
    const pinia = freshPinia()
    const auth = useAuthStore(pinia)
    const w = mountWithApp(TokenDialog, { pinia, attachTo: document.body })
    const fn = vi.fn(async () => 'done')
    const p = auth.mutate(fn)
    await flushPromises()
    const input = document.querySelector('input[data-testid="token-input"]') as HTMLInputElement
    expect(input).not.toBeNull()
    const submit = document.querySelector('[data-testid="token-submit"]') as HTMLButtonElement
    expect(submit.disabled).toBe(true)
    input.value = 'abc'
    input.dispatchEvent(new Event('input'))
    await flushPromises()
    expect(submit.disabled).toBe(false)
    submit.click()
    await expect(p).resolves.toBe('done')
    expect(fn).toHaveBeenCalledOnce()
    expect(sessionStorage.getItem(TOKEN_KEY)).toBe('abc')
    w.unmount()
  })
})
