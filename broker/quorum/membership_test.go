package quorum

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func voterSet(ids ...int32) VoterSet {
	s := make(VoterSet, 0, len(ids))
	for _, id := range ids {
		s = append(s, Voter{ID: id, DirectoryID: [16]byte{0: byte(id), 15: 7}, Endpoints: []Endpoint{{Name: "CONTROLLER", Host: "localhost", Port: 9000 + uint16(id)}}, MaxKRaftVersion: 1})
	}
	return s
}

// newDynamicTestNode starts node id of a kraft.version 1 quorum whose bootstrap voter set is
// bootstrap, over log and store (fresh ones when nil).
func newDynamicTestNode(t *testing.T, id int32, bootstrap VoterSet, log *MemLog, store *MemStore) *testNode {
	t.Helper()
	if log == nil {
		log = NewMemLog()
	}
	if store == nil {
		store = &MemStore{}
	}
	tn := &testNode{net: &recorder{}, clock: NewManualClock(time.Unix(1_700_000_000, 0)), log: log, store: store}
	n, err := New(Config{
		NodeID: id, KRaftVersion: 1, BootstrapVoters: bootstrap, ClusterID: "test", DirectoryID: [16]byte{0: byte(id), 15: 7},
		Log: tn.log, Store: tn.store, Transport: tn.net, Clock: tn.clock, Rand: rand.New(rand.NewPCG(1, 2)),
	})
	if err != nil {
		t.Fatal(err)
	}
	tn.Node = n
	return tn
}

func votersEntry(off int64, epoch int32, s VoterSet) Entry {
	return Entry{Offset: off, Epoch: epoch, Control: true, ControlType: ControlKRaftVoters, Data: MarshalVoters(s)}
}

func wantVoters(t *testing.T, n *Node, want ...int32) {
	t.Helper()
	if got := n.Voters().IDs(); !slices.Equal(got, want) {
		t.Fatalf("node %d: voters %v, want %v", n.ID(), got, want)
	}
}

func TestVotersRecordRoundTrip(t *testing.T) {
	in := voterSet(3, 1, 2)
	in, _ = NewVoterSet(in)
	out, err := UnmarshalVoters(MarshalVoters(in))
	if err != nil {
		t.Fatal(err)
	}
	if !out.Equal(in) {
		t.Fatalf("round trip: %+v, want %+v", out, in)
	}
	if _, err := NewVoterSet([]Voter{{ID: 1}, {ID: 1}}); err == nil {
		t.Fatal("a voter set naming node 1 twice was accepted")
	}
}

// A dynamic quorum's replica uses the newest VotersRecord in its log at once, committed or not,
// and goes back to the set before it when a truncation removes it.
func TestVoterSetFollowsTheLogAndRollsBackOnTruncation(t *testing.T) {
	f := newDynamicTestNode(t, 2, voterSet(1, 2, 3), nil, &MemStore{})
	wantVoters(t, f.Node, 1, 2, 3)
	f.store.Write(ElectionState{Epoch: 1, LeaderID: 1, VotedID: -1})
	f = newDynamicTestNode(t, 2, voterSet(1, 2, 3), f.log, f.store)
	req, _ := sentFetch(t, f.net.take())
	f.step(fetchAnswer(req, 1, 0, nil, []Entry{
		{Offset: 0, Epoch: 1, Control: true, ControlType: ControlLeaderChange},
		votersEntry(1, 1, voterSet(1, 2, 3)),
		votersEntry(2, 1, voterSet(1, 2, 3, 4)),
	}))
	if f.Err() != nil {
		t.Fatal(f.Err())
	}
	if e := f.log.Entry(2); !e.Control || e.ControlType != ControlKRaftVoters {
		t.Fatalf("entry 2 came through the wire as %+v, want a KRaftVoters control entry", e)
	}
	wantVoters(t, f.Node, 1, 2, 3, 4) // uncommitted (high watermark 0), in force all the same
	if f.UncommittedVoterChanges() != 2 {
		t.Fatalf("uncommitted voter sets %d, want 2 (high watermark 0)", f.UncommittedVoterChanges())
	}
	// A new leader of epoch 2 never had the entry at 2: the follower cuts it and the set with it.
	req, _ = sentFetch(t, f.step(beginEpoch(1, 2)))
	f.step(fetchAnswer(req, 2, 0, &OffsetAndEpoch{Offset: 2, Epoch: 1}, nil))
	if f.log.EndOffset() != 2 {
		t.Fatalf("log end %d after divergence at 2@1, want 2", f.log.EndOffset())
	}
	wantVoters(t, f.Node, 1, 2, 3)

	// A restart rebuilds the set from the log, not from the bootstrap set.
	f.log.Append([]Entry{votersEntry(2, 2, voterSet(1, 2))})
	r := newDynamicTestNode(t, 2, voterSet(1, 2, 3), f.log, f.store)
	wantVoters(t, r.Node, 1, 2)
	if got := r.VotersAt(2).IDs(); !slices.Equal(got, []int32{1, 2, 3}) {
		t.Fatalf("voters as of offset 2: %v, want [1 2 3]", got)
	}
}

// The first leader of a dynamic quorum writes the bootstrap voter set into the log (with
// kraft.version), so that replicas that join later learn it from the leader.
func TestLeaderWritesTheBootstrapVoterSet(t *testing.T) {
	n := newDynamicTestNode(t, 1, voterSet(1), nil, nil)
	n.clock.Advance(time.Hour)
	n.Tick()
	if n.State() != Leader {
		t.Fatalf("standalone voter is %s after its election timeout, want leader", n.State())
	}
	var types []ControlType
	for off := int64(0); off < n.log.EndOffset(); off++ {
		types = append(types, n.log.Entry(off).ControlType)
	}
	if want := []ControlType{ControlLeaderChange, ControlKRaftVersion, ControlKRaftVoters}; !slices.Equal(types, want) {
		t.Fatalf("epoch start entries %v, want %v", types, want)
	}
	if n.HighWatermark() != 3 {
		t.Fatalf("hw %d, want 3 (a single voter commits alone)", n.HighWatermark())
	}
	// A node joining with no bootstrap set learns the voters from that log.
	j := newDynamicTestNode(t, 4, nil, n.log, nil)
	wantVoters(t, j.Node, 1)
	if j.IsVoter() {
		t.Fatal("joining node 4 thinks it is a voter")
	}
	// The next leader finds the set in the log and does not write it again.
	n2 := newDynamicTestNode(t, 1, voterSet(1), n.log, n.store)
	n2.clock.Advance(time.Hour)
	n2.Tick()
	n2.Tick()
	if n2.State() != Leader || n2.log.EndOffset() != 4 {
		t.Fatalf("restarted voter: %s with log end %d, want leader with one more entry (4)", n2.State(), n2.log.EndOffset())
	}
}

// beginEpoch is leader's BeginQuorumEpoch for epoch.
func beginEpoch(leader, epoch int32) Message {
	req := kmsg.NewPtrBeginQuorumEpochRequest()
	t := kmsg.NewBeginQuorumEpochRequestTopic()
	t.Topic = MetadataTopic
	p := kmsg.NewBeginQuorumEpochRequestTopicPartition()
	p.LeaderID, p.LeaderEpoch = leader, epoch
	t.Partitions = append(t.Partitions, p)
	req.Topics = append(req.Topics, t)
	return Message{From: leader, Request: req, Correlation: 11}
}

// A candidate restarted in a dynamic quorum whose voter set no longer holds it does not stay a
// candidate that can never stand: it waits as an observer and asks the voters for the leader.
func TestCandidateOutsideTheVoterSetLooksForTheLeader(t *testing.T) {
	store := &MemStore{}
	store.Write(ElectionState{Epoch: 3, LeaderID: -1, VotedID: 4})
	n := newDynamicTestNode(t, 4, voterSet(1, 2, 3), nil, store)
	if n.State() != Candidate {
		t.Fatalf("restarted with its own vote: %s, want candidate", n.State())
	}
	for range 3 {
		n.clock.Advance(time.Hour)
		n.Tick()
	}
	if n.State() == Candidate || n.State() == Prospective {
		t.Fatalf("node 4, not a voter, is still %s", n.State())
	}
	if _, p := sentFetch(t, n.net.take()); p.CurrentLeaderEpoch != 3 {
		t.Fatalf("observer fetch in epoch %d, want 3", p.CurrentLeaderEpoch)
	}
}
