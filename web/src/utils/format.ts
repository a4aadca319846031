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
