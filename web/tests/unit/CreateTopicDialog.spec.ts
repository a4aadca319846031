import { flushPromises } from '@vue/test-utils'
import { beforeEach, describe, expect, it } from 'vitest'
import CreateTopicDialog from '@/components/topics/CreateTopicDialog.vue'
import SkewBadge from '@/components/common/SkewBadge.vue'
import { TOKEN_KEY } from '@/stores/auth'
import { jsonResponse, mountWithApp, stubFetch } from './helpers'

function mountDialog(brokers: number | null) {
  return mountWithApp(CreateTopicDialog, {
    props: { cluster: 'c', brokers, modelValue: false },
    attachTo: document.body,
    // Render Element Plus's transitions for real: the field errors live inside one.
    global: { stubs: { transition: false, 'transition-group': false } },
  })
}

/** Element Plus puts data-testid on the <input> (el-input) or on a wrapper (el-input-number). */
const input = (testid: string): HTMLInputElement =>
  document.querySelector(`input[data-testid="${testid}"], [data-testid="${testid}"] input`) as HTMLInputElement
const submit = (): HTMLButtonElement => document.querySelector('[data-testid="create-topic-submit"]') as HTMLButtonElement

describe('CreateTopicDialog', () => {
  beforeEach(() => {
    document.body.innerHTML = ''
    sessionStorage.setItem(TOKEN_KEY, 'tok')
  })

  it('validates the name and the replication factor before sending, then posts the topic', async () => {
    const fetch = stubFetch(async () => jsonResponse(201, { name: 'orders.v2' }))
    const wrapper = mountDialog(2)
    await wrapper.setProps({ modelValue: true })
    await flushPromises()
    // Replication factor defaults to what the brokers allow.
    expect(input('create-topic-rf').value).toBe('2')

    const name = input('create-topic-name')
    name.value = 'bad name'
    name.dispatchEvent(new Event('input'))
    name.dispatchEvent(new FocusEvent('focus'))
    name.dispatchEvent(new FocusEvent('blur'))
    await flushPromises()
    expect(document.body.textContent).toContain('Only letters, digits')
    expect(submit().disabled).toBe(true)

    name.value = '..'
    name.dispatchEvent(new Event('input'))
    await flushPromises()
    expect(document.body.textContent).toContain('cannot be named')

    name.value = 'orders.v2'
    name.dispatchEvent(new Event('input'))
    const rf = input('create-topic-rf')
    rf.value = '3'
    rf.dispatchEvent(new Event('input'))
    rf.dispatchEvent(new Event('change'))
    await flushPromises()
    expect(document.body.textContent).toContain('At most 2 (the live brokers)')
    expect(submit().disabled).toBe(true)

    rf.value = '2'
    rf.dispatchEvent(new Event('input'))
    rf.dispatchEvent(new Event('change'))
    const configs = document.querySelector('textarea[data-testid="create-topic-configs"], [data-testid="create-topic-configs"] textarea') as HTMLTextAreaElement
    configs.value = 'retention.ms=60000'
    configs.dispatchEvent(new Event('input'))
    await flushPromises()
    expect(submit().disabled).toBe(false)
    submit().click()
    await flushPromises()

    expect(fetch).toHaveBeenCalledOnce()
    const [url, init] = fetch.mock.calls[0]!
    expect(String(url)).toBe('/api/v1/clusters/c/topics')
    expect(JSON.parse(String(init?.body))).toEqual({ name: 'orders.v2', partitions: 3, replicationFactor: 2, configs: { 'retention.ms': '60000' } })
    expect(wrapper.emitted('created')).toEqual([['orders.v2']])
    expect(wrapper.emitted('update:modelValue')).toEqual([[false]])
    wrapper.unmount()
  })

  it('shows the server’s refusal, translated by its code, and stays open', async () => {
    stubFetch(async () => jsonResponse(409, { error: { code: 'topic_exists', message: 'topic "orders" already exists' } }))
    const wrapper = mountDialog(1)
    await wrapper.setProps({ modelValue: true })
    await flushPromises()
    const name = input('create-topic-name')
    name.value = 'orders'
    name.dispatchEvent(new Event('input'))
    await flushPromises()
    submit().click()
    await flushPromises()
    expect(document.querySelector('[data-testid="create-topic-error"]')?.textContent).toContain('A topic with that name already exists.')
    expect(wrapper.emitted('created')).toBeUndefined()
    wrapper.unmount()
  })
})

describe('SkewBadge', () => {
  it.each([
    ['spread', 50, 'danger'],
    ['spread', 70, 'warning'],
    ['spread', 100, 'success'],
    ['skew', 0, 'success'],
    ['skew', 50, 'warning'],
    ['skew', 90, 'danger'],
  ] as const)('%s of %d is %s', (kind, value, level) => {
    const w = mountWithApp(SkewBadge, { props: { kind, value } })
    expect(w.attributes('data-level')).toBe(level)
    expect(w.text()).toBe(`${value}%`)
  })
})
