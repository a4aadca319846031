// Calls typed by the API's OpenAPI document (schema.d.ts, generated from openapi.json): a call names
// the document's path template and method, and its path parameters, query, request body and answer
// take their types from that operation. A path, parameter or field the server renames or drops
// fails the build instead of a page.
import type { ApiClient, RequestOptions } from './client'
import type { paths } from './schema'

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete'

/** The document's paths that have an operation for method M. */
export type PathWith<M extends Method> = {
  [P in keyof paths]: paths[P][M] extends { responses: unknown } ? P : never
}[keyof paths]

type Operation<P extends keyof paths, M extends Method> = paths[P][M]
type Json<R> = R extends { content: { 'application/json': infer J } } ? J : never

/** The JSON answer of M on P (void for 204 No Content). */
export type Answer<P extends keyof paths, M extends Method> =
  Operation<P, M> extends { responses: infer R }
    ? 200 extends keyof R
      ? Json<R[200]>
      : 201 extends keyof R
        ? Json<R[201]>
        : 202 extends keyof R
          ? Json<R[202]>
          : void
    : never

/** The JSON request body M on P takes. */
export type Body<P extends keyof paths, M extends Method> =
  Operation<P, M> extends { requestBody?: infer B } ? Json<NonNullable<B>> : never

type ParamsIn<P extends keyof paths, M extends Method, In extends 'path' | 'query'> =
  Operation<P, M> extends { parameters: { [K in In]?: infer X } } ? ([NonNullable<X>] extends [never] ? Record<string, never> : NonNullable<X>) : never

/** The path parameters of M on P ({} when it has none). */
export type PathParams<P extends keyof paths, M extends Method> = ParamsIn<P, M, 'path'>
/** The query parameters M on P documents ({} when none). A query string is text, so a parameter
 * documented as a string (a time as RFC 3339 or Unix seconds) also takes a number, written in digits. */
export type Query<P extends keyof paths, M extends Method> = Loose<ParamsIn<P, M, 'query'>>
type Loose<Q> = { [K in keyof Q]: Q[K] | (string extends NonNullable<Q[K]> ? number : never) }

/** Fills a path template's {name} segments, each encoded. */
export function fillPath(template: string, params: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const v = params[name]
    if (v === undefined) throw new Error(`fillPath: no value for {${name}} in ${template}`)
    return encodeURIComponent(String(v))
  })
}

/** Builds "?a=1&b=2" from the defined, non-empty values. */
export function query(params: Record<string, string | number | boolean | undefined | null>): string {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '') continue
    q.set(k, String(v))
  }
  const s = q.toString()
  return s ? `?${s}` : ''
}

type QueryArg = Record<string, string | number | boolean | undefined | null>

/** Calls checked against the document, made with client (its errors, deadline and credentials). */
export function typedCalls(client: ApiClient) {
  const url = (p: string, params: object, q?: object): string =>
    fillPath(p, params as Record<string, string | number>) + (q ? query(q as QueryArg) : '')
  return {
    get: <P extends PathWith<'get'>>(p: P, params: PathParams<P, 'get'>, q?: Query<P, 'get'>, o?: RequestOptions) =>
      client.get<Answer<P, 'get'>>(url(p, params, q), o),
    post: <P extends PathWith<'post'>>(p: P, params: PathParams<P, 'post'>, body?: Body<P, 'post'>, o?: RequestOptions) =>
      client.post<Answer<P, 'post'>>(url(p, params), body, o),
    put: <P extends PathWith<'put'>>(p: P, params: PathParams<P, 'put'>, body: Body<P, 'put'>, o?: RequestOptions) =>
      client.put<Answer<P, 'put'>>(url(p, params), body, o),
    patch: <P extends PathWith<'patch'>>(p: P, params: PathParams<P, 'patch'>, body: Body<P, 'patch'>, o?: RequestOptions) =>
      client.patch<Answer<P, 'patch'>>(url(p, params), body, o),
    del: <P extends PathWith<'delete'>>(p: P, params: PathParams<P, 'delete'>, o?: RequestOptions) =>
      client.del<Answer<P, 'delete'>>(url(p, params), o),
  }
}
