package service

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/osprey-kafka/osprey/admin"
	"github.com/osprey-kafka/osprey/alert"
	"github.com/osprey-kafka/osprey/collector"
)

// A group's detail carries the alert evaluator's window status once enough polls were observed.
func TestGroupDetailCarriesWindowStatus(t *testing.T) {
	ctx := context.Background()
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "orders"))
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	st := newOpsTestStore(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ev, err := alert.New(alert.Options{Store: st, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	if err := ev.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer ev.Stop()
	svc := New(Options{Store: st, Logger: log, Collector: collector.Config{OffsetsInterval: time.Hour, GroupsInterval: time.Millisecond},
		GroupStatus:   func(c, g string) (alert.GroupStatus, bool) { return ev.GroupStatus(c, g, 3) },
		GroupStatuses: ev.GroupStatuses})
	if err := svc.AddCluster(ctx, ClusterSpec{Name: "k", Source: "config", Admin: admin.Config{Bootstrap: kc.ListenAddrs()}}); err != nil {
		t.Fatal(err)
	}
	defer svc.Stop()

	cl, err := kgo.NewClient(kgo.SeedBrokers(kc.ListenAddrs()...), kgo.DefaultProduceTopic("orders"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for i := 0; i < 10; i++ {
		if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte("v")}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	// The group commits the log end on both partitions: caught up, so OK.
	adm, err := admin.New(admin.Config{Bootstrap: kc.ListenAddrs()}, log)
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Close()
	md, err := adm.Metadata(ctx, []string{"orders"})
	if err != nil {
		t.Fatal(err)
	}
	end := adm.ListOffsets(ctx, md, []string{"orders"}, admin.OffsetLatest)
	if _, err := adm.CommitOffsets(ctx, "billing", map[string]map[int32]int64{"orders": {0: end.Get("orders", 0), 1: end.Get("orders", 1)}}); err != nil {
		t.Fatal(err)
	}

	d := func() GroupDetail {
		snap, err := svc.PollNow(ctx, "k")
		if err != nil {
			t.Fatal(err)
		}
		if err := ev.Observe(ctx, snap); err != nil {
			t.Fatal(err)
		}
		g, err := svc.Group("k", "billing")
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	var got GroupDetail
	for i := 0; i < 4; i++ {
		got = d()
	}
	if got.Status == nil || got.Status.Status != "OK" || len(got.Status.Partitions) != 2 {
		t.Fatalf("status after 4 polls = %+v", got.Status)
	}
	// The list row carries the status name. (The default window is 10 polls; the list shows the
	// status from the first poll on, marked incomplete only in the detail.)
	for i := 0; i < 8; i++ {
		d()
	}
	rows, _, err := svc.Groups("k", ListQuery{})
	if err != nil || len(rows) != 1 || rows[0].Status != "OK" {
		t.Fatalf("group rows = %+v, %v", rows, err)
	}
}
