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
		if tp, ok := before.Topic("replicated"); ok && tp.UnderReplicated == 0 && len(tp.Partitions) == 6 && before.Totals.BrokersUp == 3 {
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
