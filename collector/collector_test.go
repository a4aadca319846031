package collector

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/osprey-kafka/osprey/admin"
	"github.com/osprey-kafka/osprey/internal/testenv"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

type testEnv struct {
	kc   *kfake.Cluster
	ac   *admin.Client
	col  *Collector
	sink *MemorySink
}

// newTestCollector starts a 3-broker kfake cluster on random ports, an admin
// client and a collector (not started); everything is closed by t.Cleanup.
func newTestCollector(t testing.TB, cfg Config, opts ...kfake.Opt) *testEnv {
	t.Helper()
	kc, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(3)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kc.Close)
	ac, err := admin.New(admin.Config{Name: "test", Bootstrap: kc.ListenAddrs(), Timeout: 3 * time.Second}, quiet())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ac.Close() })
	if cfg.Cluster == "" {
		cfg.Cluster = "test"
	}
	sink := &MemorySink{}
	col, err := New(cfg, ac, sink, quiet())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(col.Stop)
	return &testEnv{kc: kc, ac: ac, col: col, sink: sink}
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func (e *testEnv) client(t testing.TB, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(e.kc.ListenAddrs()...)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func (e *testEnv) produce(t testing.TB, topic string, perPartition map[int32]int) {
	t.Helper()
	cl := e.client(t, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	var recs []*kgo.Record
	for p, n := range perPartition {
		for i := 0; i < n; i++ {
			recs = append(recs, &kgo.Record{Topic: topic, Partition: p, Value: []byte(fmt.Sprintf("value-%d", i))})
		}
	}
	if err := cl.ProduceSync(testCtx(t), recs...).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
	cl.Close()
}

func TestSnapshotMatchesCluster(t *testing.T) {
	e := newTestCollector(t, Config{}, kfake.SeedTopics(4, "orders"), kfake.SeedTopics(1, "audit"), kfake.ClusterID("kc-1"))
	ctx := testCtx(t)
	const M = 10
	e.produce(t, "orders", map[int32]int{0: M, 1: M, 3: 3})

	// A group consumes everything, then commits N=4 of M on partition 0 and all of partition 1.
	cons := e.client(t, kgo.ConsumerGroup("g1"), kgo.ConsumeTopics("orders"), kgo.DisableAutoCommit(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.ClientID("lag-test"))
	byPart := map[int32][]*kgo.Record{}
	for n := 0; n < 2*M+3; {
		fs := cons.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("consumed %d of %d: %v", n, 2*M+3, err)
		}
		fs.EachRecord(func(r *kgo.Record) { byPart[r.Partition] = append(byPart[r.Partition], r); n++ })
	}
	const N = 4
	if err := cons.CommitRecords(ctx, byPart[0][N-1], byPart[1][M-1]); err != nil {
		t.Fatal(err)
	}

	s := e.col.PollNow(ctx)
	if s.Cluster.Partial {
		t.Fatalf("unexpected errors: %+v", s.Cluster.Errors)
	}
	if s.Cluster.Quorum != nil || s.Cluster.ZooKeeper != nil {
		t.Errorf("kfake has neither a KRaft quorum API nor ZooKeeper: %+v %+v", s.Cluster.Quorum, s.Cluster.ZooKeeper)
	}
	if s.Cluster.ID != "kc-1" || s.Cluster.Name != "test" || s.Cluster.Controller < 0 {
		t.Fatalf("cluster info %+v", s.Cluster)
	}
	if s.Totals.Brokers != 3 || s.Totals.BrokersUp != 3 {
		t.Fatalf("brokers %d up %d", s.Totals.Brokers, s.Totals.BrokersUp)
	}
	md, err := e.ac.Metadata(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctl, ok := s.Broker(md.ControllerID)
	if !ok || !ctl.Controller {
		t.Fatalf("controller broker %d not flagged", md.ControllerID)
	}
	orders, ok := s.Topic("orders")
	if !ok {
		t.Fatal("topic orders missing")
	}
	if len(orders.Partitions) != 4 {
		t.Fatalf("orders has %d partitions", len(orders.Partitions))
	}
	wantEnd := map[int32]int64{0: M, 1: M, 2: 0, 3: 3}
	leaders := 0
	for _, p := range orders.Partitions {
		if p.EndOffset != wantEnd[p.Partition] || p.StartOffset != 0 {
			t.Errorf("orders/%d offsets %d..%d, want 0..%d", p.Partition, p.StartOffset, p.EndOffset, wantEnd[p.Partition])
		}
		if p.Leader != e.kc.LeaderFor("orders", p.Partition) {
			t.Errorf("orders/%d leader %d, kfake %d", p.Partition, p.Leader, e.kc.LeaderFor("orders", p.Partition))
		}
		if !slices.Equal(p.ISR, p.Replicas) || p.UnderReplicated || p.Offline {
			t.Errorf("orders/%d replicas %v isr %v under %v offline %v", p.Partition, p.Replicas, p.ISR, p.UnderReplicated, p.Offline)
		}
		if p.SizeBytes <= 0 && p.EndOffset > 0 {
			t.Errorf("orders/%d size %d with %d records", p.Partition, p.SizeBytes, p.EndOffset)
		}
		leaders++
	}
	if orders.EndOffsetSum != 2*M+3 || orders.Messages != 2*M+3 {
		t.Errorf("orders sums end %d messages %d", orders.EndOffsetSum, orders.Messages)
	}
	var ledTotal int
	for _, b := range s.Brokers {
		ledTotal += b.Leaders
		if b.LogDirBytes < 0 {
			t.Errorf("broker %d log dir bytes unknown", b.ID)
		}
	}
	if ledTotal != s.Totals.Partitions {
		t.Errorf("leaders sum %d != partitions %d", ledTotal, s.Totals.Partitions)
	}

	g, ok := s.Group("g1")
	if !ok {
		t.Fatalf("group g1 missing; groups %v", s.Groups)
	}
	if g.State != "Stable" || g.ProtocolType != "consumer" || len(g.Members) != 1 || g.Members[0].ClientID != "lag-test" {
		t.Fatalf("group g1: state %q type %q members %+v", g.State, g.ProtocolType, g.Members)
	}
	assigned := 0
	for _, a := range g.Members[0].Assignment {
		if a.Topic == "orders" {
			assigned = len(a.Partitions)
		}
	}
	if assigned != 4 {
		t.Errorf("member assignment %+v, want 4 orders partitions", g.Members[0].Assignment)
	}
	if g.TotalLag != M-N || len(g.Topics) != 1 {
		t.Fatalf("group lag %d topics %+v, want %d", g.TotalLag, g.Topics, M-N)
	}
	for _, gp := range g.Topics[0].Partitions {
		switch gp.Partition {
		case 0:
			if gp.Committed != N || gp.End != M || gp.Lag != M-N {
				t.Errorf("p0 %+v, want committed %d end %d lag %d", gp, N, M, M-N)
			}
		case 1:
			if gp.Committed != M || gp.Lag != 0 || gp.LagSeconds != 0 {
				t.Errorf("p1 %+v, want lag 0", gp)
			}
		default:
			t.Errorf("unexpected committed partition %d", gp.Partition)
		}
		if gp.Member == "" {
			t.Errorf("partition %d has no owning member", gp.Partition)
		}
	}
	// The sink got the same figures.
	all := e.sink.All()
	if len(all) != 1 {
		t.Fatalf("sink got %d samples", len(all))
	}
	found := false
	for _, gs := range all[0].Groups {
		if gs.Group == "g1" && gs.Topic == "orders" && gs.Lag == M-N && gs.CommittedSum == N+M {
			found = true
		}
	}
	if !found {
		t.Errorf("sink group samples %+v", all[0].Groups)
	}
	if all[0].Totals.Partitions != 5 || all[0].Totals.Lag != M-N {
		t.Errorf("sink totals %+v", all[0].Totals)
	}
	// Request counts follow brokers/coordinators: at most 3 ListOffsets per broker (earliest, latest,
	// latest at read_committed), 1 Metadata.
	if s.Cluster.Requests["Metadata"] != 1 || s.Cluster.Requests["ListOffsets"] > 9 || s.Cluster.Requests["OffsetFetch"] != 1 {
		t.Errorf("requests %v", s.Cluster.Requests)
	}
}

func TestLagSecondsAndRates(t *testing.T) {
	clk := newFakeClock()
	e := newTestCollector(t, Config{Now: clk.Now}, kfake.SeedTopics(1, "flow"))
	ctx := testCtx(t)
	e.produce(t, "flow", map[int32]int{0: 10})
	if _, err := e.ac.CommitOffsets(ctx, "slow", map[string]map[int32]int64{"flow": {0: 4}}); err != nil {
		t.Fatal(err)
	}
	s1 := e.col.PollNow(ctx)
	g, _ := s1.Group("slow")
	if g == nil || g.TotalLag != 6 {
		t.Fatalf("first poll group %+v", g)
	}
	if g.LagSeconds != 0 {
		t.Errorf("lag seconds with one observation = %v, want 0", g.LagSeconds)
	}
	clk.Advance(2 * time.Second)
	e.produce(t, "flow", map[int32]int{0: 20})
	s2 := e.col.PollNow(ctx)
	dt := s2.Cluster.LastPoll.Sub(s1.Cluster.LastPoll).Seconds()
	flow, _ := s2.Topic("flow")
	// Offsets are observed somewhere inside each poll: the interval between
	// observations lies within dt ± the polls' durations.
	d1, d2 := s1.Cluster.PollDuration.Seconds(), s2.Cluster.PollDuration.Seconds()
	if lo, hi := 20/(dt+d2), 20/(dt-d1); flow.MsgsPerSec < lo*0.999 || flow.MsgsPerSec > hi*1.001 {
		t.Errorf("msgs/s %.2f, want within [%.2f, %.2f] (20 messages, polls %.3fs apart)", flow.MsgsPerSec, lo, hi, dt)
	}
	var brokerRate float64
	for _, b := range s2.Brokers {
		brokerRate += b.MsgsPerSec
	}
	if math.Abs(brokerRate-flow.MsgsPerSec) > 1e-9 || math.Abs(s2.Totals.MsgsPerSec-flow.MsgsPerSec) > 1e-9 {
		t.Errorf("broker rate sum %.2f, cluster %.2f, topic %.2f", brokerRate, s2.Totals.MsgsPerSec, flow.MsgsPerSec)
	}
	if flow.BytesPerSec <= 0 {
		t.Errorf("bytes/s = %v after producing between two log-dir reads", flow.BytesPerSec)
	}
	g, _ = s2.Group("slow")
	// The log end was at 4 before the first observation (10): the estimate
	// extrapolates back at the observed rate, so it exceeds the time between polls.
	if g.TotalLag != 26 || g.LagSeconds < dt*0.9 || g.LagSeconds > 10*dt+1 {
		t.Errorf("lag %d lag seconds %.3f (polls %.3fs apart)", g.TotalLag, g.LagSeconds, dt)
	}
	// Commit at 10, which was the end at the first poll: about dt seconds ago.
	if _, err := e.ac.CommitOffsets(ctx, "slow", map[string]map[int32]int64{"flow": {0: 10}}); err != nil {
		t.Fatal(err)
	}
	s3 := e.col.PollNow(ctx)
	g, _ = s3.Group("slow")
	since := s3.Cluster.LastPoll.Sub(s1.Cluster.LastPoll).Seconds()
	d3 := s3.Cluster.PollDuration.Seconds()
	if g.TotalLag != 20 || g.LagSeconds < since-d1-0.001 || g.LagSeconds > since+d3+0.001 {
		t.Errorf("after committing 10: lag %d, seconds %.3f, want within %.3f-%.3f..%.3f+%.3f", g.TotalLag, g.LagSeconds, since, d1, since, d3)
	}
}

// The loop's cycles (not forced) give messages/s and bytes/s together from the second cycle on,
// however long the configs refresh interval is.
func TestByteAndMessageRatesTogether(t *testing.T) {
	e := newTestCollector(t, Config{LogDirsInterval: time.Hour}, kfake.SeedTopics(1, "flow"))
	ctx := testCtx(t)
	e.produce(t, "flow", map[int32]int{0: 10})
	s1 := e.col.poll(ctx, false)
	if f, _ := s1.Topic("flow"); f == nil || f.SizeBytes <= 0 {
		t.Fatalf("first cycle: topic %+v, want its size known", f)
	}
	e.produce(t, "flow", map[int32]int{0: 20})
	s2 := e.col.poll(ctx, false)
	f, _ := s2.Topic("flow")
	if f.MsgsPerSec <= 0 || f.BytesPerSec <= 0 {
		t.Fatalf("second cycle: %.1f msg/s and %.1f B/s, want both above 0", f.MsgsPerSec, f.BytesPerSec)
	}
	if s2.Totals.MsgsPerSec <= 0 || s2.Totals.BytesPerSec <= 0 {
		t.Errorf("totals: %.1f msg/s and %.1f B/s, want both above 0", s2.Totals.MsgsPerSec, s2.Totals.BytesPerSec)
	}
	var brokerBps float64
	for _, b := range s2.Brokers {
		brokerBps += b.BytesInPerSec
	}
	if brokerBps <= 0 {
		t.Errorf("brokers' bytes in/s sum to %.1f, want above 0", brokerBps)
	}
}

func TestSkewedAssignment(t *testing.T) {
	e := newTestCollector(t, Config{})
	ctx := testCtx(t)
	errs, err := e.ac.CreateTopics(ctx, admin.TopicSpec{Name: "skewed", Assignment: map[int32][]int32{0: {0}, 1: {0}, 2: {0}, 3: {1}}})
	if err != nil || errs["skewed"] != nil {
		t.Fatal(err, errs)
	}
	// kfake lays replicas out from the leader; pin the leaders: 3 on broker 0, 1 on broker 1.
	for p, b := range map[int32]int32{0: 0, 1: 0, 2: 0, 3: 1} {
		if err := e.kc.MoveTopicPartition("skewed", p, b); err != nil {
			t.Fatal(err)
		}
	}
	s := e.col.PollNow(ctx)
	tp, ok := s.Topic("skewed")
	if !ok {
		t.Fatal("topic missing")
	}
	near := func(a, b float64) bool { return math.Abs(a-b) < 0.01 }
	if !near(tp.BrokerSpread, 200.0/3) || !near(tp.BrokerSkew, 50) || !near(tp.LeaderSkew, 50) || !near(tp.PreferredLeader, 100) {
		t.Errorf("spread %.2f skew %.2f leader skew %.2f preferred %.2f; want 66.67 50 50 100", tp.BrokerSpread, tp.BrokerSkew, tp.LeaderSkew, tp.PreferredLeader)
	}
	if !slices.Equal(tp.Brokers, []int32{0, 1}) || tp.ReplicationFactor != 1 {
		t.Errorf("brokers %v rf %d", tp.Brokers, tp.ReplicationFactor)
	}
	b0, _ := s.Broker(0)
	if b0.Leaders != 3 {
		t.Errorf("broker 0 leads %d, want 3", b0.Leaders)
	}
}

// failOn makes every request of key sent to broker node fail (connection closed).
func failOn(kc *kfake.Cluster, key kmsg.Key, node int32) {
	kc.ControlKey(int16(key), func(kmsg.Request) (kmsg.Response, error, bool) {
		kc.KeepControl()
		if kc.CurrentNode() == node {
			return nil, fmt.Errorf("injected failure on broker %d", node), true
		}
		return nil, nil, false
	})
}

func TestPartialResultsWhenBrokerDown(t *testing.T) {
	e := newTestCollector(t, Config{CallTimeout: 2 * time.Second}, kfake.SeedTopics(6, "t"))
	ctx := testCtx(t)
	e.produce(t, "t", map[int32]int{0: 1, 1: 1, 2: 1, 3: 1, 4: 1, 5: 1})
	first := e.col.PollNow(ctx)
	if first.Cluster.Partial {
		t.Fatalf("healthy cluster reported errors: %+v", first.Cluster.Errors)
	}
	const down = 2
	failOn(e.kc, kmsg.ListOffsets, down)
	failOn(e.kc, kmsg.DescribeLogDirs, down)
	s := e.col.PollNow(ctx)
	if !s.Cluster.Partial || len(s.Cluster.Errors) == 0 {
		t.Fatal("snapshot not marked partial")
	}
	b, _ := s.Broker(down)
	if b == nil || b.Up {
		t.Fatalf("broker %d should be down: %+v", down, b)
	}
	for _, id := range []int32{0, 1} {
		if ob, _ := s.Broker(id); ob == nil || !ob.Up {
			t.Errorf("broker %d should be up: %+v", id, ob)
		}
	}
	// Groups coordinated by a broker whose ListGroups fails stay listed.
	if _, err := e.ac.CommitOffsets(ctx, "keep-me", map[string]map[int32]int64{"t": {0: 0}}); err != nil {
		t.Fatal(err)
	}
	e.col.PollNow(ctx)
	coord := e.kc.CoordinatorFor("keep-me")
	failOn(e.kc, kmsg.ListGroups, coord)
	if g, ok := e.col.PollNow(ctx).Group("keep-me"); !ok || g.Coordinator != coord {
		t.Errorf("group of a failing coordinator dropped from the snapshot: %+v", g)
	}
	tp, _ := s.Topic("t")
	for _, p := range tp.Partitions {
		if p.Leader == down && p.EndOffset != -1 {
			t.Errorf("t/%d led by the failed broker has end %d, want -1 (unknown)", p.Partition, p.EndOffset)
		}
		if p.Leader != down && p.EndOffset != 1 {
			t.Errorf("t/%d led by a healthy broker has end %d, want 1", p.Partition, p.EndOffset)
		}
	}

	// A broker that leaves the cluster stays listed, down.
	clock := newFakeClock()
	e2 := newTestCollector(t, Config{Now: clock.Now}, kfake.SeedTopics(3, "x"))
	e2.col.PollNow(ctx)
	if err := e2.kc.RemoveNode(1); err != nil {
		t.Fatal(err)
	}
	s = e2.col.PollNow(ctx)
	if b, ok := s.Broker(1); !ok || b.Up || b.Host == "" {
		t.Fatalf("removed broker: %+v (ok %v), want listed, down, with its last address", b, ok)
	}
	if s.Totals.BrokersUp != 2 || s.Totals.Brokers != 3 {
		t.Errorf("brokers %d up %d", s.Totals.Brokers, s.Totals.BrokersUp)
	}
	// With ForgetBrokersAfter, a broker gone from metadata and replica lists is dropped.
	e2.col.cfg.ForgetBrokersAfter = time.Minute
	clock.Advance(time.Minute + time.Nanosecond)
	if s = e2.col.PollNow(ctx); s.Totals.Brokers != 2 {
		t.Errorf("removed broker not forgotten: %d brokers", s.Totals.Brokers)
	}
}

func TestUnreachableCluster(t *testing.T) {
	e := newTestCollector(t, Config{CallTimeout: time.Second}, kfake.SeedTopics(1, "x"))
	ctx := testCtx(t)
	good := e.col.PollNow(ctx)
	if good.Cluster.StaleSince != nil {
		t.Fatalf("a poll that reached the cluster says stale since %s", good.Cluster.StaleSince)
	}
	e.kc.ControlKey(int16(kmsg.Metadata), func(kmsg.Request) (kmsg.Response, error, bool) {
		e.kc.KeepControl()
		return nil, fmt.Errorf("injected: cluster down"), true
	})
	s := e.col.PollNow(ctx)
	if !s.Cluster.Partial || s.Totals.BrokersUp != 0 {
		t.Fatalf("unreachable cluster: partial %v up %d", s.Cluster.Partial, s.Totals.BrokersUp)
	}
	if _, ok := s.Topic("x"); !ok {
		t.Error("the last known topics should be kept")
	}
	// Stale since the last cycle that reached the cluster, however many fail after it.
	for _, s := range []*Snapshot{s, e.col.PollNow(ctx)} {
		if s.Cluster.StaleSince == nil || !s.Cluster.StaleSince.Equal(good.Cluster.LastPoll) {
			t.Fatalf("stale since %v, want the last good poll %s", s.Cluster.StaleSince, good.Cluster.LastPoll)
		}
	}
}

func TestLifecycleSubscribeAndSink(t *testing.T) {
	e := newTestCollector(t, Config{OffsetsInterval: 50 * time.Millisecond}, kfake.SeedTopics(2, "x"))
	if e.col.Latest() != nil {
		t.Fatal("snapshot before any poll")
	}
	ch, cancel := e.col.Subscribe(1)
	defer cancel()
	if err := e.col.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := e.col.Start(context.Background()); err == nil {
		t.Fatal("second Start succeeded")
	}
	var got []*Snapshot
	timeout := time.After(10 * time.Second)
	for len(got) < 3 {
		select {
		case s := <-ch:
			got = append(got, s)
		case <-timeout:
			t.Fatalf("got %d snapshots", len(got))
		}
	}
	if got[2].Cluster.Sequence <= got[0].Cluster.Sequence {
		t.Errorf("sequence did not increase: %d → %d", got[0].Cluster.Sequence, got[2].Cluster.Sequence)
	}
	e.col.Stop()
	if l := e.col.Latest(); l == nil || l.Cluster.Sequence < got[2].Cluster.Sequence {
		t.Fatal("Latest is behind the published snapshots")
	}
	testenv.WaitFor(t, 5*time.Second, testenv.Until("samples in the sink", func() bool { return len(e.sink.All()) > 0 }))
	// Stop waited for both goroutines.
	buf := make([]byte, 1<<20)
	stacks := string(buf[:runtime.Stack(buf, true)])
	for _, fn := range []string{"(*Collector).loop", "(*Collector).sinkWriter"} {
		if strings.Contains(stacks, fn) {
			t.Errorf("%s still running after Stop", fn)
		}
	}
}

func TestNoLeaksOver1000Cycles(t *testing.T) {
	e := newTestCollector(t, Config{}, kfake.SeedTopics(8, "a", "b"))
	ctx := testCtx(t)
	e.produce(t, "a", map[int32]int{0: 5, 7: 5})
	for i := 0; i < 5; i++ {
		g := fmt.Sprintf("g%d", i)
		if _, err := e.ac.CommitOffsets(ctx, g, map[string]map[int32]int64{"a": {0: 1, 7: 2}}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 10; i++ { // warm up every pool
		e.col.PollNow(ctx)
	}
	runtime.GC()
	g0, fd0, c0 := runtime.NumGoroutine(), testenv.OpenFDs(t), e.ac.Stats()
	for i := 0; i < 1000; i++ {
		s := e.col.PollNow(ctx)
		if s.Cluster.Partial {
			t.Fatalf("cycle %d: %+v", i, s.Cluster.Errors)
		}
	}
	runtime.GC()
	g1, fd1, c1 := runtime.NumGoroutine(), testenv.OpenFDs(t), e.ac.Stats()
	if g1 > g0+2 {
		t.Errorf("goroutines grew from %d to %d over 1000 cycles", g0, g1)
	}
	if fd1 > fd0+2 {
		t.Errorf("open fds grew from %d to %d over 1000 cycles", fd0, fd1)
	}
	if c1.Dials != c0.Dials || c1.OpenConns != c0.OpenConns {
		t.Errorf("connections: dials %d→%d open %d→%d", c0.Dials, c1.Dials, c0.OpenConns, c1.OpenConns)
	}
	perCycle := c1.Sub(c0).Total / 1000
	t.Logf("requests per cycle: %d (%v)", perCycle, c1.Sub(c0).Requests)
}

// blockingSink blocks every write until released.
type blockingSink struct {
	release chan struct{}
	mu      sync.Mutex
	got     []*Samples
}

func (b *blockingSink) WriteSamples(ctx context.Context, s *Samples) error {
	select {
	case <-b.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	b.mu.Lock()
	b.got = append(b.got, s)
	b.mu.Unlock()
	return nil
}

func TestSlowSinkDoesNotBlockCollection(t *testing.T) {
	e := newTestCollector(t, Config{OffsetsInterval: 20 * time.Millisecond}, kfake.SeedTopics(1, "x"))
	sink := &blockingSink{release: make(chan struct{})}
	col, err := New(Config{Cluster: "slow", OffsetsInterval: 20 * time.Millisecond, SinkTimeout: 10 * time.Second}, e.ac, sink, quiet())
	if err != nil {
		t.Fatal(err)
	}
	if err := col.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, 10*time.Second, func() error {
		if l := col.Latest(); l == nil || l.Cluster.Sequence < 10 {
			return errors.New("collection stalled behind a blocked sink")
		}
		return nil
	})
	if _, dropped := col.SinkStats(); dropped == 0 {
		t.Error("no samples counted as dropped while the sink was blocked")
	}
	close(sink.release)
	col.Stop()
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if len(sink.got) == 0 {
		t.Fatal("sink never got samples")
	}
	// The flush at Stop delivers samples at least as new as the ones written before.
	last := sink.got[len(sink.got)-1]
	if last.Cluster != "slow" || last.Totals.Partitions != 1 {
		t.Errorf("last samples %+v", last.Totals)
	}
}

// TestRequestsIndependentOfScale: a cycle sends the same requests for a tiny
// cluster and for one with 40× the partitions and 100× the groups.
func TestRequestsIndependentOfScale(t *testing.T) {
	counts := func(topics, partitions, groups int) (*Snapshot, map[string]int64) {
		names := make([]string, topics)
		for i := range names {
			names[i] = fmt.Sprintf("t%03d", i)
		}
		e := newTestCollector(t, Config{}, kfake.SeedTopics(int32(partitions), names...))
		ctx := testCtx(t)
		for g := 0; g < groups; g++ {
			if _, err := e.ac.CommitOffsets(ctx, fmt.Sprintf("g%04d", g), map[string]map[int32]int64{names[g%topics]: {0: 0}}); err != nil {
				t.Fatal(err)
			}
		}
		// Every coordinator must own at least one group for the counts to compare.
		s := e.col.PollNow(ctx)
		coords := map[int32]bool{}
		for _, g := range s.Groups {
			coords[g.Coordinator] = true
		}
		if len(coords) != 3 || s.Totals.Groups != groups || s.Totals.Partitions != topics*partitions {
			t.Fatalf("fixture: %d coordinators, %d groups, %d partitions", len(coords), s.Totals.Groups, s.Totals.Partitions)
		}
		s = e.col.PollNow(ctx)
		return s, s.Cluster.Requests
	}
	// Requests per cycle are a function of brokers, leader brokers and coordinators only
	// (one FindCoordinator names the coordinators of every group).
	for _, c := range []struct{ topics, partitions, groups int }{{3, 2, 12}, {40, 20, 1200}} {
		s, req := counts(c.topics, c.partitions, c.groups)
		leaders := map[int32]bool{}
		for _, tp := range s.Topics {
			for _, p := range tp.Partitions {
				leaders[p.Leader] = true
			}
		}
		want := map[string]int64{"Metadata": 1, "ListOffsets": int64(3 * len(leaders)), "ListGroups": 3, "DescribeGroups": 3,
			"FindCoordinator": 1, "OffsetFetch": 3, "DescribeLogDirs": 3, "DescribeConfigs": 1}
		if !maps.Equal(req, want) {
			t.Errorf("%d partitions, %d groups: requests %v, want %v", c.topics*c.partitions, c.groups, req, want)
		}
	}
}

func TestCommittedOffsetsKeptWhenCoordinatorFails(t *testing.T) {
	e := newTestCollector(t, Config{}, kfake.SeedTopics(1, "c"))
	ctx := testCtx(t)
	e.produce(t, "c", map[int32]int{0: 9})
	if _, err := e.ac.CommitOffsets(ctx, "steady", map[string]map[int32]int64{"c": {0: 2}}); err != nil {
		t.Fatal(err)
	}
	if g, _ := e.col.PollNow(ctx).Group("steady"); g == nil || g.TotalLag != 7 {
		t.Fatalf("before: %+v", g)
	}
	coord := e.kc.CoordinatorFor("steady")
	failOn(e.kc, kmsg.OffsetFetch, coord)
	s := e.col.PollNow(ctx)
	g, _ := s.Group("steady")
	if g == nil || g.TotalLag != 7 {
		t.Fatalf("lag while the coordinator fails: %+v, want the last known 7", g)
	}
	if b, _ := s.Broker(coord); !s.Cluster.Partial || b.Up {
		t.Fatalf("coordinator failure not reported: partial %v broker %+v", s.Cluster.Partial, b)
	}
}

// TestDegradedPartitions feeds the collector a Metadata answer in which one
// partition lost a follower from its ISR and one has no leader (kfake itself
// always reports full ISRs), and checks the flags and totals.
func TestDegradedPartitions(t *testing.T) {
	e := newTestCollector(t, Config{}, kfake.SeedTopics(3, "d"))
	ctx := testCtx(t)
	md, err := e.ac.Metadata(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.ac.AlterTopicConfigs(ctx, "d", map[string]string{"min.insync.replicas": "2"}, nil); err != nil {
		t.Fatal(err)
	}
	e.col.PollNow(ctx) // healthy first: a partition never seen healthy would count as starting
	e.kc.ControlKey(int16(kmsg.Metadata), func(req kmsg.Request) (kmsg.Response, error, bool) {
		e.kc.KeepControl()
		resp := kmsg.NewPtrMetadataResponse()
		resp.Version = req.GetVersion()
		resp.ClusterID = kmsg.StringPtr("degraded")
		resp.ControllerID = md.ControllerID
		for _, b := range md.Brokers {
			mb := kmsg.NewMetadataResponseBroker()
			mb.NodeID, mb.Host, mb.Port = b.ID, b.Host, b.Port
			resp.Brokers = append(resp.Brokers, mb)
		}
		mt := kmsg.NewMetadataResponseTopic()
		mt.Topic = kmsg.StringPtr("d")
		for p := int32(0); p < 3; p++ {
			mp := kmsg.NewMetadataResponseTopicPartition()
			mp.Partition = p
			leader := e.kc.LeaderFor("d", p)
			other := (leader + 1) % 3
			mp.Leader, mp.Replicas, mp.ISR = leader, []int32{leader, other}, []int32{leader, other}
			switch p {
			case 0: // follower fell out of the ISR
				mp.ISR = []int32{leader}
			case 1: // no leader
				mp.Leader, mp.ISR, mp.OfflineReplicas = -1, nil, []int32{leader, other}
				mp.ErrorCode = kerr.LeaderNotAvailable.Code
			}
			mt.Partitions = append(mt.Partitions, mp)
		}
		resp.Topics = append(resp.Topics, mt)
		return resp, nil, true
	})
	s := e.col.PollNow(ctx)
	tp, ok := s.Topic("d")
	if !ok {
		t.Fatalf("topic d missing: %+v", s.Cluster.Errors)
	}
	p0, p1, p2 := tp.Partitions[0], tp.Partitions[1], tp.Partitions[2]
	if !p0.UnderReplicated || p0.Offline || !p0.UnderMinISR {
		t.Errorf("p0 (ISR 1 of 2, min ISR 2): %+v", p0)
	}
	if !p1.Offline || !p1.UnderReplicated || p1.EndOffset != -1 || p1.Error == "" {
		t.Errorf("p1 (no leader): %+v", p1)
	}
	if p2.UnderReplicated || p2.Offline || p2.UnderMinISR {
		t.Errorf("p2 (healthy): %+v", p2)
	}
	if tp.MinISR != 2 || tp.UnderReplicated != 2 || tp.Offline != 1 || tp.UnderMinISR != 2 {
		t.Errorf("topic: minISR %d under %d offline %d underMinISR %d, want 2 2 1 2", tp.MinISR, tp.UnderReplicated, tp.Offline, tp.UnderMinISR)
	}
	if s.Totals.UnderReplicated != 2 || s.Totals.Offline != 1 || s.Cluster.ID != "degraded" {
		t.Errorf("totals %+v id %q", s.Totals, s.Cluster.ID)
	}
}

// TestSpreadWithABrokerDown: broker 2 has left the metadata but still holds replicas of the topic.
// It is listed (down) and counts as a cluster broker, so the topic's spread is 3 of 3 brokers, and
// its unknown log-dir size stays unknown rather than becoming a number.
func TestSpreadWithABrokerDown(t *testing.T) {
	e := newTestCollector(t, Config{}, kfake.SeedTopics(3, "s"))
	ctx := testCtx(t)
	md, err := e.ac.Metadata(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	const down = 2
	e.kc.ControlKey(int16(kmsg.Metadata), func(req kmsg.Request) (kmsg.Response, error, bool) {
		e.kc.KeepControl()
		resp := kmsg.NewPtrMetadataResponse()
		resp.Version = req.GetVersion()
		resp.ControllerID = md.ControllerID
		for _, b := range md.Brokers {
			if b.ID == down {
				continue
			}
			mb := kmsg.NewMetadataResponseBroker()
			mb.NodeID, mb.Host, mb.Port = b.ID, b.Host, b.Port
			resp.Brokers = append(resp.Brokers, mb)
		}
		mt := kmsg.NewMetadataResponseTopic()
		mt.Topic = kmsg.StringPtr("s")
		for p := int32(0); p < 3; p++ {
			mp := kmsg.NewMetadataResponseTopicPartition()
			mp.Partition = p
			mp.Leader = p % down // brokers 0 and 1 lead; broker 2 holds a follower of each
			mp.Replicas, mp.ISR = []int32{mp.Leader, down}, []int32{mp.Leader}
			mt.Partitions = append(mt.Partitions, mp)
		}
		resp.Topics = append(resp.Topics, mt)
		return resp, nil, true
	})
	s := e.col.PollNow(ctx)
	tp, ok := s.Topic("s")
	if !ok {
		t.Fatalf("topic s missing: %+v", s.Cluster.Errors)
	}
	if tp.BrokerSpread != 100 || !slices.Equal(tp.Brokers, []int32{0, 1, 2}) {
		t.Errorf("spread %.2f%% over brokers %v, want 100%% over [0 1 2]", tp.BrokerSpread, tp.Brokers)
	}
	if s.Totals.Brokers != 3 || s.Totals.BrokersUp != 2 {
		t.Errorf("brokers %d, up %d; want 3, 2", s.Totals.Brokers, s.Totals.BrokersUp)
	}
	for _, tp := range s.Topics {
		if tp.BrokerSpread > 100 {
			t.Errorf("topic %s spread %.2f%% > 100%%", tp.Name, tp.BrokerSpread)
		}
	}
}

// TestReadersDuringPolls reads snapshots while cycles (healthy and failing)
// publish new ones; run with -race it checks published snapshots are never written.
func TestReadersDuringPolls(t *testing.T) {
	names := make([]string, 20)
	for i := range names {
		names[i] = fmt.Sprintf("r%02d", i)
	}
	e := newTestCollector(t, Config{}, kfake.SeedTopics(1, names...))
	ctx := testCtx(t)
	var failing atomic.Bool
	e.kc.ControlKey(int16(kmsg.Metadata), func(kmsg.Request) (kmsg.Response, error, bool) {
		e.kc.KeepControl()
		if failing.Load() {
			return nil, fmt.Errorf("injected"), true
		}
		return nil, nil, false
	})
	e.col.PollNow(ctx)
	done := make(chan struct{})
	var reads atomic.Int64
	var wg sync.WaitGroup
	for r := 0; r < 2; r++ {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				s := e.col.Latest()
				var n int
				for _, tp := range s.Topics {
					n += len(tp.Partitions)
				}
				if _, ok := s.Topic("r07"); !ok || n != 20 {
					t.Errorf("snapshot %d: r07 present %v, %d partitions", s.Cluster.Sequence, ok, n)
				}
				reads.Add(1)
				time.Sleep(time.Millisecond) // leave the CPUs to the polls
			}
		})
	}
	for i := 0; i < 20; i++ {
		failing.Store(i%2 == 1)
		e.col.PollNow(ctx)
	}
	close(done)
	wg.Wait()
	if reads.Load() == 0 {
		t.Fatal("readers never ran")
	}
}

// TestUnknownLagLeftOutOfSums: the leader of u/0 fails ListOffsets, so the group's lag there is
// unknown. It stays -1 (topic u's lag too, no partition of it being known), the group's and the
// cluster's lag sum only the known partitions of k, and u gets no stored sample rather than a 0.
func TestUnknownLagLeftOutOfSums(t *testing.T) {
	e := newTestCollector(t, Config{CallTimeout: 2 * time.Second}, kfake.SeedTopics(3, "k"), kfake.SeedTopics(1, "u"))
	ctx := testCtx(t)
	down := e.kc.LeaderFor("u", 0)
	e.produce(t, "k", map[int32]int{0: 5, 1: 5, 2: 5})
	e.produce(t, "u", map[int32]int{0: 5})
	commits := map[string]map[int32]int64{"k": {}, "u": {0: 1}}
	var wantLag int64
	for p := int32(0); p < 3; p++ {
		if e.kc.LeaderFor("k", p) != down {
			commits["k"][p] = 2
			wantLag += 3
		}
	}
	if len(commits["k"]) == 0 {
		t.Skip("kfake put every leader on one broker")
	}
	if _, err := e.ac.CommitOffsets(ctx, "g", commits); err != nil {
		t.Fatal(err)
	}
	failOn(e.kc, kmsg.ListOffsets, down)
	s := e.col.PollNow(ctx)
	g, ok := s.Group("g")
	if !ok {
		t.Fatalf("group g missing: %+v", s.Cluster.Errors)
	}
	for _, gt := range g.Topics {
		switch gt.Topic {
		case "u":
			if gt.Lag != -1 || gt.Partitions[0].Lag != -1 || gt.Partitions[0].End != -1 {
				t.Errorf("u: lag %d, partition %+v; want -1 (unknown)", gt.Lag, gt.Partitions[0])
			}
		case "k":
			if gt.Lag != wantLag {
				t.Errorf("k: lag %d, want %d", gt.Lag, wantLag)
			}
		}
	}
	if g.TotalLag != wantLag || s.Totals.Lag != wantLag {
		t.Errorf("group lag %d, cluster lag %d; want %d (unknown lag left out)", g.TotalLag, s.Totals.Lag, wantLag)
	}
	for _, gs := range buildSamples(s).Groups {
		if gs.Topic == "u" {
			t.Errorf("sample stored for an unknown lag: %+v", gs)
		}
	}
}
