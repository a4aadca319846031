import { describe, expect, it } from 'vitest'
import { MISSING, formatBytes, lagStatusType } from '@/utils/format'

describe('lagStatusType', () => {
  it('colours Burrow statuses', () => {
    expect(lagStatusType('OK')).toBe('success')
    expect(lagStatusType('WARN')).toBe('warning')
    for (const bad of ['ERR', 'STALL', 'STOP', 'REWIND']) expect(lagStatusType(bad)).toBe('danger')
    expect(lagStatusType(undefined)).toBe('info')
    expect(lagStatusType('')).toBe('info')
  })
})

describe('formatBytes', () => {
  it('shows an unknown size as unknown, never as a negative number of bytes', () => {
    expect(formatBytes(null, 'en')).toBe(MISSING)
    expect(formatBytes(-1, 'en')).toBe(MISSING)
    expect(formatBytes(0, 'en')).toBe('0 B')
    expect(formatBytes(1536, 'en')).toBe('1.5 KiB')
  })
})
