package quorum

import (
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func dirOf(id int32) [16]byte { return [16]byte{0: byte(id), 15: 7} }

func addVoter(id int32) Message {
	req := kmsg.NewPtrAddRaftVoterRequest()
	req.VoterID, req.VoterDirectoryID = id, dirOf(id)
	l := kmsg.NewAddRaftVoterRequestListener()
	l.Name, l.Host, l.Port = "CONTROLLER", "localhost", 9000+uint16(id)
	req.Listeners = append(req.Listeners, l)
	return Message{From: -5, Request: req, Correlation: 21}
}

func removeVoter(id int32) Message {
	req := kmsg.NewPtrRemoveRaftVoterRequest()
	req.VoterID, req.VoterDirectoryID = id, dirOf(id)
	return Message{From: -5, Request: req, Correlation: 22}
}

// observerFetch is a fetch from id with its directory id.
func observerFetch(id, epoch int32, offset int64, lastEpoch int32) Message {
	m := fetchRequest(id, epoch, offset, lastEpoch)
	m.Request.(*kmsg.FetchRequest).Topics[0].Partitions[0].ReplicaDirectoryID = dirOf(id)
	return m
}

// answerCode returns the error code of the answer of type T among out, and whether there is one.
func answerCode(out []Message) (int16, bool) {
	for _, m := range out {
		switch r := m.Response.(type) {
		case *kmsg.AddRaftVoterResponse:
			return r.ErrorCode, true
		case *kmsg.RemoveRaftVoterResponse:
			return r.ErrorCode, true
		case *kmsg.UpdateRaftVoterResponse:
			return r.ErrorCode, true
		}
	}
	return 0, false
}

func wantAnswer(t *testing.T, out []Message, want *kerr.Error) {
	t.Helper()
	code, ok := answerCode(out)
	if !ok {
		t.Fatalf("no answer, want %v", want)
	}
	if want == nil && code != 0 || want != nil && code != want.Code {
		t.Fatalf("answer %v, want %v", kerr.ErrorForCode(code), want)
	}
}

func wantNoAnswer(t *testing.T, out []Message) {
	t.Helper()
	if code, ok := answerCode(out); ok {
		t.Fatalf("answered %v before the change committed", kerr.ErrorForCode(code))
	}
}

// A standalone controller grows to two voters and shrinks back to the other one: each change
// waits for a caught-up observer and for its commit, one at a time, and the leader that removes
// itself resigns once its removal commits.
func TestAddAndRemoveVoters(t *testing.T) {
	l := newDynamicTestNode(t, 1, voterSet(1), nil, nil)
	l.clock.Advance(time.Hour)
	l.Tick()
	if l.State() != Leader || l.HighWatermark() != 3 {
		t.Fatalf("node 1 is %s hw %d, want the leader at hw 3", l.State(), l.HighWatermark())
	}
	l.net.take()
	epoch := l.Epoch()

	wantAnswer(t, l.step(addVoter(1)), kerr.DuplicateVoter)
	wantAnswer(t, l.step(addVoter(2)), kerr.RequestTimedOut) // node 2 has never fetched
	l.step(observerFetch(2, epoch, 0, 0))
	l.clock.Advance(time.Minute) // node 2 reached the leader's end only a fetch timeout ago
	l.step(observerFetch(2, epoch, 3, epoch))
	l.clock.Advance(time.Minute)
	wantAnswer(t, l.step(addVoter(2)), kerr.RequestTimedOut) // caught up, but too long ago
	l.step(observerFetch(2, epoch, 3, epoch))

	wantNoAnswer(t, l.step(addVoter(2)))
	wantVoters(t, l.Node, 1, 2) // in force before it commits
	if l.HighWatermark() != 3 {
		t.Fatalf("hw %d: the new voter set needs node 2 to commit the change", l.HighWatermark())
	}
	wantAnswer(t, l.step(addVoter(3)), kerr.RequestTimedOut) // one change at a time
	wantAnswer(t, l.step(removeVoter(2)), kerr.RequestTimedOut)
	wantAnswer(t, l.step(observerFetch(2, epoch, 4, epoch)), nil) // committed: answered
	if l.HighWatermark() != 4 || l.UncommittedVoterChanges() != 0 {
		t.Fatalf("hw %d, %d uncommitted voter changes; want 4 and 0", l.HighWatermark(), l.UncommittedVoterChanges())
	}

	d := l.Describe(&kmsg.DescribeQuorumRequest{Version: 2, Topics: []kmsg.DescribeQuorumRequestTopic{{Topic: MetadataTopic, Partitions: []kmsg.DescribeQuorumRequestTopicPartition{{}}}}})
	p := d.Topics[0].Partitions[0]
	if len(p.CurrentVoters) != 2 || p.CurrentVoters[1].ReplicaDirectoryID != dirOf(2) || len(d.Nodes) != 2 || d.Nodes[1].Listeners[0].Port != 9002 {
		t.Fatalf("DescribeQuorum v2: voters %+v nodes %+v", p.CurrentVoters, d.Nodes)
	}

	wantAnswer(t, l.step(removeVoter(3)), kerr.VoterNotFound)
	wantNoAnswer(t, l.step(removeVoter(1)))
	wantVoters(t, l.Node, 2)
	if l.State() != Leader {
		t.Fatalf("node 1 is %s before its removal committed, want still the leader", l.State())
	}
	out := l.step(observerFetch(2, epoch, 5, epoch))
	wantAnswer(t, out, nil)
	if l.State() != Resigned || l.IsVoter() {
		t.Fatalf("node 1 is %s (voter %v) after its removal committed, want resigned and no voter", l.State(), l.IsVoter())
	}
	if !slices.ContainsFunc(out, func(m Message) bool { _, ok := m.Request.(*kmsg.EndQuorumEpochRequest); return ok && m.To == 2 }) {
		t.Fatal("the removed leader did not tell node 2 it resigned")
	}
}

func TestVoterChangeRefusals(t *testing.T) {
	t.Run("static quorum", func(t *testing.T) {
		l := newTestNode(t, 1, []int32{1}, nil, nil)
		l.clock.Advance(time.Hour)
		l.Tick()
		wantAnswer(t, l.step(addVoter(2)), kerr.UnsupportedVersion)
	})
	t.Run("not the leader", func(t *testing.T) {
		f := newDynamicTestNode(t, 2, voterSet(1, 2, 3), nil, nil)
		wantAnswer(t, f.step(removeVoter(3)), kerr.NotLeaderForPartition)
	})
	t.Run("nothing committed in the epoch yet", func(t *testing.T) {
		l := newDynamicTestNode(t, 1, voterSet(1, 2, 3), nil, nil)
		l.electLeader(t, 2)
		wantAnswer(t, l.step(removeVoter(3)), kerr.RequestTimedOut)
	})
	t.Run("the last voter", func(t *testing.T) {
		l := newDynamicTestNode(t, 1, voterSet(1), nil, nil)
		l.clock.Advance(time.Hour)
		l.Tick()
		wantAnswer(t, l.step(removeVoter(1)), kerr.InvalidRequest)
	})
	t.Run("a leader that loses its epoch answers not leader", func(t *testing.T) {
		l := newDynamicTestNode(t, 1, voterSet(1, 2, 3), nil, nil)
		l.electLeader(t, 2)
		l.step(fetchRequest(2, l.Epoch(), 3, l.Epoch())) // commits the epoch's start entries
		if l.HighWatermark() != 3 {
			t.Fatalf("hw %d, want 3", l.HighWatermark())
		}
		wantNoAnswer(t, l.step(removeVoter(3)))
		wantAnswer(t, l.step(beginEpoch(2, l.Epoch()+1)), kerr.NotLeaderForPartition)
	})
}

func TestUpdateVoterEndpoints(t *testing.T) {
	l := newDynamicTestNode(t, 1, voterSet(1), nil, nil)
	l.clock.Advance(time.Hour)
	l.Tick()
	req := kmsg.NewPtrUpdateRaftVoterRequest()
	req.CurrentLeaderEpoch, req.VoterID, req.VoterDirectoryID = l.Epoch(), 1, dirOf(1)
	ls := kmsg.NewUpdateRaftVoterRequestListener()
	ls.Name, ls.Host, ls.Port = "CONTROLLER", "new-host", 19091
	req.Listeners = append(req.Listeners, ls)
	req.KRaftVersionFeature.MaxSupportedVersion = 1
	wantAnswer(t, l.step(Message{From: -5, Request: req, Correlation: 3}), nil)
	if v, _ := l.Voters().Get(1); len(v.Endpoints) != 1 || v.Endpoints[0].Host != "new-host" || l.HighWatermark() != 4 {
		t.Fatalf("voter 1 after the update: %+v (hw %d)", v, l.HighWatermark())
	}
	req.CurrentLeaderEpoch--
	wantAnswer(t, l.step(Message{From: -5, Request: req, Correlation: 4}), kerr.FencedLeaderEpoch)
}
