// Package collector polls one Kafka cluster through package admin and turns
// what it sees into an immutable in-memory Snapshot (published through an
// atomic pointer; HTTP handlers and alert rules read it, never Kafka) and into
// time-series Samples handed to a Sink (the store).
//
// Lifecycle (Burrow style): New does no I/O; Start launches the poll goroutine
// and returns; Stop cancels it and waits. PollNow runs one full cycle
// synchronously (tests, benchmarks, "refresh now").
//
// A cycle sends Metadata once, ListOffsets (earliest, latest, and latest at
// read_committed for the last stable offset) once per leader broker, one OffsetFetch per coordinator for all groups,
// DescribeLogDirs per broker, and — when their intervals are due — ListGroups
// per broker, one batched FindCoordinator for every listed group and
// DescribeGroups per coordinator (GroupsInterval), one
// DescribeConfigs for min.insync.replicas and cleanup.policy (LogDirsInterval), and the ZooKeeper
// state (ZKInterval). A cluster with a CleanerSource (an Osprey runtime cluster) also has its log
// cleaners read every cycle (cleaner.go). Request counts therefore follow brokers and
// coordinators, not partitions or groups. A broker whose requests fail is
// marked down and its partitions' figures unknown (-1); the cycle goes on.
//
// Derived figures (per topic, CMAK's definitions, see derive.go): broker
// spread %, broker skew %, leader skew %, preferred-leader %, under-replicated
// and under-min-ISR counts. Rates are deltas between cycles: messages/s from
// the sum of log-end offsets, bytes/s from the leader replicas' log sizes,
// both read every cycle so the two rates cover the same interval and appear
// together from the second cycle on. Negative deltas (retention, topic
// recreation) count as zero.
//
// A partition that is offline, under-replicated or under min ISR but has not
// been healthy since the collector first saw it is starting (a new topic or
// cluster electing leaders) for up to StartingGrace; so is a broker not up yet
// that never was. Starting ones are flagged and kept out of the degraded and
// down counts (and so out of alerts) until they are healthy or the grace ends.
// Totals sum every topic; Totals.Internal is the internal topics' share, which
// the console leaves out by default (Totals.UserTopics).
//
// Lag is counted on partitions where the group has a committed offset (as
// kafka-consumer-groups.sh shows "-" elsewhere): lag = log-end − committed,
// never negative; -1 when the log end is unknown this cycle. An unknown lag is
// left out of the sums (topic, group, cluster) and of the stored series; a sum
// with no known lag in it is -1 too, and the API shows -1 as null. When a
// coordinator fails, the group keeps its last committed offsets.
//
// A group is read once, at the coordinator FindCoordinator names, even when
// two brokers list it while its coordinator moves (groups.go). An answer
// saying the coordinator moved or is still loading (NOT_COORDINATOR,
// COORDINATOR_LOAD_IN_PROGRESS, COORDINATOR_NOT_AVAILABLE) makes the cycle
// find the coordinator again and retry, a few times with a short backoff;
// only a group still unanswered after that is reported as an error.
//
// Lag in seconds: for every partition the collector keeps a ring buffer of
// the last HistoryPoints (time, log-end offset) observations, one per cycle.
// A group's lag in seconds on a partition is how long ago the log end stood at
// the group's committed offset: find the two consecutive observations whose
// end offsets bracket the committed offset and interpolate linearly between
// their times; lag seconds = now − that time. It is 0 when the lag is 0. When
// the committed offset is older than the whole window, the time is
// extrapolated backwards from the oldest observation using the window's
// average produce rate (or the oldest observation's time when nothing was
// produced in the window), so the estimate keeps growing for a stuck group.
// Right after start, with a single observation, the estimate is the time
// since that observation (0 on the first cycle): it becomes accurate as the
// window fills.
package collector
