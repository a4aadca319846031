import { flushPromises, mount } from '@vue/test-utils'
import { beforeEach, describe, expect, it } from 'vitest'
import ElementPlus from 'element-plus'
import { createI18n } from 'vue-i18n'
import { useAuthStore } from '@/stores/auth'
import AccessView from '@/views/AccessView.vue'
import en from '@/i18n/locales/en'
import zhCN from '@/i18n/locales/zh-CN'
import { freshPinia, jsonResponse, stubFetch } from './helpers'

const me = (clusterRoles: Record<string, string>) => ({
  name: 'bob', kind: 'session', role: 'viewer', readOnly: false, loginEnabled: true, clusterRoles,
})

describe('roles per cluster in the SPA', () => {
  beforeEach(() => {
    sessionStorage.clear()
    freshPinia()
  })

  it('lets a signed-in user change only the clusters it operates', async () => {
    stubFetch(async () => jsonResponse(200, me({ staging: 'operator', prod: 'viewer' })))
    const auth = useAuthStore()
    await auth.loadMe()
    expect(auth.canOperate('staging')).toBe(true)
    expect(auth.canOperate('prod')).toBe(false)
    expect(auth.canOperate('other')).toBe(false)
  })

  it('leaves the decision to the server for a token caller, and refuses everything in read-only mode', async () => {
    stubFetch(async () => jsonResponse(200, { name: 'anonymous', kind: 'anonymous', role: '', readOnly: false, loginEnabled: false, clusterRoles: {} }))
    const auth = useAuthStore()
    await auth.loadMe()
    expect(auth.canOperate('prod')).toBe(true)
    stubFetch(async () => jsonResponse(200, { name: 'anonymous', kind: 'anonymous', role: '', readOnly: true, loginEnabled: false, clusterRoles: {} }))
    await auth.loadMe()
    expect(auth.canOperate('prod')).toBe(false)
  })

  it('lists the grants and sends a new one', async () => {
    const grants = [{ id: 1, subjectKind: 'group', subject: 'kafka-ops', cluster: 'staging', role: 'operator', createdAt: '2026-01-01T00:00:00Z' }]
    const fetch = stubFetch(async (url, init) => {
      const u = String(url)
      if (u.startsWith('/api/v1/auth/me')) return jsonResponse(200, me({}))
      if (u.startsWith('/api/v1/role-grants') && init?.method === 'POST') return jsonResponse(201, { ...grants[0], id: 2 })
      if (u.startsWith('/api/v1/role-grants')) return jsonResponse(200, { items: grants, total: 1 })
      return jsonResponse(200, { items: [], total: 0 })
    })
    const auth = useAuthStore()
    auth.setToken('tok-123')
    const i18n = createI18n({ legacy: false, locale: 'en', messages: { en, 'zh-CN': zhCN } })
    const w = mount(AccessView, { global: { plugins: [ElementPlus, i18n], stubs: { 'router-link': true } } })
    await flushPromises()
    expect(w.get('[data-testid="access-table"]').text()).toContain('kafka-ops')
    await w.get('input[data-testid="access-subject"], [data-testid="access-subject"] input').setValue('cn=ops,dc=x')
    await w.get('[data-testid="access-form"]').trigger('submit')
    await flushPromises()
    const post = fetch.mock.calls.find(([, init]) => init?.method === 'POST')
    expect(JSON.parse(String(post?.[1]?.body))).toEqual({ subjectKind: 'group', subject: 'cn=ops,dc=x', cluster: '*', role: 'viewer' })
  })
})
