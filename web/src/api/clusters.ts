// The clusters resource: GET /api/v1/clusters.
import { api, ApiError, ClientErrorCode, type ApiClient, type RequestOptions } from './client'

/**
 * One configured cluster. The overview figures come from the collector and are null or
 * absent until it has polled the cluster at least once.
 */
export interface ClusterSummary {
  name: string
  bootstrapServers: string[]
  /** ZooKeeper connect string; "" for KRaft clusters and clusters configured without one. */
  zookeeper: string
  /** True for the cluster osprey runs itself. */
  embedded: boolean
  brokers?: number | null
  topics?: number | null
  partitions?: number | null
  underReplicated?: number | null
  offline?: number | null
  controller?: number | null
  /** RFC 3339 time of the collector's last successful poll. */
  lastPoll?: string | null
}

export interface ListResponse<T> {
  items: T[]
  total: number
}

export async function listClusters(
  opts?: RequestOptions,
  client: ApiClient = api,
): Promise<ListResponse<ClusterSummary>> {
  const body = await client.get<Partial<ListResponse<ClusterSummary>> | null>('/api/v1/clusters', opts)
  // Guard the one shape the page depends on, so a wrong body is an error message, not a blank table.
  if (!body || !Array.isArray(body.items)) {
    throw new ApiError(200, ClientErrorCode.BadResponse, 'unexpected response from /api/v1/clusters: no "items" list')
  }
  return { items: body.items, total: typeof body.total === 'number' ? body.total : body.items.length }
}
