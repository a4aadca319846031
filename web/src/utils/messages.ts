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

/**
 * Pretty-prints JSON (2 spaces) without converting anything: every number, string and literal keeps
 * the text it was sent with (JSON.parse would turn 9007199254740993 into 9007199254740992 and 10.50
 * into 10.5), so what is shown is what is stored, apart from whitespace. Text that is not valid JSON
 * is returned as sent.
 */
export function prettyJson(data: string): string {
  try {
    return new JsonPrinter(data).print() ?? data
  } catch {
    // Nesting deeper than the call stack: show the text as sent.
    return data
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
