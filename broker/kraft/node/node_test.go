package node

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/osprey-kafka/osprey/broker/kraft/bootstrap"
	"github.com/osprey-kafka/osprey/broker/kraft/image"
	"github.com/osprey-kafka/osprey/internal/testenv"
)

// watchLog records what a Watch subscriber was called with.
type watchLog struct {
	mu     sync.Mutex
	events [][2]image.Image
}

func (w *watchLog) add(prev, next image.Image, _ *image.Delta) {
	w.mu.Lock()
	w.events = append(w.events, [2]image.Image{prev, next})
	w.mu.Unlock()
}

// check says whether the subscriber has seen topic, and that each call's prev is the previous
// call's next, the first one's the empty image.
func (w *watchLog) check(topic string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	prev := image.Empty()
	seen := false
	for i, e := range w.events {
		if !e[0].Equal(prev) {
			return fmt.Errorf("watch call %d: prev is not the previous call's next", i)
		}
		prev = e[1]
		_, ok := e[1].Topic(topic)
		seen = seen || ok
	}
	if !seen {
		return fmt.Errorf("watch has not seen topic %s in %d calls", topic, len(w.events))
	}
	return nil
}

func TestNodeCluster(t *testing.T) {
	before := runtime.NumGoroutine()
	c := newTestCluster(t)
	leader, epoch := c.leader(0)

	// The first active controller writes the bootstrap metadata: every node replays it.
	c.waitAll("the bootstrap features", func(img image.Image) bool {
		g, _ := img.Feature("group.version")
		return img.MetadataVersion() == bootstrap.LatestProduction.Level && g == 1
	})

	// Every controller registers its CONTROLLER endpoint (KIP-919).
	c.waitAll("the controller registrations", func(img image.Image) bool {
		for _, v := range c.voters {
			ctl, ok := img.Controller(v.ID)
			if !ok {
				return false
			}
			if l, ok := ctl.Listener("CONTROLLER"); !ok || int(l.Port) != v.Port {
				return false
			}
		}
		return true
	})

	var w watchLog
	cancel := c.nodes[observerID].Watch(w.add)
	defer cancel()

	// The broker-only observer reaches the active controller over the wire; its records are
	// in every image.
	createTopic(t, c.nodes[observerID], "a")
	c.waitAll("topic a", hasTopic("a"))
	testenv.WaitFor(t, 10*time.Second, func() error { return w.check("a") })

	checkDescribeQuorum(t, c.nodes[observerID], leader, epoch)

	// The leader goes away: another controller becomes active and requests keep working.
	c.stop(leader)
	newLeader, newEpoch := c.leader(epoch)
	if newLeader == leader {
		t.Fatalf("the closed node %d is still the leader", leader)
	}
	createTopic(t, c.nodes[observerID], "b")
	c.waitAll("topic b", hasTopic("b"))

	// The old leader restarts from its directory and catches up.
	c.start(leader, nil)
	c.waitAll("topics a and b after the restart", func(img image.Image) bool { return hasTopic("a")(img) && hasTopic("b")(img) })
	if l, e := c.leader(epoch); l != newLeader || e != newEpoch {
		t.Fatalf("after the restart the leader is %d in epoch %d, want %d in epoch %d", l, e, newLeader, newEpoch)
	}
	createTopic(t, c.nodes[leader], "c")
	c.waitAll("topic c", hasTopic("c"))

	for id := range c.nodes {
		c.stop(id)
	}
	testenv.WaitFor(t, 5*time.Second, func() error {
		if n := runtime.NumGoroutine(); n > before {
			return fmt.Errorf("%d goroutines after Close, %d before the cluster started", n, before)
		}
		return nil
	})
}

func checkDescribeQuorum(t *testing.T, from *Node, leader, epoch int32) {
	t.Helper()
	testenv.WaitFor(t, 10*time.Second, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		resp, err := from.DescribeQuorum(ctx)
		if err != nil {
			return err
		}
		p := resp.Topics[0].Partitions[0]
		if p.LeaderID != leader || p.LeaderEpoch != epoch {
			return fmt.Errorf("DescribeQuorum: leader %d epoch %d, want %d epoch %d", p.LeaderID, p.LeaderEpoch, leader, epoch)
		}
		var voters, observers []int32
		for _, v := range p.CurrentVoters {
			voters = append(voters, v.ReplicaID)
		}
		for _, o := range p.Observers {
			observers = append(observers, o.ReplicaID)
		}
		slices.Sort(voters)
		if !slices.Equal(voters, controllerIDs) || !slices.Contains(observers, observerID) {
			return fmt.Errorf("DescribeQuorum: voters %v observers %v", voters, observers)
		}
		return nil
	})
}

func TestStartRefusesUnformattedOrForeignDir(t *testing.T) {
	cfg := Config{NodeID: 1, ClusterID: "q1Sh-9_ISia_zwGINzRvyQ", Controller: true, StateMachine: &testSM{},
		Voters: []Voter{{ID: 1, Host: "127.0.0.1", Port: 1}}, MetadataDir: t.TempDir()}
	_, err := Start(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), cfg.MetadataDir) || !strings.Contains(err.Error(), "osprey storage format") {
		t.Fatalf("unformatted directory: got %v, want a refusal naming %s and `osprey storage format`", err, cfg.MetadataDir)
	}

	cfg.MetadataDir = formatDir(t, "MvDXz8DwQ3mfplNKK1sw1A", 1)
	_, err = Start(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), cfg.MetadataDir) || !strings.Contains(err.Error(), "MvDXz8DwQ3mfplNKK1sw1A") ||
		!strings.Contains(err.Error(), "osprey storage format") {
		t.Fatalf("directory of another cluster: got %v, want a refusal naming the directory, its cluster and the fix", err)
	}
}

// TestIdleNoOpRecords: with metadata.max.idle.interval.ms set, the active controller writes
// NoOpRecords while idle, so every node's replayed offset keeps moving.
func TestIdleNoOpRecords(t *testing.T) {
	c := newTestClusterWith(t, nil, func(cfg *Config) { cfg.MaxIdleInterval = 20 * time.Millisecond })
	c.waitAll("the bootstrap metadata.version", func(img image.Image) bool { return img.MetadataVersion() != 0 })
	obs := c.nodes[observerID]
	start := obs.Offset()
	testenv.WaitFor(t, 10*time.Second, func() error {
		if off := obs.Offset(); off < start+5 {
			return fmt.Errorf("the observer's replayed offset moved from %d to %d without requests", start, off)
		}
		return nil
	})
}

// TestLostLeadershipAnswersNotController: a request whose records the leader appended but
// cannot commit (its followers are gone) is answered NOT_CONTROLLER when the leader resigns for
// want of a majority; once the followers are back the cluster serves requests again.
func TestLostLeadershipAnswersNotController(t *testing.T) {
	c := newTestCluster(t)
	leader, _ := c.leader(0)
	c.waitAll("the bootstrap metadata.version", func(img image.Image) bool { return img.MetadataVersion() != 0 })
	for _, id := range controllerIDs {
		if id != leader {
			c.stop(id)
		}
	}
	req := kmsg.NewPtrCreateTopicsRequest()
	req.Version = 7
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic = "stranded"
	req.Topics = append(req.Topics, rt)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := c.nodes[leader].local(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if r := resp.(*kmsg.CreateTopicsResponse); len(r.Topics) != 1 || r.Topics[0].ErrorCode != kerr.NotController.Code {
		t.Fatalf("CreateTopics on a leader that lost its majority: %+v, want NOT_CONTROLLER", r.Topics)
	}

	for _, id := range controllerIDs {
		if id != leader {
			c.start(id, nil)
		}
	}
	createTopic(t, c.nodes[observerID], "after")
	c.waitAll("topic after", hasTopic("after"))
}
