package collector

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/osprey-kafka/osprey/internal/testenv"
)

// quorumAnswer is a DescribeQuorum partition with voters 1, 2 and 3001 (a controller-only node)
// and broker 0 as observer; the leader's entry is stamped with leaderNow, as Kafka's leader does.
func quorumAnswer(leader, epoch int32, leaderNow time.Time) kmsg.DescribeQuorumResponseTopicPartition {
	p := kmsg.NewDescribeQuorumResponseTopicPartition()
	p.LeaderID, p.LeaderEpoch, p.HighWatermark = leader, epoch, 140
	p.CurrentVoters = []kmsg.DescribeQuorumResponseTopicPartitionReplicaState{
		testenv.QuorumReplica(1, 100, leaderNow.Add(-2*time.Second), leaderNow.Add(-30*time.Second)),
		testenv.QuorumReplica(2, 148, leaderNow.Add(-time.Second), leaderNow.Add(-time.Second)),
		testenv.QuorumReplica(3001, 150, leaderNow, leaderNow),
	}
	p.Observers = []kmsg.DescribeQuorumResponseTopicPartitionReplicaState{testenv.QuorumReplica(0, 150, leaderNow, time.Time{}),
		testenv.QuorumReplica(4, -1, time.Time{}, time.Time{})}
	return p
}

// A KRaft cluster's snapshot carries the quorum: lags against the leader's log end offset and on
// the leader's clock, the quorum leader as the controller (never Metadata's controller id, which in
// KRaft names a random broker), the fenced brokers, the features, epoch changes within the flap
// window, and a cycle whose DescribeQuorum fails as a quorum without a leader.
func TestQuorumSnapshot(t *testing.T) {
	clk := newFakeClock()
	e := newTestCollector(t, Config{Now: clk.Now, FlapWindow: 10 * time.Minute})
	f := testenv.NewKRaftFake(t, e.kc)
	// The leader's clock is 5 minutes behind the console's: ages must not include the skew.
	leaderNow := clk.Now().Add(-5 * time.Minute)
	f.SetQuorum(quorumAnswer(3001, 5, leaderNow), nil)
	f.SetFenced(2)
	f.SetFeatures(7, map[string]int16{"metadata.version": 21})
	ctx := testCtx(t)

	s := e.col.PollNow(ctx)
	q := s.Cluster.Quorum
	if q == nil || !s.Cluster.KRaft {
		t.Fatalf("no quorum in the snapshot of a KRaft cluster (errors %+v)", s.Cluster.Errors)
	}
	if s.Cluster.Controller != 3001 {
		t.Errorf("controller = %d, want the quorum leader 3001", s.Cluster.Controller)
	}
	for _, b := range s.Brokers {
		if b.Controller {
			t.Errorf("broker %d marked controller; the controller is controller-only node 3001", b.ID)
		}
	}
	if q.LeaderLogEndOffset != 150 || len(q.Voters) != 3 || len(q.Observers) != 2 {
		t.Fatalf("quorum = %+v", q)
	}
	v1 := q.Voters[0]
	if v1.ID != 1 || v1.Lag != 50 || v1.LagSeconds != 30 || v1.LastFetchAgeSeconds != 2 || !v1.Voter {
		t.Errorf("voter 1 = %+v, want lag 50 records, 30 s, fetched 2 s ago", v1)
	}
	if o := q.Observers[0]; o.Voter || o.Lag != 0 || o.LagSeconds != -1 {
		t.Errorf("observer = %+v, want not a voter, no lag, lag time unknown", o)
	}
	if o := q.Observers[1]; o.Lag != -1 || o.LastFetchAgeSeconds != -1 {
		t.Errorf("observer whose offset the leader does not know = %+v, want lag -1 (unknown)", o)
	}
	if got := q.CaughtUpVoters(10 * time.Second); got != 2 {
		t.Errorf("caught-up voters within 10 s = %d, want 2 (the leader and voter 2)", got)
	}
	if recs, secs := q.MaxVoterLag(); recs != 50 || secs != 30 {
		t.Errorf("max voter lag = %d records, %v s; want 50, 30", recs, secs)
	}
	if len(q.Fenced) != 1 || q.Fenced[0] != 2 {
		t.Errorf("fenced = %v, want [2]", q.Fenced)
	}
	if len(q.Features) != 1 || q.Features[0].Name != "metadata.version" || q.Features[0].Level != 21 || q.FeaturesEpoch != 7 {
		t.Errorf("features = %+v epoch %d", q.Features, q.FeaturesEpoch)
	}
	if q.EpochChanges != 0 {
		t.Errorf("epoch changes on the first read = %d, want 0", q.EpochChanges)
	}
	if all := e.sink.All(); len(all) > 0 {
		if qs := all[len(all)-1].Quorum; qs != nil && (qs.LeaderID != 3001 || qs.MaxVoterLag != 50 || len(qs.Replicas) != 5) {
			t.Errorf("quorum sample = %+v", qs)
		}
	}
	if qs := buildSamples(s).Quorum; qs == nil || qs.LeaderID != 3001 || qs.MaxVoterLag != 50 || qs.Voters != 3 || len(qs.Replicas) != 5 {
		t.Errorf("quorum sample = %+v", qs)
	}

	// Two elections a minute apart, then the flap window passes.
	for epoch := int32(6); epoch <= 7; epoch++ {
		clk.Advance(time.Minute)
		f.SetQuorum(quorumAnswer(int32(epoch%2)+1, epoch, leaderNow), nil)
		s = e.col.PollNow(ctx)
	}
	if q := s.Cluster.Quorum; q.EpochChanges != 2 || q.LeaderID != 2 || s.Cluster.Controller != 2 {
		t.Errorf("after two elections: %d changes, leader %d, controller %d; want 2, 2, 2", q.EpochChanges, q.LeaderID, s.Cluster.Controller)
	}
	var ctl bool
	for _, b := range s.Brokers {
		ctl = ctl || (b.ID == 2 && b.Controller)
	}
	if !ctl {
		t.Errorf("broker 2 leads the quorum but is not marked controller")
	}
	clk.Advance(10 * time.Minute)
	if s = e.col.PollNow(ctx); s.Cluster.Quorum.EpochChanges != 0 {
		t.Errorf("epoch changes after the flap window = %d, want 0", s.Cluster.Quorum.EpochChanges)
	}

	f.SetQuorumError(kerr.NotLeaderForPartition.Code)
	s = e.col.PollNow(ctx)
	if q := s.Cluster.Quorum; q == nil || q.LeaderID != -1 || q.Error == "" || s.Cluster.Controller != -1 || !s.Cluster.KRaft {
		t.Fatalf("quorum without an answer = %+v (controller %d), want leader -1 with the error", q, s.Cluster.Controller)
	}
}
