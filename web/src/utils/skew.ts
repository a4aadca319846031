// EFAK's colours for a topic's replica distribution: broker spread (share of brokers holding the topic)
// is bad below 60 % and good from 80 %; broker skew and leader skew (share of brokers holding more than
// their fair share) are good up to 30 % and bad from 80 %. In between is a warning.

export type Level = 'success' | 'warning' | 'danger'

export function spreadLevel(spread: number): Level {
  if (spread < 60) return 'danger'
  if (spread >= 80) return 'success'
  return 'warning'
}

export function skewLevel(skew: number): Level {
  if (skew <= 30) return 'success'
  if (skew >= 80) return 'danger'
  return 'warning'
}
