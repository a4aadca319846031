// Package sharestate is the share coordinator's state (KIP-932): the
// durable state of every share-partition, kept in the internal topic
// __share_group_state in Apache Kafka's record format, and the rules by
// which the share coordinator writes, reads, fences and replays it.
//
// The package does no I/O: a Shard turns requests into the records to
// append and answers; its owner appends the records to the partition's
// log and replays them into the shard once they are written.
package sharestate

import (
	"encoding/base64"
	"errors"
	"strconv"

	"github.com/twmb/franz-go/pkg/kbin"
)

// Record types: a key is the int16 type followed by the key's fields (not
// flexible); a value is an int16 version (0) followed by flexible fields
// with a tagged-field section (share-coordinator's ShareSnapshotKey/Value
// and ShareUpdateKey/Value). A null value deletes the share-partition.
const (
	RecordSnapshot int16 = 0 // ShareSnapshotKey/Value: the whole state
	RecordUpdate   int16 = 1 // ShareUpdateKey/Value: batches changed since the snapshot
)

// Delivery states as the records carry them.
const (
	Available    int8 = 0
	Acknowledged int8 = 2
	Archived     int8 = 4
)

// Key names one share-partition's record.
type Key struct {
	Type      int16
	Group     string
	TopicID   [16]byte
	Partition int32
}

// Batch is a run of offsets with one delivery state and count
// (PersisterStateBatch).
type Batch struct {
	First, Last int64
	State       int8
	Count       int16
}

// Value is a ShareSnapshotValue or a ShareUpdateValue. An update carries
// no state epoch and no timestamps; its StartOffset and LeaderEpoch are -1
// when it leaves them unchanged.
type Value struct {
	SnapshotEpoch int32
	StateEpoch    int32 // snapshot only
	LeaderEpoch   int32
	StartOffset   int64
	// DeliveryCompleteCount is the tagged field 0 (Kafka 4.2, KIP-1226):
	// offsets at or above the start offset whose delivery is complete;
	// -1 (the default, not written) when unknown.
	DeliveryCompleteCount int32
	CreateTimestamp       int64 // snapshot only
	WriteTimestamp        int64 // snapshot only
	Batches               []Batch
}

// AppendKey encodes a key.
func AppendKey(dst []byte, k Key) []byte {
	dst = kbin.AppendInt16(dst, k.Type)
	dst = kbin.AppendString(dst, k.Group)
	dst = kbin.AppendUuid(dst, k.TopicID)
	return kbin.AppendInt32(dst, k.Partition)
}

var errBadRecord = errors.New("malformed share state record")

// ReadKey decodes a key of either type.
func ReadKey(src []byte) (Key, error) {
	r := kbin.Reader{Src: src}
	k := Key{Type: r.Int16(), Group: r.String(), TopicID: r.Uuid(), Partition: r.Int32()}
	if (k.Type != RecordSnapshot && k.Type != RecordUpdate) || r.Complete() != nil {
		return Key{}, errBadRecord
	}
	return k, nil
}

// AppendValue encodes v as the value of a record of type t.
func AppendValue(dst []byte, t int16, v Value) []byte {
	dst = kbin.AppendInt16(dst, 0) // version
	dst = kbin.AppendInt32(dst, v.SnapshotEpoch)
	if t == RecordSnapshot {
		dst = kbin.AppendInt32(dst, v.StateEpoch)
	}
	dst = kbin.AppendInt32(dst, v.LeaderEpoch)
	dst = kbin.AppendInt64(dst, v.StartOffset)
	if t == RecordSnapshot {
		dst = kbin.AppendInt64(dst, v.CreateTimestamp)
		dst = kbin.AppendInt64(dst, v.WriteTimestamp)
	}
	dst = kbin.AppendCompactArrayLen(dst, len(v.Batches))
	for _, b := range v.Batches {
		dst = kbin.AppendInt64(dst, b.First)
		dst = kbin.AppendInt64(dst, b.Last)
		dst = kbin.AppendInt8(dst, b.State)
		dst = kbin.AppendInt16(dst, b.Count)
		dst = kbin.AppendUvarint(dst, 0) // the batch's tagged fields
	}
	if v.DeliveryCompleteCount == -1 {
		return kbin.AppendUvarint(dst, 0)
	}
	dst = kbin.AppendUvarint(dst, 1) // one tagged field:
	dst = kbin.AppendUvarint(dst, 0) // tag 0, DeliveryCompleteCount,
	dst = kbin.AppendUvarint(dst, 4) // four bytes long
	return kbin.AppendInt32(dst, v.DeliveryCompleteCount)
}

// ReadValue decodes the value of a record of type t. Unknown tagged
// fields are skipped, as Kafka's generated readers do.
func ReadValue(t int16, src []byte) (Value, error) {
	r := kbin.Reader{Src: src}
	if r.Int16() != 0 {
		return Value{}, errBadRecord
	}
	v := Value{SnapshotEpoch: r.Int32(), StateEpoch: -1, DeliveryCompleteCount: -1}
	if t == RecordSnapshot {
		v.StateEpoch = r.Int32()
	}
	v.LeaderEpoch, v.StartOffset = r.Int32(), r.Int64()
	if t == RecordSnapshot {
		v.CreateTimestamp, v.WriteTimestamp = r.Int64(), r.Int64()
	}
	n := r.CompactArrayLen()
	if n < 0 || int(n) > len(r.Src) {
		return Value{}, errBadRecord
	}
	for range n {
		b := Batch{First: r.Int64(), Last: r.Int64(), State: r.Int8(), Count: r.Int16()}
		if !skipTags(&r) {
			return Value{}, errBadRecord
		}
		v.Batches = append(v.Batches, b)
	}
	tags := r.Uvarint()
	if int(tags) > len(r.Src) { // each tag takes at least a byte
		return Value{}, errBadRecord
	}
	for range tags {
		tag, size := r.Uvarint(), r.Uvarint()
		if int(size) > len(r.Src) {
			return Value{}, errBadRecord
		}
		if tag == 0 && size == 4 {
			v.DeliveryCompleteCount = r.Int32()
			continue
		}
		r.Span(int(size))
	}
	if r.Complete() != nil {
		return Value{}, errBadRecord
	}
	return v, nil
}

// skipTags skips a tagged-field section; false when its count cannot be
// right (more tags than bytes left).
func skipTags(r *kbin.Reader) bool {
	n := r.Uvarint()
	if int(n) > len(r.Src) {
		return false
	}
	for range n {
		r.Uvarint()
		r.Span(int(r.Uvarint()))
	}
	return r.Ok()
}

// CoordinatorKey is the share coordinator's key of a share-partition, as
// FindCoordinator key type 2 (SHARE) carries it: "group:topicId:partition"
// with the topic id in Kafka's text form (URL-safe base64, no padding).
func CoordinatorKey(group string, topicID [16]byte, partition int32) string {
	return group + ":" + base64.RawURLEncoding.EncodeToString(topicID[:]) + ":" + strconv.Itoa(int(partition))
}
