// Forms and actions read as a person would: labelled fields, confirmation before a broker is
// stopped or killed.
import { flushPromises } from '@vue/test-utils'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createMemoryHistory, createRouter } from 'vue-router'
import { routes } from '@/router'
import AlertsView from '@/views/AlertsView.vue'
import RuntimeView from '@/views/RuntimeView.vue'
import { TOKEN_KEY } from '@/stores/auth'
import { freshPinia, jsonResponse, mountWithApp, stubFetch } from './helpers'

async function routerAt(path: string) {
  const router = createRouter({ history: createMemoryHistory(), routes })
  await router.push(path)
  await router.isReady()
  return router
}

/** The button of the newest message box (a closed one stays in the DOM for its transition). */
function boxButton(label: string): HTMLButtonElement | undefined {
  return [...document.querySelectorAll<HTMLButtonElement>('.el-message-box button')].filter((b) => b.textContent?.trim() === label).at(-1)
}

describe('the channel editor', () => {
  it('labels the webhook fields for people, in both languages', async () => {
    for (const [locale, labels] of [
      ['en', ['URL', 'HTTP method', 'Content type', 'Body template']],
      ['zh-CN', ['URL', 'HTTP 方法', '内容类型', '消息体模板']],
    ] as const) {
      stubFetch(async (url) => {
        if (String(url).startsWith('/api/v1/alerts/channels'))
          return jsonResponse(200, { items: [{ id: 1, name: 'ops', type: 'webhook', enabled: true, config: { url: 'http://h/x', contentType: 'application/json' } }], total: 1 })
        return jsonResponse(200, { items: [], total: 0 })
      })
      const w = mountWithApp(AlertsView, { locale, attachTo: document.body })
      await flushPromises()
      await w.find('[data-testid="channel-new"]').trigger('click')
      await flushPromises()
      const dialog = document.querySelector('[data-testid="channel-dialog"]')!
      const shown = [...dialog.querySelectorAll('.el-form-item__label')].map((l) => l.textContent?.trim())
      expect(shown, locale).toEqual(expect.arrayContaining([...labels]))
      for (const raw of ['method', 'contentType', 'template']) expect(shown, locale).not.toContain(raw)
      // The channels table says what is configured in the same words, not as JSON.
      const summary = w.find('[data-testid="channel-summary"]').text()
      expect(summary).not.toContain('{')
      expect(summary).toContain(locale === 'en' ? 'Content type: application/json' : '内容类型: application/json')
      w.unmount()
    }
  })
})

describe('runtime broker actions', () => {
  beforeEach(() => sessionStorage.setItem(TOKEN_KEY, 'tok'))

  it('asks before stopping or killing a broker, and does nothing when cancelled', async () => {
    const cluster = { name: 'rt', metadataStore: 'local', brokers: [{ id: 1, addr: '127.0.0.1:9101', state: 'running', controller: true }] }
    const fetch = stubFetch(async (url, init) => {
      if (init?.method === 'POST') return jsonResponse(200, {})
      if (String(url) === '/api/v1/runtime/clusters') return jsonResponse(200, { items: [cluster], total: 1 })
      return jsonResponse(200, { items: [], total: 0 })
    })
    const posts = () => fetch.mock.calls.filter((c) => c[1]?.method === 'POST').map((c) => String(c[0]))
    const router = await routerAt('/runtime')
    const w = mountWithApp(RuntimeView, { pinia: freshPinia(), global: { plugins: [router] } })
    await flushPromises()

    for (const action of ['stop', 'kill'] as const) {
      const label = action === 'stop' ? 'Stop' : 'Kill'
      await w.find(`[data-testid="${action}-1"]`).trigger('click')
      await flushPromises()
      await vi.waitFor(() => expect(boxButton('Cancel')).toBeDefined())
      expect([...document.querySelectorAll('.el-message-box')].at(-1)?.textContent).toContain(`${label} broker 1 of rt?`)
      expect(posts()).toEqual([])
      boxButton('Cancel')!.click()
      await flushPromises()
      expect(posts()).toEqual([])

      await w.find(`[data-testid="${action}-1"]`).trigger('click')
      await vi.waitFor(() => expect(boxButton(label)).toBeDefined())
      boxButton(label)!.click()
      await vi.waitFor(() => expect(posts()).toEqual([`/api/v1/runtime/clusters/rt/brokers/1/${action}`]))
      fetch.mockClear()
    }
  })
})
