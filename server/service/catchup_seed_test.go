package service

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/osprey-kafka/osprey/admin"
	"github.com/osprey-kafka/osprey/collector"
	"github.com/osprey-kafka/osprey/internal/testenv"
	"github.com/osprey-kafka/osprey/store"
)

// A console that starts with the group's positions of the last minutes in its database estimates
// the time to catch up at its first poll, from the stored history: without it one poll is too few.
func TestCatchUpEstimateFromStoredHistoryAtFirstPoll(t *testing.T) {
	ctx := context.Background()
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "orders"))
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(kc.ListenAddrs()...), kgo.DefaultProduceTopic("orders"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for i := 0; i < 100; i++ {
		if err := cl.ProduceSync(ctx, &kgo.Record{Partition: 0, Value: []byte("v")}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	adm, err := admin.New(admin.Config{Bootstrap: kc.ListenAddrs()}, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Close()
	if _, err := adm.CommitOffsets(ctx, "billing", map[string]map[int32]int64{"orders": {0: 40}}); err != nil {
		t.Fatal(err)
	}
	// Stored: 4 and 2 minutes ago the group was at 0 and 20 with the log end at 100 (lag 100, 80).
	st := newOpsTestStore(t)
	now := time.Now()
	b := store.Batch{Groups: []store.GroupPoint{
		{Cluster: "k", GroupName: "billing", Topic: "orders", Ts: now.Add(-4 * time.Minute).Unix(), Committed: 0, Lag: 100},
		{Cluster: "k", GroupName: "billing", Topic: "orders", Ts: now.Add(-2 * time.Minute).Unix(), Committed: 20, Lag: 80},
	}}
	if err := st.WriteBatch(ctx, &b); err != nil {
		t.Fatal(err)
	}
	svc := New(Options{Store: st, Logger: quietLog(), Collector: collector.Config{OffsetsInterval: time.Hour, GroupsInterval: time.Millisecond}})
	if err := svc.AddCluster(ctx, ClusterSpec{Name: "k", Source: "config", Admin: admin.Config{Bootstrap: kc.ListenAddrs()}}); err != nil {
		t.Fatal(err)
	}
	defer svc.Stop()
	var g GroupDetail
	testenv.WaitFor(t, 10*time.Second, func() error {
		if _, err := svc.PollNow(ctx, "k"); err != nil {
			return err
		}
		if g, err = svc.Group("k", "billing"); err != nil {
			return err
		}
		if g.Lag == nil {
			return fmt.Errorf("lag not known yet")
		}
		return nil
	})
	// Consumed 40 in ~4 minutes with nothing produced: catching up, 60 left at ~1/6 per second.
	if g.CatchUp.State != collector.CatchUpCatchingUp || g.CatchUp.ProduceRate != 0 || g.CatchUp.Seconds < 300 || g.CatchUp.Seconds > 420 {
		t.Fatalf("catch-up at the first polls %+v, want catching up in about 6 minutes", g.CatchUp)
	}
}
