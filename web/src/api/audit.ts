// The audit log's CSV export: a file download that still needs the caller's token or session, so it
// goes through fetch rather than a plain link.
import { ApiError, ClientErrorCode, currentAuthHeaders, errorFromResponse } from './client'

/** The filters the audit listing and its export share; empty values match everything. */
export interface AuditFilters {
  cluster?: string
  actor?: string
  action?: string
  method?: '' | 'token' | 'local' | 'ldap' | 'oidc'
  remoteAddr?: string
  /** RFC 3339 */
  since?: string
  /** RFC 3339 */
  until?: string
}

/** Only the filters that are set, as query parameters. */
export function auditQuery(f: AuditFilters): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(f)) if (typeof v === 'string' && v !== '') out[k] = v
  return out
}

/** Downloads the entries the filters select as CSV. */
export async function exportAuditCSV(f: AuditFilters, signal?: AbortSignal): Promise<Blob> {
  const qs = new URLSearchParams(auditQuery(f)).toString()
  let res: Response
  try {
    res = await globalThis.fetch(`/api/v1/audit.csv${qs ? `?${qs}` : ''}`, {
      headers: { Accept: 'text/csv', ...currentAuthHeaders() },
      credentials: 'same-origin',
      signal,
    })
  } catch (err) {
    throw new ApiError(0, ClientErrorCode.Network, `cannot reach the server: ${err instanceof Error ? err.message : String(err)}`)
  }
  if (!res.ok) throw await errorFromResponse(res)
  return await res.blob()
}
