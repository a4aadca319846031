package quorum

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// newSnapNode is newTestNode with a snapshot store.
func newSnapNode(t *testing.T, id int32, logEpochs []int32, st ElectionState, snaps *MemSnapshots) *testNode {
	t.Helper()
	tn := &testNode{net: &recorder{}, clock: NewManualClock(time.Unix(1_700_000_000, 0)), log: NewMemLog(), store: &MemStore{}}
	for i, e := range logEpochs {
		if err := tn.log.Append([]Entry{{Offset: int64(i), Epoch: e, Data: []byte{byte(i)}}}); err != nil {
			t.Fatal(err)
		}
	}
	tn.store.Write(st)
	n, err := New(Config{
		NodeID: id, Voters: []int32{1, 2, 3}, ClusterID: "test", Snapshots: snaps,
		Log: tn.log, Store: tn.store, Transport: tn.net, Clock: tn.clock, Rand: rand.New(rand.NewPCG(1, 2)),
	})
	if err != nil {
		t.Fatal(err)
	}
	tn.Node = n
	return tn
}

func fetchSnapshotRequest(from, epoch int32, id OffsetAndEpoch, pos int64, maxBytes int32) Message {
	req := kmsg.NewPtrFetchSnapshotRequest()
	req.ReplicaID, req.MaxBytes = from, maxBytes
	t := kmsg.NewFetchSnapshotRequestTopic()
	t.Topic = MetadataTopic
	p := kmsg.NewFetchSnapshotRequestTopicPartition()
	p.CurrentLeaderEpoch, p.Position = epoch, pos
	p.SnapshotID.EndOffset, p.SnapshotID.Epoch = id.Offset, id.Epoch
	t.Partitions = append(t.Partitions, p)
	req.Topics = append(req.Topics, t)
	return Message{From: from, Request: req, Correlation: 11}
}

func onlyFetchSnapshotAnswer(t *testing.T, out []Message) kmsg.FetchSnapshotResponseTopicPartition {
	t.Helper()
	for _, m := range out {
		if r, ok := m.Response.(*kmsg.FetchSnapshotResponse); ok {
			return r.Topics[0].Partitions[0]
		}
	}
	t.Fatalf("no FetchSnapshot response in %d messages", len(out))
	return kmsg.FetchSnapshotResponseTopicPartition{}
}

// snapLeader is node 1 leading epoch 4 after a log of epochs 1 1 2 2 2 3 (offsets 0-5; its own
// first entry at 6), with voter 2 caught up: the high watermark is 7.
func snapLeader(t *testing.T) (*testNode, *MemSnapshots) {
	t.Helper()
	snaps := NewMemSnapshots()
	tn := newSnapNode(t, 1, []int32{1, 1, 2, 2, 2, 3}, ElectionState{Epoch: 3, LeaderID: -1, VotedID: -1}, snaps)
	tn.electLeader(t, 2)
	tn.net.take()
	tn.step(fetchRequest(2, tn.Epoch(), 7, tn.Epoch()))
	if tn.HighWatermark() != 7 {
		t.Fatalf("high watermark %d, want 7", tn.HighWatermark())
	}
	return tn, snaps
}

func TestDeletePrefixRefusals(t *testing.T) {
	tn, snaps := snapLeader(t)
	if err := tn.DeletePrefix(OffsetAndEpoch{Offset: 4, Epoch: 2}); err == nil {
		t.Error("DeletePrefix of a snapshot the store does not hold: no error")
	}
	for _, id := range []OffsetAndEpoch{{Offset: 5, Epoch: 1}, {Offset: 8, Epoch: 4}} {
		snaps.Put(id, []byte("s"))
		if err := tn.DeletePrefix(id); err == nil {
			t.Errorf("DeletePrefix(%s) (a wrong epoch, or past the high watermark): no error", id)
		}
	}
	if tn.log.StartOffset() != 0 {
		t.Fatalf("log start %d after refused DeletePrefix calls", tn.log.StartOffset())
	}
	snaps.Put(OffsetAndEpoch{Offset: 7, Epoch: 4}, []byte("s"))
	if err := tn.DeletePrefix(OffsetAndEpoch{Offset: 7, Epoch: 4}); err != nil {
		t.Fatalf("DeletePrefix at the high watermark: %v", err)
	}
	if tn.log.StartOffset() != 7 || len(snaps.List()) != 2 { // 7@4 and 8@4 (not older) remain
		t.Fatalf("log start %d, snapshots %v; want 7 and the two from 7 on", tn.log.StartOffset(), snaps.List())
	}
}

// TestLeaderServesSnapshots: after DeletePrefix, a fetch the log cannot serve is answered with
// the latest snapshot's id, and FetchSnapshot serves it in chunks with Kafka's error codes.
func TestLeaderServesSnapshots(t *testing.T) {
	tn, snaps := snapLeader(t)
	snaps.Put(OffsetAndEpoch{Offset: 4, Epoch: 2}, []byte("state at 4"))
	if err := tn.DeletePrefix(OffsetAndEpoch{Offset: 4, Epoch: 2}); err != nil {
		t.Fatal(err)
	}
	latest := OffsetAndEpoch{Offset: 6, Epoch: 3}
	snaps.Put(latest, []byte("state at 6, ten+ bytes"))
	for _, c := range []struct {
		name      string
		offset    int64
		lastEpoch int32
		snapshot  bool
	}{
		{"empty follower", 0, 0, true},
		{"below the log start", 2, 1, true},
		{"at the start, another epoch", 4, 1, true},
		{"at the start, its epoch", 4, 2, false},
		{"past the start, an epoch older than the start's", 5, 1, true},
		{"past the start", 5, 2, false},
	} {
		p := onlyFetchAnswer(t, tn.step(fetchRequest(3, tn.Epoch(), c.offset, c.lastEpoch)))
		got := p.SnapshotID.EndOffset >= 0
		if p.ErrorCode != 0 || got != c.snapshot {
			t.Errorf("%s: error %d, snapshot id %+v; want a snapshot id: %v", c.name, p.ErrorCode, p.SnapshotID, c.snapshot)
		}
		if got && (p.SnapshotID.EndOffset != latest.Offset || p.SnapshotID.Epoch != latest.Epoch || len(p.RecordBatches) != 0) {
			t.Errorf("%s: snapshot id %+v with %d bytes of records, want the latest %s and none", c.name, p.SnapshotID, len(p.RecordBatches), latest)
		}
	}

	data, _ := snaps.Get(latest)
	p := onlyFetchSnapshotAnswer(t, tn.step(fetchSnapshotRequest(3, tn.Epoch(), latest, 3, 5)))
	if p.ErrorCode != 0 || p.Size != int64(len(data)) || p.Position != 3 || string(p.Bytes) != string(data[3:8]) {
		t.Fatalf("chunk at 3: error %d size %d position %d bytes %q; want %q of %d", p.ErrorCode, p.Size, p.Position, p.Bytes, data[3:8], len(data))
	}
	if p.CurrentLeader.LeaderID != 1 || p.CurrentLeader.LeaderEpoch != tn.Epoch() {
		t.Fatalf("current leader %+v", p.CurrentLeader)
	}
	for _, c := range []struct {
		name  string
		m     Message
		error int16
	}{
		{"position at the end", fetchSnapshotRequest(3, tn.Epoch(), latest, int64(len(data)), 5), kerr.PositionOutOfRange.Code},
		{"negative position", fetchSnapshotRequest(3, tn.Epoch(), latest, -1, 5), kerr.PositionOutOfRange.Code},
		{"unknown snapshot", fetchSnapshotRequest(3, tn.Epoch(), OffsetAndEpoch{Offset: 5, Epoch: 2}, 0, 5), kerr.SnapshotNotFound.Code},
		{"old epoch", fetchSnapshotRequest(3, tn.Epoch()-1, latest, 0, 5), kerr.FencedLeaderEpoch.Code},
		{"future epoch", fetchSnapshotRequest(3, tn.Epoch()+1, latest, 0, 5), kerr.UnknownLeaderEpoch.Code},
	} {
		if p := onlyFetchSnapshotAnswer(t, tn.step(c.m)); p.ErrorCode != c.error {
			t.Errorf("%s: error %d, want %d", c.name, p.ErrorCode, c.error)
		}
	}
}

// TestFollowerLoadsSnapshot: told of a snapshot, a follower copies it chunk by chunk, restarts its
// log at its end with the high watermark there, and fetches after it with the snapshot's epoch.
func TestFollowerLoadsSnapshot(t *testing.T) {
	snaps := NewMemSnapshots()
	old := OffsetAndEpoch{Offset: 1, Epoch: 1}
	snaps.Put(old, []byte("old"))
	tn := newSnapNode(t, 2, []int32{1, 1}, ElectionState{Epoch: 4, LeaderID: 1, VotedID: -1}, snaps)
	fetch, _ := sentFetch(t, tn.net.take())
	id := OffsetAndEpoch{Offset: 10, Epoch: 3}
	ans := fetchAnswer(fetch, 4, 12, nil, nil)
	ans.Response.(*kmsg.FetchResponse).Topics[0].Partitions[0].SnapshotID.EndOffset = id.Offset
	ans.Response.(*kmsg.FetchResponse).Topics[0].Partitions[0].SnapshotID.Epoch = id.Epoch
	out := tn.step(ans)

	data := []byte("abcdefg")
	for pos := int64(0); pos < int64(len(data)); pos += 3 {
		var req Message
		for _, m := range out {
			if _, ok := m.Request.(*kmsg.FetchSnapshotRequest); ok {
				req = m
			}
		}
		if req.Request == nil {
			t.Fatalf("at position %d the follower sent %d messages and no FetchSnapshot", pos, len(out))
		}
		p := req.Request.(*kmsg.FetchSnapshotRequest).Topics[0].Partitions[0]
		if p.Position != pos || p.SnapshotID.EndOffset != id.Offset || p.SnapshotID.Epoch != id.Epoch || p.CurrentLeaderEpoch != 4 {
			t.Fatalf("FetchSnapshot %+v, want %s at %d in epoch 4", p, id, pos)
		}
		resp := kmsg.NewPtrFetchSnapshotResponse()
		rt := kmsg.NewFetchSnapshotResponseTopic()
		rp := kmsg.NewFetchSnapshotResponseTopicPartition()
		rp.SnapshotID.EndOffset, rp.SnapshotID.Epoch = id.Offset, id.Epoch
		rp.CurrentLeader.LeaderID, rp.CurrentLeader.LeaderEpoch = 1, 4
		rp.Size, rp.Position, rp.Bytes = int64(len(data)), pos, data[pos:min(pos+3, int64(len(data)))]
		rt.Partitions = append(rt.Partitions, rp)
		resp.Topics = append(resp.Topics, rt)
		out = tn.step(Message{From: 1, Correlation: req.Correlation, Response: resp})
	}
	if got, ok := snaps.Get(id); !ok || string(got) != string(data) {
		t.Fatalf("snapshot %s in the store: %q, %v; want %q", id, got, ok, data)
	}
	if _, ok := snaps.Get(old); ok {
		t.Error("the older snapshot is still in the store")
	}
	if tn.log.StartOffset() != 10 || tn.log.EndOffset() != 10 || tn.HighWatermark() != 10 {
		t.Fatalf("log [%d, %d) hw %d, want [10, 10) hw 10", tn.log.StartOffset(), tn.log.EndOffset(), tn.HighWatermark())
	}
	_, p := sentFetch(t, out)
	if p.FetchOffset != 10 || p.LastFetchedEpoch != 3 || p.LogStartOffset != 10 {
		t.Fatalf("fetch after the snapshot: offset %d last epoch %d log start %d, want 10, 3, 10", p.FetchOffset, p.LastFetchedEpoch, p.LogStartOffset)
	}
	// An empty log after a snapshot votes with the snapshot's epoch: it is as up to date as a
	// candidate whose log ends at 10 in epoch 3, and more than one ending at 12 in epoch 2.
	if v := onlyVoteAnswer(t, tn.step(voteRequest(3, 5, 2, 12))); v.VoteGranted {
		t.Error("vote granted to a candidate whose log ends in epoch 2, behind the snapshot's epoch 3")
	}
}

// TestNewReconcilesSnapshots: on start the log is brought in line with snapshots a crash left
// ahead of it.
func TestNewReconcilesSnapshots(t *testing.T) {
	cases := []struct {
		name      string
		logStart  int64
		snaps     []OffsetAndEpoch
		wantStart int64
		wantEnd   int64
	}{
		{"log from 0 with a snapshot inside", 0, []OffsetAndEpoch{{Offset: 5, Epoch: 2}}, 0, 8},
		{"start not moved up before the crash", 2, []OffsetAndEpoch{{Offset: 5, Epoch: 2}}, 5, 8},
		{"snapshot fetched past the log end", 0, []OffsetAndEpoch{{Offset: 20, Epoch: 4}}, 20, 20},
		{"snapshot over a diverging tail", 0, []OffsetAndEpoch{{Offset: 7, Epoch: 3}}, 7, 7},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			snaps := NewMemSnapshots()
			for _, id := range c.snaps {
				snaps.Put(id, []byte("s"))
			}
			// Offsets 0-7 of epochs 1 1 2 2 2 2 2 2.
			log := NewMemLog()
			for i, e := range []int32{1, 1, 2, 2, 2, 2, 2, 2} {
				log.Append([]Entry{{Offset: int64(i), Epoch: e}})
			}
			if c.logStart > 0 {
				log.DeletePrefix(c.logStart)
			}
			_, err := New(Config{NodeID: 2, Voters: []int32{1, 2, 3}, Snapshots: snaps, Log: log, Store: &MemStore{},
				Transport: &recorder{}, Clock: NewManualClock(time.Unix(0, 0)), Rand: rand.New(rand.NewPCG(1, 2))})
			if err != nil {
				t.Fatal(err)
			}
			if log.StartOffset() != c.wantStart || log.EndOffset() != c.wantEnd {
				t.Fatalf("log [%d, %d), want [%d, %d)", log.StartOffset(), log.EndOffset(), c.wantStart, c.wantEnd)
			}
		})
	}
	// A log whose start no snapshot covers is refused.
	log := NewMemLog()
	log.Reset(3)
	_, err := New(Config{NodeID: 2, Voters: []int32{1, 2, 3}, Snapshots: NewMemSnapshots(), Log: log, Store: &MemStore{},
		Transport: &recorder{}, Clock: NewManualClock(time.Unix(0, 0)), Rand: rand.New(rand.NewPCG(1, 2))})
	if err == nil {
		t.Fatal("a log starting at 3 without a snapshot was accepted")
	}
}
