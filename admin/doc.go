// Package admin is Osprey's access to one monitored Kafka cluster.
//
// A Client owns two long-lived connection pools for its cluster:
//
//   - a kafka-go Transport (shared by a kafka.Client) for the management calls
//     any broker or a group coordinator answers: DescribeConfigs,
//     IncrementalAlterConfigs of topics, DeleteGroups;
//   - its own per-broker pool of raw connections speaking requests encoded with
//     franz-go's kmsg, for what kafka-go lacks (DescribeLogDirs, DescribeCluster,
//     DeleteRecords, DescribeQuorum, broker configs), for the collector's hot
//     path, and for every request that must reach one particular broker right
//     now: the partition leader for Fetch, the controller for CreateTopics,
//     DeleteTopics, CreatePartitions, the reassignment calls and ElectLeaders.
//     Those go to the broker named by a Metadata request made for the call;
//     kafka-go's transport would route them by metadata cached for its TTL,
//     which after a new partition or a controller failover names no leader, or
//     the old controller, for up to that long.
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
