// Message search: POST …/messages/search answers a Server-Sent Events stream (message, progress and
// done events) read here with fetch, so the request can carry a JSON body and a refused filter
// arrives as an ordinary JSON error (with the line and column of the mistake). Aborting the signal
// closes the connection, which stops the scan on the server.
import { ApiError, ClientErrorCode, currentAuthHeaders, errorFromResponse } from './client'
import type { components } from './schema'

type Schemas = components['schemas']
export type SearchRequest = Omit<Schemas['SearchRequest'], 'cluster' | 'topic'>
export type SearchEvent = Schemas['SearchEvent']
export type SearchProgress = Schemas['SearchProgress']
export type SearchDone = Schemas['SearchDone']

/** Splits a buffer of SSE text into complete events; returns them and the unfinished rest. */
export function parseEvents(buf: string): { events: SearchEvent[]; rest: string } {
  const events: SearchEvent[] = []
  const blocks = buf.split('\n\n')
  const rest = blocks.pop() ?? ''
  for (const block of blocks) {
    const data = block
      .split('\n')
      .filter((l) => l.startsWith('data: '))
      .map((l) => l.slice(6))
      .join('\n')
    if (data) events.push(JSON.parse(data) as SearchEvent)
  }
  return { events, rest }
}

/** Runs a search, calling onEvent for each event; resolves when the stream ends. A refusal
 * (400 with the filter's position, 429 too many searches) rejects with its ApiError. */
export async function searchMessages(
  cluster: string,
  topic: string,
  req: SearchRequest,
  onEvent: (ev: SearchEvent) => void,
  signal?: AbortSignal,
): Promise<void> {
  const path = `/api/v1/clusters/${encodeURIComponent(cluster)}/topics/${encodeURIComponent(topic)}/messages/search`
  let res: Response
  try {
    res = await globalThis.fetch(path, {
      method: 'POST',
      headers: { Accept: 'text/event-stream', 'Content-Type': 'application/json', ...currentAuthHeaders() },
      body: JSON.stringify(req),
      credentials: 'same-origin',
      signal,
    })
  } catch (err) {
    if (signal?.aborted) return
    throw new ApiError(0, ClientErrorCode.Network, `cannot reach the server: ${err instanceof Error ? err.message : String(err)}`)
  }
  if (!res.ok) throw await errorFromResponse(res)
  if (!res.body) throw new ApiError(res.status, ClientErrorCode.BadResponse, 'the search answered without a stream')
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader()
  let buf = ''
  try {
    for (;;) {
      const { value, done } = await reader.read()
      if (done) break
      const parsed = parseEvents(buf + value)
      buf = parsed.rest
      parsed.events.forEach(onEvent)
    }
  } catch (err) {
    if (signal?.aborted) return
    throw new ApiError(0, ClientErrorCode.Network, `the search stream broke: ${err instanceof Error ? err.message : String(err)}`)
  }
}

export type RedriveRequest = Omit<Schemas['RedriveRequest'], 'cluster' | 'topic'>
export type RedriveResult = Schemas['RedriveResult']

/** Exports the selection as JSON lines (masked, payloads whole) and returns the file's text. */
export async function exportMessages(cluster: string, topic: string, req: SearchRequest, signal?: AbortSignal): Promise<Blob> {
  const path = `/api/v1/clusters/${encodeURIComponent(cluster)}/topics/${encodeURIComponent(topic)}/messages/export`
  let res: Response
  try {
    res = await globalThis.fetch(path, {
      method: 'POST',
      headers: { Accept: 'application/x-ndjson', 'Content-Type': 'application/json', ...currentAuthHeaders() },
      body: JSON.stringify(req),
      credentials: 'same-origin',
      signal,
    })
  } catch (err) {
    throw new ApiError(0, ClientErrorCode.Network, `cannot reach the server: ${err instanceof Error ? err.message : String(err)}`)
  }
  if (!res.ok) throw await errorFromResponse(res)
  return await res.blob()
}
