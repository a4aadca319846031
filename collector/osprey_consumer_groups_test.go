package collector

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/osprey-kafka/osprey/admin"
	"github.com/osprey-kafka/osprey/internal/testenv"
	"github.com/twmb/franz-go/pkg/kgo"
)

// On Osprey's runtime, a group of the consumer protocol (KIP-848, a franz-go consumer with the
// server-side assignor) is described with ConsumerGroupDescribe: its type, epochs, assignor and
// each member's epoch, current and target assignment; a classic group beside it stays classic.
func TestOspreyConsumerProtocolGroup(t *testing.T) {
	sup := startOspreyCluster(t, 1)
	ctx := testCtx(t)
	addrs := splitAddrs(sup.BootstrapServers())
	ac, err := admin.New(admin.Config{Name: "osprey", Bootstrap: addrs, Timeout: 5 * time.Second}, quiet())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ac.Close() })
	res, err := ac.CreateTopics(ctx, admin.TopicSpec{Name: "orders", Partitions: 3, ReplicationFactor: 1})
	if err != nil || res["orders"] != nil {
		t.Fatalf("create topic: %v %v", err, res)
	}
	testenv.WaitFor(t, 20*time.Second, func() error {
		_, err := ac.CommitOffsets(ctx, "classic-one", map[string]map[int32]int64{"orders": {0: 0}})
		return err
	})
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...), kgo.ConsumerGroup("modern"), kgo.ConsumeTopics("orders"),
		kgo.ServerSideBalancer(), kgo.Balancers(kgo.CooperativeStickyBalancer()), kgo.ClientID("modern-1"))
	if err != nil {
		t.Fatal(err)
	}
	pctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for pctx.Err() == nil {
			cl.PollFetches(pctx)
		}
	}()
	t.Cleanup(func() { cancel(); <-done; cl.Close() })

	col, err := New(Config{}, ac, nil, quiet())
	if err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, 30*time.Second, func() error {
		s := col.PollNow(ctx)
		var modern, classic *Group
		for i := range s.Groups {
			switch s.Groups[i].Name {
			case "modern":
				modern = &s.Groups[i]
			case "classic-one":
				classic = &s.Groups[i]
			}
		}
		if modern == nil || classic == nil {
			return fmt.Errorf("groups %+v", s.Groups)
		}
		if classic.Type != "classic" {
			return fmt.Errorf("classic group of type %q", classic.Type)
		}
		if modern.Type != "consumer" || modern.State != "Stable" || modern.Assignor != "uniform" ||
			modern.GroupEpoch < 1 || modern.AssignmentEpoch != modern.GroupEpoch || len(modern.Members) != 1 {
			return fmt.Errorf("consumer group %+v", *modern)
		}
		m := modern.Members[0]
		if m.Epoch != modern.AssignmentEpoch || m.Reconciling || m.ClientID != "modern-1" ||
			len(m.Assignment) != 1 || len(m.Assignment[0].Partitions) != 3 || len(m.Target) != 1 ||
			len(m.SubscribedTopics) != 1 || m.SubscribedTopics[0] != "orders" {
			return fmt.Errorf("member %+v", m)
		}
		return nil
	})
}
