// Package admin is Osprey's access to one monitored Kafka cluster.
//
// A Client owns two long-lived connection pools for its cluster:
//
//   - a kafka-go Transport (shared by a kafka.Client) for the management calls
//     kafka-go implements well: CreateTopics, DeleteTopics, CreatePartitions,
//     DescribeConfigs, IncrementalAlterConfigs, AlterPartitionReassignments,
//     ListPartitionReassignments, ElectLeaders;
//   - its own per-broker pool of raw connections speaking requests encoded with
//     franz-go's kmsg, for what kafka-go lacks (DescribeLogDirs, DescribeCluster,
//     DeleteRecords, DescribeQuorum), for the collector's hot path and for reading
//     messages (a Fetch must reach the partition's current leader, which
//     kafka-go's cached metadata may not know yet for a new partition).
//
// The hot path (Metadata, ListOffsets, ListGroups, FindCoordinator,
// DescribeGroups, OffsetFetch) is raw because kafka-go splits ListOffsets into
// one request per partition and timestamp and DescribeGroups into one request
// per group, and its OffsetFetch takes one group; at 100,000 partitions and
// 5,000 groups that is hundreds of thousands of requests per poll. Here
// ListOffsets is batched per leader broker, FindCoordinator is batched (v4
// CoordinatorKeys), DescribeGroups per coordinator and OffsetFetch carries many
// groups per request (v8+) per coordinator, so requests per cycle grow with
// brokers and coordinators, not with partitions or groups.
//
// Every call takes a context; a per-call timeout from Config applies when the
// context has no earlier deadline. Stats counts requests per API key.
// The client never logs passwords.
//
// ZooKeeper-mode clusters can also be read through ZooKeeper (ZK): brokers,
// controller, topic assignments, partition states and pending admin nodes.
package admin
