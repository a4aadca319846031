package broker

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// BenchmarkTxnProduce is BenchmarkProduce through a transactional
// producer committing every 100 ms (Kafka's own overhead figure for that
// interval is a few percent).
func BenchmarkTxnProduce(b *testing.B) {
	br := benchTopic(b)
	cl, err := kgo.NewClient(kgo.SeedBrokers(br.Addr()), kgo.DefaultProduceTopic("bench"),
		kgo.TransactionalID("bench-tx"), kgo.ProducerLinger(2*time.Millisecond), kgo.ProducerBatchMaxBytes(1<<20),
		kgo.ProducerBatchCompression(kgo.NoCompression()))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	pool := make([]byte, 4<<20)
	rand.Read(pool)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	b.SetBytes(benchRecordSize)
	b.ResetTimer()
	for i := 0; i < b.N; {
		if err := cl.BeginTransaction(); err != nil {
			b.Fatal(err)
		}
		deadline := time.Now().Add(100 * time.Millisecond)
		for ; i < b.N && time.Now().Before(deadline); i++ {
			off := (i * benchRecordSize) % (len(pool) - benchRecordSize)
			cl.Produce(ctx, &kgo.Record{Value: pool[off : off+benchRecordSize]}, func(_ *kgo.Record, err error) {
				if err != nil {
					b.Error(err)
				}
			})
		}
		if err := cl.Flush(ctx); err != nil {
			b.Fatal(err)
		}
		if err := cl.EndTransaction(ctx, kgo.TryCommit); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFetchReadCommitted is BenchmarkFetch with read_committed over
// a log written in transactions.
func BenchmarkFetchReadCommitted(b *testing.B) {
	br := benchTopic(b)
	p, err := kgo.NewClient(kgo.SeedBrokers(br.Addr()), kgo.DefaultProduceTopic("bench"), kgo.TransactionalID("bench-rc"),
		kgo.ProducerBatchCompression(kgo.NoCompression()))
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	pool := make([]byte, 4<<20)
	rand.Read(pool)
	for i := 0; i < b.N; {
		if err := p.BeginTransaction(); err != nil {
			b.Fatal(err)
		}
		for j := 0; j < 1000 && i < b.N; j, i = j+1, i+1 {
			off := (i * benchRecordSize) % (len(pool) - benchRecordSize)
			p.Produce(ctx, &kgo.Record{Value: pool[off : off+benchRecordSize]}, nil)
		}
		if err := p.Flush(ctx); err != nil {
			b.Fatal(err)
		}
		if err := p.EndTransaction(ctx, kgo.TryCommit); err != nil {
			b.Fatal(err)
		}
	}
	p.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(br.Addr()), kgo.ConsumeTopics("bench"), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxBytes(16<<20), kgo.FetchMaxPartitionBytes(4<<20))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	b.SetBytes(benchRecordSize)
	b.ResetTimer()
	for n := 0; n < b.N; {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			b.Fatalf("consumed %d of %d", n, b.N)
		}
		fs.EachError(func(t string, p int32, err error) { b.Fatalf("fetch %s/%d: %v", t, p, err) })
		n += fs.NumRecords()
	}
}
