package quorum

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// recorder is a Transport that keeps what a node sends, for tests that drive one node by hand.
type recorder struct{ sent []Message }

func (r *recorder) Send(m Message) { r.sent = append(r.sent, m) }

func (r *recorder) take() []Message {
	out := r.sent
	r.sent = nil
	return out
}

type testNode struct {
	*Node
	net   *recorder
	clock *ManualClock
	log   *MemLog
	store *MemStore
}

// newTestNode starts node id with the given voters, log entries (one per epoch listed, at
// consecutive offsets) and stored election state.
func newTestNode(t *testing.T, id int32, voters []int32, logEpochs []int32, st *ElectionState) *testNode {
	t.Helper()
	tn := &testNode{net: &recorder{}, clock: NewManualClock(time.Unix(1_700_000_000, 0)), log: NewMemLog(), store: &MemStore{}}
	for i, e := range logEpochs {
		if err := tn.log.Append([]Entry{{Offset: int64(i), Epoch: e, Data: []byte{byte(i)}}}); err != nil {
			t.Fatal(err)
		}
	}
	if st != nil {
		tn.store.Write(*st)
	}
	n, err := New(Config{
		NodeID: id, Voters: voters, ClusterID: "test",
		Log: tn.log, Store: tn.store, Transport: tn.net, Clock: tn.clock, Rand: rand.New(rand.NewPCG(1, 2)),
	})
	if err != nil {
		t.Fatal(err)
	}
	tn.Node = n
	return tn
}

func voteRequest(from, epoch, lastEpoch int32, lastOffset int64) Message {
	req := kmsg.NewPtrVoteRequest()
	t := kmsg.NewVoteRequestTopic()
	t.Topic = MetadataTopic
	p := kmsg.NewVoteRequestTopicPartition()
	p.CandidateEpoch, p.CandidateID, p.LastOffsetEpoch, p.LastOffset = epoch, from, lastEpoch, lastOffset
	t.Partitions = append(t.Partitions, p)
	req.Topics = append(req.Topics, t)
	return Message{From: from, Request: req, Correlation: 7}
}

func fetchRequest(from, epoch int32, offset int64, lastEpoch int32) Message {
	req := kmsg.NewPtrFetchRequest()
	req.ReplicaState.ID = from
	t := kmsg.NewFetchRequestTopic()
	t.Topic = MetadataTopic
	p := kmsg.NewFetchRequestTopicPartition()
	p.CurrentLeaderEpoch, p.FetchOffset, p.LastFetchedEpoch = epoch, offset, lastEpoch
	t.Partitions = append(t.Partitions, p)
	req.Topics = append(req.Topics, t)
	return Message{From: from, Request: req, Correlation: 9}
}

// step delivers m to the node and returns what it sent in answer.
func (tn *testNode) step(m Message) []Message {
	m.To = tn.ID()
	tn.Step(m)
	return tn.net.take()
}

func onlyVoteAnswer(t *testing.T, out []Message) kmsg.VoteResponseTopicPartition {
	t.Helper()
	for _, m := range out {
		if r, ok := m.Response.(*kmsg.VoteResponse); ok {
			return r.Topics[0].Partitions[0]
		}
	}
	t.Fatalf("no vote response in %d messages", len(out))
	return kmsg.VoteResponseTopicPartition{}
}

func onlyFetchAnswer(t *testing.T, out []Message) kmsg.FetchResponseTopicPartition {
	t.Helper()
	for _, m := range out {
		if r, ok := m.Response.(*kmsg.FetchResponse); ok {
			return r.Topics[0].Partitions[0]
		}
	}
	t.Fatalf("no fetch response in %d messages", len(out))
	return kmsg.FetchResponseTopicPartition{}
}

// sentFetch returns the fetch request among out.
func sentFetch(t *testing.T, out []Message) (Message, kmsg.FetchRequestTopicPartition) {
	t.Helper()
	for _, m := range out {
		if r, ok := m.Request.(*kmsg.FetchRequest); ok {
			return m, r.Topics[0].Partitions[0]
		}
	}
	t.Fatalf("no fetch request in %d messages", len(out))
	return Message{}, kmsg.FetchRequestTopicPartition{}
}

// electLeader makes tn (a voter of a 3-voter set) leader of its next epoch with the vote of voter.
func (tn *testNode) electLeader(t *testing.T, voter int32) {
	t.Helper()
	tn.clock.Advance(time.Hour)
	tn.Tick()
	if tn.State() != Prospective {
		t.Fatalf("node %d is %s after its election timeout, want prospective", tn.ID(), tn.State())
	}
	tn.grantVote(t, voter, true)
	if tn.State() != Candidate {
		t.Fatalf("node %d is %s after a majority of pre-votes, want candidate", tn.ID(), tn.State())
	}
	tn.grantVote(t, voter, false)
	if tn.State() != Leader {
		t.Fatalf("node %d is %s after a majority of votes, want leader", tn.ID(), tn.State())
	}
}

// answerGrant answers the vote request m with a grant in the node's current epoch.
func (tn *testNode) answerGrant(m Message) {
	resp := kmsg.NewPtrVoteResponse()
	rt := kmsg.NewVoteResponseTopic()
	rp := kmsg.NewVoteResponseTopicPartition()
	rp.LeaderEpoch, rp.LeaderID, rp.VoteGranted = tn.Epoch(), -1, true
	rt.Partitions = append(rt.Partitions, rp)
	resp.Topics = append(resp.Topics, rt)
	tn.Step(Message{From: m.To, To: tn.ID(), Correlation: m.Correlation, Response: resp})
}

// grantVote answers the (pre-)vote request the node sent to voter with a grant.
func (tn *testNode) grantVote(t *testing.T, voter int32, preVote bool) {
	t.Helper()
	for _, m := range tn.net.take() {
		req, ok := m.Request.(*kmsg.VoteRequest)
		if !ok || m.To != voter {
			continue
		}
		if got := req.Topics[0].Partitions[0].PreVote; got != preVote {
			t.Fatalf("vote request to %d has PreVote %v, want %v", voter, got, preVote)
		}
		tn.answerGrant(m)
		return
	}
	t.Fatalf("node %d sent no vote request to %d", tn.ID(), voter)
}
