// One function per API endpoint the pages use. Each names the document's path template (typed.ts fills
// it, every segment encoded), so its parameters, body and answer are the OpenAPI document's types.
import { api, type ApiClient, type RequestOptions } from './client'
import { query, typedCalls } from './typed'
import { auditQuery, type AuditFilters } from './audit'
import type {
  AbortTransactionRequest,
  ACLBinding,
  AlterQuotasRequest,
  ScramUpsertRequest,
  AlertChannelInput,
  AlertRuleInput,
  AlterConfigsRequest,
  CreateRuntimeClusterRequest,
  CreateTopicRequest,
  ElectionScope,
  NewGrant,
  OffsetResetRequest,
  PlanRequest,
  ProduceRequest,
  ReassignmentPlan,
} from './types'

export { query }

// The pages' parameter shapes; each call checks them against its operation's documented query.
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

export interface TimelineParams {
  from?: number
  to?: number
  flapChanges?: number
  flapMinutes?: number
  /** Events per page, newest first (the server's default 100). */
  limit?: number
  /** The previous page's next: continue with older events. */
  before?: string
}

/** The ACL list's filters (empty matches any). */
export interface ACLFilterParams {
  principal?: string
  resourceType?: ACLBinding['resourceType']
  resourceName?: string
  patternType?: ACLBinding['patternType']
}

/** "May principal do operation on the resource (from host)?" */
export interface ACLCheckParams {
  principal: string
  operation: string
  resourceType: string
  resourceName: string
  host?: string
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
  const call = typedCalls(client)
  const CL = '/api/v1/clusters/{cluster}'
  return {
    /** internal: whether the topic totals include internal topics (left out by default, as in the topics list). */
    cluster: (c: string, o?: RequestOptions, p: { internal?: boolean } = {}) =>
      call.get(CL, { cluster: c }, { internal: p.internal || undefined }, o),
    brokers: (c: string, o?: RequestOptions) => call.get(`${CL}/brokers`, { cluster: c }, {}, o),
    topics: (c: string, p: ListParams = {}, o?: RequestOptions) => call.get(`${CL}/topics`, { cluster: c }, p, o),
    topic: (c: string, t: string, o?: RequestOptions) => call.get(`${CL}/topics/{topic}`, { cluster: c, topic: t }, {}, o),
    topicConfigs: (c: string, t: string, o?: RequestOptions) =>
      call.get(`${CL}/topics/{topic}/configs`, { cluster: c, topic: t }, {}, o),
    groups: (c: string, p: ListParams = {}, o?: RequestOptions) => call.get(`${CL}/groups`, { cluster: c }, p, o),
    group: (c: string, g: string, o?: RequestOptions) => call.get(`${CL}/groups/{group}`, { cluster: c, group: g }, {}, o),

    clusterSeries: (c: string, p: SeriesParams = {}, o?: RequestOptions) =>
      call.get(`${CL}/metrics/cluster`, { cluster: c }, p, o),
    topicSeries: (c: string, t: string, p: SeriesParams = {}, o?: RequestOptions) =>
      call.get(`${CL}/topics/{topic}/metrics`, { cluster: c, topic: t }, p, o),
    groupLag: (c: string, g: string, p: SeriesParams = {}, o?: RequestOptions) =>
      call.get(`${CL}/groups/{group}/lag`, { cluster: c, group: g }, p, o),
    brokerSeries: (c: string, id: number, p: SeriesParams = {}, o?: RequestOptions) =>
      call.get(`${CL}/brokers/{id}/metrics`, { cluster: c, id }, p, o),
    topicAvailability: (c: string, t: string, p: TimelineParams = {}, o?: RequestOptions) =>
      call.get(`${CL}/topics/{topic}/availability`, { cluster: c, topic: t }, p, o),
    brokerAvailability: (c: string, id: number, p: TimelineParams = {}, o?: RequestOptions) =>
      call.get(`${CL}/brokers/{id}/availability`, { cluster: c, id }, p, o),
    housekeeping: (c: string, p: { idleDays?: number; emptyDays?: number } = {}, o?: RequestOptions) =>
      call.get(`${CL}/housekeeping`, { cluster: c }, p, o),
    cleanup: (c: string, body: { topics: string[]; groups: string[]; dryRun: boolean; token?: string }) =>
      call.post(`${CL}/housekeeping/delete`, { cluster: c }, body),
    storage: (c: string, o?: RequestOptions) => call.get(`${CL}/storage`, { cluster: c }, {}, o),
    topicProducers: (c: string, t: string, o?: RequestOptions) => call.get(`${CL}/topics/{topic}/producers`, { cluster: c, topic: t }, {}, o),
    transactions: (c: string, o?: RequestOptions) => call.get(`${CL}/transactions`, { cluster: c }, {}, o),
    abortTransaction: (c: string, body: AbortTransactionRequest) => call.post(`${CL}/transactions/abort`, { cluster: c }, body),

    acls: (c: string, f: ACLFilterParams = {}, o?: RequestOptions) => call.get(`${CL}/acls`, { cluster: c }, f, o),
    createAcls: (c: string, bindings: ACLBinding[]) => call.post(`${CL}/acls`, { cluster: c }, { bindings }),
    deleteAcl: (c: string, b: ACLBinding) => call.post(`${CL}/acls/delete`, { cluster: c }, b),
    checkAcl: (c: string, q: ACLCheckParams, o?: RequestOptions) => call.get(`${CL}/acls/check`, { cluster: c }, q, o),
    scramUsers: (c: string, o?: RequestOptions) => call.get(`${CL}/scram-users`, { cluster: c }, {}, o),
    upsertScramUser: (c: string, user: string, body: ScramUpsertRequest) => call.put(`${CL}/scram-users/{user}`, { cluster: c, user }, body),
    deleteScramUser: (c: string, user: string) => call.del(`${CL}/scram-users/{user}`, { cluster: c, user }),
    quotas: (c: string, o?: RequestOptions) => call.get(`${CL}/quotas`, { cluster: c }, {}, o),
    alterQuotas: (c: string, body: AlterQuotasRequest) => call.put(`${CL}/quotas`, { cluster: c }, body),

    createTopic: (c: string, body: CreateTopicRequest) => call.post(`${CL}/topics`, { cluster: c }, body),
    deleteTopic: (c: string, t: string) => call.del(`${CL}/topics/{topic}`, { cluster: c, topic: t }),
    alterConfigs: (c: string, t: string, body: AlterConfigsRequest) =>
      call.patch(`${CL}/topics/{topic}/configs`, { cluster: c, topic: t }, body),
    addPartitions: (c: string, t: string, partitions: number) =>
      call.post(`${CL}/topics/{topic}/partitions`, { cluster: c, topic: t }, { partitions }),
    resetOffsets: (c: string, g: string, body: OffsetResetRequest) =>
      call.post(`${CL}/groups/{group}/offsets`, { cluster: c, group: g }, body),
    deleteGroup: (c: string, g: string) => call.del(`${CL}/groups/{group}`, { cluster: c, group: g }),
    resetShareOffsets: (c: string, g: string, body: OffsetResetRequest) =>
      call.post(`${CL}/groups/{group}/share-offsets`, { cluster: c, group: g }, body),
    /** Deletes the share group's share-partitions on every topic it has. */
    deleteShareOffsets: (c: string, g: string) => call.del(`${CL}/groups/{group}/share-offsets`, { cluster: c, group: g }),

    messages: (c: string, t: string, q: MessageQuery, o?: RequestOptions) =>
      call.get(`${CL}/topics/{topic}/messages`, { cluster: c, topic: t }, q, o),
    produce: (c: string, t: string, body: ProduceRequest) =>
      call.post(`${CL}/topics/{topic}/messages`, { cluster: c, topic: t }, body),

    reassignments: (c: string, o?: RequestOptions) => call.get(`${CL}/reassignments`, { cluster: c }, {}, o),
    planReassignment: (c: string, body: PlanRequest) => call.post(`${CL}/reassignments/plan`, { cluster: c }, body),
    executeReassignment: (c: string, plan: ReassignmentPlan, throttleBytesPerSec: number) =>
      call.post(`${CL}/reassignments`, { cluster: c }, { plan, throttleBytesPerSec }),
    cancelReassignment: (c: string) => call.del(`${CL}/reassignments`, { cluster: c }),
    elect: (c: string, scope: ElectionScope) => call.post(`${CL}/elections`, { cluster: c }, scope),

    zkStatus: (c: string, o?: RequestOptions) => call.get(`${CL}/zookeeper/status`, { cluster: c }, {}, o),
    zkTree: (c: string, path: string, o?: RequestOptions) => call.get(`${CL}/zookeeper/tree`, { cluster: c }, { path }, o),
    quorum: (c: string, o?: RequestOptions) => call.get(`${CL}/quorum`, { cluster: c }, {}, o),
    quorumHistory: (c: string, p: { from?: number; to?: number } = {}, o?: RequestOptions) =>
      call.get(`${CL}/quorum/history`, { cluster: c }, { from: p.from?.toString(), to: p.to?.toString() }, o),

    me: (o?: RequestOptions) => call.get('/api/v1/auth/me', {}, {}, o),
    health: (o?: RequestOptions) => call.get('/healthz', {}, {}, o),
    login: (username: string, password: string) => call.post('/api/v1/auth/login', {}, { username, password }),
    logout: () => call.post('/api/v1/auth/logout', {}),
    logoutEverywhere: () => call.post('/api/v1/auth/logout-everywhere', {}),
    importEFAK: (content: string, dryRun: boolean) => call.post('/api/v1/import/efak', {}, { content, dryRun }),
    audit: (p: AuditFilters & { limit?: number; offset?: number }, o?: RequestOptions) =>
      call.get('/api/v1/audit', {}, { ...auditQuery(p), limit: p.limit, offset: p.offset }, o),
    roleGrants: (o?: RequestOptions) => call.get('/api/v1/role-grants', {}, {}, o),
    createRoleGrant: (g: NewGrant) => call.post('/api/v1/role-grants', {}, g),
    deleteRoleGrant: (id: number) => call.del('/api/v1/role-grants/{id}', { id }),

    alertRules: (o?: RequestOptions) => call.get('/api/v1/alerts/rules', {}, {}, o),
    createAlertRule: (r: AlertRuleInput) => call.post('/api/v1/alerts/rules', {}, r),
    updateAlertRule: (id: number, r: AlertRuleInput) => call.put('/api/v1/alerts/rules/{id}', { id }, r),
    deleteAlertRule: (id: number) => call.del('/api/v1/alerts/rules/{id}', { id }),
    alertChannels: (o?: RequestOptions) => call.get('/api/v1/alerts/channels', {}, {}, o),
    createAlertChannel: (ch: AlertChannelInput) => call.post('/api/v1/alerts/channels', {}, ch),
    updateAlertChannel: (id: number, ch: AlertChannelInput) => call.put('/api/v1/alerts/channels/{id}', { id }, ch),
    deleteAlertChannel: (id: number) => call.del('/api/v1/alerts/channels/{id}', { id }),
    testAlertChannel: (id: number) => call.post('/api/v1/alerts/channels/{id}/test', { id }),
    alertEvents: (p: { limit?: number; offset?: number } = {}, o?: RequestOptions) =>
      call.get('/api/v1/alerts/events', {}, p, o),
    activeAlerts: (o?: RequestOptions) => call.get('/api/v1/alerts/active', {}, {}, o),

    runtimeClusters: (o?: RequestOptions) => call.get('/api/v1/runtime/clusters', {}, {}, o),
    createRuntimeCluster: (body: CreateRuntimeClusterRequest) => call.post('/api/v1/runtime/clusters', {}, body),
    deleteRuntimeCluster: (name: string) => call.del('/api/v1/runtime/clusters/{name}', { name }),
    brokerAction: (name: string, id: number, action: 'start' | 'stop' | 'kill' | 'restart') =>
      call.post('/api/v1/runtime/clusters/{name}/brokers/{id}/{action}', { name, id, action }),
  }
}

export type OspreyApi = ReturnType<typeof createOspreyApi>

/** The API the app uses. */
export const osprey = createOspreyApi()
