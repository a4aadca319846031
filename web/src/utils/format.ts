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
