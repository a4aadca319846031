// Time ranges for history charts, and the series query each maps to. Short ranges read raw points
// (rollups are only written after their interval has passed); longer ones let the server choose.
import type { SeriesParams } from '@/api/osprey'

export const RANGES = ['15m', '1h', '6h', '24h', '7d'] as const
export type RangeKey = (typeof RANGES)[number]

const SECONDS: Record<RangeKey, number> = { '15m': 900, '1h': 3600, '6h': 21600, '24h': 86400, '7d': 604800 }

export function rangeParams(r: RangeKey, now = Date.now()): SeriesParams {
  const to = Math.floor(now / 1000)
  const from = to - SECONDS[r]
  return { from, to, step: SECONDS[r] <= 3600 ? 'raw' : 'auto' }
}
