// Shapes of the Osprey API's JSON under the names the pages use. Server types are aliases of the
// schemas generated from the console's OpenAPI document (schema.d.ts, from openapi.json; `make gen-api`
// writes both and `make lint` fails when they are stale), so they cannot drift from what the server
// sends; the /api/v1/events stream's payloads are in the document too (EventData). The interfaces
// still written here are the UI's own (chart input, lists of choices, the generic list shape); each
// says so.
import type { components } from './schema'

type Schemas = components['schemas']

export type { ClusterSummary, InternalShare, ListResponse } from './clusters'

export type Broker = Schemas['BrokerRow']
export type TopicRow = Schemas['TopicRow']
export type Partition = Schemas['PartitionRow']
export type TopicConsumer = Schemas['TopicConsumer']
export type TopicDetail = Schemas['TopicDetail']
export type TopicCleaner = Schemas['TopicCleaner']
export type TopicConfig = Schemas['TopicConfig']
export type GroupRow = Schemas['GroupRow']
export type GroupMember = Schemas['GroupMember']
export type GroupPartitionLag = Schemas['GroupPartitionRow']
export type GroupTopic = Schemas['GroupTopicRow']

/** Burrow-style window status of a group (alert evaluator): OK, WARN or ERR; partitions OK/WARN/STALL/STOP/REWIND. */
export type GroupStatus = Schemas['GroupStatus']
export type GroupDetail = Schemas['GroupDetail']
export type ShareGroupState = Schemas['ShareGroupState']
export type SharePartition = Schemas['SharePartition']
/** When a group reaches the log end: the estimate, its range and the rates it comes from. */
export type CatchUp = Schemas['CatchUp']

export type Timeline = Schemas['Timeline']
export type AvailabilityEvent = Schemas['AvailabilityEvent']
export type FlappingPartition = Schemas['FlappingPartition']
export type Housekeeping = Schemas['Housekeeping']
export type HousekeepingTopic = Schemas['HousekeepingTopic']
export type HousekeepingGroup = Schemas['HousekeepingGroup']
export type CleanupItem = Schemas['CleanupItem']
export type CleanupResult = Schemas['CleanupResult']
export type StorageView = Schemas['StorageView']
export type StorageDir = Schemas['StorageDir']
export type StorageTopic = Schemas['StorageTopic']
export type TopicProducers = Schemas['TopicProducers']
export type PartitionProducers = Schemas['PartitionProducers']
export type ProducerRow = Schemas['ProducerRow']
export type TransactionsView = Schemas['TransactionsView']
export type TransactionRow = Schemas['TransactionRow']
export type AbortTransactionRequest = Schemas['AbortTransactionRequest']
export type ACLBinding = Schemas['ACLBinding']
export type ACLList = Schemas['ACLList']
export type ACLDecision = Schemas['ACLDecision']
export type ScramUserRow = Schemas['ScramUserRow']
export type ScramUpsertRequest = Schemas['ScramUpsertInput']
export type ScramUpsertResult = Schemas['ScramUpsertResult']
export type QuotaRow = Schemas['QuotaRow']
export type QuotaUsage = Schemas['QuotaUsage']
export type Quotas = Schemas['Quotas']
export type AlterQuotasRequest = Schemas['AlterQuotasInput']

export type ClusterSeries = Schemas['ClusterMetricsSeries']
export type TopicSeries = Schemas['TopicMetricsSeries']
export type GroupLagSeries = Schemas['GroupLagSeries']
export type BrokerSeries = Schemas['BrokerMetricsSeries']

/** UI-side: what a chart draws, any of the series above (a figure left out of a point is unknown). */
export interface SeriesPoint {
  /** Unix seconds. */
  ts: number
  values: Record<string, number | null | undefined>
}

/** UI-side: the chart input every series answer is. */
export interface Series {
  step: number
  /** The window asked for, Unix seconds: a chart's axis spans it, whatever part has points. */
  from?: number
  to?: number
  items: SeriesPoint[]
}

export type OffsetChange = Schemas['OffsetChange']
export type ResetStrategy = OffsetResetRequest['strategy']
export type OffsetResetRequest = Schemas['OffsetResetRequest']
export type OffsetResetResult = Schemas['OffsetResetResult']
export type CreateTopicRequest = Schemas['CreateTopicRequest']
export type EncodedValue = Schemas['Payload']
export type Message = Schemas['MessageView']
export type ProduceRequest = Schemas['ProduceRequest']
export type PlannedPartition = Schemas['PlannedPartition']
export type ReassignmentPlan = Schemas['ReassignmentPlan']
export type ExecuteResult = Schemas['ExecuteResult']
export type OngoingReassignment = Schemas['OngoingReassignment']
export type ReassignmentRecord = Schemas['ReassignmentRecord']
export type ReassignmentsView = Schemas['ReassignmentsView']

/** A `reassignment` event of the SSE stream: sent when the server records the change. */
export type ReassignmentEvent = Schemas['ReassignmentEvent']

export type ElectionScope = Schemas['ElectionRequest']
export type PlanRequest = Schemas['PlanRequest']
export type ExecuteRequest = Schemas['ExecuteRequest']
export type CancelResult = Schemas['CancelResult']
export type AlterConfigsRequest = Schemas['AlterConfigsRequest']
export type ProduceResult = Schemas['ProduceResult']
export type ZkStatus = Schemas['ZooKeeperStatus']
export type Quorum = Schemas['QuorumView']
export type QuorumReplica = Schemas['QuorumReplicaView']
export type QuorumHistory = Schemas['QuorumHistoryView']
export type ChannelTestResult = Schemas['ChannelTestResult']
export type ElectionResult = Schemas['ElectionResult']
export type Me = Schemas['CurrentUser']
export type LoginResult = Schemas['LoginSession']
export type AuditEntry = Schemas['AuditRow']
export type RoleGrant = Schemas['RoleGrant']
export type NewGrant = Schemas['NewGrant']
export type ZkServer = Schemas['ZooKeeperServer']
export type ZkNode = Schemas['ZNodeView']

export type AlertKind = Schemas['AlertKind']
export type Severity = Schemas['AlertSeverity']
export type ChannelType = Schemas['AlertChannelType']
export type AlertRuleInput = Schemas['AlertRuleInput']
export type AlertRule = Schemas['AlertRule']
export type AlertChannelInput = Schemas['AlertChannelInput']
export type AlertChannel = Schemas['AlertChannel']
export type ActiveAlert = Schemas['ActiveAlert']
export type AlertEvent = Schemas['AlertEvent']

// UI-side: the order the forms offer the choices in. `satisfies Record<…>` fails the build when
// the server adds or drops a kind or channel type.
const alertKinds = {
  lag_messages: 0,
  lag_seconds: 1,
  lag_status: 2,
  group_inactive: 3,
  broker_down: 4,
  under_replicated: 5,
  offline_partitions: 6,
  under_min_isr: 7,
  controller_changed: 8,
  zookeeper_down: 9,
  topic_rate_zero: 10,
  catchup_time: 11,
  lag_growing: 12,
  isr_flapping: 13,
  quorum_no_leader: 14,
  quorum_voter_lag_records: 15,
  quorum_voter_lag_seconds: 16,
  quorum_at_risk: 17,
  broker_fenced: 18,
  quorum_leader_flapping: 19,
  disk_full_days: 20,
  lso_stuck_seconds: 21,
  transaction_hanging: 22,
  cleaner_dirty_percent: 23,
  auth_failures_per_minute: 24,
  principal_throttled: 25,
  group_reconciling_stuck: 26,
  share_archived_growing: 27,
  cluster_unreachable: 28,
} satisfies Record<AlertKind, number>
export const ALERT_KINDS = Object.keys(alertKinds) as AlertKind[]

const channelTypes = { webhook: 0, slack: 1, dingtalk: 2, wecom: 3, feishu: 4, email: 5 } satisfies Record<ChannelType, number>
export const CHANNEL_TYPES = Object.keys(channelTypes) as ChannelType[]

export type RuntimeBroker = Schemas['RuntimeBroker']
export type RuntimeCluster = Schemas['RuntimeView']
export type CreateRuntimeClusterRequest = Schemas['RuntimeRequest']

/** Payload of the SSE `snapshot` event. */
export type SnapshotEvent = Schemas['SnapshotEvent']
