package sharestate

import (
	"reflect"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
)

func TestCombine(t *testing.T) {
	old := []Batch{{0, 9, Available, 1}}
	upd := []Batch{{3, 4, Acknowledged, 1}, {8, 12, Archived, 5}}
	got := Combine(old, upd, 2)
	want := []Batch{{2, 2, Available, 1}, {3, 4, Acknowledged, 1}, {5, 7, Available, 1}, {8, 12, Archived, 5}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("combine\n got %v\nwant %v", got, want)
	}
	// Adjacent batches alike are joined; batches below the start go.
	got = Combine([]Batch{{0, 4, Acknowledged, 1}}, []Batch{{5, 6, Acknowledged, 1}, {7, 7, Available, 2}}, 3)
	want = []Batch{{3, 6, Acknowledged, 1}, {7, 7, Available, 2}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("combine\n got %v\nwant %v", got, want)
	}
}

// apply writes a record into the shard as its owner would after the append.
func apply(t *testing.T, s *Shard, r Record) int16 {
	t.Helper()
	k, err := ReadKey(r.Key)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Replay(r.Key, r.Value); err != nil {
		t.Fatal(err)
	}
	return k.Type
}

func TestShardWritesSnapshotThenUpdates(t *testing.T) {
	s := NewShard(2)
	k := PartKey{"g", topicID, 0}
	write := func(start int64, leader int32, bs ...Batch) int16 {
		r, code := s.Write(k, WriteRequest{StateEpoch: 0, LeaderEpoch: leader, StartOffset: start, DeliveryCompleteCount: -1, Batches: bs}, 1000)
		if code != 0 {
			t.Fatalf("write: %v", kerr.ErrorForCode(code))
		}
		return apply(t, s, r)
	}
	if typ := write(10, 1, Batch{10, 14, Available, 1}); typ != RecordSnapshot {
		t.Fatalf("first write is type %d, want a snapshot", typ)
	}
	if typ := write(10, 1, Batch{10, 11, Acknowledged, 1}); typ != RecordUpdate {
		t.Fatalf("second write is type %d, want an update", typ)
	}
	if typ := write(12, 1, Batch{12, 12, Archived, 1}); typ != RecordUpdate {
		t.Fatalf("third write is type %d, want an update", typ)
	}
	if typ := write(-1, 1, Batch{13, 13, Acknowledged, 2}); typ != RecordSnapshot {
		t.Fatalf("write after 2 updates is type %d, want a snapshot", typ)
	}
	st, _ := s.Get(k)
	want := []Batch{{12, 12, Archived, 1}, {13, 13, Acknowledged, 2}, {14, 14, Available, 1}}
	if st.StartOffset != 12 || st.SnapshotEpoch != 1 || !reflect.DeepEqual(st.Batches, want) {
		t.Fatalf("state %+v, want start 12, snapshot epoch 1, batches %v", st, want)
	}

	if _, code := s.Write(k, WriteRequest{StateEpoch: 0, LeaderEpoch: 0, StartOffset: 12, DeliveryCompleteCount: -1}, 1000); code != kerr.FencedLeaderEpoch.Code {
		t.Fatalf("a write of an older leader: %v, want FENCED_LEADER_EPOCH", kerr.ErrorForCode(code))
	}
}

func TestShardReadFencesOlderLeaders(t *testing.T) {
	s := NewShard(500)
	k := PartKey{"g", topicID, 1}
	st, rec, code := s.Read(k, 3, 1000)
	if code != 0 || st.StartOffset != -1 || st.StateEpoch != 0 || rec == nil {
		t.Fatalf("read of an unknown share-partition: %+v %v %v", st, rec, code)
	}
	apply(t, s, *rec)
	r, code := s.Initialize(k, 1, 50, 1000)
	if code != 0 {
		t.Fatal(kerr.ErrorForCode(code))
	}
	apply(t, s, r)
	st, rec, code = s.Read(k, 3, 1000)
	if code != 0 || rec != nil || st.StartOffset != 50 || st.StateEpoch != 1 || st.LeaderEpoch != 3 {
		t.Fatalf("read after initialize: %+v rec=%v code=%d", st, rec, code)
	}
	// A new leader's read stores its epoch; the old leader is fenced.
	_, rec, code = s.Read(k, 4, 1000)
	if code != 0 || rec == nil {
		t.Fatalf("read of a newer leader: rec=%v code=%d", rec, code)
	}
	apply(t, s, *rec)
	if _, code := s.Write(k, WriteRequest{StateEpoch: 1, LeaderEpoch: 3, StartOffset: 51, DeliveryCompleteCount: -1}, 1000); code != kerr.FencedLeaderEpoch.Code {
		t.Fatalf("write of the old leader: %d", code)
	}
	if _, _, code := s.Read(k, 3, 1000); code != kerr.FencedLeaderEpoch.Code {
		t.Fatalf("read of the old leader: %d", code)
	}
	if _, code := s.Write(k, WriteRequest{StateEpoch: 0, LeaderEpoch: 4, StartOffset: 51, DeliveryCompleteCount: -1}, 1000); code != kerr.FencedStateEpoch.Code {
		t.Fatalf("write with an older state epoch: %d", code)
	}
	for _, r := range s.Delete(k) {
		apply(t, s, r)
	}
	if _, ok := s.Get(k); ok || s.Len() != 0 {
		t.Fatal("deleted share-partition still there")
	}
}
