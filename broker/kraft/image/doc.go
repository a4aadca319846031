// Package image is a KRaft node's view of the cluster metadata: an immutable
// Image built by replaying the records of the __cluster_metadata log, and a
// Delta that accumulates records on an Image and applies them to make the
// next one.
//
// An Image holds the finalized features (metadata.version among them), the
// registered brokers (epoch, incarnation id, listeners, rack, fenced and
// in-controlled-shutdown state, log directories) and controllers, the topics
// by name and by id with every partition's replicas, ISR, ELR, leader, leader
// and partition epochs, reassignment and replica directories, the dynamic
// configurations per resource (topic, broker, cluster-wide broker default)
// and the next producer id block. Records are applied as Apache Kafka's
// MetadataDelta applies them (org.apache.kafka.image): absent fields of a
// PartitionChangeRecord leave the state unchanged and any change bumps the
// partition epoch, a leader change bumps the leader epoch, RemoveTopicRecord
// removes the topic and its configuration, a ConfigRecord with a null value
// deletes the key, FeatureLevelRecord level 0 removes a feature. Records Kafka
// would refuse (a change to an unknown partition, a fence of a broker with
// another epoch) make Delta.Replay return an error and leave the Delta as it
// was.
//
// Delta.LocalChanges says which partitions a broker must act on after a delta
// (become leader, become follower, delete), as Kafka's TopicsDelta.localChanges
// does; Image.Records writes an Image back as the records that rebuild it, in
// the order and at the record versions a Kafka snapshot uses for the image's
// metadata.version.
//
// Where this package departs from Kafka, it does so where Kafka's result
// depends on how the log was cut into deltas or leaves its maps inconsistent:
// a topic's configuration set in the same delta as its RemoveTopicRecord goes
// with it; a TopicRecord giving a live id another name, or a live name
// another id, is refused; and LocalChanges lists the directory of a replica
// newly moved to the broker. Any metadata.version level from 1 up is taken
// as it is (the image holds no table of levels beyond the ones that choose
// record versions).
//
// What this package is not: it decides nothing. It does no I/O, starts no
// goroutines, validates no request and chooses no leader; the controller that
// writes these records and the broker that reads them live elsewhere. SCRAM
// credentials are held by user and mechanism (scram.go); ACLs, client quotas
// and delegation tokens are not held yet.
//
// Everything an Image hands out (slices in Broker, Partition, Topic) is shared
// with the Image and with later Images: callers must not modify it. An Image
// and a Delta's base may be read from many goroutines; a Delta itself is not
// safe for concurrent use.
package image
