package collector

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/osprey-kafka/osprey/admin"
	"github.com/osprey-kafka/osprey/broker/supervisor"
	"github.com/osprey-kafka/osprey/internal/testenv"
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
	testenv.WaitFor(t, 30*time.Second, func() error {
		before = col.PollNow(ctx)
		// Healthy means seen healthy: partitions still electing their first leaders count as starting,
		// not as under-replicated or offline, and would not count as an outage when the broker dies.
		rp, ok1 := before.Topic("replicated")
		sp, ok2 := before.Topic("single")
		if ok1 && ok2 && len(rp.Partitions) == 6 && len(sp.Partitions) == 6 && before.Totals.BrokersUp == 3 &&
			rp.UnderReplicated+rp.Offline+rp.Starting+sp.Offline+sp.Starting == 0 {
			return nil
		}
		return fmt.Errorf("cluster not healthy yet: totals %+v", before.Totals)
	})
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
	testenv.WaitFor(t, 45*time.Second, func() error {
		after = col.PollNow(ctx)
		r, _ := after.Topic("replicated")
		s, _ := after.Topic("single")
		if r == nil || s == nil {
			return errors.New("topics missing from the snapshot")
		}
		if r.UnderReplicated != wantUnder || s.Offline != wantOffline || r.Offline != 0 {
			return fmt.Errorf("after killing broker %d: replicated under-replicated %d (want %d) offline %d; single offline %d (want %d)",
				victim, r.UnderReplicated, wantUnder, r.Offline, s.Offline, wantOffline)
		}
		return nil
	})
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
	// The topic's partitions may still be coming up: ask until every move is accepted.
	testenv.WaitFor(t, 30*time.Second, func() error {
		perr, err := ac.AlterPartitionReassignments(ctx, moves)
		if err == nil && slices.ContainsFunc(perr, func(e admin.PartitionError) bool { return e.Err != nil }) {
			err = fmt.Errorf("partition errors %+v", perr)
		}
		return err
	})
	col, err := New(Config{}, ac, nil, quiet())
	if err != nil {
		t.Fatal(err)
	}
	var tp *Topic
	testenv.WaitFor(t, 45*time.Second, func() error {
		tp, _ = col.PollNow(ctx).Topic("skewed")
		if tp == nil || len(tp.Partitions) != 4 {
			return fmt.Errorf("topic not fully in the snapshot: %+v", tp)
		}
		for _, p := range tp.Partitions {
			if !slices.Equal(p.Replicas, target[p.Partition]) || p.Leader != target[p.Partition][0] {
				return fmt.Errorf("partition %d: replicas %v leader %d, want %v", p.Partition, p.Replicas, p.Leader, target[p.Partition])
			}
		}
		return nil
	})
	round := func(f float64) float64 { return float64(int(f*100+0.5)) / 100 }
	if round(tp.BrokerSpread) != 66.67 || tp.BrokerSkew != 50 || tp.LeaderSkew != 50 {
		t.Fatalf("spread %.2f skew %.2f leader skew %.2f; partitions %+v", tp.BrokerSpread, tp.BrokerSkew, tp.LeaderSkew, tp.Partitions)
	}
}
