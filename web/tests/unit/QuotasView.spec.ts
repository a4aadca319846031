// The Quotas page and the throttle clients see: where the cluster reports it, a column shows each
// client's measured rate against its quota per broker and the throttle time a request gets now; where
// it does not, the page says so and shows no figure.
import { flushPromises } from '@vue/test-utils'
import { beforeEach, describe, expect, it } from 'vitest'
import { createMemoryHistory, createRouter } from 'vue-router'
import { routes } from '@/router'
import QuotasView from '@/views/QuotasView.vue'
import type { Quotas } from '@/api/types'
import { quotaFigure, throttledNow } from '@/utils/security'
import { freshPinia, jsonResponse, mountWithApp, stubFetch } from './helpers'

const keys = ['producer_byte_rate', 'consumer_byte_rate', 'request_percentage', 'controller_mutation_rate']
const reported: Quotas = {
  keys,
  throttleReported: true,
  entities: [
    {
      clientId: 'slow',
      values: { producer_byte_rate: 4096 },
      usage: [
        { broker: 1, key: 'producer_byte_rate', clientId: 'slow', rate: 6144, limit: 4096, throttleMs: 1250 },
        { broker: 2, key: 'producer_byte_rate', clientId: 'slow', rate: 1024, limit: 4096, throttleMs: 0 },
      ],
    },
    { user: 'nobody', values: { consumer_byte_rate: 1024 } },
  ],
}
const notReported: Quotas = { keys, throttleReported: false, entities: [{ user: 'nobody', values: { consumer_byte_rate: 1024 } }] }

async function mount(answer: Quotas, locale: 'en' | 'zh-CN' = 'en') {
  stubFetch(async (url) => (String(url).includes('/quotas') ? jsonResponse(200, answer) : jsonResponse(200, { items: [], total: 0 })))
  const router = createRouter({ history: createMemoryHistory(), routes })
  await router.push('/clusters/c/quotas')
  await router.isReady()
  const w = mountWithApp(QuotasView, { locale, pinia: freshPinia(), global: { plugins: [router] } })
  await flushPromises()
  return w
}

describe('the throttle clients see on the Quotas page', () => {
  beforeEach(() => localStorage.clear())

  it('shows each broker\'s measure per client where the cluster reports it', async () => {
    const w = await mount(reported)
    expect(w.find('[data-testid="quotas-throttle-note"]').attributes('data-reported')).toBe('true')
    const rows = w.findAll('[data-testid="quotas-table"] tbody tr')
    expect(rows).toHaveLength(2)
    const slow = rows.find((r) => r.text().includes('slow'))!
    expect(slow.find('[data-testid="quota-throttled"]').text()).toBe('throttled now, up to 1,250 ms')
    const lines = slow.findAll('[data-testid="quota-usage-line"]')
    expect(lines).toHaveLength(2)
    expect(lines[0]!.text()).toBe('Client id slow Produce bytes/s 6 KiB/s of 4 KiB/s on broker 1: throttled 1,250 ms')
    expect(lines[1]!.text()).toBe('Client id slow Produce bytes/s 1 KiB/s of 4 KiB/s on broker 2: within the quota')
    const nobody = rows.find((r) => r.text().includes('nobody'))!
    expect(nobody.find('[data-testid="quota-usage-none"]').text()).toBe('no traffic in the quota window')
  })

  it('says the throttle is not reported, and shows no figure, elsewhere', async () => {
    const w = await mount(notReported)
    const note = w.find('[data-testid="quotas-throttle-note"]')
    expect(note.attributes('data-reported')).toBe('false')
    expect(note.text()).toContain('does not report')
    expect(w.find('[data-testid="quota-usage"]').exists()).toBe(false)
    expect(w.find('[data-testid="quota-usage-none"]').exists()).toBe(false)
    expect(w.text()).not.toContain('Clients now')
  })

  it('in Chinese too', async () => {
    const w = await mount(reported, 'zh-CN')
    expect(w.find('[data-testid="quota-throttled"]').text()).toBe('正在限速，最长 1,250 毫秒')
    expect((await mount(notReported, 'zh-CN')).find('[data-testid="quotas-throttle-note"]').text()).toContain('不报告')
  })

  it('reads figures in their key\'s unit and finds the longest throttle', () => {
    expect(quotaFigure('consumer_byte_rate', 1536, 'en')).toBe('1.5 KiB/s')
    expect(quotaFigure('request_percentage', 12.5, 'en')).toBe('13 %')
    expect(quotaFigure('controller_mutation_rate', 2, 'en')).toBe('2/s')
    expect(throttledNow(reported.entities[0]!.usage)).toEqual({ clients: 1, maxMs: 1250 })
    expect(throttledNow(undefined)).toEqual({ clients: 0, maxMs: 0 })
  })
})
