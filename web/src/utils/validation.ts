// Client-side checks that mirror the server's (the server still validates; these give instant feedback).

export const TOPIC_NAME_MAX = 249
const TOPIC_NAME_RE = /^[a-zA-Z0-9._-]+$/

/** Why name cannot be a Kafka topic name (an i18n key under validation.*), or null when it can. */
export function topicNameProblem(name: string): string | null {
  if (!name) return 'validation.required'
  if (name === '.' || name === '..') return 'validation.topicDots'
  if (name.length > TOPIC_NAME_MAX) return 'validation.topicLength'
  if (!TOPIC_NAME_RE.test(name)) return 'validation.topicChars'
  return null
}

export function partitionsProblem(n: number | null | undefined): string | null {
  if (n === null || n === undefined || !Number.isInteger(n)) return 'validation.required'
  if (n < 1) return 'validation.partitionsMin'
  return null
}

/** brokers is the number of live brokers, when known. */
export function replicationProblem(rf: number | null | undefined, brokers: number | null | undefined): string | null {
  if (rf === null || rf === undefined || !Number.isInteger(rf)) return 'validation.required'
  if (rf < 1) return 'validation.rfMin'
  if (brokers !== null && brokers !== undefined && brokers > 0 && rf > brokers) return 'validation.rfMax'
  return null
}

/** Parses "key=value" lines into a config map; returns the first bad line's number (1-based) on error. */
export function parseConfigLines(text: string): { configs: Record<string, string> } | { badLine: number } {
  const configs: Record<string, string> = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim()
    if (!line || line.startsWith('#')) continue
    const eq = line.indexOf('=')
    if (eq <= 0) return { badLine: i + 1 }
    configs[line.slice(0, eq).trim()] = line.slice(eq + 1).trim()
  }
  return { configs }
}
