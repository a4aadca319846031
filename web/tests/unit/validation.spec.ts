import { describe, expect, it } from 'vitest'
import { buildResetRequest } from '@/utils/offsets'
import { skewLevel, spreadLevel } from '@/utils/skew'
import { parseConfigLines, partitionsProblem, replicationProblem, topicNameProblem } from '@/utils/validation'

describe('topic name validation', () => {
  it.each([
    ['orders', null],
    ['a.b_c-D9', null],
    ['x'.repeat(249), null],
    ['', 'validation.required'],
    ['.', 'validation.topicDots'],
    ['..', 'validation.topicDots'],
    ['x'.repeat(250), 'validation.topicLength'],
    ['has space', 'validation.topicChars'],
    ['slash/no', 'validation.topicChars'],
    ['中文', 'validation.topicChars'],
  ])('%j → %s', (name, want) => {
    expect(topicNameProblem(name)).toBe(want)
  })

  it('checks partitions and the replication factor against the live brokers', () => {
    expect(partitionsProblem(1)).toBeNull()
    expect(partitionsProblem(0)).toBe('validation.partitionsMin')
    expect(partitionsProblem(-3)).toBe('validation.partitionsMin')
    expect(partitionsProblem(1.5)).toBe('validation.required')
    expect(partitionsProblem(null)).toBe('validation.required')
    expect(replicationProblem(3, 3)).toBeNull()
    expect(replicationProblem(4, 3)).toBe('validation.rfMax')
    expect(replicationProblem(0, 3)).toBe('validation.rfMin')
    // Unknown broker count: only the lower bound is checked here; the server checks the rest.
    expect(replicationProblem(5, null)).toBeNull()
  })

  it('parses key=value config lines and points at the first bad one', () => {
    expect(parseConfigLines('retention.ms=1000\n\n# comment\ncleanup.policy = compact')).toEqual({
      configs: { 'retention.ms': '1000', 'cleanup.policy': 'compact' },
    })
    expect(parseConfigLines('a=1\nnot a pair\nb=2')).toEqual({ badLine: 2 })
    expect(parseConfigLines('=x')).toEqual({ badLine: 1 })
  })
})

describe('EFAK skew badge thresholds', () => {
  it.each([
    [0, 'danger'],
    [59.9, 'danger'],
    [60, 'warning'],
    [79.9, 'warning'],
    [80, 'success'],
    [100, 'success'],
  ])('broker spread %d%% is %s', (v, want) => {
    expect(spreadLevel(v)).toBe(want)
  })

  it.each([
    [0, 'success'],
    [30, 'success'],
    [30.1, 'warning'],
    [79.9, 'warning'],
    [80, 'danger'],
    [100, 'danger'],
  ])('skew %d%% is %s', (v, want) => {
    expect(skewLevel(v)).toBe(want)
  })
})

describe('offset reset request', () => {
  const form = { topic: '*', strategy: 'latest' as const, offset: 5, timestamp: null, shift: -3 }
  it('sends only what the strategy uses', () => {
    expect(buildResetRequest(form, true)).toEqual({ strategy: 'latest', dryRun: true })
    expect(buildResetRequest({ ...form, topic: 'orders', strategy: 'offset' }, false)).toEqual({
      strategy: 'offset',
      dryRun: false,
      topic: 'orders',
      offset: 5,
    })
    expect(buildResetRequest({ ...form, strategy: 'shift' }, true)).toEqual({ strategy: 'shift', dryRun: true, shift: -3 })
    const ts = new Date('2026-01-02T03:04:05Z')
    expect(buildResetRequest({ ...form, strategy: 'timestamp', timestamp: ts }, true)).toEqual({
      strategy: 'timestamp',
      dryRun: true,
      timestamp: ts.getTime(),
    })
  })
})
