package collector

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/osprey-kafka/osprey/admin"
	"github.com/osprey-kafka/osprey/broker/supervisor"
)

// startOspreyCluster stands up n of Osprey's own brokers in this process (in-process metadata store).
func startOspreyCluster(t testing.TB, n int) *supervisor.Cluster {
	t.Helper()
	sup, err := supervisor.New(supervisor.Options{Brokers: n, DataDir: t.TempDir(), Logger: quiet(),
		Properties: map[string]string{"group.initial.rebalance.delay.ms": "0"}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := sup.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sup.Close() })
	return sup
}

func startOsprey(t testing.TB, n int) []string {
	sup := startOspreyCluster(t, n)
	return splitAddrs(sup.BootstrapServers())
}

func splitAddrs(s string) []string { return strings.Split(s, ",") }

// TestClusterSuiteOsprey runs the target-independent suite against three Osprey brokers.
func TestClusterSuiteOsprey(t *testing.T) { runClusterSuite(t, startOsprey, 3) }

// TestOspreyKilledBrokerDegradesPartitions kills one of three brokers: partitions with a replica on it
// become under-replicated, single-replica partitions it led go offline, and the broker shows down.
func TestOspreyKilledBrokerDegradesPartitions(t *testing.T) {
	sup := startOspreyCluster(t, 3)
	ctx := testCtx(t)
	ac, err := admin.New(admin.Config{Name: "osprey", Bootstrap: splitAddrs(sup.BootstrapServers()), Timeout: 5 * time.Second}, quiet())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ac.Close() })
	res, err := ac.CreateTopics(ctx, admin.TopicSpec{Name: "replicated", Partitions: 6, ReplicationFactor: 2},
		admin.TopicSpec{Name: "single", Partitions: 6, ReplicationFactor: 1})
	if err != nil {
		t.Fatal(err)
	}
	for name, e := range res {
		if e != nil {
			t.Fatalf("create %s: %v", name, e)
		}
	}
	col, err := New(Config{}, ac, nil, quiet())
	if err != nil {
		t.Fatal(err)
	}
	var before *Snapshot
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		before = col.PollNow(ctx)
		// Healthy means seen healthy: partitions still electing their first leaders count as starting,
		// not as under-replicated or offline, and would not count as an outage when the broker dies.
		rp, ok1 := before.Topic("replicated")
		sp, ok2 := before.Topic("single")
		if ok1 && ok2 && len(rp.Partitions) == 6 && len(sp.Partitions) == 6 && before.Totals.BrokersUp == 3 &&
			rp.UnderReplicated+rp.Offline+rp.Starting+sp.Offline+sp.Starting == 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	const victim = int32(2)
	wantUnder, wantOffline := 0, 0
	rep, _ := before.Topic("replicated")
	for _, p := range rep.Partitions {
		if slices.Contains(p.Replicas, victim) {
			wantUnder++
		}
	}
	single, _ := before.Topic("single")
	for _, p := range single.Partitions {
		if p.Replicas[0] == victim {
			wantOffline++
		}
	}
	if wantUnder == 0 || wantOffline == 0 {
		t.Fatalf("layout puts nothing on broker %d: %+v / %+v", victim, rep.Partitions, single.Partitions)
	}
	if err := sup.KillBroker(victim); err != nil {
		t.Fatal(err)
	}

	var after *Snapshot
	ok := false
	deadline = time.Now().Add(45 * time.Second)
	for time.Now().Before(deadline) && !ok {
		after = col.PollNow(ctx)
		r, _ := after.Topic("replicated")
		s, _ := after.Topic("single")
		ok = r != nil && s != nil && r.UnderReplicated == wantUnder && s.Offline == wantOffline && r.Offline == 0
		if !ok {
			time.Sleep(200 * time.Millisecond)
		}
	}
	r, _ := after.Topic("replicated")
	s, _ := after.Topic("single")
	if !ok {
		t.Fatalf("after killing broker %d: replicated under-replicated %d (want %d) offline %d; single offline %d (want %d)",
			victim, r.UnderReplicated, wantUnder, r.Offline, s.Offline, wantOffline)
	}
	b, found := after.Broker(victim)
	if !found || b.Up {
		t.Fatalf("killed broker in snapshot: %+v (found %v)", b, found)
	}
	if after.Totals.BrokersUp != 2 || after.Totals.Offline < wantOffline {
		t.Fatalf("totals = %+v", after.Totals)
	}
}

// TestOspreySkewAfterReassignment moves replicas of a topic onto one broker and checks CMAK's figures:
// 3 of 4 single-replica partitions on broker 1 and one on broker 2 of a 3-broker cluster give spread
// 66.67 %, broker skew 50 % and leader skew 50 %.
func TestOspreySkewAfterReassignment(t *testing.T) {
	sup := startOspreyCluster(t, 3)
	ctx := testCtx(t)
	ac, err := admin.New(admin.Config{Name: "osprey", Bootstrap: splitAddrs(sup.BootstrapServers()), Timeout: 5 * time.Second}, quiet())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ac.Close() })
	if res, err := ac.CreateTopics(ctx, admin.TopicSpec{Name: "skewed", Partitions: 4, ReplicationFactor: 1}); err != nil || res["skewed"] != nil {
		t.Fatalf("create: %v %v", err, res)
	}
	target := map[int32][]int32{0: {1}, 1: {1}, 2: {1}, 3: {2}}
	var moves []admin.Reassignment
	for p, r := range target {
		moves = append(moves, admin.Reassignment{Topic: "skewed", Partition: p, Replicas: r})
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		perr, err := ac.AlterPartitionReassignments(ctx, moves)
		if err == nil && !slices.ContainsFunc(perr, func(e admin.PartitionError) bool { return e.Err != nil }) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("reassign: %v %v", err, perr)
		}
		time.Sleep(200 * time.Millisecond) // the topic's partitions may still be coming up
	}
	col, err := New(Config{}, ac, nil, quiet())
	if err != nil {
		t.Fatal(err)
	}
	var tp *Topic
	deadline = time.Now().Add(45 * time.Second)
	for time.Now().Before(deadline) {
		snap := col.PollNow(ctx)
		tp, _ = snap.Topic("skewed")
		done := tp != nil && len(tp.Partitions) == 4
		for _, p := range tp.Partitions {
			done = done && slices.Equal(p.Replicas, target[p.Partition]) && p.Leader == target[p.Partition][0]
		}
		if done {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if tp == nil {
		t.Fatal("topic missing from the snapshot")
	}
	round := func(f float64) float64 { return float64(int(f*100+0.5)) / 100 }
	if round(tp.BrokerSpread) != 66.67 || tp.BrokerSkew != 50 || tp.LeaderSkew != 50 {
		t.Fatalf("spread %.2f skew %.2f leader skew %.2f; partitions %+v", tp.BrokerSpread, tp.BrokerSkew, tp.LeaderSkew, tp.Partitions)
	}
}
