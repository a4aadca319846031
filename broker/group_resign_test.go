package broker

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/osprey-kafka/osprey/broker/metastore"
	"github.com/osprey-kafka/osprey/internal/testenv"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// groupListers asks every running broker for its groups and returns the ids
// of the brokers whose ListGroups answer names group.
func (c *testCluster) groupListers(ctx context.Context, cl *kgo.Client, group string) ([]int32, error) {
	var ids []int32
	for _, b := range c.running() {
		resp, err := kmsg.NewPtrListGroupsRequest().RequestWith(ctx, cl.Broker(int(b.cfg.BrokerID)))
		if err != nil {
			return nil, fmt.Errorf("broker %d: %w", b.cfg.BrokerID, err)
		}
		if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
			return nil, fmt.Errorf("broker %d: %w", b.cfg.BrokerID, err)
		}
		if slices.ContainsFunc(resp.Groups, func(g kmsg.ListGroupsResponseGroup) bool { return g.Group == group }) {
			ids = append(ids, b.cfg.BrokerID)
		}
	}
	return ids, nil
}

func (c *testCluster) running() []*Broker {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*Broker
	for _, b := range c.brokers {
		if b != nil {
			out = append(out, b)
		}
	}
	return out
}

// A broker that stops leading a __consumer_offsets partition unloads that
// partition's groups: across a coordinator kill, its restart and a
// preferred election, exactly one broker (the partition's leader) lists the
// group, and the others answer NOT_COORDINATOR for it.
func TestClusterGroupListedOnceAfterCoordinatorMoves(t *testing.T) {
	testGroupListedOnceAfterCoordinatorMoves(t, localConnector(t))
}

func TestClusterGroupListedOnceAfterCoordinatorMovesZooKeeper(t *testing.T) {
	testGroupListedOnceAfterCoordinatorMoves(t, zkConnector(t))
}

func testGroupListedOnceAfterCoordinatorMoves(t *testing.T, conn metastore.Connector) {
	c := newTestCluster(t, 3, conn)
	adm := c.admin()
	ctx := testCtx(t, 2*time.Minute)
	if _, err := adm.CreateTopic(ctx, 1, 3, nil, "gt"); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, 20*time.Second, func() error {
		if _, ok := c.any().cluster.Topic(offsetsTopic); !ok {
			return errors.New("no offsets topic yet")
		}
		return nil
	})
	c.waitFullISR(offsetsTopic, 20*time.Second)
	const group = "g1"
	part := groupPartition(group, c.cfgs[0].OffsetsTopicPartitions)
	testenv.WaitFor(t, 15*time.Second, func() error {
		offs := kadm.Offsets{}
		offs.Add(kadm.Offset{Topic: "gt", Partition: 0, At: 7, LeaderEpoch: -1})
		return adm.CommitAllOffsets(ctx, group, offs)
	})

	// A new client per check: the brokers' addresses survive restarts, but
	// a client's connections to a killed broker do not.
	listedOnceByLeader := func(step string) {
		t.Helper()
		var last error
		testenv.WaitFor(t, 15*time.Second, func() error {
			cl, err := kgo.NewClient(kgo.SeedBrokers(c.addrs()...))
			if err != nil {
				return err
			}
			defer cl.Close()
			leader := c.partition(offsetsTopic, part).Leader
			ids, err := c.groupListers(ctx, cl, group)
			if err != nil {
				return err
			}
			if len(ids) != 1 || ids[0] != leader {
				last = fmt.Errorf("%s: group listed by brokers %v, want only the coordinator %d", step, ids, leader)
				return last
			}
			for _, b := range c.running() {
				if b.cfg.BrokerID == leader {
					continue
				}
				req := kmsg.NewPtrDescribeGroupsRequest()
				req.Groups = []string{group}
				resp, err := req.RequestWith(ctx, cl.Broker(int(b.cfg.BrokerID)))
				if err != nil {
					return err
				}
				if code := resp.Groups[0].ErrorCode; code != kerr.NotCoordinator.Code {
					return fmt.Errorf("%s: broker %d describes the group with %v, want NOT_COORDINATOR", step, b.cfg.BrokerID, kerr.ErrorForCode(code))
				}
			}
			return nil
		})
	}

	listedOnceByLeader("before any move")
	first := c.killLeader(offsetsTopic, part)
	listedOnceByLeader("coordinator killed")
	c.start(c.indexOf(first))
	c.waitFullISR(offsetsTopic, 20*time.Second)
	listedOnceByLeader("old coordinator restarted")

	res, err := adm.ElectLeaders(ctx, kadm.ElectPreferredReplica, kadm.TopicsSet{offsetsTopic: {part: {}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, parts := range res {
		for p, r := range parts {
			if r.Err != nil && !errors.Is(r.Err, kerr.ElectionNotNeeded) {
				t.Fatalf("electing %s-%d: %v", offsetsTopic, p, r.Err)
			}
		}
	}
	testenv.WaitFor(t, 10*time.Second, func() error {
		if pi := c.partition(offsetsTopic, part); pi.Leader != first || pi.Replicas[0] != first {
			return fmt.Errorf("leader %d, replicas %v: want the restarted %d back as the preferred leader", pi.Leader, pi.Replicas, first)
		}
		return nil
	})
	listedOnceByLeader("preferred election")

	// The group's committed offsets came along with it.
	fo, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		t.Fatal(err)
	}
	if o, ok := fo.Lookup("gt", 0); !ok || o.At != 7 {
		t.Fatalf("offset after the moves: %+v, want 7", o)
	}
}
