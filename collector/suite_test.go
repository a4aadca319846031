package collector

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/osprey-kafka/osprey/admin"
	"github.com/osprey-kafka/osprey/internal/testenv"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kversion"
)

// startCluster starts a Kafka-compatible cluster of n brokers on loopback
// ports, stopped by t.Cleanup, and returns its bootstrap addresses.
type startCluster func(t testing.TB, n int) []string

func startKfake(opts ...kfake.Opt) startCluster {
	return func(t testing.TB, n int) []string {
		kc, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(n)}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(kc.Close)
		return kc.ListenAddrs()
	}
}

// TestClusterSuiteKfake runs the target-independent suite against kfake. A
// second target (Osprey's broker runtime) needs only its own startCluster.
func TestClusterSuiteKfake(t *testing.T) { runClusterSuite(t, startKfake(), 3) }

// TestClusterSuiteKafka27 limits kfake to Kafka 2.7's API versions: no batched
// FindCoordinator, one group per OffsetFetch.
func TestClusterSuiteKafka27(t *testing.T) {
	runClusterSuite(t, startKfake(kfake.MaxVersions(kversion.V2_7_0())), 3)
}

// runClusterSuite checks, through the public API only, that a snapshot tells
// the truth about what the test set up: topics, partitions, replicas, ISR,
// offsets, leader counts, a consumer group's members, assignment, lag and lag
// seconds, and rates between cycles.
func runClusterSuite(t *testing.T, start startCluster, brokers int) {
	addrs := start(t, brokers)
	rf := min(2, brokers)
	ctx := testCtx(t)
	ac, err := admin.New(admin.Config{Name: "suite", Bootstrap: addrs, Timeout: 5 * time.Second}, quiet())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ac.Close() })
	sink := &MemorySink{}
	// The collector's clock moves only when the suite says, so the second cycle's interval is exact.
	clk := newFakeClock()
	col, err := New(Config{Now: clk.Now}, ac, sink, quiet())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(col.Stop)

	errs, err := ac.CreateTopics(ctx, admin.TopicSpec{Name: "suite-orders", Partitions: 4, ReplicationFactor: int16(rf)})
	if err != nil || errs["suite-orders"] != nil {
		t.Fatal(err, errs)
	}
	// Wait for the topic to have leaders everywhere (a real broker elects asynchronously).
	testenv.WaitFor(t, 20*time.Second, func() error {
		md, err := ac.Metadata(ctx, []string{"suite-orders"})
		if err != nil {
			return err
		}
		if len(md.Topics) != 1 || len(md.Topics[0].Partitions) != 4 {
			return fmt.Errorf("topic not ready: %+v", md.Topics)
		}
		for _, p := range md.Topics[0].Partitions {
			if p.Leader < 0 {
				return fmt.Errorf("partition %d has no leader yet", p.Partition)
			}
		}
		return nil
	})

	const M, N = 10, 4
	prod, err := kgo.NewClient(kgo.SeedBrokers(addrs...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	produceN := func(perPartition map[int32]int) {
		t.Helper()
		var recs []*kgo.Record
		for p, n := range perPartition {
			for i := 0; i < n; i++ {
				recs = append(recs, &kgo.Record{Topic: "suite-orders", Partition: p, Value: []byte(fmt.Sprintf("r%d", i))})
			}
		}
		if err := prod.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			t.Fatalf("produce: %v", err)
		}
	}
	produceN(map[int32]int{0: M, 1: M, 3: 3})

	cons, err := kgo.NewClient(kgo.SeedBrokers(addrs...), kgo.ConsumerGroup("suite-group"), kgo.ConsumeTopics("suite-orders"),
		kgo.DisableAutoCommit(), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.ClientID("suite-consumer"))
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	byPart := map[int32][]*kgo.Record{}
	for n := 0; n < 2*M+3; {
		fs := cons.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consumed %d of %d", n, 2*M+3)
		}
		fs.EachRecord(func(r *kgo.Record) { byPart[r.Partition] = append(byPart[r.Partition], r); n++ })
	}
	if err := cons.CommitRecords(ctx, byPart[0][N-1], byPart[1][M-1], byPart[3][2]); err != nil {
		t.Fatal(err)
	}

	s := col.PollNow(ctx)
	if s.Cluster.Partial {
		t.Fatalf("errors: %+v", s.Cluster.Errors)
	}
	if s.Totals.Brokers != brokers || s.Totals.BrokersUp != brokers {
		t.Fatalf("brokers %d up %d", s.Totals.Brokers, s.Totals.BrokersUp)
	}
	tp, ok := s.Topic("suite-orders")
	if !ok || len(tp.Partitions) != 4 || tp.ReplicationFactor != rf {
		t.Fatalf("topic %+v", tp)
	}
	wantEnd := map[int32]int64{0: M, 1: M, 2: 0, 3: 3}
	for _, p := range tp.Partitions {
		if p.EndOffset != wantEnd[p.Partition] || p.StartOffset != 0 {
			t.Errorf("p%d offsets %d..%d, want 0..%d", p.Partition, p.StartOffset, p.EndOffset, wantEnd[p.Partition])
		}
		if len(p.Replicas) != rf || !slices.Contains(p.Replicas, p.Leader) || len(p.ISR) != rf || p.UnderReplicated || p.Offline {
			t.Errorf("p%d leader %d replicas %v isr %v", p.Partition, p.Leader, p.Replicas, p.ISR)
		}
	}
	var leaders, replicas int
	for _, b := range s.Brokers {
		leaders += b.Leaders
		replicas += b.Replicas
	}
	if leaders != s.Totals.Partitions || replicas != s.Totals.Replicas {
		t.Errorf("broker leader/replica counts %d/%d, totals %d/%d", leaders, replicas, s.Totals.Partitions, s.Totals.Replicas)
	}

	g, ok := s.Group("suite-group")
	if !ok || g.State != "Stable" || len(g.Members) != 1 || g.Members[0].ClientID != "suite-consumer" {
		t.Fatalf("group %+v", g)
	}
	if g.TotalLag != M-N {
		t.Fatalf("group lag %d, want %d", g.TotalLag, M-N)
	}
	for _, gt := range g.Topics {
		for _, gp := range gt.Partitions {
			wantLag := map[int32]int64{0: M - N, 1: 0, 3: 0}[gp.Partition]
			if gp.Lag != wantLag || gp.Member != g.Members[0].ID {
				t.Errorf("p%d: committed %d end %d lag %d member %q, want lag %d", gp.Partition, gp.Committed, gp.End, gp.Lag, gp.Member, wantLag)
			}
		}
	}

	// Second cycle: more records, so rates and lag seconds move.
	clk.Advance(2 * time.Second)
	produceN(map[int32]int{0: 5, 2: 5})
	s2 := col.PollNow(ctx)
	tp2, _ := s2.Topic("suite-orders")
	if tp2.MsgsPerSec != 5 || s2.Totals.MsgsPerSec != tp2.MsgsPerSec { // 10 records over 2 s
		t.Errorf("msgs/s topic %.2f cluster %.2f", tp2.MsgsPerSec, s2.Totals.MsgsPerSec)
	}
	g2, _ := s2.Group("suite-group")
	// Partition 2 has no committed offset: like kafka-consumer-groups.sh, no lag is counted there.
	if g2.TotalLag != M-N+5 || g2.LagSeconds <= 0 {
		t.Errorf("second cycle lag %d seconds %.3f", g2.TotalLag, g2.LagSeconds)
	}
	if n := len(sink.All()); n != 2 {
		t.Errorf("sink got %d samples, want 2", n)
	}
}
