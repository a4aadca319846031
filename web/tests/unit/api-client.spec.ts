import { describe, expect, it, vi } from 'vitest'
import { ApiError, createApiClient } from '@/api/client'
import { listClusters } from '@/api/clusters'
import { jsonResponse, textResponse } from './helpers'

describe('api client', () => {
  it('returns the parsed body of a 2xx response and asks for JSON', async () => {
    const fetch = vi.fn(async () => jsonResponse(200, { items: [], total: 0 }))
    const client = createApiClient({ fetch, baseUrl: 'http://x' })
    await expect(client.get('/api/v1/clusters')).resolves.toEqual({ items: [], total: 0 })
    expect(fetch).toHaveBeenCalledOnce()
    const [url, init] = fetch.mock.calls[0] as unknown as [string, RequestInit]
    expect(url).toBe('http://x/api/v1/clusters')
    expect(init.method).toBe('GET')
    expect(new Headers(init.headers).get('Accept')).toBe('application/json')
  })

  it('uses the server error body for code and message', async () => {
    const fetch = vi.fn(async () => jsonResponse(404, { error: { code: 'cluster_not_found', message: 'no cluster "x"' } }))
    const err = await createApiClient({ fetch }).get('/api/v1/clusters/x').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect(err).toMatchObject({ status: 404, code: 'cluster_not_found', message: 'no cluster "x"' })
    expect((err as ApiError).isClientSide).toBe(false)
  })

  it('falls back to the status line when the error body is not the API shape', async () => {
    for (const res of [
      textResponse(502, '<html>Bad Gateway</html>', 'Bad Gateway'),
      jsonResponse(500, { message: 'not our shape' }, 'Internal Server Error'),
      new Response(null, { status: 503 }),
    ]) {
      const err = await createApiClient({ fetch: async () => res }).get('/p').catch((e: unknown) => e)
      expect(err).toBeInstanceOf(ApiError)
      const e = err as ApiError
      expect(e.status).toBe(res.status)
      expect(e.code).toBe(`http_${res.status}`)
      expect(e.message).toBe(`HTTP ${res.status}${res.statusText ? ' ' + res.statusText : ''}`)
    }
  })

  it('keeps the server message when the error code is missing', async () => {
    const fetch = async () => jsonResponse(400, { error: { message: 'bad name' } })
    await expect(createApiClient({ fetch }).get('/p')).rejects.toMatchObject({ status: 400, code: 'http_400', message: 'bad name' })
  })

  it('reports an unreachable server as a network error', async () => {
    const fetch = async () => {
      throw new TypeError('Failed to fetch')
    }
    const err = (await createApiClient({ fetch }).get('/p').catch((e: unknown) => e)) as ApiError
    expect(err).toBeInstanceOf(ApiError)
    expect(err).toMatchObject({ status: 0, code: 'network' })
    expect(err.message).toContain('Failed to fetch')
    expect(err.isClientSide).toBe(true)
  })

  it('reports a 2xx body that is not JSON as bad_response', async () => {
    const fetch = async () => textResponse(200, '<html>index</html>')
    await expect(createApiClient({ fetch }).get('/p')).rejects.toMatchObject({ status: 200, code: 'bad_response' })
  })

  it('gives up after the timeout and aborts the request', async () => {
    let seen: AbortSignal | undefined
    const fetch = (_: RequestInfo | URL, init?: RequestInit) =>
      new Promise<Response>((_resolve, reject) => {
        seen = init?.signal ?? undefined
        init?.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')))
      })
    const err = await createApiClient({ fetch, timeoutMs: 20 }).get('/slow').catch((e: unknown) => e)
    expect(err).toMatchObject({ status: 0, code: 'timeout' })
    expect(seen?.aborted).toBe(true)
  })

  it('passes a caller cancellation through as the abort error, not an ApiError', async () => {
    const fetch = (_: RequestInfo | URL, init?: RequestInit) =>
      new Promise<Response>((_resolve, reject) => {
        init?.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')))
      })
    const ctrl = new AbortController()
    const p = createApiClient({ fetch }).get('/p', { signal: ctrl.signal }).catch((e: unknown) => e)
    ctrl.abort()
    const err = await p
    expect(err).not.toBeInstanceOf(ApiError)
    expect((err as DOMException).name).toBe('AbortError')
  })
})

describe('listClusters', () => {
  it('rejects a body without an items list', async () => {
    const client = createApiClient({ fetch: async () => jsonResponse(200, { clusters: [] }) })
    await expect(listClusters(undefined, client)).rejects.toMatchObject({ code: 'bad_response' })
  })

  it('fills in total from the items when the server omits it', async () => {
    const item = { name: 'a', bootstrapServers: ['h:1'], zookeeper: '', embedded: false }
    const client = createApiClient({ fetch: async () => jsonResponse(200, { items: [item] }) })
    await expect(listClusters(undefined, client)).resolves.toEqual({ items: [item], total: 1 })
  })
})
