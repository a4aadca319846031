import { flushPromises } from '@vue/test-utils'
import { afterEach, describe, expect, it, vi } from 'vitest'
import DatabaseBanner from '@/components/common/DatabaseBanner.vue'
import { jsonResponse, mountWithApp, stubFetch } from './helpers'

const down = {
  status: 'ok',
  version: 'test',
  database: { available: false, downSince: '2026-12-06T17:00:00Z', error: 'dial tcp: connection refused', buffered: 42, dropped: 7, written: 100 },
}

describe('DatabaseBanner', () => {
  afterEach(() => vi.unstubAllGlobals())

  it('warns while the database does not answer, with the buffered and dropped samples, in English and 中文', async () => {
    stubFetch(async () => jsonResponse(200, down))
    const en = mountWithApp(DatabaseBanner)
    await flushPromises()
    const text = en.get('[data-testid="database-banner"]').text()
    expect(text).toContain('Database unavailable since')
    expect(text).toContain('42 samples buffered, 7 dropped')
    expect(text).toContain('connection refused')
    const zh = mountWithApp(DatabaseBanner, { locale: 'zh-CN' })
    await flushPromises()
    expect(zh.get('[data-testid="database-banner"]').text()).toContain('已缓存 42 份样本，丢弃 7 份')
  })

  it('shows nothing while the database answers or the console has none', async () => {
    stubFetch(async () => jsonResponse(200, { ...down, database: { available: true, buffered: 0, dropped: 0, written: 5 } }))
    const up = mountWithApp(DatabaseBanner)
    await flushPromises()
    expect(up.find('[data-testid="database-banner"]').exists()).toBe(false)
    stubFetch(async () => jsonResponse(200, { status: 'ok', version: 'test' }))
    const none = mountWithApp(DatabaseBanner)
    await flushPromises()
    expect(none.find('[data-testid="database-banner"]').exists()).toBe(false)
  })
})
