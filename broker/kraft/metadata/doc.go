// Package metadata encodes and decodes KRaft metadata records: the records a
// KRaft controller appends to the __cluster_metadata log and that brokers
// replay into their metadata image.
//
// The wire format is Apache Kafka's, byte for byte. Every record is framed as
// ApiMessageAndVersion is by Kafka's MetadataRecordSerde:
//
//	frame version  unsigned varint, always 1 (0 was the 2.8 preview and is refused)
//	api key        unsigned varint (TopicRecord = 2, PartitionRecord = 3, ...)
//	version        unsigned varint, the record schema's version
//	body           the record in Kafka's flexible-version encoding (KIP-482):
//	               compact strings and arrays, a tagged-field section after
//	               every struct
//
// The field lists, versions, defaults and tags follow apache/kafka's
// metadata/src/main/resources/common/metadata/*.json schemas. As Kafka's
// generated code does, a tagged field is written only when it differs from its
// default, and encoding refuses a non-default value in a field the chosen
// version does not have rather than dropping it silently. Tagged fields this
// package does not know are kept in UnknownTags and written back, so a record
// from a newer Kafka survives a decode/encode round trip.
//
// The KRaft control records (LeaderChangeMessage, SnapshotHeaderRecord,
// SnapshotFooterRecord, KRaftVersionRecord, VotersRecord) are not framed: they
// are the values of control records whose key names their type, and are
// encoded with MarshalControl / UnmarshalControl.
package metadata
