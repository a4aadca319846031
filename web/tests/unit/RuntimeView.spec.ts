import { flushPromises } from '@vue/test-utils'
import { beforeEach, describe, expect, it } from 'vitest'
import type { RuntimeCluster } from '@/api/types'
import RuntimeView from '@/views/RuntimeView.vue'
import { useAuthStore } from '@/stores/auth'
import { freshPinia, jsonResponse, mountWithApp, stubFetch } from './helpers'

const since = '2026-01-02T03:04:05Z'
const kraft: RuntimeCluster = {
  name: 'kr',
  source: 'runtime',
  metadataStore: 'kraft',
  securityProtocol: 'PLAINTEXT',
  bootstrapServers: '127.0.0.1:9092',
  brokers: [
    { id: 1, state: 'running', roles: ['broker'], addr: '127.0.0.1:9092', controller: false, since },
    { id: 101, state: 'running', roles: ['controller'], addr: '127.0.0.1:9093', controller: false, since },
  ],
}
const zk: RuntimeCluster = {
  name: 'zk',
  source: 'embedded',
  metadataStore: 'local',
  securityProtocol: 'SASL_SSL',
  saslMechanism: 'SCRAM-SHA-512',
  adminUser: 'osprey-admin',
  caCertificate: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
  bootstrapServers: '127.0.0.1:9094',
  brokers: [{ id: 1, state: 'running', addr: '127.0.0.1:9094', controller: true, since }],
}

describe('RuntimeView', () => {
  beforeEach(() => localStorage.clear())

  for (const [locale, controller, kind] of [
    ['en', 'Controller 101', 'in-process'],
    ['zh-CN', 'Controller 101', '进程内'],
  ] as const) {
    it(`shows each node's roles and the cluster's kind (${locale})`, async () => {
      stubFetch(async () => jsonResponse(200, { items: [kraft, zk], total: 2 }))
      const wrapper = mountWithApp(RuntimeView, { locale })
      await flushPromises()
      const kr = wrapper.find('[data-testid="runtime-kr"]')
      expect(kr.find('[data-testid="runtime-kind"]').text()).toBe('KRaft')
      const ctl = kr.find('[data-testid="runtime-broker-101"]')
      expect(ctl.find('strong').text()).toBe(controller)
      expect(ctl.find('[data-testid="runtime-broker-roles"]').text().toLowerCase()).toBe('controller')
      expect(kr.find('[data-testid="runtime-broker-1"] [data-testid="runtime-broker-roles"]').text().toLowerCase()).toBe('broker')
      const z = wrapper.find('[data-testid="runtime-zk"]')
      expect(z.find('[data-testid="runtime-kind"]').text()).toBe(kind)
      // ZooKeeper mode has no roles to show.
      expect(z.find('[data-testid="runtime-broker-roles"]').exists()).toBe(false)
      expect(z.find('[data-testid="runtime-secured"]').exists()).toBe(true)
      expect(z.find('[data-testid="runtime-ca"]').exists()).toBe(true)
      expect(kr.find('[data-testid="runtime-secured"]').exists()).toBe(false)
      expect(kr.find('[data-testid="runtime-ca"]').exists()).toBe(false)
    })
  }

  it('creates a secured cluster in KRaft mode as in ZooKeeper mode', async () => {
    const posted: unknown[] = []
    stubFetch(async (url, init) => {
      if (init?.method === 'POST') {
        posted.push(JSON.parse(String(init.body)))
        return jsonResponse(201, { ...zk, name: 'sec', source: 'runtime' })
      }
      if (String(url).startsWith('/api/v1/runtime')) return jsonResponse(200, { items: [], total: 0 })
      return jsonResponse(200, { name: 'admin-token', kind: 'admin-token', role: 'admin', readOnly: false, loginEnabled: false, clusterRoles: {} })
    })
    const pinia = freshPinia()
    useAuthStore().setToken('tok-123')
    const wrapper = mountWithApp(RuntimeView, { locale: 'en', pinia })
    await flushPromises()
    await wrapper.find('[data-testid="runtime-create"]').trigger('click')
    await flushPromises()
    // KRaft (the default) can be secured.
    expect(wrapper.find('[data-testid="runtime-secured-switch"]').classes()).not.toContain('is-disabled')
    await wrapper.find('input[data-testid="runtime-name"]').setValue('ksec')
    await wrapper.find('[data-testid="runtime-secured-switch"]').trigger('click')
    await wrapper.find('[data-testid="runtime-submit"]').trigger('click')
    await flushPromises()
    await wrapper.find('[data-testid="runtime-create"]').trigger('click')
    await flushPromises()
    await wrapper.findAll('.el-radio-button').find((b) => b.text() === 'in-process')!.find('input').setValue(true)
    await wrapper.find('input[data-testid="runtime-name"]').setValue('sec')
    await wrapper.find('[data-testid="runtime-submit"]').trigger('click')
    await flushPromises()
    expect(posted).toEqual([
      { name: 'ksec', brokers: 3, metadataStore: 'kraft', controllers: 0, secured: true },
      { name: 'sec', brokers: 3, metadataStore: 'local', secured: true },
    ])
  })
})
