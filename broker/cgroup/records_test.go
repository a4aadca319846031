package cgroup

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"
)

// be writes big-endian integers for the expected encodings below.
func be(vs ...any) []byte {
	var b bytes.Buffer
	for _, v := range vs {
		switch x := v.(type) {
		case int8, int16, int32:
			binary.Write(&b, binary.BigEndian, x) //nolint:errcheck // bytes.Buffer
		case []byte:
			b.Write(x)
		case string:
			b.WriteString(x)
		default:
			panic("bad type")
		}
	}
	return b.Bytes()
}

var topicA = TopicID{0xa, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}

// The encodings follow group-coordinator/src/main/resources/common/message
// field by field: keys not flexible (int16 string lengths), values flexible
// (uvarint length+1 for compact strings and arrays, 0 for null, a trailing
// empty tagged-field section per struct).
func TestRecordEncoding(t *testing.T) {
	inst, assignor, re := "i-1", "range", "t.*"
	m := &Member{ID: "m1", InstanceID: &inst, ClientID: "cli", ClientHost: "/h", SubscribedNames: []string{"a", "bc"},
		SubscribedRegex: &re, RebalanceTimeout: 60 * time.Second, ServerAssignor: &assignor,
		Epoch: 7, PrevEpoch: 5, State: MemberUnrevoked,
		Assigned: Set{{topicA, 1}: {}, {topicA, 0}: {}}, Revoking: Set{{topicA, 2}: {}}}
	cases := []struct {
		name      string
		got, want []byte
	}{
		{"ConsumerGroupMetadataKey", AppendKey(nil, Key{Type: RecordGroupMetadata, Group: "g"}), be(int16(3), int16(1), "g")},
		{"ConsumerGroupMemberMetadataKey", AppendKey(nil, Key{Type: RecordMemberMetadata, Group: "g", Member: "m1"}),
			be(int16(5), int16(1), "g", int16(2), "m1")},
		{"ConsumerGroupTargetAssignmentMemberKey", AppendKey(nil, Key{Type: RecordTargetMember, Group: "g", Member: "m1"}),
			be(int16(7), int16(1), "g", int16(2), "m1")},
		{"ConsumerGroupCurrentMemberAssignmentKey", AppendKey(nil, Key{Type: RecordCurrentMemberAssign, Group: "g", Member: "m1"}),
			be(int16(8), int16(1), "g", int16(2), "m1")},
		{"ConsumerGroupMetadataValue", GroupMetadataValue(9), be(int16(0), int32(9), int8(0))},
		{"ConsumerGroupTargetAssignmentMetadataValue", TargetMetadataValue(4), be(int16(0), int32(4), int8(0))},
		{"ConsumerGroupPartitionMetadataValue", PartitionMetadataValue(map[string]Topic{"ab": {Name: "ab", ID: topicA, Partitions: 3}}),
			be(int16(0), int8(2), topicA[:], int8(3), "ab", int32(3), int8(1), int8(0), int8(0))},
		{"ConsumerGroupMemberMetadataValue", MemberMetadataValue(m),
			be(int16(0), int8(4), "i-1", int8(0), int8(4), "cli", int8(3), "/h", int8(3), int8(2), "a", int8(3), "bc",
				int8(4), "t.*", int32(60000), int8(6), "range", int8(0))},
		{"ConsumerGroupTargetAssignmentMemberValue", TargetMemberValue(Set{{topicA, 3}: {}}),
			be(int16(0), int8(2), topicA[:], int8(2), int32(3), int8(0), int8(0))},
		{"ConsumerGroupCurrentMemberAssignmentValue", CurrentAssignmentValue(m),
			be(int16(0), int32(7), int32(5), int8(1),
				int8(2), topicA[:], int8(3), int32(0), int32(1), int8(0),
				int8(2), topicA[:], int8(2), int32(2), int8(0), int8(0))},
	}
	for _, c := range cases {
		if !bytes.Equal(c.got, c.want) {
			t.Errorf("%s:\n got %x\nwant %x", c.name, c.got, c.want)
		}
	}
}

// A group written as records and replayed comes back the same.
func TestRecordsReplay(t *testing.T) {
	md := fakeMD{}
	md.add("a", 4)
	md.add("b", 2)
	g := New("g")
	now := time.Unix(100, 0)
	for _, id := range []string{"m1", "m2"} {
		req := &Request{MemberID: id, RebalanceTimeout: time.Minute, SubscribedNames: []string{"a", "b"}, Owned: Set{}, ClientID: "c-" + id}
		if _, err := g.Heartbeat(now, md, testCfg, req); err != nil {
			t.Fatal(err)
		}
	}
	keys, values := g.Records(g.TakeChanges())
	r := New("g")
	for i := range keys {
		k, err := ReadKey(keys[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Replay(k, values[i]); err != nil {
			t.Fatalf("replaying %+v: %v", k, err)
		}
	}
	r.Restored(now)
	if r.Epoch != g.Epoch || r.AssignmentEpoch != g.AssignmentEpoch || len(r.Members) != 2 || !sameTopics(r.Subscribed, g.Subscribed) {
		t.Fatalf("replayed epoch %d/%d members %d subscribed %v; want %d/%d 2 %v", r.Epoch, r.AssignmentEpoch, len(r.Members), r.Subscribed, g.Epoch, g.AssignmentEpoch, g.Subscribed)
	}
	for id, m := range g.Members {
		rm := r.Members[id]
		if rm.Epoch != m.Epoch || rm.State != m.State || !rm.Assigned.Equal(m.Assigned) || !r.Target[id].Equal(g.Target[id]) || rm.ClientID != m.ClientID {
			t.Fatalf("member %s replayed as %+v, want %+v", id, rm, m)
		}
	}
	// Deleting the members leaves none.
	g.Remove("m1")
	g.Remove("m2")
	keys, values = g.Records(g.TakeChanges())
	for i := range keys {
		k, _ := ReadKey(keys[i])
		if err := r.Replay(k, values[i]); err != nil {
			t.Fatal(err)
		}
	}
	if len(r.Members) != 0 || len(r.Target) != 0 {
		t.Fatalf("after tombstones: %d members, %d targets", len(r.Members), len(r.Target))
	}
}
