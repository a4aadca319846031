// How a message's key, value and header values are shown. The API says how it decoded the bytes
// (text, json, hex or null); the page shows the result as text only, never as HTML.
import type { EncodedValue } from '@/api/types'

export interface Displayed {
  /** The text to show (interpolated, never v-html). */
  text: string
  /** Monospaced block (JSON, hex). */
  mono: boolean
  /** Label of the format, for a tag. */
  format: string
  isNull: boolean
}

/** Pretty-prints JSON (2 spaces); falls back to the text as sent when it does not parse. */
export function prettyJson(data: string): string {
  try {
    return JSON.stringify(JSON.parse(data), null, 2)
  } catch {
    return data
  }
}

/** Groups a hex string in bytes ("0a1b" → "0a 1b"), 16 bytes per line. */
export function formatHex(data: string): string {
  const clean = data.replace(/\s+/g, '').toLowerCase()
  const bytes = clean.match(/.{1,2}/g) ?? []
  const lines: string[] = []
  for (let i = 0; i < bytes.length; i += 16) lines.push(bytes.slice(i, i + 16).join(' '))
  return lines.join('\n')
}

export function displayValue(v: EncodedValue | null | undefined): Displayed {
  if (!v || v.format === 'null') return { text: 'null', mono: false, format: 'null', isNull: true }
  switch (v.format) {
    case 'json':
      return { text: prettyJson(v.data), mono: true, format: 'json', isNull: false }
    case 'hex':
      return { text: formatHex(v.data), mono: true, format: 'hex', isNull: false }
    default:
      return { text: v.data, mono: false, format: v.format || 'text', isNull: false }
  }
}

/** A one-line preview for a table cell, cut at max characters. */
export function previewValue(v: EncodedValue | null | undefined, max = 120): string {
  const d = displayValue(v)
  const one = d.format === 'json' ? (v?.data ?? '') : d.text.replace(/\s+/g, ' ')
  return one.length > max ? `${one.slice(0, max - 1)}…` : one
}

/** Parses "key=value" header lines for the produce form. */
export function parseHeaders(text: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    if (!line) continue
    const eq = line.indexOf('=')
    if (eq <= 0) continue
    out[line.slice(0, eq).trim()] = line.slice(eq + 1)
  }
  return out
}
