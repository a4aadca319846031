import { flushPromises, mount } from '@vue/test-utils'
import { beforeEach, describe, expect, it } from 'vitest'
import ElementPlus from 'element-plus'
import { createI18n } from 'vue-i18n'
import { createMemoryHistory, createRouter } from 'vue-router'
import { useAuthStore } from '@/stores/auth'
import LoginView from '@/views/LoginView.vue'
import en from '@/i18n/locales/en'
import zhCN from '@/i18n/locales/zh-CN'
import { freshPinia, jsonResponse, stubFetch } from './helpers'

const anonymous = (oidc: boolean) => ({
  name: 'anonymous', kind: 'anonymous', role: '', readOnly: false, loginEnabled: true, oidc, clusterRoles: {},
})

async function mountLogin(oidc: boolean, locale = 'en') {
  stubFetch(async () => jsonResponse(200, anonymous(oidc)))
  await useAuthStore().loadMe()
  const i18n = createI18n({ legacy: false, locale, messages: { en, 'zh-CN': zhCN } })
  const router = createRouter({ history: createMemoryHistory(), routes: [{ path: '/:p(.*)*', component: LoginView }] })
  await router.push('/login')
  const w = mount(LoginView, { global: { plugins: [ElementPlus, i18n, router] } })
  await flushPromises()
  return w
}

describe('single sign-on on the login page', () => {
  beforeEach(() => {
    sessionStorage.clear()
    freshPinia()
  })

  it('offers "Sign in with SSO" when OIDC is configured, linking to the console login route', async () => {
    const w = await mountLogin(true)
    const a = w.get('[data-testid="login-sso"]')
    expect(a.text()).toBe('Sign in with SSO')
    expect(a.attributes('href')).toBe('/api/v1/auth/oidc/login')
    const zh = await mountLogin(true, 'zh-CN')
    expect(zh.get('[data-testid="login-sso"]').text()).toBe('使用单点登录（SSO）')
  })

  it('shows no SSO button without OIDC', async () => {
    const w = await mountLogin(false)
    expect(w.find('[data-testid="login-sso"]').exists()).toBe(false)
  })
})

describe('sign out everywhere', () => {
  beforeEach(() => {
    sessionStorage.clear()
    freshPinia()
  })

  it('posts logout-everywhere and forgets the session', async () => {
    let signedIn = true
    const fetch = stubFetch(async (url) => {
      if (String(url).startsWith('/api/v1/auth/logout-everywhere')) {
        signedIn = false
        return jsonResponse(200, { ended: 2 })
      }
      return jsonResponse(200, signedIn
        ? { name: 'alice', kind: 'session', role: 'viewer', readOnly: false, loginEnabled: true, oidc: false, clusterRoles: {} }
        : anonymous(false))
    })
    const auth = useAuthStore()
    await auth.loadMe()
    const i18n = createI18n({ legacy: false, locale: 'en', messages: { en, 'zh-CN': zhCN } })
    const router = createRouter({ history: createMemoryHistory(), routes: [{ path: '/:p(.*)*', component: LoginView }] })
    const w = mount(LoginView, { global: { plugins: [ElementPlus, i18n, router] } })
    await flushPromises()
    const btn = w.get('[data-testid="logout-everywhere"]')
    expect(btn.text()).toBe('Sign out everywhere')
    await btn.trigger('click')
    await flushPromises()
    expect(fetch.mock.calls.some(([u, init]) => String(u) === '/api/v1/auth/logout-everywhere' && init?.method === 'POST')).toBe(true)
    expect(auth.loggedIn).toBe(false)
  })
})
