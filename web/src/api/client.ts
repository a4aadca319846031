// Typed access to the Osprey HTTP API (/api/v1): one fetch wrapper that turns every failure
// (HTTP error with the server's {"error":{code,message}} body, unreachable server, timeout,
// unreadable body) into an ApiError the pages can show.
import type { components } from './schema'

/** Error codes produced by this client itself, not by the server. */
export const ClientErrorCode = {
  Network: 'network',
  Timeout: 'timeout',
  BadResponse: 'bad_response',
} as const

/** The error body every Osprey API error response carries: a stable code, the parameters of its
 * sentence (the UI translates by code, see errorText.ts) and a plain English message. */
export type ApiErrorBody = components['schemas']['ErrorBody']

/** A failed API call. status is 0 when no HTTP response arrived. */
export class ApiError extends Error {
  readonly status: number
  readonly code: string
  /** The parameters of the server's sentence for code (names, config keys, Kafka error names). */
  readonly params: Record<string, unknown>

  constructor(status: number, code: string, message: string, params: Record<string, unknown> = {}) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.code = code
    this.params = params
  }

  /** True when the failure came from this client (network, timeout, bad body), not the server. */
  get isClientSide(): boolean {
    return (Object.values(ClientErrorCode) as string[]).includes(this.code)
  }
}

export interface ApiClientOptions {
  /** Prefix for every path; '' means same origin. */
  baseUrl?: string
  /** Per-request deadline in milliseconds. */
  timeoutMs?: number
  /** Injected for tests; defaults to the global fetch at call time. */
  fetch?: typeof fetch
}

export interface RequestOptions {
  signal?: AbortSignal
  /** Extra headers for this request (they win over the auth headers). */
  headers?: Record<string, string>
}

/** Supplies the credentials headers for every request (set by the auth store). */
let authHeaders: () => Record<string, string> = () => ({})

export function setAuthHeaderProvider(fn: () => Record<string, string>): void {
  authHeaders = fn
}

/** The credentials headers as the auth store supplies them now (for streamed requests). */
export function currentAuthHeaders(): Record<string, string> {
  return authHeaders()
}

function isErrorBody(v: unknown): v is ApiErrorBody {
  if (typeof v !== 'object' || v === null || !('error' in v)) return false
  const e = (v as { error: unknown }).error
  return typeof e === 'object' && e !== null && typeof (e as { message?: unknown }).message === 'string'
}

/** Builds the ApiError for a non-2xx response, preferring the server's own code and message. */
export async function errorFromResponse(res: Response): Promise<ApiError> {
  let text = ''
  try {
    text = await res.text()
  } catch {
    // The body is optional for an error; the status line still says what happened.
  }
  if (text) {
    try {
      const body: unknown = JSON.parse(text)
      if (isErrorBody(body)) {
        const code = typeof body.error.code === 'string' && body.error.code ? body.error.code : `http_${res.status}`
        const p = body.error.params
        const params = typeof p === 'object' && p !== null && !Array.isArray(p) ? (p as Record<string, unknown>) : {}
        return new ApiError(res.status, code, body.error.message, params)
      }
    } catch {
      // Not JSON (a proxy's HTML page, say): fall through to the status line.
    }
  }
  const statusText = res.statusText ? ` ${res.statusText}` : ''
  return new ApiError(res.status, `http_${res.status}`, `HTTP ${res.status}${statusText}`)
}

export interface ApiClient {
  get<T>(path: string, opts?: RequestOptions): Promise<T>
  post<T>(path: string, body?: unknown, opts?: RequestOptions): Promise<T>
  put<T>(path: string, body?: unknown, opts?: RequestOptions): Promise<T>
  patch<T>(path: string, body?: unknown, opts?: RequestOptions): Promise<T>
  del<T>(path: string, opts?: RequestOptions): Promise<T>
}

export function createApiClient(options: ApiClientOptions = {}): ApiClient {
  const baseUrl = options.baseUrl ?? ''
  const timeoutMs = options.timeoutMs ?? 15_000

  async function request<T>(method: string, path: string, opts: RequestOptions = {}, body?: unknown): Promise<T> {
    const doFetch = options.fetch ?? globalThis.fetch
    // One controller carries both the caller's cancellation and our deadline.
    const ctrl = new AbortController()
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      ctrl.abort()
    }, timeoutMs)
    const onAbort = (): void => ctrl.abort()
    if (opts.signal?.aborted) ctrl.abort()
    opts.signal?.addEventListener('abort', onAbort, { once: true })

    try {
      let res: Response
      try {
        const headers: Record<string, string> = { Accept: 'application/json', ...authHeaders(), ...(opts.headers ?? {}) }
        if (body !== undefined) headers['Content-Type'] = 'application/json'
        res = await doFetch(baseUrl + path, {
          method,
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
          credentials: 'same-origin',
          signal: ctrl.signal,
        })
      } catch (err) {
        if (timedOut) throw new ApiError(0, ClientErrorCode.Timeout, `no answer from ${path} within ${timeoutMs} ms`)
        if (opts.signal?.aborted) throw err // the caller cancelled: not an error to show
        const detail = err instanceof Error ? err.message : String(err)
        throw new ApiError(0, ClientErrorCode.Network, `cannot reach the server: ${detail}`)
      }
      if (!res.ok) throw await errorFromResponse(res)
      if (res.status === 204) return undefined as T
      try {
        return (await res.json()) as T
      } catch (err) {
        if (timedOut) throw new ApiError(0, ClientErrorCode.Timeout, `no answer from ${path} within ${timeoutMs} ms`)
        const detail = err instanceof Error ? err.message : String(err)
        throw new ApiError(res.status, ClientErrorCode.BadResponse, `unreadable response from ${path}: ${detail}`)
      }
    } finally {
      clearTimeout(timer)
      opts.signal?.removeEventListener('abort', onAbort)
    }
  }

  return {
    get: <T>(path: string, opts?: RequestOptions) => request<T>('GET', path, opts),
    post: <T>(path: string, body?: unknown, opts?: RequestOptions) => request<T>('POST', path, opts, body ?? {}),
    put: <T>(path: string, body?: unknown, opts?: RequestOptions) => request<T>('PUT', path, opts, body ?? {}),
    patch: <T>(path: string, body?: unknown, opts?: RequestOptions) => request<T>('PATCH', path, opts, body ?? {}),
    del: <T>(path: string, opts?: RequestOptions) => request<T>('DELETE', path, opts),
  }
}

/** The client the app uses: same origin, served by osprey (or the Vite proxy in development). */
export const api = createApiClient()
