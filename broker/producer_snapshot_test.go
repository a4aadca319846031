package broker

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/osprey-kafka/osprey/broker/txn"
	"github.com/osprey-kafka/osprey/internal/testenv"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// snapshotFiles lists a partition directory's producer snapshots.
func snapshotFiles(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".snapshot") {
			out = append(out, e.Name())
		}
	}
	return out
}

// A clean shutdown writes a snapshot at the log end holding the idempotent producer's state, field
// by field as the log has it, and the broker opened on it recognises the producer's retry.
func TestProducerSnapshotOnCleanShutdown(t *testing.T) {
	dir := t.TempDir()
	b := startTestBroker(t, testConfig(withDir(dir)))
	seeds := []string{b.Addr()}
	createTopic(t, seeds, "snap", 1, 1)
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.DefaultProduceTopic("snap"), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t, 30*time.Second)
	var recs []*kgo.Record
	for i := range 5 {
		recs = append(recs, &kgo.Record{Partition: 0, Value: fmt.Appendf(nil, "v%d", i), Timestamp: time.UnixMilli(1_700_000_000_000 + int64(i))})
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	pid, epoch, err := cl.ProducerID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cl.Close()
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "snap-0", "00000000000000000005.snapshot"))
	if err != nil {
		t.Fatalf("no snapshot at the log end after a clean shutdown: %v (files %v)", err, snapshotFiles(t, filepath.Join(dir, "snap-0")))
	}
	entries, err := txn.DecodeSnapshot(data)
	if err != nil {
		t.Fatal(err)
	}
	want := txn.ProducerEntry{ProducerID: pid, Epoch: epoch, LastSequence: 4, LastOffset: 4, OffsetDelta: 4,
		Timestamp: 1_700_000_000_004, CoordinatorEpoch: -1, CurrentTxnFirstOffset: -1}
	if len(entries) != 1 || entries[0] != want {
		t.Fatalf("snapshot entries %+v, want [%+v]", entries, want)
	}

	b2 := startTestBroker(t, testConfig(withDir(dir)))
	p := b2.data.get("snap", 0)
	if p == nil {
		t.Fatal("partition not open")
	}
	p.mu.Lock()
	ps := p.producers[pid]
	p.mu.Unlock()
	if ps == nil || ps.epoch != epoch || ps.lastSeq != 4 || ps.n != 1 || ps.recent[0] != (seqEntry{firstSeq: 0, lastSeq: 4, baseOffset: 0}) {
		t.Fatalf("producer state after reopening: %+v", ps)
	}
}

// A transaction opened more than the scan window (producerScanRecords) before a kill -9 still holds
// the last stable offset after the restart: the snapshots written at segment rolls carry it. The
// producer then commits it and the last stable offset reaches the high watermark.
func TestOpenTransactionFarBackSurvivesKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("writes more than producerScanRecords records")
	}
	dir := t.TempDir()
	port := freePort(t)
	child := startChildBrokerOnPort(t, dir, port)
	seeds := []string{child.addr}
	ctx := testCtx(t, 120*time.Second)
	adm := kadm.NewClient(newKgo(t, child.addr))
	if _, err := adm.CreateTopic(ctx, 1, 1, map[string]*string{"segment.bytes": kadm.StringPtr("65536")}, "far"); err != nil {
		t.Fatal(err)
	}
	tp := txnProducer(t, seeds, "far-writer", kgo.TransactionTimeout(5*time.Minute))
	if err := tp.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := tp.ProduceSync(ctx, &kgo.Record{Topic: "far", Partition: 0, Value: []byte("open")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	writeMany(t, ctx, seeds, "far", producerScanRecords+20_000)
	hw := endOffsets(t, seeds, "far", false)[0]
	if lso := endOffsets(t, seeds, "far", true)[0]; lso != 0 || hw != producerScanRecords+20_001 {
		t.Fatalf("before the kill: last stable offset %d, high watermark %d", lso, hw)
	}
	child.kill()
	if len(snapshotFiles(t, filepath.Join(dir, "far-0"))) == 0 {
		ents, _ := os.ReadDir(filepath.Join(dir, "far-0"))
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Fatalf("no producer snapshot was written at the segment rolls: %v", names)
	}

	startChildBrokerOnPort(t, dir, port)
	testenv.WaitFor(t, 30*time.Second, func() error {
		if lso := endOffsets(t, seeds, "far", true)[0]; lso != 0 {
			return fmt.Errorf("after the restart the last stable offset is %d, want 0 (the open transaction's start)", lso)
		}
		return nil
	})
	if err := tp.EndTransaction(ctx, kgo.TryCommit); err != nil {
		t.Fatalf("committing after the restart: %v", err)
	}
	testenv.WaitFor(t, 30*time.Second, func() error {
		hw, lso := endOffsets(t, seeds, "far", false)[0], endOffsets(t, seeds, "far", true)[0]
		if lso != hw || hw != producerScanRecords+20_002 {
			return fmt.Errorf("last stable offset %d, high watermark %d: the commit marker is not in yet", lso, hw)
		}
		return nil
	})
}

// writeMany appends n small non-transactional records to partition 0 of topic.
func writeMany(t *testing.T, ctx context.Context, seeds []string, topic string, n int) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerLinger(5*time.Millisecond), kgo.DisableIdempotentWrite(), kgo.ProducerBatchMaxBytes(16<<10))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	const chunk = 10_000
	for done := 0; done < n; done += chunk {
		recs := make([]*kgo.Record, 0, chunk)
		for i := done; i < min(done+chunk, n); i++ {
			recs = append(recs, &kgo.Record{Topic: topic, Partition: 0, Value: fmt.Appendf(nil, "r%d", i)})
		}
		if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
}
