package quorum

import (
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// leaderWithLog returns node 1 of voters {1,2,3} leading an epoch after the given log.
func leaderWithLog(t *testing.T, logEpochs []int32, lastEpoch int32) *testNode {
	t.Helper()
	tn := newTestNode(t, 1, []int32{1, 2, 3}, logEpochs, &ElectionState{Epoch: lastEpoch, LeaderID: -1, VotedID: -1})
	tn.electLeader(t, 2)
	tn.net.take()
	return tn
}

func TestLeaderAnswersDivergingEpoch(t *testing.T) {
	// Leader: epochs 1 1 2 2, then its own epoch 5 starts at offset 4.
	tn := leaderWithLog(t, []int32{1, 1, 2, 2}, 4)
	cases := []struct {
		name      string
		offset    int64
		lastEpoch int32
		diverge   *OffsetAndEpoch
	}{
		{"consistent prefix", 3, 2, nil},
		{"epoch the leader has, but longer", 6, 2, &OffsetAndEpoch{Offset: 4, Epoch: 2}},
		{"epoch the leader never had", 6, 3, &OffsetAndEpoch{Offset: 4, Epoch: 2}},
		{"at the leader's end", 5, 5, nil},
		{"empty follower", 0, 0, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := onlyFetchAnswer(t, tn.step(fetchRequest(2, tn.Epoch(), c.offset, c.lastEpoch)))
			if p.ErrorCode != 0 {
				t.Fatalf("error %d", p.ErrorCode)
			}
			if c.diverge == nil {
				if p.DivergingEpoch.EndOffset != -1 {
					t.Fatalf("diverging epoch %+v for a consistent fetch", p.DivergingEpoch)
				}
				return
			}
			if p.DivergingEpoch.Epoch != c.diverge.Epoch || p.DivergingEpoch.EndOffset != c.diverge.Offset || len(p.RecordBatches) != 0 {
				t.Fatalf("diverging epoch %+v with %d bytes of records, want %s and none", p.DivergingEpoch, len(p.RecordBatches), c.diverge)
			}
		})
	}
}

func TestFetchFromAnotherEpochIsFenced(t *testing.T) {
	tn := leaderWithLog(t, nil, 3)
	p := onlyFetchAnswer(t, tn.step(fetchRequest(2, tn.Epoch()-1, 0, 0)))
	if p.ErrorCode != kerr.FencedLeaderEpoch.Code || p.CurrentLeader.LeaderID != 1 || p.CurrentLeader.LeaderEpoch != tn.Epoch() {
		t.Fatalf("got error %d leader %+v, want FENCED_LEADER_EPOCH naming leader 1 of epoch %d", p.ErrorCode, p.CurrentLeader, tn.Epoch())
	}
	p = onlyFetchAnswer(t, tn.step(fetchRequest(2, tn.Epoch()+1, 0, 0)))
	if p.ErrorCode != kerr.UnknownLeaderEpoch.Code {
		t.Fatalf("got error %d for a future epoch, want UNKNOWN_LEADER_EPOCH", p.ErrorCode)
	}
	f := newTestNode(t, 2, []int32{1, 2, 3}, nil, &ElectionState{Epoch: 3, LeaderID: 1, VotedID: -1})
	p = onlyFetchAnswer(t, f.step(fetchRequest(100, 3, 0, 0)))
	if p.ErrorCode != kerr.NotLeaderForPartition.Code || p.CurrentLeader.LeaderID != 1 {
		t.Fatalf("a follower answered error %d leader %+v, want NOT_LEADER_OR_FOLLOWER naming leader 1", p.ErrorCode, p.CurrentLeader)
	}
}

// fetchAnswer builds the leader's answer to req.
func fetchAnswer(req Message, epoch int32, hw int64, div *OffsetAndEpoch, entries []Entry) Message {
	resp := kmsg.NewPtrFetchResponse()
	rt := kmsg.NewFetchResponseTopic()
	rp := kmsg.NewFetchResponseTopicPartition()
	rp.HighWatermark = hw
	rp.CurrentLeader.LeaderID, rp.CurrentLeader.LeaderEpoch = req.To, epoch
	if div != nil {
		rp.DivergingEpoch.Epoch, rp.DivergingEpoch.EndOffset = div.Epoch, div.Offset
	}
	rp.RecordBatches = encodeEntries(nil, entries)
	rt.Partitions = append(rt.Partitions, rp)
	resp.Topics = append(resp.Topics, rt)
	return Message{From: req.To, Correlation: req.Correlation, Response: resp}
}

func TestFollowerTruncatesOnDivergence(t *testing.T) {
	// Follower: epochs 1 1 2 2 3 3 (its epoch-3 tail was never committed); leader 1 leads epoch 4.
	f := newTestNode(t, 2, []int32{1, 2, 3}, []int32{1, 1, 2, 2, 3, 3}, &ElectionState{Epoch: 4, LeaderID: 1, VotedID: -1})
	req, p := sentFetch(t, f.net.take())
	if p.FetchOffset != 6 || p.LastFetchedEpoch != 3 || p.CurrentLeaderEpoch != 4 {
		t.Fatalf("first fetch %+v", p)
	}
	out := f.step(fetchAnswer(req, 4, 0, &OffsetAndEpoch{Offset: 4, Epoch: 2}, nil))
	if f.log.EndOffset() != 4 || f.log.LastEpoch() != 2 {
		t.Fatalf("log ends at %d@%d after divergence at 4@2, want 4@2", f.log.EndOffset(), f.log.LastEpoch())
	}
	req, p = sentFetch(t, out)
	if p.FetchOffset != 4 || p.LastFetchedEpoch != 2 {
		t.Fatalf("fetch after truncation %+v, want offset 4 epoch 2", p)
	}
	// The leader's entries then land in place, and its high watermark is taken up to the log end.
	f.step(fetchAnswer(req, 4, 9, nil, []Entry{{Offset: 4, Epoch: 4, Control: true}, {Offset: 5, Epoch: 4, Data: []byte("x")}}))
	if f.log.EndOffset() != 6 || f.log.LastEpoch() != 4 || f.HighWatermark() != 6 {
		t.Fatalf("after the leader's entries: log %d@%d hw %d, want 6@4 hw 6", f.log.EndOffset(), f.log.LastEpoch(), f.HighWatermark())
	}
}

func TestFollowerIgnoresLateAndDuplicatedAnswers(t *testing.T) {
	f := newTestNode(t, 2, []int32{1, 2, 3}, []int32{1, 1, 2, 2, 3, 3}, &ElectionState{Epoch: 4, LeaderID: 1, VotedID: -1})
	req, _ := sentFetch(t, f.net.take())
	div := fetchAnswer(req, 4, 0, &OffsetAndEpoch{Offset: 4, Epoch: 2}, nil)
	req2, _ := sentFetch(t, f.step(div))
	// High watermark 0: the follower's guard against truncating committed entries stays out of it.
	f.step(fetchAnswer(req2, 4, 0, nil, []Entry{{Offset: 4, Epoch: 4, Control: true}, {Offset: 5, Epoch: 4}}))
	// A duplicate of the old divergence answer must not cut the log again.
	f.step(div)
	if f.log.EndOffset() != 6 {
		t.Fatalf("a duplicated divergence answer truncated the log to %d", f.log.EndOffset())
	}
}

func TestFollowerNeverTruncatesCommittedEntries(t *testing.T) {
	f := newTestNode(t, 2, []int32{1, 2, 3}, []int32{1, 1, 2, 2}, &ElectionState{Epoch: 4, LeaderID: 1, VotedID: -1})
	req, _ := sentFetch(t, f.net.take())
	req, _ = sentFetch(t, f.step(fetchAnswer(req, 4, 4, nil, []Entry{{Offset: 4, Epoch: 4, Control: true}})))
	if f.HighWatermark() != 4 {
		t.Fatalf("hw %d, want 4", f.HighWatermark())
	}
	f.step(fetchAnswer(req, 4, 4, &OffsetAndEpoch{Offset: 2, Epoch: 1}, nil))
	if f.Err() == nil || !strings.Contains(f.Err().Error(), "below the high watermark") {
		t.Fatalf("err %v, want the node stopped on a truncation below the high watermark", f.Err())
	}
	if f.log.EndOffset() != 5 {
		t.Fatalf("log truncated to %d", f.log.EndOffset())
	}
}

func TestHighWatermark(t *testing.T) {
	t.Run("a majority of voters", func(t *testing.T) {
		tn := leaderWithLog(t, nil, 0) // epoch 1 starts at offset 0
		tn.Append([]byte("a"), []byte("b"))
		if tn.HighWatermark() != 0 {
			t.Fatalf("hw %d with only the leader", tn.HighWatermark())
		}
		tn.step(fetchRequest(100, tn.Epoch(), 3, 1)) // an observer does not count
		if tn.HighWatermark() != 0 {
			t.Fatalf("hw %d after an observer's fetch", tn.HighWatermark())
		}
		p := onlyFetchAnswer(t, tn.step(fetchRequest(2, tn.Epoch(), 2, 1)))
		if tn.HighWatermark() != 2 || p.HighWatermark != 2 {
			t.Fatalf("hw %d (answered %d) after voter 2 reached 2, want 2", tn.HighWatermark(), p.HighWatermark)
		}
		tn.step(fetchRequest(2, tn.Epoch(), 1, 1)) // a late, duplicated fetch
		if tn.HighWatermark() != 2 {
			t.Fatalf("hw went back to %d", tn.HighWatermark())
		}
	})
	t.Run("not by counting entries of an older epoch", func(t *testing.T) {
		// The leader of epoch 4 holds epoch-2 entries that were never committed; voter 2 has
		// them too. They are not committed until the leader's own first entry (offset 3) is on
		// a majority: a leader of another epoch could still overwrite them.
		tn := leaderWithLog(t, []int32{1, 2, 2}, 3)
		tn.step(fetchRequest(2, tn.Epoch(), 3, 2))
		if tn.HighWatermark() != 0 {
			t.Fatalf("hw %d from replicas of older-epoch entries, want 0", tn.HighWatermark())
		}
		tn.step(fetchRequest(2, tn.Epoch(), 4, tn.Epoch()))
		if tn.HighWatermark() != 4 {
			t.Fatalf("hw %d once the epoch's first entry is on a majority, want 4", tn.HighWatermark())
		}
	})
	t.Run("a leader cut off from the majority resigns", func(t *testing.T) {
		tn := leaderWithLog(t, nil, 0)
		tn.clock.Advance(tn.cfg.FetchTimeout)
		tn.Tick()
		if tn.State() != Leader {
			t.Fatalf("leader is %s one fetch timeout after its election, want still leader", tn.State())
		}
		tn.clock.Advance(tn.cfg.FetchTimeout / 2)
		tn.Tick()
		if tn.State() != Resigned {
			t.Fatalf("leader without fetches is %s, want resigned", tn.State())
		}
		ends := 0
		for _, m := range tn.net.take() {
			if _, ok := m.Request.(*kmsg.EndQuorumEpochRequest); ok {
				ends++
			}
		}
		if ends != 2 {
			t.Fatalf("%d EndQuorumEpoch requests, want one per other voter", ends)
		}
	})
}
