package quorum

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
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
