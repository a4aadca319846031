package service

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/osprey-kafka/osprey/admin"
	"github.com/osprey-kafka/osprey/collector"
	"github.com/osprey-kafka/osprey/internal/testenv"
)

// A consumer group (KIP-848) is listed with its type, and its detail carries the group epoch,
// assignment epoch, assignor and each member's epoch, target and reconciling flag (against kfake,
// a broker nobody here wrote).
func TestConsumerGroupDetail(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "orders"))
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := New(Options{Store: newOpsTestStore(t), Logger: log, Collector: collector.Config{OffsetsInterval: time.Hour, GroupsInterval: time.Millisecond}})
	if err := svc.AddCluster(ctx, ClusterSpec{Name: "k", Source: "config", Admin: admin.Config{Bootstrap: kc.ListenAddrs()}}); err != nil {
		t.Fatal(err)
	}
	defer svc.Stop()
	cl, err := kgo.NewClient(kgo.SeedBrokers(kc.ListenAddrs()...), kgo.ConsumerGroup("modern"), kgo.ConsumeTopics("orders"),
		kgo.ServerSideBalancer(), kgo.Balancers(kgo.CooperativeStickyBalancer()))
	if err != nil {
		t.Fatal(err)
	}
	pctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for pctx.Err() == nil {
			cl.PollFetches(pctx)
		}
	}()
	defer func() { stop(); <-done; cl.Close() }()

	var d GroupDetail
	testenv.WaitFor(t, 50*time.Second, func() error {
		if _, err := svc.PollNow(ctx, "k"); err != nil {
			return err
		}
		d, err = svc.Group("k", "modern")
		if err != nil || d.Consumer == nil || d.State != "Stable" || len(d.MemberList) != 1 || len(d.MemberList[0].Assignment) != 1 {
			return fmt.Errorf("group detail %+v (%v)", d, err)
		}
		return nil
	})
	m := d.MemberList[0]
	if d.Type != "consumer" || d.Consumer.GroupEpoch < 1 || d.Consumer.AssignmentEpoch != d.Consumer.GroupEpoch || d.Consumer.Assignor == "" ||
		d.Consumer.Reconciling != 0 || m.Epoch == nil || *m.Epoch != d.Consumer.AssignmentEpoch || m.Reconciling || len(m.Target) != 1 ||
		len(m.SubscribedTopics) != 1 {
		t.Fatalf("consumer group detail %+v, member %+v", d, m)
	}
	rows, _, err := svc.Groups("k", ListQuery{Sort: "type"})
	if err != nil || len(rows) != 1 || rows[0].Type != "consumer" {
		t.Fatalf("group rows %+v %v", rows, err)
	}
}
