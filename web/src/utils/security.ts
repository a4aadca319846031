// The security pages' own logic: which operations an ACL may name per resource type (Kafka's
// AclEntry.supportedOperations, as the server checks them), the principal's Type:name form, and the
// quota edit that turns a form into the keys to set and to remove, and how the throttle clients see
// now reads.
import type { ACLBinding, QuotaRow, QuotaUsage } from '@/api/types'
import { formatBytes, formatRate } from '@/utils/format'

export type ResourceType = ACLBinding['resourceType']
export type Operation = ACLBinding['operation']

export const RESOURCE_TYPES: ResourceType[] = ['TOPIC', 'GROUP', 'CLUSTER', 'TRANSACTIONAL_ID', 'DELEGATION_TOKEN', 'USER']

const OPERATIONS: Record<ResourceType, Operation[]> = {
  TOPIC: ['READ', 'WRITE', 'CREATE', 'DESCRIBE', 'DELETE', 'ALTER', 'DESCRIBE_CONFIGS', 'ALTER_CONFIGS', 'ALL'],
  GROUP: ['READ', 'DESCRIBE', 'DELETE', 'ALL'],
  CLUSTER: ['CREATE', 'CLUSTER_ACTION', 'DESCRIBE_CONFIGS', 'ALTER_CONFIGS', 'IDEMPOTENT_WRITE', 'ALTER', 'DESCRIBE', 'ALL'],
  TRANSACTIONAL_ID: ['DESCRIBE', 'WRITE', 'ALL'],
  DELEGATION_TOKEN: ['DESCRIBE', 'ALL'],
  USER: ['CREATE_TOKENS', 'DESCRIBE_TOKENS', 'ALL'],
}

/** The operations an ACL on a resource of type rt may name. */
export function operationsFor(rt: ResourceType): Operation[] {
  return OPERATIONS[rt] ?? []
}

/** The name a CLUSTER resource always has. */
export const CLUSTER_NAME = 'kafka-cluster'

/** Why a principal is refused ('' when fine): empty, or not Type:name. Mirrors the server's check. */
export function principalProblem(p: string): '' | 'empty' | 'format' {
  if (!p.trim()) return 'empty'
  const i = p.indexOf(':')
  if (i <= 0 || i === p.length - 1 || p.trim() !== p) return 'format'
  return ''
}

export const QUOTA_KEYS = ['producer_byte_rate', 'consumer_byte_rate', 'request_percentage', 'controller_mutation_rate'] as const
export type QuotaKey = (typeof QUOTA_KEYS)[number]

/** How the quota form holds a value: a string as typed, '' for not set. */
export type QuotaForm = Record<QuotaKey, string>

export const DEFAULT_ENTITY = '<default>'

/**
 * A quota figure in its key's unit: bytes per second for the byte rates, percent of a thread for
 * request_percentage, a plain rate for controller_mutation_rate.
 */
export function quotaFigure(key: string, v: number, locale: string): string {
  if (key === 'producer_byte_rate' || key === 'consumer_byte_rate') return `${formatBytes(v, locale)}/s`
  if (key === 'request_percentage') return `${formatRate(v, locale)} %`
  return `${formatRate(v, locale)}/s`
}

/** The entity's clients the brokers report throttled now, and the longest throttle time among them (0: none). */
export function throttledNow(usage: QuotaUsage[] | undefined): { clients: number; maxMs: number } {
  const throttled = (usage ?? []).filter((u) => u.throttleMs > 0)
  return { clients: new Set(throttled.map((u) => `${u.user ?? ''}\u0000${u.clientId ?? ''}`)).size, maxMs: Math.max(0, ...throttled.map((u) => u.throttleMs)) }
}

export function quotaForm(row?: QuotaRow | null): QuotaForm {
  const f = { producer_byte_rate: '', consumer_byte_rate: '', request_percentage: '', controller_mutation_rate: '' }
  for (const k of QUOTA_KEYS) {
    const v = row?.values?.[k]
    if (v !== undefined) f[k] = String(v)
  }
  return f
}

/**
 * The change from the entity's current values to the form: keys whose value is new or different are
 * set, keys emptied are removed. A value that is not a number is kept as typed (NaN) so the server
 * refuses it with its own message rather than the page dropping it silently.
 */
export function quotaChange(current: QuotaRow['values'] | undefined, form: QuotaForm): { set: Record<string, number>; remove: string[] } {
  const set: Record<string, number> = {}
  const remove: string[] = []
  for (const k of QUOTA_KEYS) {
    const typed = form[k].trim()
    const had = current?.[k]
    if (typed === '') {
      if (had !== undefined) remove.push(k)
      continue
    }
    const v = Number(typed)
    if (had === undefined || v !== had) set[k] = v
  }
  return { set, remove }
}
