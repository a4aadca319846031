import { flushPromises } from '@vue/test-utils'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { defineComponent, h, nextTick, ref } from 'vue'
import { LazyChart, type ChartOption } from '@/components/charts/LazyChart'
import { usePreferencesStore } from '@/stores/preferences'
import { freshPinia, mountWithApp } from './helpers'

// A stand-in ECharts instance: records what the component asks of it.
const { instances } = vi.hoisted(() => ({
  instances: [] as { theme: string | undefined; setOption: ReturnType<typeof vi.fn>; dispose: ReturnType<typeof vi.fn> }[],
}))
vi.mock('@/components/charts/echarts', () => ({
  init: vi.fn((_el: HTMLElement, theme?: string) => {
    // getOption answers the last option set, as ECharts' merged option would for these.
    let last: Record<string, unknown> = {}
    const setOption = vi.fn((o: Record<string, unknown>) => {
      last = o
    })
    const inst = { theme, setOption, getOption: () => ({ ...last, xAxis: [last.xAxis] }), dispose: vi.fn(), resize: vi.fn() }
    instances.push(inst)
    return inst
  }),
}))

const optionA: ChartOption = { xAxis: { type: 'category', data: ['a'] }, yAxis: { type: 'value' }, series: [{ type: 'line', data: [1] }] }
const optionB: ChartOption = { ...optionA, series: [{ type: 'bar', data: [2] }] }

describe('LazyChart', () => {
  beforeEach(() => {
    instances.length = 0
    localStorage.clear()
  })

  it('loads the chart on demand and follows option, theme and unmount', async () => {
    const pinia = freshPinia()
    const option = ref<ChartOption>(optionA)
    const Host = defineComponent({ setup: () => () => h(LazyChart, { option: option.value }) })
    const wrapper = mountWithApp(Host, { pinia })

    // Until the chunk arrives, the skeleton.
    expect(wrapper.find('[data-testid="chart-loading"]').exists()).toBe(true)
    // The first import compiles EChart.vue, which can take seconds on a cold, busy machine.
    await vi.waitFor(() => expect(wrapper.find('[data-testid="echart"]').exists()).toBe(true), { timeout: 15_000, interval: 20 })
    await flushPromises()

    expect(instances).toHaveLength(1)
    const first = instances[0]!
    expect(first.theme).toBeUndefined()
    expect(first.setOption).toHaveBeenCalledWith({ backgroundColor: 'transparent', ...optionA })

    expect(wrapper.find('[data-testid="echart"]').attributes('data-x-min')).toBeUndefined()

    option.value = optionB
    await nextTick()
    expect(first.setOption).toHaveBeenLastCalledWith({ backgroundColor: 'transparent', ...optionB }, { notMerge: true })

    // The x axis bounds the chart holds are on its element, for end-to-end tests.
    option.value = { ...optionB, xAxis: { type: 'time', min: 1000, max: 901_000 } }
    await nextTick()
    expect(wrapper.find('[data-testid="echart"]').attributes()).toMatchObject({ 'data-x-min': '1000', 'data-x-max': '901000' })
    option.value = optionB
    await nextTick()

    // A theme is fixed at init: switching disposes the instance and starts a dark one.
    usePreferencesStore(pinia).setTheme('dark')
    await nextTick()
    expect(first.dispose).toHaveBeenCalledOnce()
    expect(instances).toHaveLength(2)
    expect(instances[1]!.theme).toBe('dark')
    expect(instances[1]!.setOption).toHaveBeenCalledWith({ backgroundColor: 'transparent', ...optionB })

    wrapper.unmount()
    expect(instances[1]!.dispose).toHaveBeenCalledOnce()
  })
})
