// How a message's key, value and header values are shown. The API says how it decoded the bytes
// (text, json, hex or null); the page shows them that way (auto) or as the view the user picked, as
// text only, never as HTML. A null is never shown as the text "null": the page draws a marker for it.
import type { EncodedValue } from '@/api/types'

/** How values are shown: as the API classified them, or forced to one form. */
export const VIEWS = ['auto', 'text', 'json', 'hex', 'base64'] as const
export type ViewMode = (typeof VIEWS)[number]

export interface Displayed {
  /** The text to show (interpolated, never v-html); empty for a null. */
  text: string
  /** Monospaced block (JSON, hex, base64). */
  mono: boolean
  /** Label of the format, for a tag. */
  format: string
  /** The record has no key (or value): the page shows a null marker, not text. */
  isNull: boolean
  /** The JSON view was asked for and the value is not JSON: shown as text. */
  notJson?: boolean
}

/**
 * Pretty-prints JSON (2 spaces) without converting anything: every number, string and literal keeps
 * the text it was sent with (JSON.parse would turn 9007199254740993 into 9007199254740992 and 10.50
 * into 10.5), so what is shown is what is stored, apart from whitespace. Text that is not valid JSON
 * is returned as sent.
 */
export function prettyJson(data: string): string {
  return formatJson(data) ?? data
}

/** The pretty-printed JSON of prettyJson, or null when data is not JSON. */
export function formatJson(data: string): string | null {
  try {
    return new JsonPrinter(data).print()
  } catch {
    // Nesting deeper than the call stack: not shown as JSON.
    return null
  }
}

const JSON_STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y
const JSON_NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y
const JSON_LITERAL = /true|false|null/y

/** A recursive-descent reader of RFC 8259 JSON that writes each token's original text; null when invalid. */
class JsonPrinter {
  private i = 0
  constructor(private readonly src: string) {}

  print(): string | null {
    const out = this.value(0)
    this.space()
    return out !== null && this.i === this.src.length ? out : null
  }

  private space(): void {
    while (this.i < this.src.length && ' \t\n\r'.includes(this.src[this.i]!)) this.i++
  }

  private token(re: RegExp): string | null {
    re.lastIndex = this.i
    const m = re.exec(this.src)
    if (!m) return null
    this.i += m[0].length
    return m[0]
  }

  private value(depth: number): string | null {
    this.space()
    switch (this.src[this.i]) {
      case '{':
        return this.container(depth, '}', () => {
          const key = this.token(JSON_STRING)
          if (key === null) return null
          this.space()
          if (this.src[this.i] !== ':') return null
          this.i++
          const v = this.value(depth + 1)
          return v === null ? null : `${key}: ${v}`
        })
      case '[':
        return this.container(depth, ']', () => this.value(depth + 1))
      case '"':
        return this.token(JSON_STRING)
      default:
        return this.token(JSON_NUMBER) ?? this.token(JSON_LITERAL)
    }
  }

  /** An object or array whose opening bracket is at i: members read by member, one per line. */
  private container(depth: number, close: string, member: () => string | null): string | null {
    const open = this.src[this.i]!
    this.i++
    this.space()
    if (this.src[this.i] === close) {
      this.i++
      return open + close
    }
    const inner = '\n' + '  '.repeat(depth + 1)
    const parts: string[] = []
    for (;;) {
      this.space()
      const m = member()
      if (m === null) return null
      parts.push(m)
      this.space()
      const c = this.src[this.i++]
      if (c === close) break
      if (c !== ',') return null
    }
    return `${open}${inner}${parts.join(`,${inner}`)}\n${'  '.repeat(depth)}${close}`
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

/** The bytes a value stands for: hex decoded, text and JSON as the UTF-8 the server read them from. */
export function payloadBytes(v: EncodedValue): Uint8Array {
  if (v.format !== 'hex') return new TextEncoder().encode(v.data)
  const clean = v.data.replace(/\s+/g, '')
  const out = new Uint8Array(clean.length >> 1)
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16)
  return out
}

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
}

function toBase64(bytes: Uint8Array): string {
  let bin = ''
  // Chunks keep String.fromCharCode's argument list short for 64 KiB values.
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  return btoa(bin)
}

/** The value as text: hex bytes decoded as UTF-8 (invalid sequences as U+FFFD), others as sent. */
function asText(v: EncodedValue): string {
  return v.format === 'hex' ? new TextDecoder().decode(payloadBytes(v)) : v.data
}

/** How one value is shown in a view: auto follows the API's format, the others convert the bytes. */
export function displayValue(v: EncodedValue | null | undefined, view: ViewMode = 'auto'): Displayed {
  if (!v || v.format === 'null') return { text: '', mono: false, format: 'null', isNull: true }
  const mode = view === 'auto' ? (v.format === 'json' || v.format === 'hex' ? v.format : 'text') : view
  switch (mode) {
    case 'json': {
      const pretty = formatJson(asText(v))
      if (pretty === null) return { text: asText(v), mono: false, format: 'text', isNull: false, notJson: true }
      return { text: pretty, mono: true, format: 'json', isNull: false }
    }
    case 'hex':
      return { text: formatHex(v.format === 'hex' ? v.data : toHex(payloadBytes(v))), mono: true, format: 'hex', isNull: false }
    case 'base64':
      return { text: toBase64(payloadBytes(v)), mono: true, format: 'base64', isNull: false }
    default:
      return { text: asText(v), mono: false, format: view === 'auto' ? v.format || 'text' : 'text', isNull: false }
  }
}

/** A one-line preview for a table cell, cut at max characters; empty for a null (the page marks it). */
export function previewValue(v: EncodedValue | null | undefined, max = 120, view: ViewMode = 'auto'): string {
  const d = displayValue(v, view)
  // JSON previews keep the text as sent, joined on one line (valid JSON has line breaks only between
  // tokens); the pretty form is for the detail.
  const one = d.format === 'json' ? asText(v!).replace(/[\r\n]+\s*/g, ' ') : d.text.replace(/\s+/g, ' ')
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
