package admin

import (
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/osprey-kafka/osprey/internal/testenv"
)

// TestDescribeQuorumKRaft reads a fixed DescribeQuorum v2 answer: leader, epoch, high watermark, the
// voters' and observers' offsets and timestamps, the voters' listeners; then the finalized features
// and the fenced brokers, as a KRaft cluster's brokers report them.
func TestDescribeQuorumKRaft(t *testing.T) {
	kc, c := newTestCluster(t)
	f := testenv.NewKRaftFake(t, kc)
	at := time.UnixMilli(1_700_000_000_000)
	p := kmsg.NewDescribeQuorumResponseTopicPartition()
	p.LeaderID, p.LeaderEpoch, p.HighWatermark = 2, 7, 120
	p.CurrentVoters = []kmsg.DescribeQuorumResponseTopicPartitionReplicaState{
		testenv.QuorumReplica(3, 100, at.Add(-time.Second), at.Add(-5*time.Second)),
		testenv.QuorumReplica(1, 120, at, at),
		testenv.QuorumReplica(2, 125, at, at),
	}
	p.Observers = []kmsg.DescribeQuorumResponseTopicPartitionReplicaState{testenv.QuorumReplica(4, 118, at, time.Time{})}
	n := kmsg.NewDescribeQuorumResponseNode()
	n.NodeID = 2
	l := kmsg.NewDescribeQuorumResponseNodeListener()
	l.Name, l.Host, l.Port = "CONTROLLER", "ctl-2", 9093
	n.Listeners = []kmsg.DescribeQuorumResponseNodeListener{l}
	f.SetQuorum(p, []kmsg.DescribeQuorumResponseNode{n})
	ctx := ctxT(t)

	q, err := c.DescribeQuorum(ctx)
	if err != nil {
		t.Fatalf("DescribeQuorum: %v", err)
	}
	if q.LeaderID != 2 || q.LeaderEpoch != 7 || q.HighWatermark != 120 || q.Version != 2 {
		t.Fatalf("quorum = leader %d epoch %d hw %d v%d, want 2, 7, 120, v2", q.LeaderID, q.LeaderEpoch, q.HighWatermark, q.Version)
	}
	if len(q.Voters) != 3 || q.Voters[0].ID != 1 || q.Voters[2].ID != 3 {
		t.Fatalf("voters = %+v, want ids 1, 2, 3 in order", q.Voters)
	}
	v3 := q.Voters[2]
	if v3.LogEndOffset != 100 || v3.LastFetchTimestamp != at.Add(-time.Second).UnixMilli() || v3.LastCaughtUpTimestamp != at.Add(-5*time.Second).UnixMilli() {
		t.Fatalf("voter 3 = %+v", v3)
	}
	if len(q.Observers) != 1 || q.Observers[0].ID != 4 || q.Observers[0].LastCaughtUpTimestamp != -1 {
		t.Fatalf("observers = %+v, want broker 4 never caught up (-1)", q.Observers)
	}
	if len(q.Nodes) != 1 || q.Nodes[0].ID != 2 || len(q.Nodes[0].Listeners) != 1 ||
		q.Nodes[0].Listeners[0] != (QuorumListener{Name: "CONTROLLER", Host: "ctl-2", Port: 9093}) {
		t.Fatalf("nodes = %+v", q.Nodes)
	}

	f.SetFeatures(42, map[string]int16{"metadata.version": 25, "kraft.version": 1})
	feats, err := c.FinalizedFeatures(ctx)
	if err != nil {
		t.Fatalf("FinalizedFeatures: %v", err)
	}
	if feats.Epoch != 42 || len(feats.Finalized) != 2 || feats.Finalized[0].Name != "kraft.version" || feats.Finalized[1].Level != 25 {
		t.Fatalf("features = %+v", feats)
	}

	f.SetFenced(1)
	d, err := c.DescribeCluster(ctx)
	if err != nil {
		t.Fatalf("DescribeCluster: %v", err)
	}
	if !d.Fenced[1] || d.Fenced[0] || len(d.Brokers) != 3 {
		t.Fatalf("fenced = %v over %d brokers, want broker 1 only", d.Fenced, len(d.Brokers))
	}

	f.SetQuorumError(kerr.NotLeaderForPartition.Code)
	if _, err := c.DescribeQuorum(ctx); !errors.Is(err, kerr.NotLeaderForPartition) {
		t.Fatalf("DescribeQuorum without a leader: %v, want NOT_LEADER_OR_FOLLOWER", err)
	}
}
