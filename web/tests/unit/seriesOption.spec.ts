import { describe, expect, it } from 'vitest'
import type { Series } from '@/api/types'
import { hasLonePoints, seriesOption, seriesWindow, type SeriesOptionInput } from '@/components/charts/seriesOption'
import { formatAxisTime, formatValueUnit } from '@/utils/format'
import { RANGES, RANGE_SECONDS, rangeParams } from '@/utils/range'
import SeriesChart from '@/components/charts/SeriesChart.vue'
import { mountWithApp } from './helpers'

type Axis = { min?: number; max?: number; minInterval?: number; axisLabel: { formatter: (v: number) => string; alignMinLabel?: string; alignMaxLabel?: string } }
type Line = { showSymbol: boolean; data: [number, number | null][] }

const now = Date.UTC(2026, 11, 6, 1, 30, 0)

function input(series: Series | null, over: Partial<SeriesOptionInput> = {}): SeriesOptionInput {
  return {
    series,
    keys: [{ key: 'msgsPerSec', label: 'Messages/s' }],
    window: seriesWindow(series),
    unit: 'msgsPerSec',
    locale: 'en',
    msgsPerSec: '{n} msg/s',
    area: false,
    ...over,
  }
}

const xAxis = (o: ReturnType<typeof seriesOption>): Axis => o.xAxis as unknown as Axis
const yAxis = (o: ReturnType<typeof seriesOption>): Axis => o.yAxis as unknown as Axis
const lines = (o: ReturnType<typeof seriesOption>): Line[] => o.series as unknown as Line[]

describe('history chart window', () => {
  it.each(RANGES)('spans exactly [now − %s, now] even when only the last 28 s have points', (r) => {
    const { from, to } = rangeParams(r, now) as { from: number; to: number }
    expect(to - from).toBe(RANGE_SECONDS[r])
    expect(to * 1000).toBe(now)
    const series: Series = {
      step: 0,
      from,
      to,
      items: [
        { ts: to - 28, values: { msgsPerSec: 8.7 } },
        { ts: to - 13, values: { msgsPerSec: 9 } },
      ],
    }
    const x = xAxis(seriesOption(input(series)))
    expect(x.min).toBe(now - RANGE_SECONDS[r] * 1000)
    expect(x.max).toBe(now)
  })

  it('takes its window from the answer, and none when the answer says none', () => {
    expect(seriesWindow({ step: 0, from: 100, to: 400, items: [] })).toEqual({ from: 100_000, to: 400_000 })
    expect(seriesWindow({ step: 0, items: [] })).toBeNull()
    const x = xAxis(seriesOption(input({ step: 0, items: [{ ts: 5, values: { msgsPerSec: 1 } }] })))
    expect(x.min).toBeUndefined()
    expect(x.max).toBeUndefined()
  })
})

describe('history chart points', () => {
  it('draws a single point and isolated points as symbols, long lines without', () => {
    expect(hasLonePoints([3])).toBe(true)
    expect(hasLonePoints([1, 2, null, 4, null, 5, 6])).toBe(true)
    expect(hasLonePoints([1, 2, null, 4, 5])).toBe(false)
    expect(hasLonePoints([])).toBe(false)
    const one: Series = { step: 3600, from: 0, to: 604_800, items: [{ ts: 600_000, values: { msgsPerSec: 2 } }] }
    expect(lines(seriesOption(input(one)))[0]).toMatchObject({ showSymbol: true, data: [[600_000_000, 2]] })
    const many: Series = { step: 0, items: [1, 2, 3].map((i) => ({ ts: i, values: { msgsPerSec: i } })) }
    expect(lines(seriesOption(input(many)))[0]!.showSymbol).toBe(false)
    // A key missing from a point is a gap (null), not a zero.
    const gap: Series = { step: 0, items: [{ ts: 1, values: { msgsPerSec: 1 } }, { ts: 2, values: {} }, { ts: 3, values: { msgsPerSec: 3 } }] }
    expect(lines(seriesOption(input(gap)))[0]).toMatchObject({ showSymbol: true, data: [[1000, 1], [2000, null], [3000, 3]] })
  })
})

describe('history chart labels', () => {
  const local = (y: number, mo: number, d: number, h: number, mi: number): number => new Date(y, mo - 1, d, h, mi).getTime()

  it('reads date and time at a day boundary and on axes longer than a day, time alone otherwise', () => {
    expect(formatAxisTime(local(2026, 12, 6, 0, 0), 6 * 3600_000, 'en')).toBe('12/06 00:00')
    expect(formatAxisTime(local(2026, 12, 6, 14, 5), 6 * 3600_000, 'en')).toBe('14:05')
    expect(formatAxisTime(local(2026, 12, 6, 12, 0), 7 * 86_400_000, 'en')).toBe('12/06 12:00')
    expect(formatAxisTime(local(2026, 12, 6, 0, 0), 900_000, 'zh-CN')).toBe('12/06 00:00')
    const x = xAxis(seriesOption(input({ step: 0, from: 0, to: 86_400 * 7, items: [] })))
    expect(x.axisLabel.formatter(local(2026, 12, 6, 12, 0))).toBe('12/06 12:00')
    // The first and last labels stay inside the chart (a date + time at the right edge was cut off).
    expect([x.axisLabel.alignMinLabel, x.axisLabel.alignMaxLabel]).toEqual(['left', 'right'])
  })

  it('steps count and seconds axes by whole numbers, so a flat lag chart does not repeat "0 s" / "1 s"', () => {
    const s: Series = { step: 0, items: [{ ts: now / 1000, values: { msgsPerSec: 0 } }] }
    expect(yAxis(seriesOption(input(s, { unit: 'seconds' }))).minInterval).toBe(1)
    expect(yAxis(seriesOption(input(s, { unit: 'count' }))).minInterval).toBe(1)
    expect(yAxis(seriesOption(input(s))).minInterval).toBeUndefined()
  })

  it('puts units on the value axis: B/s, B, msg/s', () => {
    expect(formatValueUnit(1536, 'bytesPerSec', 'en')).toBe('1.5 KiB/s')
    expect(formatValueUnit(3 * 1024 * 1024, 'bytes', 'en')).toBe('3 MiB')
    expect(formatValueUnit(8.7, 'msgsPerSec', 'en')).toBe('8.7 msg/s')
    expect(formatValueUnit(8.7, 'msgsPerSec', 'zh-CN', '{n} 条/秒')).toBe('8.7 条/秒')
    expect(formatValueUnit(1234, 'count', 'en')).toBe('1,234')
    expect(formatValueUnit(null, 'bytes', 'en')).toBe('—')
    const s: Series = { step: 0, items: [] }
    expect(yAxis(seriesOption(input(s, { unit: 'bytesPerSec' }))).axisLabel.formatter(2048)).toBe('2 KiB/s')
    expect(yAxis(seriesOption(input(s, { unit: 'bytes' }))).axisLabel.formatter(512)).toBe('512 B')
    expect(yAxis(seriesOption(input(s))).axisLabel.formatter(12)).toBe('12 msg/s')
    const tip = seriesOption(input(s, { unit: 'bytesPerSec' })).tooltip as { valueFormatter: (v: unknown) => string }
    expect(tip.valueFormatter(1536)).toBe('1.5 KiB/s')
  })
})

describe('SeriesChart', () => {
  it('says on its card the window its axis spans and how far its data reaches', () => {
    const series: Series = { step: 60, from: 1000, to: 1900, items: [{ ts: 1872, values: { msgsPerSec: 1 } }, { ts: 1885, values: { msgsPerSec: 2 } }] }
    const wrapper = mountWithApp(SeriesChart, { props: { series, keys: [{ key: 'msgsPerSec', label: 'M' }], title: 'T', unit: 'msgsPerSec', testid: 'c' } })
    expect(wrapper.find('[data-testid="c"]').attributes()).toMatchObject({
      'data-window-from': '1000000',
      'data-window-to': '1900000',
      'data-points': '2',
      'data-last-point': '1885000',
    })
    wrapper.unmount()
  })
})
