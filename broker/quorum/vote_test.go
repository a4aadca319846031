package quorum

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestVoteGrantedOnlyToAnUpToDateLog(t *testing.T) {
	// The voter's log: offsets 0-3, last epoch 2, end offset 4.
	cases := []struct {
		name       string
		lastEpoch  int32
		lastOffset int64
		granted    bool
	}{
		{"same last epoch, same end", 2, 4, true},
		{"same last epoch, longer", 2, 9, true},
		{"same last epoch, shorter", 2, 3, false},
		{"larger last epoch, shorter", 3, 1, true},
		{"smaller last epoch, longer", 1, 50, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tn := newTestNode(t, 1, []int32{1, 2, 3}, []int32{1, 1, 2, 2}, &ElectionState{Epoch: 2, LeaderID: -1, VotedID: -1})
			p := onlyVoteAnswer(t, tn.step(voteRequest(2, 5, c.lastEpoch, c.lastOffset)))
			if p.VoteGranted != c.granted {
				t.Fatalf("granted %v, want %v", p.VoteGranted, c.granted)
			}
			if p.LeaderEpoch != 5 || tn.Epoch() != 5 {
				t.Fatalf("answer epoch %d, node epoch %d: a higher candidate epoch is joined either way", p.LeaderEpoch, tn.Epoch())
			}
			st, _, _ := tn.store.Read()
			want := int32(-1)
			if c.granted {
				want = 2
			}
			if st.VotedID != want || st.Epoch != 5 {
				t.Fatalf("stored %s, want epoch 5 voted %d (persisted before the answer)", st, want)
			}
		})
	}
}

func TestOneVotePerEpoch(t *testing.T) {
	tn := newTestNode(t, 1, []int32{1, 2, 3}, nil, nil)
	if p := onlyVoteAnswer(t, tn.step(voteRequest(2, 1, 0, 0))); !p.VoteGranted {
		t.Fatal("first candidate of the epoch refused")
	}
	if p := onlyVoteAnswer(t, tn.step(voteRequest(3, 1, 0, 0))); p.VoteGranted {
		t.Fatal("a second candidate got a vote in the same epoch")
	}
	if p := onlyVoteAnswer(t, tn.step(voteRequest(2, 1, 0, 0))); !p.VoteGranted {
		t.Fatal("a repeated request from the candidate voted for was refused")
	}
	// The vote survives a restart: the stored state is Voted for 2 in epoch 1.
	n2, err := New(Config{NodeID: 1, Voters: []int32{1, 2, 3}, Log: tn.log, Store: tn.store, Transport: tn.net, Clock: tn.clock, Rand: tn.cfg.Rand})
	if err != nil {
		t.Fatal(err)
	}
	if n2.State() != Voted || n2.VotedID() != 2 || n2.Epoch() != 1 {
		t.Fatalf("restarted as %s epoch %d voted %d, want voted for 2 in epoch 1", n2.State(), n2.Epoch(), n2.VotedID())
	}
	tn2 := &testNode{Node: n2, net: tn.net, clock: tn.clock, log: tn.log, store: tn.store}
	if p := onlyVoteAnswer(t, tn2.step(voteRequest(3, 1, 0, 0))); p.VoteGranted {
		t.Fatal("after a restart, a second candidate got a vote in the same epoch")
	}
}

func TestVoteRefusals(t *testing.T) {
	t.Run("stale epoch is fenced", func(t *testing.T) {
		tn := newTestNode(t, 1, []int32{1, 2, 3}, nil, &ElectionState{Epoch: 4, LeaderID: -1, VotedID: -1})
		p := onlyVoteAnswer(t, tn.step(voteRequest(2, 3, 0, 0)))
		if p.VoteGranted || p.ErrorCode != kerr.FencedLeaderEpoch.Code || p.LeaderEpoch != 4 {
			t.Fatalf("got %+v, want a FENCED_LEADER_EPOCH refusal naming epoch 4", p)
		}
	})
	t.Run("candidate outside the voter set", func(t *testing.T) {
		tn := newTestNode(t, 1, []int32{1, 2, 3}, nil, nil)
		p := onlyVoteAnswer(t, tn.step(voteRequest(9, 1, 0, 0)))
		if p.VoteGranted || p.ErrorCode != kerr.InconsistentVoterSet.Code {
			t.Fatalf("got %+v, want an INCONSISTENT_VOTER_SET refusal", p)
		}
	})
	t.Run("follower of the epoch", func(t *testing.T) {
		tn := newTestNode(t, 1, []int32{1, 2, 3}, nil, &ElectionState{Epoch: 2, LeaderID: 3, VotedID: -1})
		p := onlyVoteAnswer(t, tn.step(voteRequest(2, 2, 9, 9)))
		if p.VoteGranted || p.LeaderID != 3 {
			t.Fatalf("got %+v, want a refusal naming leader 3", p)
		}
	})
	t.Run("a higher epoch deposes the leader", func(t *testing.T) {
		tn := newTestNode(t, 1, []int32{1, 2, 3}, nil, nil)
		tn.electLeader(t, 2)
		p := onlyVoteAnswer(t, tn.step(voteRequest(3, tn.Epoch()+1, tn.log.LastEpoch(), tn.log.EndOffset())))
		if !p.VoteGranted || tn.State() != Voted {
			t.Fatalf("got %+v, state %s; want the vote granted and the old leader voted", p, tn.State())
		}
	})
}

func TestElection(t *testing.T) {
	tn := newTestNode(t, 1, []int32{1, 2, 3}, []int32{1, 1}, &ElectionState{Epoch: 1, LeaderID: 2, VotedID: -1})
	tn.electLeader(t, 3)
	if tn.Epoch() != 2 || tn.LeaderID() != 1 {
		t.Fatalf("leader of epoch %d, leader id %d; want 1 leading epoch 2", tn.Epoch(), tn.LeaderID())
	}
	// The epoch starts with a control entry, and the voters are told.
	if tn.log.EndOffset() != 3 || !tn.log.entries[2].Control || tn.log.entries[2].Epoch != 2 {
		t.Fatalf("log after election: %+v", tn.log.entries)
	}
	st, _, _ := tn.store.Read()
	if st.LeaderID != 1 || st.Epoch != 2 {
		t.Fatalf("stored %s, want leader 1 in epoch 2", st)
	}

	obs := newTestNode(t, 100, []int32{1, 2, 3}, nil, nil)
	obs.clock.Advance(1 << 40)
	obs.Tick()
	if obs.State() == Candidate || obs.Epoch() != 0 {
		t.Fatalf("an observer stood for election: %s epoch %d", obs.State(), obs.Epoch())
	}
	if _, p := sentFetch(t, obs.net.take()); p.CurrentLeaderEpoch != 0 {
		t.Fatalf("observer's discovery fetch names epoch %d", p.CurrentLeaderEpoch)
	}
}

func TestPreVote(t *testing.T) {
	t.Run("changes nothing on the voter", func(t *testing.T) {
		tn := newTestNode(t, 1, []int32{1, 2, 3}, []int32{1}, &ElectionState{Epoch: 2, LeaderID: -1, VotedID: -1})
		req := voteRequest(2, 5, 1, 1)
		req.Request.(*kmsg.VoteRequest).Topics[0].Partitions[0].PreVote = true
		if p := onlyVoteAnswer(t, tn.step(req)); !p.VoteGranted || p.LeaderEpoch != 2 {
			t.Fatalf("got %+v, want a pre-vote granted in epoch 2", p)
		}
		st, _, _ := tn.store.Read()
		if tn.Epoch() != 2 || tn.VotedID() != -1 || st.Epoch != 2 || st.VotedID != -1 {
			t.Fatalf("after a pre-vote: epoch %d voted %d, stored %s; want both untouched", tn.Epoch(), tn.VotedID(), st)
		}
		if p := onlyVoteAnswer(t, tn.step(voteRequest(3, 3, 1, 1))); !p.VoteGranted {
			t.Fatal("a real vote refused after a pre-vote to another node")
		}
	})
	t.Run("refused while the leader is heard from", func(t *testing.T) {
		tn := newTestNode(t, 1, []int32{1, 2, 3}, nil, &ElectionState{Epoch: 2, LeaderID: 3, VotedID: -1})
		req := voteRequest(2, 2, 9, 9)
		req.Request.(*kmsg.VoteRequest).Topics[0].Partitions[0].PreVote = true
		if p := onlyVoteAnswer(t, tn.step(req)); p.VoteGranted || p.LeaderID != 3 {
			t.Fatalf("a follower answered %+v, want a refusal naming leader 3", p)
		}
	})
	t.Run("a voter cut off from the others does not bump the epoch", func(t *testing.T) {
		tn := newTestNode(t, 1, []int32{1, 2, 3}, nil, &ElectionState{Epoch: 2, LeaderID: 3, VotedID: -1})
		for range 20 {
			tn.clock.Advance(tn.cfg.FetchTimeout)
			tn.Tick()
		}
		if tn.State() != Prospective || tn.Epoch() != 2 {
			t.Fatalf("after 20 fetch timeouts alone: %s in epoch %d, want prospective in epoch 2", tn.State(), tn.Epoch())
		}
	})
	t.Run("a pre-vote answer is not a vote", func(t *testing.T) {
		tn := newTestNode(t, 1, []int32{1, 2, 3, 4, 5}, nil, &ElectionState{Epoch: 2, LeaderID: -1, VotedID: -1})
		tn.clock.Advance(time.Hour)
		tn.Tick()
		preVotes := tn.net.take()
		tn.grantVoteTo(t, preVotes, 2)
		tn.grantVoteTo(t, preVotes, 3)
		if tn.State() != Candidate || tn.Epoch() != 3 {
			t.Fatalf("%s in epoch %d after 3 of 5 pre-votes, want candidate in epoch 3", tn.State(), tn.Epoch())
		}
		// Voters 4 and 5 answer the old pre-vote requests late, from epoch 3 (they have moved
		// there, voting for someone else). Those answers must not elect this candidate.
		tn.grantVoteTo(t, preVotes, 4)
		tn.grantVoteTo(t, preVotes, 5)
		if tn.State() != Candidate {
			t.Fatalf("late pre-vote answers made the candidate %s", tn.State())
		}
	})
}

// grantVoteTo answers, with a grant in the node's current epoch, the request among sent to voter.
func (tn *testNode) grantVoteTo(t *testing.T, sent []Message, voter int32) {
	t.Helper()
	for _, m := range sent {
		if _, ok := m.Request.(*kmsg.VoteRequest); ok && m.To == voter {
			tn.answerGrant(m)
			return
		}
	}
	t.Fatalf("no vote request to %d", voter)
}

func TestGracefulResign(t *testing.T) {
	l := leaderWithLog(t, nil, 0)
	l.step(fetchRequest(3, l.Epoch(), 1, l.Epoch())) // voter 3 is caught up, voter 2 is not
	if err := l.Resign(); err != nil {
		t.Fatal(err)
	}
	if l.State() != Resigned {
		t.Fatalf("resigned leader is %s", l.State())
	}
	if _, err := l.Append([]byte("x")); err != ErrNotLeader {
		t.Fatalf("append on a resigned leader: %v, want ErrNotLeader", err)
	}
	var end Message
	for _, m := range l.net.take() {
		if r, ok := m.Request.(*kmsg.EndQuorumEpochRequest); ok && m.To == 3 {
			end = m
			if got := r.Topics[0].Partitions[0].PreferredSuccessors; len(got) != 2 || got[0] != 3 {
				t.Fatalf("preferred successors %v, want the caught-up voter 3 first", got)
			}
		}
	}
	if end.Request == nil {
		t.Fatal("no EndQuorumEpoch to voter 3")
	}
	f := newTestNode(t, 3, []int32{1, 2, 3}, []int32{1}, &ElectionState{Epoch: l.Epoch(), LeaderID: 1, VotedID: -1})
	f.net.take()
	f.step(end)
	if f.State() != Unattached || f.LeaderID() != -1 {
		t.Fatalf("the first preferred successor is %s with leader %d, want unattached without a leader", f.State(), f.LeaderID())
	}
	f.Tick()
	if f.State() != Prospective {
		t.Fatalf("the first preferred successor is %s right after EndQuorumEpoch, want prospective", f.State())
	}
}

func TestRequestsFromAnotherClusterAreRefused(t *testing.T) {
	tn := newTestNode(t, 1, []int32{1, 2, 3}, nil, nil)
	m := voteRequest(2, 1, 0, 0)
	other := "other-cluster"
	m.Request.(*kmsg.VoteRequest).ClusterID = &other
	out := tn.step(m)
	if len(out) != 1 || out[0].Response.(*kmsg.VoteResponse).ErrorCode != kerr.InconsistentClusterID.Code {
		t.Fatalf("answer %+v, want INCONSISTENT_CLUSTER_ID", out)
	}
	if tn.Epoch() != 0 || tn.VotedID() != -1 {
		t.Fatalf("a request from another cluster moved the node to epoch %d, voted %d", tn.Epoch(), tn.VotedID())
	}
	f := fetchRequest(2, 0, 0, 0)
	f.Request.(*kmsg.FetchRequest).ClusterID = &other
	out = tn.step(f)
	if len(out) != 1 || out[0].Response.(*kmsg.FetchResponse).ErrorCode != kerr.InconsistentClusterID.Code {
		t.Fatalf("fetch answer %+v, want INCONSISTENT_CLUSTER_ID", out)
	}
}
