package sharestate

import (
	"bytes"
	"encoding/binary"
	"reflect"
	"testing"
)

// kafkaBytes builds the expected encoding field by field from the JSON
// schemas (share-coordinator/src/main/resources/common/message), without
// the package's encoder.
type kafkaBytes struct{ b []byte }

func (k *kafkaBytes) i8(v int8)   { k.b = append(k.b, byte(v)) }
func (k *kafkaBytes) i16(v int16) { k.b = binary.BigEndian.AppendUint16(k.b, uint16(v)) }
func (k *kafkaBytes) i32(v int32) { k.b = binary.BigEndian.AppendUint32(k.b, uint32(v)) }
func (k *kafkaBytes) i64(v int64) { k.b = binary.BigEndian.AppendUint64(k.b, uint64(v)) }
func (k *kafkaBytes) uv(v uint64) { k.b = binary.AppendUvarint(k.b, v) }
func (k *kafkaBytes) str(s string) {
	k.i16(int16(len(s)))
	k.b = append(k.b, s...)
}

var topicID = [16]byte{0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f}

func TestKeysMatchKafkaLayout(t *testing.T) {
	for _, typ := range []int16{RecordSnapshot, RecordUpdate} {
		var want kafkaBytes
		want.i16(typ)     // the record type: ShareSnapshotKey apiKey 0, ShareUpdateKey apiKey 1
		want.str("grp-é") // GroupId: string (not flexible: int16 length)
		want.b = append(want.b, topicID[:]...)
		want.i32(7) // Partition
		k := Key{Type: typ, Group: "grp-é", TopicID: topicID, Partition: 7}
		got := AppendKey(nil, k)
		if !bytes.Equal(got, want.b) {
			t.Fatalf("type %d key\n got %x\nwant %x", typ, got, want.b)
		}
		back, err := ReadKey(got)
		if err != nil || back != k {
			t.Fatalf("type %d key read back %+v, %v", typ, back, err)
		}
	}
	if _, err := ReadKey([]byte{0, 2, 0, 0}); err == nil {
		t.Fatal("a key of another type was read")
	}
}

func stateBatches(k *kafkaBytes, bs []Batch) {
	k.uv(uint64(len(bs) + 1)) // compact array
	for _, b := range bs {
		k.i64(b.First)
		k.i64(b.Last)
		k.i8(b.State)
		k.i16(b.Count)
		k.uv(0) // no tagged fields
	}
}

func TestSnapshotValueMatchesKafkaLayout(t *testing.T) {
	bs := []Batch{{First: 100, Last: 104, State: Acknowledged, Count: 1}, {First: 105, Last: 105, State: Archived, Count: 5}, {First: 106, Last: 110, State: Available, Count: 2}}
	v := Value{SnapshotEpoch: 3, StateEpoch: 2, LeaderEpoch: 9, StartOffset: 100, DeliveryCompleteCount: 6,
		CreateTimestamp: 1700000000000, WriteTimestamp: 1700000005000, Batches: bs}
	var want kafkaBytes
	want.i16(0)             // value version 0
	want.i32(3)             // SnapshotEpoch int32
	want.i32(2)             // StateEpoch
	want.i32(9)             // LeaderEpoch
	want.i64(100)           // StartOffset
	want.i64(1700000000000) // CreateTimestamp
	want.i64(1700000005000) // WriteTimestamp
	stateBatches(&want, bs)
	want.uv(1) // one tagged field
	want.uv(0) // tag 0: DeliveryCompleteCount
	want.uv(4)
	want.i32(6)
	got := AppendValue(nil, RecordSnapshot, v)
	if !bytes.Equal(got, want.b) {
		t.Fatalf("snapshot value\n got %x\nwant %x", got, want.b)
	}
	back, err := ReadValue(RecordSnapshot, got)
	if err != nil || !reflect.DeepEqual(back, v) {
		t.Fatalf("read back %+v, %v", back, err)
	}

	// DeliveryCompleteCount at its default (-1) is not written.
	v.DeliveryCompleteCount = -1
	got = AppendValue(nil, RecordSnapshot, v)
	if want := want.b[:len(want.b)-7]; !bytes.Equal(got[:len(got)-1], want) || got[len(got)-1] != 0 {
		t.Fatalf("snapshot value without the tagged field\n got %x", got)
	}
}

func TestUpdateValueMatchesKafkaLayout(t *testing.T) {
	bs := []Batch{{First: 7, Last: 7, State: Acknowledged, Count: 3}}
	v := Value{SnapshotEpoch: 1, StateEpoch: -1, LeaderEpoch: -1, StartOffset: 7, DeliveryCompleteCount: -1, Batches: bs}
	var want kafkaBytes
	want.i16(0)
	want.i32(1)  // SnapshotEpoch
	want.i32(-1) // LeaderEpoch (no StateEpoch in an update)
	want.i64(7)  // StartOffset
	stateBatches(&want, bs)
	want.uv(0)
	got := AppendValue(nil, RecordUpdate, v)
	if !bytes.Equal(got, want.b) {
		t.Fatalf("update value\n got %x\nwant %x", got, want.b)
	}
	back, err := ReadValue(RecordUpdate, got)
	if err != nil || !reflect.DeepEqual(back, v) {
		t.Fatalf("read back %+v, %v", back, err)
	}
	// An unknown tagged field is skipped.
	withTag := append(bytes.Clone(want.b[:len(want.b)-1]), 1, 5, 2, 0xaa, 0xbb)
	if back, err := ReadValue(RecordUpdate, withTag); err != nil || !reflect.DeepEqual(back, v) {
		t.Fatalf("with an unknown tag: %+v, %v", back, err)
	}
	if _, err := ReadValue(RecordUpdate, want.b[:len(want.b)-3]); err == nil {
		t.Fatal("a truncated value was read")
	}
}

func TestCoordinatorKey(t *testing.T) {
	if got, want := CoordinatorKey("g1", topicID, 3), "g1:EBESExQVFhcYGRobHB0eHw:3"; got != want {
		t.Fatalf("coordinator key %q, want %q", got, want)
	}
}

// A corrupt tag count is refused at once, not looped over.
func TestValueWithHugeTagCount(t *testing.T) {
	var b kafkaBytes
	b.i16(0)
	b.i32(1)
	b.i32(-1)
	b.i64(7)
	b.uv(1)         // no batches
	b.uv(1<<32 - 1) // tag count
	if _, err := ReadValue(RecordUpdate, b.b); err == nil {
		t.Fatal("a value with 2^32-1 tags was read")
	}
}
