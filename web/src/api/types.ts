// Shapes of the Osprey API's JSON (server/*.go, server/service/*.go, alert/*.go), camelCase as sent.
export type { ClusterSummary, ListResponse } from './clusters'

export interface Broker {
  id: number
  host: string
  port: number
  rack: string
  controller: boolean
  up: boolean
  error?: string
  /** Not up yet, still registering: not counted as down. */
  starting?: boolean
  leaders: number
  replicas: number
  /** null when unknown (the broker is down or did not answer). */
  logDirBytes: number | null
  msgsPerSec: number
  bytesInPerSec: number
}

export interface TopicRow {
  name: string
  internal: boolean
  partitions: number
  replicationFactor: number
  underReplicated: number
  offline: number
  underMinIsr: number
  /** Partitions still electing leaders (new topic or cluster): not in the counts above. */
  starting?: number
  minIsr: number
  brokerSpread: number
  brokerSkew: number
  leaderSkew: number
  preferredLeader: number
  messages: number
  /** null when no replica's size is known. */
  sizeBytes: number | null
  msgsPerSec: number
  bytesPerSec: number
  error?: string
}

export interface Partition {
  partition: number
  leader: number
  leaderEpoch: number
  replicas: number[]
  isr: number[]
  offline: boolean
  underReplicated: boolean
  underMinIsr: boolean
  preferredLeader: boolean
  /** Degraded but never healthy yet, within the starting grace: leaders being elected. */
  starting?: boolean
  /** Offsets and size are null when unknown (leader down). */
  startOffset: number | null
  endOffset: number | null
  sizeBytes: number | null
}

export interface TopicConsumer {
  group: string
  state: string
  /** null when none of the group's partition lags on the topic is known. */
  lag: number | null
  lagSeconds: number
}

export interface TopicDetail extends TopicRow {
  brokers: number[]
  partitionList: Partition[]
  consumers: TopicConsumer[]
}

export interface TopicConfig {
  name: string
  value: string
  default: boolean
  readOnly: boolean
  sensitive: boolean
  source: string
}

export interface GroupRow {
  name: string
  state: string
  protocolType: string
  protocol: string
  coordinator: number
  members: number
  topics: number
  /** Sum of the known partition lags; null when none is known. */
  lag: number | null
  lagSeconds: number
  /** Burrow-style window status (OK, WARN, ERR); absent until enough polls were seen. */
  status?: string
  error?: string
}

export interface GroupMember {
  id: string
  clientId: string
  clientHost: string
  assignment: { topic: string; partitions: number[] }[]
}

export interface GroupPartitionLag {
  partition: number
  committed: number
  /** End offset and lag are null when the partition's end offset is unknown. */
  end: number | null
  lag: number | null
  lagSeconds: number
  member?: string
}

export interface GroupTopic {
  topic: string
  /** Sum of the known partition lags; null when none is known. */
  lag: number | null
  lagSeconds: number
  committedSum: number
  partitions: GroupPartitionLag[]
}

/** Burrow-style window status of a group (alert evaluator): OK, WARN or ERR; partitions OK/WARN/STALL/STOP/REWIND. */
export interface GroupStatus {
  cluster: string
  group: string
  status: string
  worst: string
  window: number
  complete: boolean
  partitions: { topic: string; partition: number; status: string; lag: number; samples: number }[]
}

export interface GroupDetail extends Omit<GroupRow, 'status'> {
  memberList: GroupMember[]
  topicList: GroupTopic[]
  polledAt: string
  /** Absent until the evaluator has seen enough polls. */
  status?: GroupStatus | null
  /** Executing an offset reset would be refused (members, or a state other than Empty/Dead): the server's rule. */
  active: boolean
}

export interface SeriesPoint {
  /** Unix seconds. */
  ts: number
  values: Record<string, number>
}

export interface Series {
  step: number
  /** The window asked for, Unix seconds: a chart's axis spans it, whatever part has points. */
  from?: number
  to?: number
  items: SeriesPoint[]
}

export interface OffsetChange {
  topic: string
  partition: number
  before: number
  after: number
  error?: string
}

export type ResetStrategy = 'earliest' | 'latest' | 'offset' | 'timestamp' | 'shift'

export interface OffsetResetRequest {
  topic?: string
  partitions?: number[]
  strategy: ResetStrategy
  offset?: number
  timestamp?: number
  shift?: number
  dryRun?: boolean
}

export interface OffsetResetResult {
  dryRun: boolean
  items: OffsetChange[]
  total: number
}

export interface CreateTopicRequest {
  name: string
  partitions: number
  replicationFactor: number
  configs: Record<string, string>
}

export interface EncodedValue {
  format: 'text' | 'json' | 'hex' | 'null' | string
  data: string
}

export interface Message {
  partition: number
  offset: number
  timestamp: string
  key: EncodedValue
  value: EncodedValue
  headers: { key: string; value: EncodedValue }[]
  size: number
  truncated: boolean
}

export interface ProduceRequest {
  partition?: number
  key?: string
  value: string
  headers?: Record<string, string>
}

export interface PlannedPartition {
  topic: string
  partition: number
  before: number[]
  after: number[]
  moved: number
}

export interface ReassignmentPlan {
  cluster: string
  topics: string[]
  brokers: number[]
  replicationFactor: number
  snapshotSequence: number
  partitions: PlannedPartition[]
  movedReplicas: number
  changedPartitions: number
  rackAware: boolean
  warnings?: string[]
}

export interface ExecuteResult {
  id: number
  partitions: { topic: string; partition: number; before: number[]; replicas: number[]; error?: string }[]
  started: number
  failed: number
  throttleBytesPerSec: number
  warnings?: string[]
}

export interface OngoingReassignment {
  topic: string
  partition: number
  replicas: number[]
  target: number[]
  adding: number[]
  removing: number[]
  isr: number[]
  inSync: number
  total: number
  progress: number
}

export interface ReassignmentRecord {
  id: number
  state: string
  actor: string
  startedAt: string
  finishedAt: string | null
  throttleBytesPerSec: number
  error?: string
  partitions: { topic: string; partition: number; before: number[]; after: number[] }[]
}

export interface ReassignmentsView {
  items: OngoingReassignment[]
  total: number
  history: ReassignmentRecord[]
}

/** A `reassignment` event of the SSE stream: sent when the server records the change. */
export interface ReassignmentEvent {
  cluster: string
  /** The recorded reassignment; 0 when the console runs without a database. */
  id: number
  kind: 'started' | 'progress' | 'completed' | 'cancelled' | 'failed'
  state: string
  /** Partitions not yet on their target replicas, of total (progress events). */
  remaining: number
  total: number
  at: string
  error?: string
}

export interface ElectionScope {
  topic?: string
  partitions?: { topic: string; partition: number }[]
}

export interface ElectionResult {
  items: {
    topic: string
    partition: number
    leaderBefore: number
    preferredLeader: number
    leaderAfter: number
    result: 'elected' | 'not_needed' | 'pending' | 'error'
    error?: string
  }[]
  total: number
  /** Partitions whose leader the metadata read after the election shows moved to the preferred replica. */
  elected: number
  notNeeded: number
  /** Accepted by the controller, but the metadata did not show the new leader before the wait ended. */
  pending: number
  failed: number
  topics: {
    topic: string
    leaderSkewBefore: number
    preferredLeaderBefore: number
    leaderSkewAfter: number
    preferredLeaderAfter: number
  }[]
}

export interface Me {
  name: string
  kind: string
  role: string
  readOnly: boolean
  loginEnabled: boolean
}

export interface LoginResult {
  user: string
  role: string
  csrfToken: string
  expires: string
}

export interface AuditEntry {
  id: number
  at: string
  actor: string
  actorKind: string
  remoteAddr: string
  action: string
  cluster: string
  target: string
  params: string
  result: string
  error: string
}

export interface ZkServer {
  server: string
  ok: boolean
  mode: string
  version: string
  latencyAvg: number
  connections: number
  outstanding: number
  nodeCount: number
  zxid: string
  error?: string
}

export interface ZkNode {
  path: string
  data: EncodedValue
  stat: { version: number; numChildren: number; ephemeralOwner: number | string; mtime: string | number }
  children: string[]
}

export type AlertKind =
  | 'lag_messages'
  | 'lag_seconds'
  | 'lag_status'
  | 'group_inactive'
  | 'broker_down'
  | 'under_replicated'
  | 'offline_partitions'
  | 'under_min_isr'
  | 'controller_changed'
  | 'zookeeper_down'
  | 'topic_rate_zero'

export const ALERT_KINDS: AlertKind[] = [
  'lag_messages',
  'lag_seconds',
  'lag_status',
  'group_inactive',
  'broker_down',
  'under_replicated',
  'offline_partitions',
  'under_min_isr',
  'controller_changed',
  'zookeeper_down',
  'topic_rate_zero',
]

export type Severity = 'info' | 'warning' | 'critical'

export interface AlertRuleInput {
  name: string
  kind: AlertKind
  cluster: string
  group: string
  topic: string
  threshold: number
  windowSamples: number
  forSeconds: number
  cooldownSeconds: number
  repeatSeconds: number
  severity: Severity
  channelIds: number[]
  enabled: boolean
}

export interface AlertRule extends AlertRuleInput {
  id: number
  createdAt: string
  updatedAt: string
}

export type ChannelType = 'webhook' | 'slack' | 'dingtalk' | 'wecom' | 'feishu' | 'email'
export const CHANNEL_TYPES: ChannelType[] = ['webhook', 'slack', 'dingtalk', 'wecom', 'feishu', 'email']

export interface AlertChannelInput {
  name: string
  type: ChannelType
  config: Record<string, unknown>
  enabled: boolean
}

export interface AlertChannel extends AlertChannelInput {
  id: number
  createdAt: string
  updatedAt: string
}

export interface ActiveAlert {
  fingerprint: string
  ruleId: number
  ruleName: string
  kind: AlertKind
  state: 'pending' | 'firing'
  severity: Severity
  cluster: string
  subject: string
  labels: Record<string, string>
  value: number
  threshold: number
  summary: string
  /** When the condition was first seen (the hold began); the same moment as an event's startedAt. */
  activeAt: string
  /** Pending only: when the hold ends. */
  firesAt?: string
  firedAt?: string
  /** Firing but not yet notified (cool-down after the last resolution): when the notification goes out. */
  quietUntil?: string
  notifications: number
  deliveryError?: string
}

export interface AlertEvent {
  id: number
  ruleId: number
  fingerprint: string
  state: string
  severity: string
  cluster: string
  subject: string
  summary: string
  labels: Record<string, string>
  startedAt: string
  resolvedAt?: string
  notifications: number
  deliveryError?: string
}

export interface RuntimeBroker {
  id: number
  addr: string
  pid?: number
  since?: string
  state: 'running' | 'stopped' | 'killed' | 'starting' | string
  controller: boolean
}

export interface RuntimeCluster {
  name: string
  source?: string
  bootstrapServers?: string
  metadataStore: 'local' | 'zookeeper' | string
  zookeeper?: string
  brokers: RuntimeBroker[]
}

export interface CreateRuntimeClusterRequest {
  name: string
  brokers: number
  metadataStore: 'local' | 'zookeeper'
  zookeeper?: string
}

/** Payload of the SSE `snapshot` event. */
export interface SnapshotEvent {
  cluster: string
  sequence: number
  lastPoll: string
  controller: number
  partial: boolean
  totals: {
    brokers: number
    brokersUp: number
    topics: number
    partitions: number
    replicas: number
    underReplicated: number
    offline: number
    underMinIsr: number
    groups: number
    lag: number
    messages: number
    sizeBytes: number
    msgsPerSec: number
    bytesPerSec: number
  }
}
