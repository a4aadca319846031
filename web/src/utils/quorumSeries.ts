// The KRaft quorum's history (GET /clusters/{c}/quorum/history) as the charts' series.
import type { QuorumHistory, Series, SeriesPoint } from '@/api/types'

/**
 * The history as chart series (Unix seconds): the leader, the largest voter lag in records and in
 * whole seconds (a follower fetches every few hundred milliseconds; that jitter is not lag). A poll
 * without a leader is a gap in the leader line, and so is a stretch with no polls at all (the console
 * was down: more than five usual intervals, at least 30 s), which a line would otherwise bridge as if
 * the leader had changed gradually.
 */
export function quorumSeries(h: QuorumHistory | null): Series | null {
  if (!h) return null
  const points: SeriesPoint[] = h.points.map((p) => ({
    ts: Date.parse(p.time) / 1000,
    values: { leader: p.leaderId < 0 ? null : p.leaderId, lag: p.maxVoterLag, lagSeconds: Math.round(p.maxVoterLagSeconds) },
  }))
  const steps = points
    .slice(1)
    .map((p, i) => p.ts - points[i]!.ts)
    .sort((a, b) => a - b)
  const gap = Math.max(30, 5 * (steps[Math.floor(steps.length / 2)] ?? 0))
  const items: SeriesPoint[] = []
  for (const p of points) {
    const prev = items[items.length - 1]
    if (prev && p.ts - prev.ts > gap) items.push({ ts: prev.ts + 1, values: { leader: null, lag: null, lagSeconds: null } })
    items.push(p)
  }
  return { step: 0, from: Math.floor(Date.parse(h.from) / 1000), to: Math.floor(Date.parse(h.to) / 1000), items }
}
