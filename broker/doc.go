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
// every partition, and WithCluster plugs a controller-fed one in.
//
// Files:
//   - wire.go, conn.go, request.go: frames, headers, the per-connection
//     reader and writer goroutines, response ordering.
//   - registry.go and NN_*.go: the handlers; the registry answers ApiVersions.
//   - cluster.go, partitions.go, partition.go: cluster layout, hosted
//     replicas, produce path with idempotence checks.
//   - groups.go, offsets_topic.go: group coordinator and its persistence.
//   - config.go, topicconfig.go, configs.go: broker and topic configuration.
//   - logstore.go, metrics.go, broker.go: storage managers, metrics, lifecycle.
//
// Ownership of mutable state (no lock is shared by all partitions):
//   - conn.mu: a connection's pending responses; only its writer goroutine
//     writes to the socket.
//   - partitions.mu: the map of hosted replicas; partition.mu: one
//     partition's produce path and producer state (the log has its own lock).
//   - localCluster.mu: topic layouts and configs.
//   - groupCoordinator.mu: the map of groups; group.mu: one group's members,
//     state and offsets (taken after groupCoordinator.mu, never before).
package broker
