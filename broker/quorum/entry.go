package quorum

import "fmt"

// MetadataTopic is the name of the replicated log's topic; its only partition is 0.
const MetadataTopic = "__cluster_metadata"

// MetadataTopicID is the fixed topic ID Apache Kafka gives __cluster_metadata (Uuid.METADATA_TOPIC_ID).
var MetadataTopicID = [16]byte{15: 1}

// Entry is one replicated log entry: an opaque payload at an offset, written by the leader of Epoch.
// Control entries are written by the quorum itself (the leader's first entry of its epoch) and carry
// no client data.
type Entry struct {
	Offset  int64
	Epoch   int32
	Control bool
	Data    []byte
}

// OffsetAndEpoch names a log position: the end offset of an epoch, or a log's end.
type OffsetAndEpoch struct {
	Offset int64
	Epoch  int32
}

func (o OffsetAndEpoch) String() string { return fmt.Sprintf("%d@%d", o.Offset, o.Epoch) }

// less orders log positions as Raft's "more up to date" rule does: by epoch, then by offset.
func (o OffsetAndEpoch) less(p OffsetAndEpoch) bool {
	if o.Epoch != p.Epoch {
		return o.Epoch < p.Epoch
	}
	return o.Offset < p.Offset
}
