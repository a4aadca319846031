// One function per API endpoint the pages use. Paths are built here only, with every segment encoded.
import { api, type ApiClient, type RequestOptions } from './client'
import type {
  ActiveAlert,
  AlertChannel,
  AlertChannelInput,
  AlertEvent,
  AlertRule,
  AlertRuleInput,
  AlterConfigsRequest,
  AuditEntry,
  Broker,
  BrokerSeries,
  CancelResult,
  ChannelTestResult,
  ClusterSeries,
  ClusterSummary,
  CreateRuntimeClusterRequest,
  CreateTopicRequest,
  ElectionResult,
  ElectionScope,
  ExecuteRequest,
  ExecuteResult,
  GroupDetail,
  GroupLagSeries,
  GroupRow,
  ListResponse,
  LoginResult,
  Me,
  Message,
  OffsetResetRequest,
  OffsetResetResult,
  PlanRequest,
  ProduceRequest,
  ProduceResult,
  ReassignmentPlan,
  ReassignmentsView,
  RuntimeCluster,
  TopicConfig,
  TopicDetail,
  TopicRow,
  TopicSeries,
  ZkNode,
  ZkStatus,
} from './types'

const enc = encodeURIComponent
const V1 = '/api/v1'
const cl = (c: string): string => `${V1}/clusters/${enc(c)}`

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

export interface ListParams {
  search?: string
  sort?: string
  order?: 'asc' | 'desc'
  limit?: number
  offset?: number
  internal?: boolean
}

export interface SeriesParams {
  from?: number
  to?: number
  step?: 'raw' | '1m' | '5m' | '1h' | 'auto'
  topic?: string
}

export interface MessageQuery {
  partition?: number
  /** Which of offset, timestamp and tail was chosen; the server then requires its value. */
  mode?: 'tail' | 'offset' | 'timestamp'
  offset?: number
  timestamp?: number
  tail?: number
  limit?: number
}

export function createOspreyApi(client: ApiClient = api) {
  return {
    /** internal: whether the topic totals include internal topics (left out by default, as in the topics list). */
    cluster: (c: string, o?: RequestOptions, p: { internal?: boolean } = {}) =>
      client.get<ClusterSummary>(`${cl(c)}${query({ internal: p.internal || undefined })}`, o),
    brokers: (c: string, o?: RequestOptions) => client.get<ListResponse<Broker>>(`${cl(c)}/brokers`, o),
    topics: (c: string, p: ListParams = {}, o?: RequestOptions) =>
      client.get<ListResponse<TopicRow>>(`${cl(c)}/topics${query({ ...p })}`, o),
    topic: (c: string, t: string, o?: RequestOptions) => client.get<TopicDetail>(`${cl(c)}/topics/${enc(t)}`, o),
    topicConfigs: (c: string, t: string, o?: RequestOptions) =>
      client.get<ListResponse<TopicConfig>>(`${cl(c)}/topics/${enc(t)}/configs`, o),
    groups: (c: string, p: ListParams = {}, o?: RequestOptions) =>
      client.get<ListResponse<GroupRow>>(`${cl(c)}/groups${query({ ...p })}`, o),
    group: (c: string, g: string, o?: RequestOptions) => client.get<GroupDetail>(`${cl(c)}/groups/${enc(g)}`, o),

    clusterSeries: (c: string, p: SeriesParams = {}, o?: RequestOptions) =>
      client.get<ClusterSeries>(`${cl(c)}/metrics/cluster${query({ ...p })}`, o),
    topicSeries: (c: string, t: string, p: SeriesParams = {}, o?: RequestOptions) =>
      client.get<TopicSeries>(`${cl(c)}/topics/${enc(t)}/metrics${query({ ...p })}`, o),
    groupLag: (c: string, g: string, p: SeriesParams = {}, o?: RequestOptions) =>
      client.get<GroupLagSeries>(`${cl(c)}/groups/${enc(g)}/lag${query({ ...p })}`, o),
    brokerSeries: (c: string, id: number, p: SeriesParams = {}, o?: RequestOptions) =>
      client.get<BrokerSeries>(`${cl(c)}/brokers/${id}/metrics${query({ ...p })}`, o),

    createTopic: (c: string, body: CreateTopicRequest) => client.post<TopicDetail>(`${cl(c)}/topics`, body),
    deleteTopic: (c: string, t: string) => client.del<void>(`${cl(c)}/topics/${enc(t)}`),
    alterConfigs: (c: string, t: string, body: AlterConfigsRequest) =>
      client.patch<ListResponse<TopicConfig>>(`${cl(c)}/topics/${enc(t)}/configs`, body),
    addPartitions: (c: string, t: string, partitions: number) =>
      client.post<TopicDetail>(`${cl(c)}/topics/${enc(t)}/partitions`, { partitions }),
    resetOffsets: (c: string, g: string, body: OffsetResetRequest) =>
      client.post<OffsetResetResult>(`${cl(c)}/groups/${enc(g)}/offsets`, body),
    deleteGroup: (c: string, g: string) => client.del<void>(`${cl(c)}/groups/${enc(g)}`),

    messages: (c: string, t: string, q: MessageQuery, o?: RequestOptions) =>
      client.get<ListResponse<Message>>(`${cl(c)}/topics/${enc(t)}/messages${query({ ...q })}`, o),
    produce: (c: string, t: string, body: ProduceRequest) =>
      client.post<ProduceResult>(`${cl(c)}/topics/${enc(t)}/messages`, body),

    reassignments: (c: string, o?: RequestOptions) => client.get<ReassignmentsView>(`${cl(c)}/reassignments`, o),
    planReassignment: (c: string, body: PlanRequest) =>
      client.post<ReassignmentPlan>(`${cl(c)}/reassignments/plan`, body),
    executeReassignment: (c: string, plan: ReassignmentPlan, throttleBytesPerSec: number) =>
      client.post<ExecuteResult>(`${cl(c)}/reassignments`, { plan, throttleBytesPerSec } satisfies ExecuteRequest),
    cancelReassignment: (c: string) => client.del<CancelResult>(`${cl(c)}/reassignments`),
    elect: (c: string, scope: ElectionScope) => client.post<ElectionResult>(`${cl(c)}/elections`, scope),

    zkStatus: (c: string, o?: RequestOptions) => client.get<ZkStatus>(`${cl(c)}/zookeeper/status`, o),
    zkTree: (c: string, path: string, o?: RequestOptions) =>
      client.get<ZkNode>(`${cl(c)}/zookeeper/tree${query({ path })}`, o),

    me: (o?: RequestOptions) => client.get<Me>(`${V1}/auth/me`, o),
    login: (username: string, password: string) => client.post<LoginResult>(`${V1}/auth/login`, { username, password }),
    logout: () => client.post<void>(`${V1}/auth/logout`),
    audit: (p: { limit?: number; offset?: number; cluster?: string; actor?: string; action?: string }, o?: RequestOptions) =>
      client.get<ListResponse<AuditEntry>>(`${V1}/audit${query({ ...p })}`, o),

    alertRules: (o?: RequestOptions) => client.get<ListResponse<AlertRule>>(`${V1}/alerts/rules`, o),
    createAlertRule: (r: AlertRuleInput) => client.post<AlertRule>(`${V1}/alerts/rules`, r),
    updateAlertRule: (id: number, r: AlertRuleInput) => client.put<AlertRule>(`${V1}/alerts/rules/${id}`, r),
    deleteAlertRule: (id: number) => client.del<void>(`${V1}/alerts/rules/${id}`),
    alertChannels: (o?: RequestOptions) => client.get<ListResponse<AlertChannel>>(`${V1}/alerts/channels`, o),
    createAlertChannel: (ch: AlertChannelInput) => client.post<AlertChannel>(`${V1}/alerts/channels`, ch),
    updateAlertChannel: (id: number, ch: AlertChannelInput) => client.put<AlertChannel>(`${V1}/alerts/channels/${id}`, ch),
    deleteAlertChannel: (id: number) => client.del<void>(`${V1}/alerts/channels/${id}`),
    testAlertChannel: (id: number) =>
      client.post<ChannelTestResult>(`${V1}/alerts/channels/${id}/test`),
    alertEvents: (p: { limit?: number; offset?: number } = {}, o?: RequestOptions) =>
      client.get<ListResponse<AlertEvent>>(`${V1}/alerts/events${query({ ...p })}`, o),
    activeAlerts: (o?: RequestOptions) => client.get<ListResponse<ActiveAlert>>(`${V1}/alerts/active`, o),

    runtimeClusters: (o?: RequestOptions) => client.get<ListResponse<RuntimeCluster>>(`${V1}/runtime/clusters`, o),
    createRuntimeCluster: (body: CreateRuntimeClusterRequest) => client.post<RuntimeCluster>(`${V1}/runtime/clusters`, body),
    deleteRuntimeCluster: (name: string) => client.del<void>(`${V1}/runtime/clusters/${enc(name)}`),
    brokerAction: (name: string, id: number, action: 'start' | 'stop' | 'kill' | 'restart') =>
      client.post<RuntimeCluster>(`${V1}/runtime/clusters/${enc(name)}/brokers/${id}/${action}`),
  }
}

export type OspreyApi = ReturnType<typeof createOspreyApi>

/** The API the app uses. */
export const osprey = createOspreyApi()
