import { flushPromises } from '@vue/test-utils'
import { beforeEach, describe, expect, it } from 'vitest'
import RedriveDialog from '@/components/topics/RedriveDialog.vue'
import { TOKEN_KEY } from '@/stores/auth'
import { jsonResponse, mountWithApp, stubFetch } from './helpers'

const scan = { reason: 'complete', progress: { records: 10, bytes: 100, matches: 3, elapsedMs: 1, partitions: [] }, limits: { maxRecords: 1, maxBytes: 1, maxSeconds: 1, maxResults: 1 } }

describe('RedriveDialog', () => {
  beforeEach(() => {
    document.body.innerHTML = ''
    sessionStorage.setItem(TOKEN_KEY, 'tok')
  })

  it('runs the dry run first, shows the target partitions, then redrives the same selection', async () => {
    const fetch = stubFetch(async (_u, init) => {
      const body = JSON.parse(String(init?.body))
      return jsonResponse(200, {
        dryRun: body.dryRun, targetTopic: 'orders.retry', records: 3, bytes: 300, produced: body.dryRun ? 0 : 3,
        targetPartitions: [{ partition: 0, records: 2 }, { partition: 1, records: 1 }], scan,
      })
    })
    const selection = { filter: 'json.retry == true', partitions: [1] }
    const wrapper = mountWithApp(RedriveDialog, {
      props: { modelValue: true, cluster: 'c', topic: 'orders.dlq', selection },
      attachTo: document.body,
    })
    await flushPromises()
    const submit = () => document.querySelector('[data-testid="redrive-submit"]') as HTMLButtonElement
    expect(submit().disabled).toBe(true)
    const input = document.querySelector('[data-testid="redrive-target"] input, input[data-testid="redrive-target"]') as HTMLInputElement
    input.value = 'orders.retry'
    input.dispatchEvent(new Event('input'))
    await flushPromises()
    ;(document.querySelector('[data-testid="redrive-dry-run"]') as HTMLButtonElement).click()
    await flushPromises()
    const [url, init] = fetch.mock.calls[0]!
    expect(String(url)).toBe('/api/v1/clusters/c/topics/orders.dlq/messages/redrive')
    expect(JSON.parse(String(init?.body))).toEqual({ ...selection, targetTopic: 'orders.retry', dryRun: true })
    expect(document.querySelector('[data-testid="redrive-plan"]')?.textContent).toContain('3 records')
    expect(document.querySelectorAll('[data-testid="redrive-partitions"] tbody tr')).toHaveLength(2)

    expect(submit().disabled).toBe(false)
    submit().click()
    await flushPromises()
    expect(JSON.parse(String(fetch.mock.calls[1]![1]?.body)).dryRun).toBe(false)
    expect(document.querySelector('[data-testid="redrive-done"]')?.textContent).toContain('3 records copied to orders.retry')
    wrapper.unmount()
  })
})
