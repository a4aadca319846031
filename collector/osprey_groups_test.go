package collector

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/osprey-kafka/osprey/admin"
	"github.com/osprey-kafka/osprey/internal/testenv"
	"github.com/twmb/franz-go/pkg/kerr"
)

// On Osprey's runtime, killing the broker that coordinates a group, restarting it and running a
// preferred election never shows the group twice or with another lag, and once the moves are over
// a poll has no partial-data error.
func TestOspreyGroupOnceAcrossCoordinatorMoves(t *testing.T) {
	sup := startOspreyCluster(t, 3)
	ctx := testCtx(t)
	ac, err := admin.New(admin.Config{Name: "osprey", Bootstrap: splitAddrs(sup.BootstrapServers()), Timeout: 5 * time.Second}, quiet())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ac.Close() })
	res, err := ac.CreateTopics(ctx, admin.TopicSpec{Name: "ledger", Partitions: 1, ReplicationFactor: 3})
	if err != nil || res["ledger"] != nil {
		t.Fatalf("create topic: %v %v", err, res)
	}
	testenv.WaitFor(t, 20*time.Second, func() error {
		for i := range 10 {
			if _, err := ac.ProduceMessage(ctx, "ledger", 0, nil, []byte{byte(i)}, nil); err != nil {
				return err
			}
		}
		return nil
	})
	testenv.WaitFor(t, 20*time.Second, func() error {
		_, err := ac.CommitOffsets(ctx, "demo", map[string]map[int32]int64{"ledger": {0: 4}})
		return err
	})
	col, err := New(Config{}, ac, nil, quiet())
	if err != nil {
		t.Fatal(err)
	}
	// poll checks every snapshot: the group at most once and, when shown, with lag 6.
	poll := func() (*Snapshot, *Group) {
		t.Helper()
		s := col.PollNow(ctx)
		var found []Group
		for _, g := range s.Groups {
			if g.Name == "demo" {
				found = append(found, g)
			}
		}
		if len(found) > 1 {
			t.Fatalf("group shown %d times: %+v", len(found), found)
		}
		if len(found) == 0 {
			return s, nil
		}
		if found[0].TotalLag != 6 {
			t.Fatalf("group lag %d, want 6: %+v", found[0].TotalLag, found[0])
		}
		return s, &found[0]
	}
	coordinatedBy := func(want func(int32) bool) int32 {
		t.Helper()
		var at int32
		testenv.WaitFor(t, 30*time.Second, func() error {
			_, g := poll()
			if g == nil || !want(g.Coordinator) {
				return fmt.Errorf("group %+v", g)
			}
			at = g.Coordinator
			return nil
		})
		return at
	}
	first := coordinatedBy(func(int32) bool { return true })

	if err := sup.KillBroker(first); err != nil {
		t.Fatal(err)
	}
	coordinatedBy(func(id int32) bool { return id != first })
	if err := sup.StartBroker(ctx, first); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, 30*time.Second, func() error {
		md, err := ac.Metadata(ctx, []string{"__consumer_offsets"})
		if err != nil {
			return err
		}
		for _, tm := range md.Topics {
			var parts []int32
			for _, p := range tm.Partitions {
				if len(p.ISR) != len(p.Replicas) {
					return fmt.Errorf("%s-%d: ISR %v of %v", tm.Name, p.Partition, p.ISR, p.Replicas)
				}
				parts = append(parts, p.Partition)
			}
			out, err := ac.ElectPreferredLeaders(ctx, tm.Name, parts)
			if err != nil {
				return err
			}
			for _, pe := range out {
				if pe.Err != nil && !errors.Is(pe.Err, kerr.ElectionNotNeeded) {
					return fmt.Errorf("electing %s-%d: %w", pe.Topic, pe.Partition, pe.Err)
				}
			}
		}
		return nil
	})
	coordinatedBy(func(id int32) bool { return id == first })
	testenv.WaitFor(t, 30*time.Second, func() error {
		if s, g := poll(); g == nil || s.Cluster.Partial {
			return fmt.Errorf("group %+v, partial data %+v", g, s.Cluster.Errors)
		}
		return nil
	})
}
