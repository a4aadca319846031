import { flushPromises } from '@vue/test-utils'
import { beforeEach, describe, expect, it } from 'vitest'
import { osprey } from '@/api/osprey'
import { AuthCancelled, TOKEN_KEY, useAuthStore } from '@/stores/auth'
import { freshPinia, jsonResponse, stubFetch } from './helpers'

const created = { name: 't' }
const invalid = { error: { code: 'invalid_token', message: 'the token is not valid; send the admin token' } }

function authHeader(init: RequestInit | undefined): string | null {
  return new Headers(init?.headers).get('Authorization')
}

describe('auth store: the admin token flow', () => {
  beforeEach(() => {
    sessionStorage.clear()
    freshPinia()
  })

  it('asks for the token before the first mutation, sends it as a Bearer token and keeps it for the session', async () => {
    const fetch = stubFetch(async () => jsonResponse(201, created))
    const auth = useAuthStore()
    const p = auth.mutate(() => osprey.createTopic('c', { name: 't', partitions: 1, replicationFactor: 1, configs: {} }))
    await flushPromises()
    // Nothing is sent until the user answers.
    expect(auth.promptVisible).toBe(true)
    expect(auth.promptError).toBeNull()
    expect(fetch).not.toHaveBeenCalled()

    auth.submitToken('  s3cret-token  ')
    await expect(p).resolves.toEqual(created)
    expect(auth.promptVisible).toBe(false)
    expect(fetch).toHaveBeenCalledOnce()
    const [url, init] = fetch.mock.calls[0]!
    expect(String(url)).toBe('/api/v1/clusters/c/topics')
    expect(init?.method).toBe('POST')
    expect(authHeader(init)).toBe('Bearer s3cret-token')
    expect(JSON.parse(String(init?.body))).toEqual({ name: 't', partitions: 1, replicationFactor: 1, configs: {} })
    expect(sessionStorage.getItem(TOKEN_KEY)).toBe('s3cret-token')

    // The second mutation does not ask again.
    await auth.mutate(() => osprey.deleteTopic('c', 't'))
    expect(auth.promptVisible).toBe(false)
    expect(authHeader(fetch.mock.calls[1]![1])).toBe('Bearer s3cret-token')
  })

  it('asks again with the server’s message when the token is refused, then succeeds with a good one', async () => {
    const fetch = stubFetch(async (_url, init) =>
      authHeader(init) === 'Bearer good' ? new Response(null, { status: 204 }) : jsonResponse(401, invalid),
    )
    sessionStorage.setItem(TOKEN_KEY, 'stale')
    freshPinia()
    const auth = useAuthStore()
    const p = auth.mutate(() => osprey.deleteTopic('c', 't'))
    await flushPromises()
    expect(fetch).toHaveBeenCalledOnce() // the stored token was tried first
    expect(auth.promptVisible).toBe(true)
    expect(auth.promptError).toBe(invalid.error.message)
    expect(auth.token).toBeNull()
    expect(sessionStorage.getItem(TOKEN_KEY)).toBeNull()

    auth.submitToken('good')
    await expect(p).resolves.toBeUndefined()
    expect(fetch).toHaveBeenCalledTimes(2)
    expect(auth.promptError).toBe(invalid.error.message) // stays until the next prompt; the dialog is closed
    expect(auth.promptVisible).toBe(false)
  })

  it('rejects with AuthCancelled when the dialog is closed, without calling the API', async () => {
    const fetch = stubFetch(async () => jsonResponse(201, created))
    const auth = useAuthStore()
    const p = auth.mutate(() => osprey.deleteTopic('c', 't'))
    await flushPromises()
    auth.cancelPrompt()
    await expect(p).rejects.toBeInstanceOf(AuthCancelled)
    expect(fetch).not.toHaveBeenCalled()
    expect(auth.promptVisible).toBe(false)
  })

  it('passes other API errors through (a bad request is not a token problem)', async () => {
    stubFetch(async () => jsonResponse(400, { error: { code: 'bad_request', message: 'replication factor 3 exceeds 1 live brokers' } }))
    sessionStorage.setItem(TOKEN_KEY, 'good')
    freshPinia()
    const auth = useAuthStore()
    await expect(auth.mutate(() => osprey.deleteTopic('c', 't'))).rejects.toThrow('replication factor 3 exceeds 1 live brokers')
    expect(auth.promptVisible).toBe(false)
    expect(auth.token).toBe('good')
  })

  it('does not ask for a token when logged in with a session, and sends the CSRF token', async () => {
    const fetch = stubFetch(async (url) => {
      if (String(url).endsWith('/auth/login')) return jsonResponse(200, { user: 'ann', role: 'admin', csrfToken: 'csrf-1', expires: '' })
      if (String(url).endsWith('/auth/me'))
        return jsonResponse(200, { name: 'ann', kind: 'session', role: 'admin', readOnly: false, loginEnabled: true })
      return new Response(null, { status: 204 })
    })
    const auth = useAuthStore()
    await auth.login('ann', 'pw')
    expect(auth.loggedIn).toBe(true)
    await auth.mutate(() => osprey.deleteTopic('c', 't'))
    expect(auth.promptVisible).toBe(false)
    const init = fetch.mock.calls.at(-1)![1]
    expect(new Headers(init?.headers).get('X-CSRF-Token')).toBe('csrf-1')
    expect(new Headers(init?.headers).get('Authorization')).toBeNull()
  })
})
