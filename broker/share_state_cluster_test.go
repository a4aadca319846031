package broker

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/osprey-kafka/osprey/broker/sharegroup"
	"github.com/osprey-kafka/osprey/broker/sharestate"
	"github.com/osprey-kafka/osprey/internal/testenv"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// shareRun is a franz-go share consumer that accepts records whose value
// is 0 mod 3, rejects 1 mod 3 and releases 2 mod 3, logging every
// delivery.
type shareRun struct {
	mu    sync.Mutex
	seen  map[int64][]int // offset -> delivery counts, in order
	close func()
}

func startShareRun(t *testing.T, seeds []string, group, topic string) *shareRun {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.ShareGroup(group), kgo.ConsumeTopics(topic),
		kgo.FetchMaxWait(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	sr := &shareRun{seen: map[int64][]int{}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
				var v int
				fmt.Sscan(string(r.Value), &v)
				sr.mu.Lock()
				sr.seen[r.Offset] = append(sr.seen[r.Offset], int(r.DeliveryCount()))
				sr.mu.Unlock()
				switch v % 3 {
				case 0:
					r.Ack(kgo.AckAccept)
				case 1:
					r.Ack(kgo.AckReject)
				default:
					r.Ack(kgo.AckRelease)
				}
			})
		}
	}()
	var once sync.Once
	sr.close = func() { once.Do(func() { cancel(); <-done; cl.Close() }) }
	t.Cleanup(sr.close)
	return sr
}

func (sr *shareRun) counts(off int64) []int {
	sr.mu.Lock()
	defer sr.mu.Unlock()
	return append([]int(nil), sr.seen[off]...)
}

// persistedShareState returns the leader's share-partition once it is
// written to the share coordinator as it is and nothing of it is
// acquired.
func persistedShareState(b *Broker, k sharePartKey) (sharegroup.Snapshot, error) {
	s := &b.shares
	s.mu.Lock()
	defer s.mu.Unlock()
	p, l := s.parts[k], s.loaded[k]
	if p == nil {
		return sharegroup.Snapshot{}, errors.New("share-partition not loaded")
	}
	snap := p.Snapshot(time.Now())
	if snap.Acquired > 0 || l.written != p.Version() {
		return snap, fmt.Errorf("acquired %d, written version %d of %d", snap.Acquired, l.written, p.Version())
	}
	return snap, nil
}

// TestShareStateClusterLeaderFailover: in a 3-broker cluster a franz-go
// share consumer accepts, rejects and releases records; the leader of the
// topic partition is killed and a new consumer resumes from the state in
// __share_group_state on the new leader: accepted and rejected records
// are never delivered again, released ones continue from their delivery
// counts until the delivery limit archives them, and the group's
// coordinator reports the start offset past them all. Both metadata
// modes.
func TestShareStateClusterLeaderFailover(t *testing.T) {
	// Locks of 5 s: records whose ShareFetch answer a client loses while
	// the cluster fails over come back soon.
	opts := []testBrokerOpt{withShareGroups(5*time.Second, 6), func(c *Config) { c.Share.StateTopicPartitions = 3 }}
	t.Run("zookeeper", func(t *testing.T) { shareLeaderFailover(t, newTestCluster(t, 3, localConnector(t), opts...)) })
	t.Run("kraft", func(t *testing.T) { shareLeaderFailover(t, newKRaftTestCluster(t, 3, opts...)) })
}

func shareLeaderFailover(t *testing.T, c *testCluster) {
	const n, limit = 30, 6
	ctx := testCtx(t, 2*time.Minute)
	if _, err := c.admin().CreateTopic(ctx, 1, 3, nil, "sq"); err != nil {
		t.Fatal(err)
	}
	c.waitFullISR("sq", 20*time.Second)
	info, _ := c.any().cluster.Topic("sq")
	// A group whose coordinator and share coordinator are not the
	// partition's leader: ShareFetch and ShareAcknowledge go to the leader,
	// membership to the group coordinator, and the leader reads and writes
	// the state with inter-broker requests.
	var group string
	testenv.WaitFor(t, 20*time.Second, func() error {
		leader := c.partition("sq", 0).Leader
		for i := range 100 {
			g := fmt.Sprint("sg-", i)
			gc, ok := c.any().groupCoordinatorFor(g)
			if !ok {
				return errors.New("no group coordinator yet")
			}
			sc, ok := c.any().shareState.coordinatorFor(sharestate.CoordinatorKey(g, info.ID, 0))
			if !ok {
				return errors.New("no share coordinator yet") // __share_group_state is being created
			}
			if gc.ID != leader && sc.ID != leader {
				group = g
				return nil
			}
		}
		return errors.New("no group coordinated away from the partition's leader")
	})
	k := sharePartKey{group, info.ID, 0}

	first := startShareRun(t, c.addrs(), group, "sq")
	testenv.WaitFor(t, 30*time.Second, func() error {
		if _, err := persistedShareState(c.byID(c.partition("sq", 0).Leader), k); err != nil {
			return err
		}
		return nil
	})
	produceN(t, c.addrs()[0], "sq", n, 1)
	// Every released record delivered at least twice, then the consumer
	// leaves: what it holds is released.
	testenv.WaitFor(t, 30*time.Second, func() error {
		for off := int64(2); off < n; off += 3 {
			if got := first.counts(off); len(got) < 2 {
				return fmt.Errorf("offset %d delivered %v", off, got)
			}
		}
		return nil
	})
	first.close()
	leader := c.byID(c.partition("sq", 0).Leader)
	var before sharegroup.Snapshot
	testenv.WaitFor(t, 30*time.Second, func() (err error) {
		before, err = persistedShareState(leader, k)
		return err
	})
	counts := map[int64]int32{}
	for _, r := range before.Records {
		counts[r.Offset] = r.Deliveries
		want := sharegroup.Available
		switch r.Offset % 3 {
		case 0:
			want = sharegroup.Acknowledged
		case 1:
			want = sharegroup.Archived
		}
		if r.State != want && r.State != sharegroup.Archived { // a released record may have reached the limit
			t.Fatalf("before the failover offset %d is %v, want %v", r.Offset, r.State, want)
		}
	}
	dead := c.killLeader("sq", 0)

	second := startShareRun(t, c.addrs(), group, "sq")
	// Done when the group's start offset (DescribeShareGroupOffsets, from
	// the group's coordinator) is past every record: the released ones
	// reached the delivery limit and were archived.
	waitShareStart(t, c, group, "sq", n)
	second.close()
	for off := int64(0); off < n; off++ {
		got := second.counts(off)
		if off%3 != 2 {
			if len(got) > 0 {
				t.Errorf("offset %d (acknowledged or archived before the failover) delivered again: %v", off, got)
			}
			continue
		}
		// The counts continue where the old leader's state left them
		// (a delivery whose answer a client lost during the failover is
		// counted without being seen: the counts only rise).
		last := int(counts[off])
		for _, cnt := range got {
			if cnt <= last || cnt > limit {
				t.Errorf("offset %d after the failover delivered with counts %v; stored count %d, limit %d", off, got, counts[off], limit)
				break
			}
			last = cnt
		}
	}

	// The killed broker comes back and leadership returns to it (a
	// preferred election): it starts from the stored state, not from what
	// it held before it died.
	c.start(c.indexOf(dead))
	c.waitFullISR("sq", 30*time.Second)
	testenv.WaitFor(t, 30*time.Second, func() error {
		_, err := c.admin().ElectLeaders(ctx, kadm.ElectPreferredReplica, kadm.TopicsSet{"sq": {0: {}}})
		if err != nil {
			return err
		}
		if l := c.partition("sq", 0).Leader; l != dead {
			return fmt.Errorf("leader %d, want %d back", l, dead)
		}
		return nil
	})
	produceN(t, c.addrs()[0], "sq", n+3, 1) // offset n+i holds i: its value is still the offset mod 3
	third := startShareRun(t, c.addrs(), group, "sq")
	waitShareStart(t, c, group, "sq", 2*n+3)
	third.close()
	for off := int64(0); off < n; off++ {
		if got := third.counts(off); len(got) > 0 {
			t.Errorf("offset %d delivered again after leadership came back: %v", off, got)
		}
	}
}

// waitShareStart waits until the group's coordinator reports the
// share-partition's start offset at want (DescribeShareGroupOffsets), with
// no lag.
func waitShareStart(t *testing.T, c *testCluster, group, topic string, want int64) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.addrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	testenv.WaitFor(t, 60*time.Second, func() error {
		req := kmsg.NewPtrDescribeShareGroupOffsetsRequest()
		req.Groups = []kmsg.DescribeShareGroupOffsetsRequestGroup{{GroupID: group,
			Topics: []kmsg.DescribeShareGroupOffsetsRequestGroupTopic{{Topic: topic, Partitions: []int32{0}}}}}
		resp, err := req.RequestWith(testCtx(t, 10*time.Second), cl)
		if err != nil {
			return err
		}
		g := resp.Groups[0]
		if err := kerr.ErrorForCode(g.ErrorCode); err != nil {
			return err
		}
		p := g.Topics[0].Partitions[0]
		if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
			return err
		}
		if p.StartOffset != want || p.Lag > 0 {
			return fmt.Errorf("start offset %d lag %d, want %d and 0", p.StartOffset, p.Lag, want)
		}
		return nil
	})
}
