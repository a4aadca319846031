// Display helpers shared by the pages: one placeholder for missing figures, locale-aware numbers and times.

/** Shown wherever a value is unknown (null, absent, empty). */
export const MISSING = '—'

export function formatCount(v: number | null | undefined, locale: string): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return MISSING
  return new Intl.NumberFormat(locale).format(v)
}

/** Formats an RFC 3339 time as a local date and time; MISSING when absent or unparseable. */
export function formatTime(v: string | null | undefined, locale: string): string {
  if (!v) return MISSING
  const d = new Date(v)
  if (Number.isNaN(d.getTime())) return MISSING
  return new Intl.DateTimeFormat(locale, {
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hour12: false,
  }).format(d)
}

/** Bytes with a binary unit (1.5 KiB, 3.2 MiB). A size is never negative: a negative value is an "unknown" marker and shows as MISSING. */
export function formatBytes(v: number | null | undefined, locale: string): string {
  if (v === null || v === undefined || !Number.isFinite(v) || v < 0) return MISSING
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let n = v
  let u = 0
  while (Math.abs(n) >= 1024 && u < units.length - 1) {
    n /= 1024
    u++
  }
  return `${new Intl.NumberFormat(locale, { maximumFractionDigits: u === 0 ? 0 : 1 }).format(n)} ${units[u]}`
}

/** A lag or an offset: never negative, so a negative value is an "unknown" marker and shows as MISSING, like null. */
export function formatUnsigned(v: number | null | undefined, locale: string): string {
  if (v === null || v === undefined || v < 0) return MISSING
  return formatCount(v, locale)
}

/** A rate with up to one decimal. */
export function formatRate(v: number | null | undefined, locale: string): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return MISSING
  return new Intl.NumberFormat(locale, { maximumFractionDigits: v < 10 ? 1 : 0 }).format(v)
}

/** Seconds as "12 s", "3 m 4 s", "2 h 5 m". */
export function formatSeconds(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return MISSING
  const s = Math.round(v)
  if (s < 60) return `${s} s`
  if (s < 3600) return `${Math.floor(s / 60)} m ${s % 60} s`
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} m`
}

export function formatPercent(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return MISSING
  return `${Math.round(v)}%`
}

/** Burrow's colours for a lag status: OK green, WARN amber, STALL/STOP/REWIND/ERR red, none grey. */
export function lagStatusType(s: string | undefined): 'success' | 'warning' | 'danger' | 'info' {
  return s === 'OK' ? 'success' : s === 'WARN' ? 'warning' : s ? 'danger' : 'info'
}

const DAY_MS = 86_400_000

/**
 * A time-axis label: hours and minutes, with the date in front at a day boundary (local midnight) and
 * on every label of an axis longer than a day, where the time alone would not say which day it is.
 */
export function formatAxisTime(ms: number, spanMs: number, locale: string): string {
  const d = new Date(ms)
  // hourCycle h23, not hour12: false, which writes midnight as 24:00 in some locales.
  const time = new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(d)
  const midnight = d.getHours() === 0 && d.getMinutes() === 0 && d.getSeconds() === 0
  if (!midnight && spanMs <= DAY_MS) return time
  return `${new Intl.DateTimeFormat(locale, { month: '2-digit', day: '2-digit' }).format(d)} ${time}`
}

/** What a chart's values measure; their axis labels and tooltips carry the unit. */
export type ValueUnit = 'bytes' | 'bytesPerSec' | 'msgsPerSec' | 'count' | 'seconds'

/**
 * A value with its unit, short enough for an axis label: 1.5 MiB, 1.5 MiB/s, 8.7 msg/s (the rate's
 * unit word from the caller's translation, as {n} in msgsPerSec), 1,234, 3 m 4 s.
 */
export function formatValueUnit(v: number | null | undefined, unit: ValueUnit, locale: string, msgsPerSec = '{n} msg/s'): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return MISSING
  switch (unit) {
    case 'bytes':
      return formatBytes(v, locale)
    case 'bytesPerSec':
      return `${formatBytes(v, locale)}/s`
    case 'msgsPerSec':
      return msgsPerSec.replace('{n}', formatRate(v, locale))
    case 'seconds':
      return formatSeconds(v)
    default:
      return formatCount(v, locale)
  }
}
