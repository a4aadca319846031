import { describe, expect, it } from 'vitest'
import { lagStatusType } from '@/utils/format'

describe('lagStatusType', () => {
  it('colours Burrow statuses', () => {
    expect(lagStatusType('OK')).toBe('success')
    expect(lagStatusType('WARN')).toBe('warning')
    for (const bad of ['ERR', 'STALL', 'STOP', 'REWIND']) expect(lagStatusType(bad)).toBe('danger')
    expect(lagStatusType(undefined)).toBe('info')
    expect(lagStatusType('')).toBe('info')
  })
})
