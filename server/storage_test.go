package server

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
	"github.com/osprey-kafka/osprey/server/service"
	"github.com/osprey-kafka/osprey/store"
)

// The storage endpoint answers each broker log directory with its growth from the stored history
// (a console restarted on a database that already holds two earlier polls has them besides its own
// from its first poll on), each poll is written to that history, and each topic has its size over all replicas
// and a settle size from its retention and produce rate.
func TestStorageEndpoint(t *testing.T) {
	ctx := context.Background()
	kc, err := kfake.NewCluster(kfake.NumBrokers(3), kfake.SeedTopics(2, "orders"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kc.Close)
	cl, err := kgo.NewClient(kgo.SeedBrokers(kc.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "orders", Value: []byte("first order")}).FirstErr(); err != nil {
		t.Fatal(err)
	}

	st := openTestStore(t)
	const dir = "/mem/kfake" // kfake's one log dir on every broker
	now := time.Now()
	var seed []store.LogDirPoint
	for _, ago := range []time.Duration{2 * time.Hour, time.Hour} {
		seed = append(seed, store.LogDirPoint{Cluster: "k", BrokerID: 0, Dir: dir, Ts: now.Add(-ago).UnixMilli(), UsedBytes: 0, TotalBytes: -1, UsableBytes: -1})
	}
	if err := st.WriteLogDirs(ctx, seed); err != nil {
		t.Fatal(err)
	}

	svc := service.New(service.Options{Store: st, Logger: quietLogger(), DataDir: t.TempDir(),
		Collector: collector.Config{OffsetsInterval: time.Hour, GroupsInterval: time.Hour}})
	if err := svc.AddCluster(ctx, service.ClusterSpec{Name: "k", Source: "config", Admin: admin.Config{Bootstrap: kc.ListenAddrs()}}); err != nil {
		t.Fatal(err)
	}
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Stop)
	s := newTestServer(t, Options{Service: svc, Logger: quietLogger()})
	poll := func() {
		t.Helper()
		pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		if _, err := svc.PollNow(pctx, "k"); err != nil {
			t.Fatal(err)
		}
	}
	poll()

	rec, v := do(t, s, "GET", "/api/v1/clusters/k/storage")
	if rec.Code != 200 {
		t.Fatalf("storage = %d %v", rec.Code, v)
	}
	dirs := v["dirs"].([]any)
	if len(dirs) != 3 || v["windowSeconds"] != float64(24*3600) {
		t.Fatalf("storage = %v, want three dirs over a 24 h window", v)
	}
	// Starting the service polls once more besides PollNow: broker 1's dir has every poll of this
	// run, broker 0's the two stored ones besides.
	d0, d1 := dirs[0].(map[string]any), dirs[1].(map[string]any)
	polls := d1["points"].(float64)
	if d0["broker"] != float64(0) || d0["path"] != dir || d0["points"] != polls+2 || d0["growthBytesPerDay"] == nil || d0["usedBytes"].(float64) <= 0 {
		t.Fatalf("broker 0 dir = %v, want the two stored polls and this run's %v, growing", d0, polls)
	}
	testenv.WaitFor(t, 10*time.Second, func() error {
		if h, _ := st.LogDirHistory(ctx, "k", now.Add(-3*time.Hour), 100); len(h) < 2+3*int(polls) {
			return fmt.Errorf("%d stored log-dir points, want at least the 2 seeded and 3 per poll of %v", len(h), polls)
		}
		return nil
	})

	topic := func() map[string]any {
		t.Helper()
		_, v := do(t, s, "GET", "/api/v1/clusters/k/storage")
		for _, x := range v["topics"].([]any) {
			if x := x.(map[string]any); x["topic"] == "orders" {
				return x
			}
		}
		t.Fatalf("orders not in %v", v["topics"])
		return nil
	}
	first := v["time"]
	poll()
	// The answer is encoded once per poll: a new poll is a new answer, not the cached one.
	if _, again := do(t, s, "GET", "/api/v1/clusters/k/storage"); again["time"] == first {
		t.Fatalf("storage after another poll is still from %v", first)
	}
	if o := topic(); o["diskBytes"].(float64) <= 0 || o["retentionMs"] != float64(604800000) || o["retentionBytes"] != float64(-1) ||
		o["settleBasis"] != "retention_time" || o["settleBytes"] != float64(0) {
		t.Fatalf("orders = %v, want its size and retention, settled by retention.ms at 0 bytes (nothing produced between polls)", o)
	}
}
