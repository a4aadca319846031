package collector

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/osprey-kafka/osprey/admin"
	"github.com/osprey-kafka/osprey/internal/testenv"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// shareConsumer polls share group group on topic until the test ends, acknowledging every
// record with ack.
func (e *testEnv) shareConsumer(t *testing.T, group, topic, clientID string, ack kgo.AckStatus) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.kc.ListenAddrs()...), kgo.ShareGroup(group), kgo.ConsumeTopics(topic),
		kgo.FetchMaxWait(200*time.Millisecond), kgo.ClientID(clientID))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) { r.Ack(ack) })
		}
	}()
	t.Cleanup(func() { cancel(); <-done; cl.Close() })
}

// A share group (KIP-932) on kfake is listed with its type, described with ShareGroupDescribe
// (members, their assignment and subscription, epochs) and read with DescribeShareGroupOffsets
// (start offset and the broker's lag per partition), one request of each per coordinator; kfake
// reports no in-flight state, so none is shown.
func TestShareGroupSnapshot(t *testing.T) {
	e := newTestCollector(t, Config{}, kfake.SeedTopics(2, "jobs"))
	ctx := testCtx(t)
	e.shareConsumer(t, "workers", "jobs", "worker-1", kgo.AckAccept)
	// The share-partitions start at the log end once the member fetches them; produce after.
	var g *Group
	testenv.WaitFor(t, 20*time.Second, func() error {
		s := e.col.PollNow(ctx)
		var ok bool
		if g, ok = s.Group("workers"); !ok || len(g.Topics) != 1 || len(g.Topics[0].Partitions) != 2 {
			return fmt.Errorf("share group %+v", g)
		}
		for _, p := range g.Topics[0].Partitions {
			if p.Share == nil || p.Share.StartOffset < 0 {
				return fmt.Errorf("partition %+v", p)
			}
		}
		return nil
	})
	e.produce(t, "jobs", map[int32]int{0: 5, 1: 3})
	testenv.WaitFor(t, 20*time.Second, func() error {
		s := e.col.PollNow(ctx)
		g, _ = s.Group("workers")
		if g.Type != "share" || g.State != "Stable" || g.GroupEpoch < 1 || len(g.Members) != 1 {
			return fmt.Errorf("share group %+v", *g)
		}
		m := g.Members[0]
		if m.ClientID != "worker-1" || m.Epoch < 1 || len(m.Assignment) != 1 || len(m.Assignment[0].Partitions) != 2 ||
			len(m.SubscribedTopics) != 1 || m.SubscribedTopics[0] != "jobs" {
			return fmt.Errorf("member %+v", m)
		}
		for _, p := range g.Topics[0].Partitions {
			want := map[int32]int64{0: 5, 1: 3}[p.Partition]
			if p.End != want || p.Committed != want || p.Share.StartOffset != want || p.Lag != 0 ||
				p.Share.LagSource != ShareLagReported || p.Share.InFlight != nil {
				return fmt.Errorf("partition %+v share %+v", p, *p.Share)
			}
		}
		if g.TotalLag != 0 || g.Share == nil || g.Share.Reported {
			return fmt.Errorf("group lag %d figures %+v", g.TotalLag, g.Share)
		}
		if s.Cluster.Requests["ShareGroupDescribe"] > 3 || s.Cluster.Requests["DescribeShareGroupOffsets"] > 3 ||
			s.Cluster.Requests["OffsetFetch"] != 0 {
			return fmt.Errorf("requests %v", s.Cluster.Requests)
		}
		return nil
	})
}

type fakeShares []SharePartitionState

func (f fakeShares) ShareStates(context.Context) ([]SharePartitionState, error) { return f, nil }

// With a share state source, each partition shows its in-flight records and delivery counts, the
// group their sums, and without a lag from the broker the lag is computed from them.
func TestShareLagAndInFlight(t *testing.T) {
	b := &snapshotBuilder{stable: &admin.Offsets{}, st: &pollState{shareStates: map[shareKey]SharePartitionState{
		{"g", "t", 0}: {Group: "g", Topic: "t", Partition: 0, StartOffset: 10, EndOffset: 16, Available: 1, Acquired: 2,
			Acknowledged: 2, Archived: 1, ArchivedTotal: 4, Deliveries: map[int32]int{1: 3, 2: 2, 5: 1}},
	}}}
	end := &admin.Offsets{Offsets: map[string][]int64{"t": {20, 30, -1}}}
	fig := &ShareGroupFigures{}
	gt := b.shareGroupTopic("g", "t", map[int32]admin.ShareOffset{
		0: {StartOffset: 10, Lag: -1}, // in flight reported, lag not: computed
		1: {StartOffset: 25, Lag: -1}, // neither: estimated
		2: {StartOffset: 3, Lag: 7},   // the broker's lag, even with the end unknown
	}, nil, end, fig)
	want := []struct {
		lag    int64
		source string
	}{{20 - 10 - 3, ShareLagComputed}, {30 - 25, ShareLagEstimated}, {7, ShareLagReported}}
	for i, p := range gt.Partitions {
		if p.Lag != want[i].lag || p.Share.LagSource != want[i].source {
			t.Errorf("partition %d: lag %d (%s), want %d (%s)", i, p.Lag, p.Share.LagSource, want[i].lag, want[i].source)
		}
	}
	if gt.Lag != 7+5+7 {
		t.Errorf("topic lag %d", gt.Lag)
	}
	in := gt.Partitions[0].Share.InFlight
	if in == nil || in.ArchivedTotal != 4 || len(in.Deliveries) != 3 || in.Deliveries[2] != (DeliveryCount{Count: 5, Records: 1}) {
		t.Fatalf("in flight %+v", in)
	}
	if *fig != (ShareGroupFigures{Reported: true, InFlight: 6, Acquired: 2, Redelivered: 3, Archived: 1, ArchivedTotal: 4, MaxDeliveries: 5}) {
		t.Errorf("figures %+v", *fig)
	}
	if gt.Partitions[1].Share.InFlight != nil {
		t.Errorf("partition 1 has in-flight state nobody reported")
	}
	// Not initialised yet: no lag.
	if lag, src := shareLag(admin.ShareOffset{StartOffset: -1, Lag: -1}, &SharePartition{StartOffset: -1}, 9); lag != -1 || src != "" {
		t.Errorf("uninitialised: %d %q", lag, src)
	}
}

// The collector reads the share state source once per cycle, only while there are share groups.
func TestShareStateSourceRead(t *testing.T) {
	src := fakeShares{{Group: "workers", Topic: "jobs", Partition: 0, StartOffset: 0, EndOffset: 2, Acquired: 2, Deliveries: map[int32]int{1: 2}}}
	e := newTestCollector(t, Config{Shares: src}, kfake.SeedTopics(1, "jobs"))
	ctx := testCtx(t)
	e.shareConsumer(t, "workers", "jobs", "w", kgo.AckAccept)
	testenv.WaitFor(t, 20*time.Second, func() error {
		s := e.col.PollNow(ctx)
		g, ok := s.Group("workers")
		if !ok || len(g.Topics) != 1 || g.Topics[0].Partitions[0].Share == nil || g.Topics[0].Partitions[0].Share.InFlight == nil {
			return fmt.Errorf("group %+v", g)
		}
		if g.Share == nil || !g.Share.Reported || g.Share.Acquired != 2 {
			return fmt.Errorf("figures %+v", g.Share)
		}
		return nil
	})
}
