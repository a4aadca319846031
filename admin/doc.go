// Package admin is Osprey's access to one monitored Kafka cluster.
//
// Every request goes through one stack: franz-go's kmsg encodes and decodes
// the messages, and a Client owns a per-broker pool of raw connections
// (TLS, ApiVersions, SASL through franz-go's mechanisms) that carries them.
// A request goes where Kafka wants it, to a broker chosen for the call:
//
//   - any broker (the last one that answered first) for Metadata,
//     DescribeCluster, FindCoordinator, DescribeQuorum and the collector's
//     config reads;
//   - one particular broker for its own configs, log dirs and groups, the
//     partition leader for Fetch, ListOffsets and DeleteRecords, a group's
//     coordinator for DescribeGroups, OffsetFetch, OffsetCommit and
//     DeleteGroups;
//   - the controller for CreateTopics, DeleteTopics, CreatePartitions, the
//     reassignment calls, ElectLeaders and the topic config calls, named by a
//     Metadata request made for the call: metadata cached for a while would,
//     after a new partition or a controller failover, name no leader or the
//     old controller for as long as it is kept.
//
// ProduceMessage alone uses franz-go's kgo client, short-lived, for its
// idempotent producer; its requests count in Stats like the pool's.
//
// The hot path (Metadata, ListOffsets, ListGroups, FindCoordinator,
// DescribeGroups, OffsetFetch) is batched: ListOffsets per leader broker,
// FindCoordinator in one request (v4 CoordinatorKeys), DescribeGroups per
// coordinator and OffsetFetch with many groups per request (v8+) per
// coordinator, so requests per cycle grow with brokers and coordinators, not
// with partitions or groups (100,000 partitions and 5,000 groups would
// otherwise be hundreds of thousands of requests per poll).
//
// Every call takes a context; a per-call timeout from Config applies when the
// context has no earlier deadline. A pooled connection the broker has closed
// is retried once on a fresh one. Stats counts requests per API key.
// The client never logs passwords.
//
// Errors: a Kafka error code comes back as a *KafkaError (compare it with
// franz-go's kerr values by name); a call that got no answer fails with a
// wrapped net, io or context error, ErrClosed or ErrUnsupported. No client
// library's error type reaches admin's callers.
//
// segmentio/kafka-go is not used here: it is the demo traffic's client
// (cmd/osprey), so Osprey's own runtime also serves a client other than the
// console's.
//
// ZooKeeper-mode clusters can also be read through ZooKeeper (ZK): brokers,
// controller, topic assignments, partition states and pending admin nodes.
package admin
