// The document-typed calls build the same URLs the pages always asked for: each path segment
// encoded, the query without empty values.
import { describe, expect, it } from 'vitest'
import { createOspreyApi } from '@/api/osprey'
import { fillPath } from '@/api/typed'
import { jsonResponse, stubFetch } from './helpers'

describe('typed calls', () => {
  it('fills every {name} of the template, encoded, and refuses a missing one', () => {
    expect(fillPath('/api/v1/clusters/{cluster}/topics/{topic}', { cluster: 'a b', topic: 'x/y' })).toBe(
      '/api/v1/clusters/a%20b/topics/x%2Fy',
    )
    expect(fillPath('/api/v1/alerts/rules/{id}', { id: 7 })).toBe('/api/v1/alerts/rules/7')
    expect(() => fillPath('/api/v1/clusters/{cluster}', {})).toThrow('{cluster}')
  })

  it('sends path, query and body where the document puts them', async () => {
    const fetch = stubFetch(async () => jsonResponse(200, { items: [], total: 0 }))
    const api = createOspreyApi()
    await api.topics('prod/eu', { search: 'orders', limit: 20, order: undefined })
    await api.brokerSeries('prod', 3, { from: 100, to: 200, step: 'auto' })
    await api.addPartitions('prod', 'a.b', 6)
    const calls = fetch.mock.calls.map((c) => [String(c[0]), (c[1] as RequestInit).method, (c[1] as RequestInit).body])
    expect(calls).toEqual([
      ['/api/v1/clusters/prod%2Feu/topics?search=orders&limit=20', 'GET', undefined],
      ['/api/v1/clusters/prod/brokers/3/metrics?from=100&to=200&step=auto', 'GET', undefined],
      ['/api/v1/clusters/prod/topics/a.b/partitions', 'POST', '{"partitions":6}'],
    ])
  })
})
