// The ECharts option of a history chart, kept apart from the component so that what the chart claims
// (its window, its labels, its units) can be tested without a canvas.
import type { Series } from '@/api/types'
import { formatAxisTime, formatValueUnit, type ValueUnit } from '@/utils/format'
import type { ChartOption } from './LazyChart'

export interface SeriesOptionInput {
  series: Series | null
  keys: { key: string; label: string }[]
  /** The time window in Unix milliseconds; the x axis spans exactly this, whatever part has points. */
  window: { from: number; to: number } | null
  unit: ValueUnit
  locale: string
  /** The translated rate label with {n} for the number ("{n} msg/s"). */
  msgsPerSec: string
  area: boolean
}

/** The window a series answer covers (Unix seconds in the API), in milliseconds; null when not said. */
export function seriesWindow(s: Series | null): { from: number; to: number } | null {
  if (!s || s.from === undefined || s.to === undefined || !(s.to > s.from)) return null
  return { from: s.from * 1000, to: s.to * 1000 }
}

/**
 * Whether a line has points that a line alone would not show: a single point, or one whose neighbours
 * are both missing (a line needs two points, and symbols are off for long series).
 */
export function hasLonePoints(values: (number | null)[]): boolean {
  return values.some((v, i) => v !== null && (values[i - 1] ?? null) === null && (values[i + 1] ?? null) === null)
}

export function seriesOption(o: SeriesOptionInput): ChartOption {
  const items = o.series?.items ?? []
  const span = o.window ? o.window.to - o.window.from : items.length ? (items[items.length - 1]!.ts - items[0]!.ts) * 1000 : 0
  const value = (v: number | null | undefined): string => formatValueUnit(v, o.unit, o.locale, o.msgsPerSec)
  return {
    tooltip: { trigger: 'axis', valueFormatter: (v) => value(typeof v === 'number' ? v : null) },
    legend: { top: 0, data: o.keys.map((k) => k.label) },
    grid: { left: 8, right: 16, top: 32, bottom: 8, containLabel: true },
    xAxis: {
      type: 'time',
      min: o.window?.from,
      max: o.window?.to,
      // The edge labels align inwards so a date + time label at the window's end is not cut off.
      axisLabel: {
        hideOverlap: true,
        alignMinLabel: 'left' as const,
        alignMaxLabel: 'right' as const,
        formatter: (ms: number) => formatAxisTime(ms, span, o.locale),
      },
    },
    // Counts are whole, and seconds print rounded to whole seconds: fractional ticks on a flat or small
    // series would read 0, 0.2, … or repeat "0 s", "1 s", so those axes step by at least 1.
    yAxis: {
      type: 'value',
      scale: false,
      minInterval: o.unit === 'count' || o.unit === 'seconds' ? 1 : undefined,
      axisLabel: { formatter: (v: number) => value(v) },
    },
    series: o.keys.map((k) => {
      const values = items.map((p) => p.values[k.key] ?? null)
      return {
        name: k.label,
        type: 'line' as const,
        showSymbol: hasLonePoints(values),
        symbolSize: 6,
        smooth: false,
        connectNulls: false,
        areaStyle: o.area ? { opacity: 0.15 } : undefined,
        data: items.map((p, i) => [p.ts * 1000, values[i]!]),
      }
    }),
  }
}
