// Package broker is Osprey's Kafka-compatible broker runtime: the network
// layer (length-prefixed frames, request headers, per-connection pipelining
// with responses in request order), one handler per API key (files named
// NN_snake_name.go, registered with their version range), the partition and
// producer state, the classic consumer-group coordinator whose state is kept
// in the __consumer_offsets topic in Apache Kafka's record format, metrics,
// and the server.properties configuration.
//
// Requests are decoded and responses encoded with franz-go's kmsg. Durable
// record storage lives in the storage sub-package; the handlers read the
// cluster layout through the ClusterView interface so that a controller
// (part 2) can replace the single-broker view.
package broker
