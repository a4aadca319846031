import { flushPromises, mount } from '@vue/test-utils'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import ElementPlus from 'element-plus'
import { createI18n } from 'vue-i18n'
import { useAuthStore } from '@/stores/auth'
import AuditView from '@/views/AuditView.vue'
import { auditQuery } from '@/api/audit'
import en from '@/i18n/locales/en'
import zhCN from '@/i18n/locales/zh-CN'
import { freshPinia, jsonResponse, stubFetch } from './helpers'

describe('audit page filters and CSV export', () => {
  beforeEach(() => {
    sessionStorage.clear()
    freshPinia()
  })

  it('sends only the filters that are set', () => {
    expect(auditQuery({ actor: 'bob', method: '', remoteAddr: '10.0.0.2', since: undefined })).toEqual({ actor: 'bob', remoteAddr: '10.0.0.2' })
  })

  it('filters by sign-in method and exports the same selection as CSV with the token', async () => {
    const fetch = stubFetch(async (url) => {
      const u = String(url)
      if (u.startsWith('/api/v1/audit.csv')) return new Response('id,at\n', { status: 200, headers: { 'Content-Type': 'text/csv' } })
      if (u.startsWith('/api/v1/audit')) return jsonResponse(200, { items: [], total: 0 })
      return jsonResponse(200, { name: 'admin-token', kind: 'admin-token', role: 'admin', readOnly: false, loginEnabled: false, clusterRoles: {} })
    })
    URL.createObjectURL = vi.fn(() => 'blob:x')
    URL.revokeObjectURL = vi.fn()
    useAuthStore().setToken('tok-123')
    const i18n = createI18n({ legacy: false, locale: 'en', messages: { en, 'zh-CN': zhCN } })
    const w = mount(AuditView, { global: { plugins: [ElementPlus, i18n], stubs: { 'router-link': true } } })
    await flushPromises()
    const select = w.findComponent({ name: 'ElSelect' })
    select.vm.$emit('update:modelValue', 'oidc')
    select.vm.$emit('change', 'oidc')
    await flushPromises()
    const listed = fetch.mock.calls.map(([u]) => String(u)).filter((u) => u.startsWith('/api/v1/audit?'))
    expect(listed.at(-1)).toContain('method=oidc')
    await w.get('[data-testid="audit-export"]').trigger('click')
    await flushPromises()
    const exp = fetch.mock.calls.find(([u]) => String(u).startsWith('/api/v1/audit.csv'))
    expect(String(exp?.[0])).toBe('/api/v1/audit.csv?method=oidc')
    expect(JSON.stringify(exp?.[1]?.headers)).toContain('tok-123')
  })
})
