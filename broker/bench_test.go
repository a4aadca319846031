package broker

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

const benchRecordSize = 1024

// benchTopic starts a file-backed broker with a 4-partition topic.
func benchTopic(b *testing.B) *Broker {
	br := newTestBroker(b, withDir(b.TempDir()))
	cl, err := kgo.NewClient(kgo.SeedBrokers(br.Addr()))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	if _, err := kadm.NewClient(cl).CreateTopic(context.Background(), 4, 1, nil, "bench"); err != nil {
		b.Fatal(err)
	}
	return br
}

func benchProduce(b *testing.B, addr string, n int) {
	benchProduceWith(b, []kgo.Opt{kgo.SeedBrokers(addr)}, n)
}

// benchProduceWith produces n records with a client made of opts (seeds,
// TLS, SASL) and the benchmark's producer settings.
func benchProduceWith(b *testing.B, opts []kgo.Opt, n int) {
	cl, err := kgo.NewClient(append(opts, kgo.DefaultProduceTopic("bench"),
		kgo.ProducerLinger(2*time.Millisecond), kgo.ProducerBatchMaxBytes(1<<20),
		kgo.ProducerBatchCompression(kgo.NoCompression()))...)
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	// Distinct random values, no compression: the broker's work is measured,
	// not the codec's.
	pool := make([]byte, 4<<20)
	rand.Read(pool)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	errs := make(chan error, 1)
	for i := 0; i < n; i++ {
		off := (i * benchRecordSize) % (len(pool) - benchRecordSize)
		cl.Produce(ctx, &kgo.Record{Value: pool[off : off+benchRecordSize]}, func(_ *kgo.Record, err error) {
			if err != nil {
				select {
				case errs <- err:
				default:
				}
			}
		})
	}
	if err := cl.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
}

// BenchmarkProduce measures idempotent acks=all produce throughput of 1 KiB
// records over loopback with franz-go into file-backed logs.
func BenchmarkProduce(b *testing.B) {
	br := benchTopic(b)
	b.SetBytes(benchRecordSize)
	b.ResetTimer()
	benchProduce(b, br.Addr(), b.N)
}

// BenchmarkFetch measures consume throughput of 1 KiB records (large fetch
// responses are streamed from the segment files).
func BenchmarkFetch(b *testing.B) {
	br := benchTopic(b)
	benchProduce(b, br.Addr(), b.N)
	cl, err := kgo.NewClient(kgo.SeedBrokers(br.Addr()), kgo.ConsumeTopics("bench"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxBytes(16<<20), kgo.FetchMaxPartitionBytes(4<<20))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
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
