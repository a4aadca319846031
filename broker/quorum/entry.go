package quorum

import "fmt"

// MetadataTopic is the name of the replicated log's topic; its only partition is 0.
const MetadataTopic = "__cluster_metadata"

// MetadataTopicID is the fixed topic ID Apache Kafka gives __cluster_metadata (Uuid.METADATA_TOPIC_ID).
var MetadataTopicID = [16]byte{15: 1}

// Entry is one replicated log entry: an opaque payload at an offset, written by the leader of Epoch.
// Control entries are written by the quorum itself and carry no client data: the leader's first
// entry of its epoch (LeaderChange), and in a dynamic quorum the voter set (KRaftVersion, Voters).
type Entry struct {
	Offset  int64
	Epoch   int32
	Control bool
	// ControlType is a control entry's record type (Kafka's ControlRecordType: 2 LeaderChange,
	// 5 KRaftVersion, 6 KRaftVoters); 0 on a data entry.
	ControlType ControlType
	Data        []byte
}

// ControlType is the type in a control record's key.
type ControlType int16

// The control record types the quorum writes.
const (
	ControlLeaderChange ControlType = 2
	ControlKRaftVersion ControlType = 5
	ControlKRaftVoters  ControlType = 6
)

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
