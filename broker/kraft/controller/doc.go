// Package controller is the decision logic of a KRaft active controller: a
// deterministic state machine over the metadata image (broker/kraft/image)
// that, for each controller request and on each periodic Tick, returns the
// metadata records to append to the __cluster_metadata log and the Kafka
// response. It does no I/O, starts no goroutines and reads no clock: time is
// passed in. The node that runs it (broker/kraft/node) appends the records
// through the quorum and sends the response once they are committed.
//
// What it decides, as Apache Kafka's QuorumController and its managers
// (ClusterControlManager, ReplicationControlManager, PartitionChangeBuilder,
// BrokerHeartbeatManager, ConfigurationControlManager,
// ProducerIdControlManager) do, with Kafka's error codes and messages:
//   - Broker lifecycle (KIP-631): BrokerRegistration (a new incarnation gets a
//     new broker epoch and starts fenced; the same incarnation keeps its
//     epoch; a live broker with the same id and another incarnation is a
//     DUPLICATE_BROKER_REGISTRATION; unsupported finalized features are
//     UNSUPPORTED_VERSION; from 3.7-IV2 the log directories are checked),
//     BrokerHeartbeat (unfence once caught up, fence on request, controlled
//     shutdown that moves leadership off the broker before it may stop),
//     session expiry on Tick (fence, shrink ISRs, elect new leaders),
//     UnregisterBroker and ControllerRegistration (KIP-919).
//   - Topics: CreateTopics (names, '.'/'_' collisions, defaults, manual
//     assignments, configurations through Config.ValidateTopicConfig,
//     validate_only), DeleteTopics by name or id, CreatePartitions. As in
//     Kafka, a CreateTopics, CreatePartitions, ElectLeaders or
//     AlterPartitionReassignments that would write more than 10,000 records
//     is refused as a whole with POLICY_VIOLATION.
//   - Configurations: IncrementalAlterConfigs and AlterConfigs for topics and
//     brokers (a null value deletes the key).
//   - Partitions: AlterPartition from leaders (epoch fencing, ineligible
//     replicas), KIP-455 reassignments (start, complete when the targets are
//     in the ISR, cancel) and ListPartitionReassignments, ElectLeaders
//     (preferred and unclean), leader election from the ISR whenever a broker
//     goes (unclean only where unclean.leader.election.enable allows it), and
//     the automatic preferred-leader rebalance.
//   - AllocateProducerIds (blocks of 1000 recorded in ProducerIdsRecords) and
//     DescribeCluster sent to a controller (the registered controllers).
//
// Records are written at the versions Kafka writes for the image's
// metadata.version: FenceBrokerRecord / UnfenceBrokerRecord before 3.3-IV2,
// BrokerRegistrationChangeRecord from then on; RegisterBrokerRecord v0-v3,
// PartitionRecord and PartitionChangeRecord v0-v2 as MetadataVersion picks
// them; replica directories from 3.7-IV2. Every record of a call is replayed
// through an image.Delta as it is made, so a call's later decisions see its
// earlier ones and a record the image would refuse never leaves the package.
//
// Where it departs from Kafka:
//   - Broker epochs: Kafka uses the offset of the RegisterBrokerRecord, which
//     is not known before the quorum appends it. Here a new incarnation gets
//     one more than the highest epoch in the image (or handed out since
//     Activate), so epochs still only grow.
//   - Catching up: Kafka unfences a broker once its metadata offset reaches
//     its registration record's offset and lets a broker in controlled
//     shutdown stop once every active broker has replayed past it. Without
//     offsets, any reported offset (>= 0) counts as caught up, and controlled
//     shutdown ends as soon as the broker leads nothing.
//   - Re-registering the same incarnation writes a record only when the
//     registration changed (Kafka always amends); a new incarnation of a
//     broker that was still unfenced first leaves every ISR and leadership
//     (Kafka leaves them on the fenced broker until it comes back).
//   - Topic ids come from Config.Rand; replicas are placed round-robin,
//     rack-unaware, from a start offset given by the topic count (Kafka's
//     StripedReplicaPlacer is rack-aware and starts at random). CreateTopics
//     answers with the configurations given, not the broker's defaults.
//     Topics created in one request may not collide with each other.
//   - The automatic rebalance honours leader.imbalance.per.broker.percentage
//     as Osprey's ZooKeeper-mode controller does (Kafka's KRaft controller
//     ignores it), every leader.imbalance.check.interval.seconds.
//   - AlterUserScramCredentials writes user SCRAM credential records
//     (scram.go). Eligible leader replicas (KIP-966), ACLs, quotas, delegation
//     tokens, UpdateFeatures, policies and controller mutation quotas are not
//     implemented; APPEND / SUBTRACT know only the LIST topic configurations
//     cleanup.policy and the replication throttle lists; broker
//     configurations are not validated.
//   - One Tick writes at most 10,000 records; leaderless partitions and
//     finished reassignments are looked for on the first Tick after
//     Activate and every 10 s after.
package controller
