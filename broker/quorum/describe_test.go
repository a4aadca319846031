package quorum

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func describeRequest() *kmsg.DescribeQuorumRequest {
	req := kmsg.NewPtrDescribeQuorumRequest()
	req.Version = 2
	t := kmsg.NewDescribeQuorumRequestTopic()
	t.Topic = MetadataTopic
	t.Partitions = append(t.Partitions, kmsg.NewDescribeQuorumRequestTopicPartition())
	req.Topics = append(req.Topics, t)
	return req
}

func TestDescribeQuorum(t *testing.T) {
	l := leaderWithLog(t, nil, 0) // epoch 1, control entry at 0
	l.Append([]byte("a"), []byte("b"))
	l.step(fetchRequest(2, l.Epoch(), 1, 1)) // voter 2 is behind (leader ends at 3)
	l.clock.Advance(time.Second)
	l.step(fetchRequest(2, l.Epoch(), 3, 1)) // reached the end the leader had at its last fetch
	l.step(fetchRequest(100, l.Epoch(), 3, 1))

	p := l.Describe(describeRequest()).Topics[0].Partitions[0]
	if p.ErrorCode != 0 || p.LeaderID != 1 || p.LeaderEpoch != l.Epoch() || p.HighWatermark != 3 {
		t.Fatalf("partition %+v, want leader 1 of epoch %d with high watermark 3", p, l.Epoch())
	}
	if len(p.CurrentVoters) != 3 || len(p.Observers) != 1 || p.Observers[0].ReplicaID != 100 {
		t.Fatalf("voters %+v observers %+v", p.CurrentVoters, p.Observers)
	}
	v2, v3 := p.CurrentVoters[1], p.CurrentVoters[2]
	if v2.LogEndOffset != 3 || v2.LastFetchTimestamp != l.clock.Now().UnixMilli() || v2.LastCaughtUpTimestamp != l.clock.Now().UnixMilli() {
		t.Fatalf("voter 2: %+v", v2)
	}
	if v3.LogEndOffset != -1 || v3.LastFetchTimestamp != -1 || v3.LastCaughtUpTimestamp != -1 {
		t.Fatalf("voter 3 never fetched: %+v", v3)
	}

	f := newTestNode(t, 2, []int32{1, 2, 3}, nil, &ElectionState{Epoch: 1, LeaderID: 1, VotedID: -1})
	p = f.Describe(describeRequest()).Topics[0].Partitions[0]
	if p.ErrorCode != kerr.NotLeaderForPartition.Code || p.LeaderID != 1 || p.ErrorMessage == nil {
		t.Fatalf("a follower answered %+v, want NOT_LEADER_OR_FOLLOWER naming leader 1", p)
	}
}

func TestLastCaughtUpIsTheLastFetchThatReachedTheLeadersEnd(t *testing.T) {
	var r ReplicaState
	t0 := time.Unix(100, 0)
	r.recordFetch(5, 10, t0) // behind
	if !r.LastCaughtUp.IsZero() {
		t.Fatalf("caught up at %v while behind", r.LastCaughtUp)
	}
	r.recordFetch(10, 12, t0.Add(time.Second)) // reached the end the leader had at t0
	if !r.LastCaughtUp.Equal(t0) {
		t.Fatalf("last caught up %v, want %v (the fetch whose leader end it has now reached)", r.LastCaughtUp, t0)
	}
	r.recordFetch(12, 12, t0.Add(2*time.Second))
	if !r.LastCaughtUp.Equal(t0.Add(2 * time.Second)) {
		t.Fatalf("last caught up %v, want now", r.LastCaughtUp)
	}
}
