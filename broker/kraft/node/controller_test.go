package node

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/osprey-kafka/osprey/broker/kraft/controller"
	"github.com/osprey-kafka/osprey/broker/kraft/image"
	"github.com/osprey-kafka/osprey/internal/testenv"
)

// TestWithController runs the node around the real controller: the broker-only node registers
// and is unfenced, a topic created through it gets the broker as leader in every image, and
// when its heartbeats stop the controller's Tick fences it once the session expires.
func TestWithController(t *testing.T) {
	c := newTestClusterWith(t, func(id int32) StateMachine {
		return controller.New(controller.Config{NodeID: id, SessionTimeout: 500 * time.Millisecond, DefaultPartitions: 1, DefaultReplicationFactor: 1})
	}, nil)
	c.leader(0)
	l, err := c.nodes[observerID].StartBrokerLifecycle(BrokerRegistration{
		Listeners:         []image.Listener{{Name: "PLAINTEXT", Host: "127.0.0.1", Port: 9092}},
		HeartbeatInterval: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	c.waitAll("broker 4 unfenced", func(img image.Image) bool {
		b, ok := img.Broker(observerID)
		return ok && !b.Fenced
	})

	// What the broker would act on: each delta's local changes for broker 4.
	var mu sync.Mutex
	var led, followed bool
	stop := c.nodes[observerID].Watch(func(_, _ image.Image, d *image.Delta) {
		lc := d.LocalChanges(observerID)
		mu.Lock()
		defer mu.Unlock()
		led = led || slices.ContainsFunc(lc.ElectedLeaders, func(p image.LocalPartition) bool { return p.Topic == "t" && p.Index == 0 })
		followed = followed || led && slices.ContainsFunc(lc.Followers, func(p image.LocalPartition) bool { return p.Topic == "t" && p.Index == 0 })
	})
	defer stop()
	watched := func(what string, flag *bool) func() error {
		return func() error {
			mu.Lock()
			defer mu.Unlock()
			if !*flag {
				return fmt.Errorf("no delta made broker 4 %s of t-0", what)
			}
			return nil
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	req := kmsg.NewPtrCreateTopicsRequest()
	req.Version = 7
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = "t", 1, 1
	req.Topics = append(req.Topics, rt)
	resp, err := c.nodes[observerID].ControllerRequest(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if code := resp.(*kmsg.CreateTopicsResponse).Topics[0].ErrorCode; code != 0 {
		t.Fatalf("CreateTopics: %v", kerr.ErrorForCode(code))
	}
	c.waitAll("topic t led by broker 4", func(img image.Image) bool {
		tp, ok := img.Topic("t")
		if !ok {
			return false
		}
		p, ok := tp.Partition(0)
		return ok && p.Leader == observerID
	})

	testenv.WaitFor(t, 10*time.Second, watched("leader", &led))

	l.Close()
	c.waitAll("broker 4 fenced after its session expired", func(img image.Image) bool {
		b, ok := img.Broker(observerID)
		return ok && b.Fenced
	})
	testenv.WaitFor(t, 5*time.Second, func() error {
		tp, _ := c.nodes[1].Image().Topic("t")
		if p, _ := tp.Partition(0); p.Leader == observerID {
			return fmt.Errorf("partition t-0 still led by the fenced broker")
		}
		return nil
	})
	testenv.WaitFor(t, 10*time.Second, watched("a follower (leaderless)", &followed))
}
