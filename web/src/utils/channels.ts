// The configuration fields of each alert channel type (alert/channels.go), for the channel editor.
import type { AlertChannelInput, ChannelType } from '@/api/types'

export interface ChannelField {
  key: string
  kind: 'text' | 'secret' | 'number' | 'list' | 'textarea'
  required?: boolean
}

export const CHANNEL_FIELDS: Record<ChannelType, ChannelField[]> = {
  webhook: [
    { key: 'url', kind: 'text', required: true },
    { key: 'method', kind: 'text' },
    { key: 'contentType', kind: 'text' },
    { key: 'template', kind: 'textarea' },
  ],
  slack: [{ key: 'url', kind: 'secret', required: true }],
  dingtalk: [
    { key: 'url', kind: 'secret', required: true },
    { key: 'secret', kind: 'secret' },
    { key: 'atMobiles', kind: 'list' },
  ],
  wecom: [{ key: 'url', kind: 'secret', required: true }],
  feishu: [
    { key: 'url', kind: 'secret', required: true },
    { key: 'secret', kind: 'secret' },
  ],
  email: [
    { key: 'host', kind: 'text', required: true },
    { key: 'port', kind: 'number', required: true },
    { key: 'username', kind: 'text' },
    { key: 'password', kind: 'secret' },
    { key: 'from', kind: 'text', required: true },
    { key: 'to', kind: 'list', required: true },
    { key: 'tls', kind: 'text' },
    { key: 'subjectPrefix', kind: 'text' },
  ],
}

/** The config as "Label: value" pairs for a table cell; label names a field (the page translates it). */
export function channelSummary(type: ChannelType, config: Record<string, unknown>, label: (key: string) => string): string {
  const fields = CHANNEL_FIELDS[type] ?? []
  return fields
    .filter((f) => f.kind !== 'textarea')
    .flatMap((f) => {
      const v = config[f.key]
      if (v === undefined || v === null || v === '') return []
      return [`${label(f.key)}: ${Array.isArray(v) ? v.join(', ') : String(v)}`]
    })
    .join(' · ')
}

/** Form values (strings) → the config object the API takes: lists split on commas, numbers parsed, blanks left out.
 * The object is built from CHANNEL_FIELDS[type] rather than typed field by field; the server checks it
 * against the type and answers which field is wrong. */
export function channelConfig(type: ChannelType, values: Record<string, string>): AlertChannelInput['config'] {
  const out: Record<string, unknown> = {}
  for (const f of CHANNEL_FIELDS[type]) {
    const v = (values[f.key] ?? '').trim()
    if (!v) continue
    if (f.kind === 'number') out[f.key] = Number(v)
    else if (f.kind === 'list') out[f.key] = v.split(/[\s,;]+/).filter(Boolean)
    else out[f.key] = v
  }
  return out as AlertChannelInput['config']
}

/** The API's config object → form values. */
export function channelValues(type: ChannelType, config: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const f of CHANNEL_FIELDS[type]) {
    const v = config[f.key]
    if (v === undefined || v === null) out[f.key] = ''
    else if (Array.isArray(v)) out[f.key] = v.join(', ')
    else out[f.key] = String(v)
  }
  return out
}
