// The clusters resource: GET /api/v1/clusters.
import { api, ApiError, ClientErrorCode, type ApiClient, type RequestOptions } from './client'

import type { components } from './schema'

/**
 * One configured cluster. The overview figures come from the collector and are null until it has
 * polled the cluster at least once.
 */
export type ClusterSummary = components['schemas']['ClusterSummary']

/** The internal topics' (__consumer_offsets, …) part of a cluster's topic figures. */
export type InternalShare = components['schemas']['TopicSums']

/** The API's shape for every collection; the document names one per item type (TopicRowList…),
 * all of this shape, so the pages keep one generic name. */
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
