package server

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/osprey-kafka/osprey/admin"
	"github.com/osprey-kafka/osprey/collector"
	"github.com/osprey-kafka/osprey/internal/testenv"
	"github.com/osprey-kafka/osprey/server/service"
)

// The Quorum endpoints of a KRaft cluster: the state of the last poll, the quorum leader as the
// cluster's controller in its summary, and the stored history with each leader change. A
// ZooKeeper-mode cluster (plain kfake) has no quorum: 404 no_quorum, and kraft false.
func TestQuorumEndpoints(t *testing.T) {
	ctx := context.Background()
	kraft, err := kfake.NewCluster(kfake.NumBrokers(3))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kraft.Close)
	zk, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(zk.Close)
	f := testenv.NewKRaftFake(t, kraft)
	now := time.Now()
	answer := func(leader, epoch int32) kmsg.DescribeQuorumResponseTopicPartition {
		p := kmsg.NewDescribeQuorumResponseTopicPartition()
		p.LeaderID, p.LeaderEpoch, p.HighWatermark = leader, epoch, 500
		p.CurrentVoters = []kmsg.DescribeQuorumResponseTopicPartitionReplicaState{
			testenv.QuorumReplica(0, 510, now, now), testenv.QuorumReplica(1, 510, now, now),
			testenv.QuorumReplica(2, 480, now.Add(-3*time.Second), now.Add(-20*time.Second)),
		}
		return p
	}
	f.SetQuorum(answer(1, 4), nil)
	f.SetFenced(2)
	f.SetFeatures(3, map[string]int16{"metadata.version": 21, "kraft.version": 1})

	st := openTestStore(t)
	svc := service.New(service.Options{Store: st, Logger: quietLogger(), DataDir: t.TempDir(),
		Collector: collector.Config{OffsetsInterval: time.Hour, GroupsInterval: time.Hour}})
	for name, kc := range map[string]*kfake.Cluster{"kraft": kraft, "zk": zk} {
		if err := svc.AddCluster(ctx, service.ClusterSpec{Name: name, Source: "config", Admin: admin.Config{Bootstrap: kc.ListenAddrs()}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Stop)
	s := newTestServer(t, Options{Service: svc, Logger: quietLogger()})
	poll := func(name string) {
		t.Helper()
		pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		if _, err := svc.PollNow(pctx, name); err != nil {
			t.Fatal(err)
		}
	}
	poll("kraft")
	poll("zk")

	rec, q := do(t, s, "GET", "/api/v1/clusters/kraft/quorum")
	if rec.Code != 200 {
		t.Fatalf("quorum = %d %v", rec.Code, q)
	}
	if q["leaderId"] != float64(1) || q["leaderEpoch"] != float64(4) || q["highWatermark"] != float64(500) ||
		q["majority"] != float64(2) || q["caughtUpVoters"] != float64(2) || q["featuresEpoch"] != float64(3) {
		t.Fatalf("quorum = %v", q)
	}
	v2 := q["voters"].([]any)[2].(map[string]any)
	if v2["id"] != float64(2) || v2["lag"] != float64(30) || v2["lagSeconds"] != float64(20) || v2["lastFetchAgeSeconds"] != float64(3) || v2["caughtUp"] != false {
		t.Fatalf("voter 2 = %v", v2)
	}
	fenced := map[float64]bool{}
	for _, b := range q["brokers"].([]any) {
		b := b.(map[string]any)
		fenced[b["id"].(float64)] = b["fenced"].(bool)
	}
	if !fenced[2] || fenced[0] || fenced[1] {
		t.Fatalf("fenced brokers = %v, want 2 only", fenced)
	}
	if _, sum := do(t, s, "GET", "/api/v1/clusters/kraft"); sum["kraft"] != true || sum["controller"] != float64(1) {
		t.Fatalf("KRaft cluster summary = kraft %v controller %v, want true and the quorum leader 1", sum["kraft"], sum["controller"])
	}
	rec, body := do(t, s, "GET", "/api/v1/clusters/zk/quorum")
	if rec.Code != 404 || errorCode(body) != "no_quorum" {
		t.Fatalf("quorum of a ZooKeeper-mode cluster = %d %v, want 404 no_quorum", rec.Code, body)
	}
	if _, sum := do(t, s, "GET", "/api/v1/clusters/zk"); sum["kraft"] != false {
		t.Fatalf("ZooKeeper-mode cluster summary kraft = %v", sum["kraft"])
	}

	// A new leader: the history's last point has it, with the change from the old one.
	testenv.WaitFor(t, 10*time.Second, func() error {
		if h, _ := st.QuorumHistory(ctx, "kraft", now.Add(-time.Hour), time.Now().Add(time.Hour), 10); len(h) == 0 {
			return fmt.Errorf("no quorum sample stored")
		}
		return nil
	})
	f.SetQuorum(answer(0, 5), nil)
	poll("kraft") // a poll takes more than the millisecond the samples are keyed by
	var h map[string]any
	var pts []any
	testenv.WaitFor(t, 10*time.Second, func() error {
		from := now.Add(-time.Hour).UTC().Format(time.RFC3339)
		_, h = do(t, s, "GET", "/api/v1/clusters/kraft/quorum/history?from="+from)
		pts, _ = h["points"].([]any)
		if len(pts) < 2 || pts[len(pts)-1].(map[string]any)["leaderEpoch"] != float64(5) {
			return fmt.Errorf("history = %v, want the epoch 5 poll last", h)
		}
		return nil
	})
	ch := h["leaderChanges"].([]any)
	if len(ch) != 1 || ch[0].(map[string]any)["from"] != float64(1) || ch[0].(map[string]any)["to"] != float64(0) || ch[0].(map[string]any)["epoch"] != float64(5) {
		t.Fatalf("leader changes = %v, want 1 → 0 in epoch 5", ch)
	}
	if p := pts[0].(map[string]any); p["maxVoterLag"] != float64(30) || p["maxVoterLagSeconds"] != float64(20) || p["leaderId"] != float64(1) {
		t.Fatalf("first point = %v, want leader 1, max voter lag 30 records, 20 s", p)
	}
}
