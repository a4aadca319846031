package service

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/osprey-kafka/osprey/admin"
	"github.com/osprey-kafka/osprey/collector"
	"github.com/osprey-kafka/osprey/internal/testenv"
)

// TestClusterUnreachableNoPileUp stops the monitored cluster and polls it many times: every poll
// fails, and goroutines and open files stay where they were after the first failed polls (a
// leaked connection or goroutine per poll would grow with the count).
func TestClusterUnreachableNoPileUp(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "orders"))
	if err != nil {
		t.Fatal(err)
	}
	svc := New(Options{Logger: quietLog(),
		Collector: collector.Config{OffsetsInterval: time.Hour, GroupsInterval: time.Hour, CallTimeout: 300 * time.Millisecond}})
	if err := svc.AddCluster(ctx, ClusterSpec{Name: "kf", Source: "config", Admin: admin.Config{Bootstrap: kc.ListenAddrs()}}); err != nil {
		t.Fatal(err)
	}
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Stop)
	first, err := svc.PollNow(ctx, "kf")
	if err != nil || first == nil || first.Cluster.Partial {
		t.Fatalf("the first poll: %v", err)
	}
	// The service's own first cycle may run beside PollNow, so the last cycle that reached the
	// cluster began between the first poll and the cluster's stop.
	stoppedAt := time.Now()
	kc.Close()
	poll := func() {
		t.Helper()
		s, err := svc.PollNow(ctx, "kf")
		if err != nil {
			t.Fatal(err)
		}
		if s == nil || !s.Cluster.Partial {
			t.Fatal("a poll of the stopped cluster did not fail")
		}
	}
	for range 5 { // the client's connections and retries settle into their failing state
		poll()
	}
	// The pages keep the last figures and say since when they are stale: the last cycle that reached it.
	sum, err := svc.ClusterSummary("kf", false)
	if err != nil || sum.StaleSince == nil || sum.StaleSince.Before(first.Cluster.LastPoll) || !sum.StaleSince.Before(stoppedAt) ||
		sum.Topics == nil || *sum.Topics != 1 {
		t.Fatalf("summary of the stopped cluster: %+v, %v (first good poll %s, stopped at %s)", sum, err, first.Cluster.LastPoll, stoppedAt)
	}
	settled := func(limit func(g, f int) bool) func() error {
		return testenv.Until("goroutines and open files back near the baseline", func() bool {
			return limit(runtime.NumGoroutine(), testenv.OpenFDs(t))
		})
	}
	var g0, f0 int
	testenv.WaitFor(t, 10*time.Second, settled(func(g, f int) bool { g0, f0 = g, f; return true }))
	const n = 40
	for range n {
		poll()
	}
	// A tolerance for the client's background dials and timers in flight at any moment; a leak per
	// poll would be at least n.
	const tol = 10
	testenv.WaitFor(t, 15*time.Second, settled(func(g, f int) bool { return g <= g0+tol && f <= f0+tol }))
	t.Logf("after %d failed polls: goroutines %d (baseline %d), open files %d (baseline %d)", n, runtime.NumGoroutine(), g0, testenv.OpenFDs(t), f0)
}
