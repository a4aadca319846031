package collector

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/osprey-kafka/osprey/admin"
	"github.com/osprey-kafka/osprey/broker/supervisor"
)

// TestStableOffsetKfake and TestStableOffsetOsprey: a transaction left open holds the partition's
// last stable offset (LSO) below the high watermark; the snapshot shows it, counts how long it has
// stayed there on the collector's clock, and gives a group's lag to the LSO (what a read_committed
// consumer has left) beside its lag to the high watermark. The commit releases it.
func TestStableOffsetKfake(t *testing.T) {
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "tx"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kc.Close)
	stableOffsetFlow(t, kc.ListenAddrs(), false)
}

func TestStableOffsetOsprey(t *testing.T) {
	// One broker: the transaction state topic's replication factor 1, or the coordinator waits for
	// three brokers (up to a minute) before it answers.
	sup, err := supervisor.New(supervisor.Options{Brokers: 1, DataDir: t.TempDir(), Logger: quiet(),
		Properties: map[string]string{"transaction.state.log.replication.factor": "1", "transaction.state.log.num.partitions": "3"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := sup.Start(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sup.Close() })
	stableOffsetFlow(t, splitAddrs(sup.BootstrapServers()), true)
}

func stableOffsetFlow(t *testing.T, bootstrap []string, create bool) {
	ctx := testCtx(t)
	clk := newFakeClock()
	ac, err := admin.New(admin.Config{Name: "lso", Bootstrap: bootstrap, Timeout: 5 * time.Second}, quiet())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ac.Close() })
	if create {
		if _, err := ac.CreateTopics(ctx, admin.TopicSpec{Name: "tx", Partitions: 1, ReplicationFactor: 1}); err != nil {
			t.Fatal(err)
		}
	}
	col, err := New(Config{Cluster: "lso", Now: clk.Now}, ac, nil, quiet())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(col.Stop)
	cl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap...), kgo.TransactionalID("lso-writer"), kgo.TransactionTimeout(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	// Two committed records, the group at offset 1, then a third record in a transaction left open.
	for range 2 {
		if err := cl.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "tx", Value: []byte("done")}).FirstErr(); err != nil {
			t.Fatal(err)
		}
		if err := cl.EndTransaction(ctx, kgo.TryCommit); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ac.CommitOffsets(ctx, "reader", map[string]map[int32]int64{"tx": {0: 1}}); err != nil {
		t.Fatal(err)
	}
	if err := cl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "tx", Value: []byte("pending")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	// Each committed transaction is its record and its marker: offsets 0-3; the open one starts at 4.
	part := func() (Partition, GroupPartition) {
		t.Helper()
		s := col.PollNow(ctx)
		tp, ok := s.Topic("tx")
		g, gok := s.Group("reader")
		if !ok || !gok || len(tp.Partitions) != 1 || len(g.Topics) != 1 {
			t.Fatalf("snapshot lacks tx or reader: %+v", s.Topics)
		}
		return tp.Partitions[0], g.Topics[0].Partitions[0]
	}
	p, gp := part()
	if p.EndOffset != 5 || p.StableOffset != 4 || p.StableStuckSeconds != 0 {
		t.Fatalf("open transaction: end %d, LSO %d, stuck %v s; want 5, 4, 0", p.EndOffset, p.StableOffset, p.StableStuckSeconds)
	}
	if gp.Lag != 4 || gp.Stable != 4 || gp.StableLag != 3 {
		t.Fatalf("group partition %+v: want lag 4, stable 4, stable lag 3", gp)
	}
	clk.Advance(45 * time.Second)
	if p, _ = part(); p.StableOffset != 4 || p.StableStuckSeconds != 45 || p.StableStuckWrites != 0 {
		t.Fatalf("45 s later: LSO %d stuck %v s with %d writes past it; want 4 for 45 s, 0", p.StableOffset, p.StableStuckSeconds, p.StableStuckWrites)
	}
	// Records written past the stuck LSO (by a plain producer) move the high watermark, not the LSO.
	plain, err := kgo.NewClient(kgo.SeedBrokers(bootstrap...))
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	if err := plain.ProduceSync(ctx, &kgo.Record{Topic: "tx", Value: []byte("later")}, &kgo.Record{Topic: "tx", Value: []byte("later")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	clk.Advance(15 * time.Second)
	if p, _ = part(); p.EndOffset != 7 || p.StableOffset != 4 || p.StableStuckSeconds != 60 || p.StableStuckWrites != 2 {
		t.Fatalf("after 2 more records: end %d LSO %d stuck %v s with %d writes past it; want 7 4 60 2", p.EndOffset, p.StableOffset, p.StableStuckSeconds, p.StableStuckWrites)
	}
	if err := cl.EndTransaction(ctx, kgo.TryCommit); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Second)
	if p, gp = part(); p.EndOffset != 8 || p.StableOffset != 8 || p.StableStuckSeconds != 0 || p.StableStuckWrites != 0 || gp.StableLag != 7 {
		t.Fatalf("after the commit: end %d LSO %d stuck %v s %d writes, stable lag %d; want 8 8 0 0 7", p.EndOffset, p.StableOffset, p.StableStuckSeconds, p.StableStuckWrites, gp.StableLag)
	}
}
