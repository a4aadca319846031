package service

import (
	"context"
	"crypto/rand"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/osprey-kafka/osprey/admin"
	"github.com/osprey-kafka/osprey/collector"
	"github.com/osprey-kafka/osprey/internal/testenv"
)

// The Quotas answer carries the throttle clients see where the cluster reports it: on a runtime
// cluster whose broker runs in the console's process, a franz-go producer over a client-id quota
// shows up on that entity's row with its measured rate, the quota and a throttle time; an entity
// nobody used has no usage. A cluster that does not report it (here kfake) says so, with no figures.
func TestQuotasReportRuntimeThrottle(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a runtime cluster")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	svc := New(Options{Store: newOpsTestStore(t), Logger: quietLog(), DataDir: t.TempDir(),
		Collector: collector.Config{OffsetsInterval: time.Hour, GroupsInterval: time.Hour, LogDirsInterval: time.Hour}})
	t.Cleanup(svc.Stop)
	who := Caller{Identity: Identity{Name: "test", Kind: "admin-token", Role: RoleAdmin}}
	view, err := svc.CreateRuntimeCluster(ctx, who, RuntimeRequest{Name: "rt", Brokers: 1, MetadataStore: "local"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = svc.DeleteRuntimeCluster(context.Background(), Caller{}, "rt") })
	for _, req := range []AlterQuotasRequest{
		{ClientID: "slow", Set: map[string]float64{"producer_byte_rate": 4096}},
		{User: "nobody", Set: map[string]float64{"consumer_byte_rate": 1024}},
	} {
		if err := svc.AlterQuotas(ctx, who, "rt", req); err != nil {
			t.Fatal(err)
		}
	}
	prod, err := kgo.NewClient(kgo.SeedBrokers(view.Bootstrap), kgo.ClientID("slow"), kgo.DefaultProduceTopic("metered"),
		kgo.AllowAutoTopicCreation(), kgo.ProducerLinger(0))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	value := make([]byte, 8<<10) // random: compression does not shrink it
	_, _ = rand.Read(value)
	// The broker learns of the quota a moment after the answer: produce until a request is throttled.
	testenv.WaitFor(t, 30*time.Second, func() error {
		if err := prod.ProduceSync(ctx, &kgo.Record{Value: value}).FirstErr(); err != nil {
			return err
		}
		q, err := svc.Quotas(ctx, "rt")
		if err != nil {
			return err
		}
		if !q.ThrottleReported {
			t.Fatal("a runtime cluster in this process does not report the throttle")
		}
		for _, row := range q.Entities {
			switch {
			case row.User == "nobody" && len(row.Usage) != 0:
				t.Fatalf("an entity nobody used has usage %+v", row.Usage)
			case row.ClientID == "slow" && row.User == "":
				if len(row.Usage) != 1 {
					return fmt.Errorf("slow's usage %+v", row.Usage)
				}
				u := row.Usage[0]
				if u.Broker != 1 || u.Key != "producer_byte_rate" || u.ClientID != "slow" || u.Limit != 4096 {
					t.Fatalf("slow's usage %+v, want broker 1's producer_byte_rate sensor for client id slow, limit 4096", u)
				}
				if u.Rate <= 4096 || u.ThrottleMs <= 0 {
					return fmt.Errorf("slow's usage %+v, not over the quota yet", u)
				}
				return nil
			}
		}
		return fmt.Errorf("no row for client id slow in %+v", q.Entities)
	})

	kc, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	if err := svc.AddCluster(ctx, ClusterSpec{Name: "other", Source: "config", Admin: admin.Config{Bootstrap: kc.ListenAddrs()}}); err != nil {
		t.Fatal(err)
	}
	if err := svc.AlterQuotas(ctx, who, "other", AlterQuotasRequest{ClientID: "slow", Set: map[string]float64{"producer_byte_rate": 4096}}); err != nil {
		t.Fatal(err)
	}
	q, err := svc.Quotas(ctx, "other")
	if err != nil {
		t.Fatal(err)
	}
	if q.ThrottleReported || len(q.Entities) != 1 || q.Entities[0].Usage != nil {
		t.Fatalf("a cluster that does not report the throttle: %+v", q)
	}
}
