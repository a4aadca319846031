// The catch-up cell: each state in words, the estimate with its range (∞ when unbounded), in both
// languages.
import { describe, expect, it } from 'vitest'
import type { CatchUp } from '@/api/types'
import CatchUpCell from '@/components/groups/CatchUpCell.vue'
import { mountWithApp } from './helpers'

const base: CatchUp = {
  state: 'unknown', seconds: 0, minSeconds: 0, maxSeconds: null, consumeRate: 0, produceRate: 0, windowSeconds: 0, lagGrowingSeconds: 0,
}

function text(value: CatchUp, locale: 'en' | 'zh-CN' = 'en'): string {
  return mountWithApp(CatchUpCell, { props: { value }, locale }).text()
}

describe('CatchUpCell', () => {
  it('shows the estimate with its range', () => {
    expect(text({ ...base, state: 'catching_up', seconds: 255, minSeconds: 170, maxSeconds: 340 })).toBe('~4 m 15 s (2 m 50 s – 5 m 40 s)')
    expect(text({ ...base, state: 'catching_up', seconds: 255, minSeconds: 170, maxSeconds: null })).toContain('– ∞')
  })
  it('names the other states, in English and Chinese', () => {
    expect(text({ ...base, state: 'caught_up' })).toBe('caught up')
    expect(text({ ...base, state: 'keeping_up' })).toBe('keeping up')
    expect(text({ ...base, state: 'not_catching_up' })).toBe('not catching up')
    expect(text({ ...base, state: 'not_catching_up' }, 'zh-CN')).toBe('追不上')
    expect(text(base)).toBe('—')
  })
  it('marks a lag that keeps growing', () => {
    expect(text({ ...base, state: 'not_catching_up', lagGrowingSeconds: 300 })).toContain('↗ 5 m 0 s')
  })
})
