import { describe, expect, it } from 'vitest'
import { operationsFor, principalProblem, quotaChange, quotaForm } from '@/utils/security'

describe('security utils', () => {
  it('offers the operations Kafka accepts for each resource type', () => {
    expect(operationsFor('GROUP')).toEqual(['READ', 'DESCRIBE', 'DELETE', 'ALL'])
    expect(operationsFor('TOPIC')).toContain('ALTER_CONFIGS')
    expect(operationsFor('TOPIC')).not.toContain('IDEMPOTENT_WRITE')
    expect(operationsFor('CLUSTER')).toContain('IDEMPOTENT_WRITE')
    expect(operationsFor('TRANSACTIONAL_ID')).toEqual(['DESCRIBE', 'WRITE', 'ALL'])
  })

  it('checks the principal is Type:name', () => {
    expect(principalProblem('')).toBe('empty')
    expect(principalProblem('  ')).toBe('empty')
    expect(principalProblem('alice')).toBe('format')
    expect(principalProblem('User:')).toBe('format')
    expect(principalProblem(':alice')).toBe('format')
    expect(principalProblem('User:alice')).toBe('')
    expect(principalProblem('User:*')).toBe('')
  })

  it('turns the quota form into the keys to set and to remove', () => {
    const current = { producer_byte_rate: 1048576, request_percentage: 50 }
    const f = quotaForm({ user: 'alice', values: current })
    expect(f).toEqual({ producer_byte_rate: '1048576', consumer_byte_rate: '', request_percentage: '50', controller_mutation_rate: '' })
    // Unchanged: nothing to send.
    expect(quotaChange(current, f)).toEqual({ set: {}, remove: [] })
    // Changed, added and emptied.
    f.producer_byte_rate = '2097152'
    f.consumer_byte_rate = ' 1024 '
    f.request_percentage = ''
    expect(quotaChange(current, f)).toEqual({ set: { producer_byte_rate: 2097152, consumer_byte_rate: 1024 }, remove: ['request_percentage'] })
    // A new entity: only what was typed.
    expect(quotaChange(undefined, { ...quotaForm(), controller_mutation_rate: '10' })).toEqual({ set: { controller_mutation_rate: 10 }, remove: [] })
    // Not a number: passed on for the server to refuse by name.
    expect(Number.isNaN(quotaChange(undefined, { ...quotaForm(), producer_byte_rate: 'fast' }).set.producer_byte_rate)).toBe(true)
  })
})
