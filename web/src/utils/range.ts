// Time ranges for history charts, and the series query each maps to. Short ranges read raw points
// (rollups are only written after their interval has passed); longer ones let the server choose, and
// the server fills the newest part of those from finer points. A chart spans exactly [now − range, now].
import type { SeriesParams } from '@/api/osprey'

export const RANGES = ['15m', '1h', '6h', '24h', '7d'] as const
export type RangeKey = (typeof RANGES)[number]

/** Each range's length in seconds. */
export const RANGE_SECONDS: Record<RangeKey, number> = { '15m': 900, '1h': 3600, '6h': 21600, '24h': 86400, '7d': 604800 }

export function rangeParams(r: RangeKey, now = Date.now()): SeriesParams {
  const to = Math.floor(now / 1000)
  const from = to - RANGE_SECONDS[r]
  return { from, to, step: RANGE_SECONDS[r] <= 3600 ? 'raw' : 'auto' }
}
