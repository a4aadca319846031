// Package broker is Osprey's Kafka-compatible broker runtime: the network
// layer (length-prefixed frames, request headers, per-connection pipelining
// with responses in request order), one handler per API key (files named
// NN_snake_name.go, registered with their version range), the partition and
// idempotent-producer state, the classic consumer-group coordinator whose
// state is kept in the __consumer_offsets topic in Apache Kafka's record
// format, Prometheus metrics, and the server.properties configuration.
//
// Requests are decoded and responses encoded with franz-go's kmsg. Record
// storage lives in the storage sub-package (file segments laid out as Kafka
// does, or memory). Handlers read the cluster layout through the
// ClusterView interface; the default Cluster is a single broker that leads
// every partition, and WithCluster plugs a controller-fed one in. With
// WithMetaStore (or zookeeper.connect) the broker joins a multi-broker
// cluster whose metadata lives in Apache Kafka's ZooKeeper-mode layout
// (zkcluster.go): the brokers elect a controller (controller.go), replicate
// from their leaders and keep the ISR and high watermark (replica.go).
//
// Files:
//   - conn.go, request.go: the per-connection reader and writer goroutines,
//     response ordering; frames and headers are broker/kafkawire's (shared
//     with the quorum's listener in broker/quorum/raftnet).
//   - registry.go and NN_*.go: the handlers; the registry answers ApiVersions.
//   - cluster.go, partitions.go, partition.go: cluster layout, hosted
//     replicas, produce path with idempotence checks.
//   - groups.go, offsets_topic.go: group coordinator and its persistence.
//   - config.go, topicconfig.go, configs.go: broker and topic configuration.
//   - logstore.go, metrics.go, broker.go: storage managers, metrics, lifecycle.
//   - zkcluster*.go, cluster_config.go: the metastore-backed Cluster (broker
//     registration and sessions; _watch: the watches; _cache: the watched
//     metadata cache; _topics: topic admin writes and the leader's ISR
//     writes; _admin: elections, reassignments, dynamic broker configs);
//     controller.go: the controller's passes (leaders of partitions whose
//     leader died, ISR cleanup, topic deletion); controller_elect.go:
//     preferred, unclean and automatic leader elections;
//     controller_reassign.go: reassignments; replica.go: the leader's
//     follower state, HW, acks=all; replication.go: ISR changes;
//     replica_fetcher.go, kafkaconn.go: follower fetchers and the
//     broker-to-broker connection; replica_groups.go: group takeover;
//     throttle.go: the replication throttle; 43/45/46_*.go: elections and
//     reassignments (served by the controller); controller_channel.go: the
//     controller's LeaderAndIsr, UpdateMetadata and StopReplica to brokers
//     (one sender goroutine per broker); control.go and 04/05/06_*.go: the
//     broker side (epoch fencing, applying states to the view).
//
// Brokers learn changes of partition leaders, epochs and ISRs only from
// the controller's LeaderAndIsr and UpdateMetadata requests, as in Kafka's
// ZooKeeper mode; they watch the broker, topic and config znodes, never the
// partition states (read once at start to begin with the current leaders).
//
// Ownership of mutable state (no lock is shared by all partitions):
//   - conn.mu: a connection's pending responses; only its writer goroutine
//     writes to the socket.
//   - partitions.mu: the map of hosted replicas; partition.mu: one
//     partition's produce path and producer state (the log has its own lock).
//   - localCluster.mu: topic layouts and configs; zkCluster.mu: the
//     metadata cache (written by its watcher goroutine and, copy-on-write,
//     by the controller's requests, which zkCluster.ctlMu serializes;
//     zkCluster.pubMu orders the views handed to the replicas).
//   - partition.mu also guards partition.rep (role, ISR, followers); the
//     controller's state belongs to its one goroutine; replication.mu guards
//     the fetcher map, fetcher.mu its partitions (never taken before p.mu).
//   - groupCoordinator.mu: the map of groups; group.mu: one group's members,
//     state and offsets (taken after groupCoordinator.mu, never before);
//     groupCoordinator.pmu: which __consumer_offsets partitions' groups are
//     loaded (taken alone); loading and unloading them belongs to the
//     coordinator's loop.
package broker
