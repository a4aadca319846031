// The clusters resource: GET /api/v1/clusters.
import { api, ApiError, ClientErrorCode, type ApiClient, type RequestOptions } from './client'

/**
 * One configured cluster. The overview figures come from the collector and are null or
 * absent until it has polled the cluster at least once.
 */
export interface ClusterSummary {
  name: string
  /** Where the cluster comes from: "config", "embedded", … */
  source?: string
  bootstrapServers: string[]
  /** ZooKeeper connect string; "" for KRaft clusters and clusters configured without one. */
  zookeeper: string
  /** True for the cluster osprey runs itself. */
  embedded: boolean
  brokers?: number | null
  brokersUp?: number | null
  topics?: number | null
  partitions?: number | null
  underReplicated?: number | null
  offline?: number | null
  underMinIsr?: number | null
  /** Partitions of a new cluster or topic still electing leaders: not in the counts above. */
  starting?: number | null
  /** Brokers not up yet but still registering (not counted as down). */
  brokersStarting?: number | null
  groups?: number | null
  lag?: number | null
  msgsPerSec?: number | null
  bytesPerSec?: number | null
  controller?: number | null
  /** RFC 3339 time of the collector's last poll. */
  lastPoll?: string | null
  /** True when the last poll failed in part: the figures may be incomplete (see errors). */
  partial?: boolean
  /** What went wrong in the last poll, "source: message" each. */
  errors?: string[] | null
  /** Whether the topic figures (topics, partitions, their health, rates) include internal topics; by default they do not. */
  internalIncluded?: boolean
  /** The internal topics' share of the topic figures, whether or not they are included. */
  internal?: InternalShare | null
}

/** The internal topics' (__consumer_offsets, …) part of a cluster's topic figures. */
export interface InternalShare {
  topics: number
  partitions: number
  underReplicated: number
  offline: number
  underMinIsr: number
  starting: number
  messages: number
  sizeBytes: number
  msgsPerSec: number
  bytesPerSec: number
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
