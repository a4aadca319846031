package collector

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/osprey-kafka/osprey/admin"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Benchmark fixture: 1,000 topics × 100 partitions = 100,000 partitions on 3
// kfake brokers, one record in every 10th partition, and 5,000 groups, each
// with committed offsets on the 20 first partitions of one topic
// (100,000 committed offsets). Built once per process.
const (
	benchTopics         = 1000
	benchPartitions     = 100
	benchGroups         = 5000
	benchGroupPartitons = 20
)

var (
	benchOnce sync.Once
	benchAC   *admin.Client
	benchErr  error
)

func benchFixture(b *testing.B) *admin.Client {
	benchOnce.Do(func() {
		began := time.Now()
		names := make([]string, benchTopics)
		for i := range names {
			names[i] = fmt.Sprintf("topic-%04d", i)
		}
		// The fixture lives for the whole benchmark process.
		kc, err := kfake.NewCluster(kfake.NumBrokers(3), kfake.SeedTopics(benchPartitions, names...))
		if err != nil {
			benchErr = err
			return
		}
		ctx := context.Background()
		cl, err := kgo.NewClient(kgo.SeedBrokers(kc.ListenAddrs()...), kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerLinger(0))
		if err != nil {
			benchErr = err
			return
		}
		var recs []*kgo.Record
		for _, t := range names {
			for p := int32(0); p < benchPartitions; p += 10 {
				recs = append(recs, &kgo.Record{Topic: t, Partition: p, Value: []byte("x")})
			}
		}
		if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			benchErr = fmt.Errorf("produce: %w", err)
			return
		}
		cl.Close()
		ac, err := admin.New(admin.Config{Name: "bench", Bootstrap: kc.ListenAddrs(), Timeout: time.Minute}, quiet())
		if err != nil {
			benchErr = err
			return
		}
		// Raw OffsetCommit (admin.CommitOffsets), a few goroutines at a time.
		sem := make(chan struct{}, 8)
		var wg sync.WaitGroup
		var mu sync.Mutex
		for g := 0; g < benchGroups; g++ {
			offs := map[int32]int64{}
			for p := int32(0); p < benchGroupPartitons; p++ {
				offs[p] = 0
			}
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				_, err := ac.CommitOffsets(ctx, fmt.Sprintf("group-%05d", g), map[string]map[int32]int64{names[g%benchTopics]: offs})
				if err != nil {
					mu.Lock()
					benchErr = err
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		benchAC = ac
		fmt.Fprintf(os.Stderr, "bench fixture: %d partitions, %d groups built in %v\n", benchTopics*benchPartitions, benchGroups, time.Since(began).Round(time.Millisecond))
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchAC
}

// BenchmarkPollCycle measures one full poll cycle (every part forced) over
// 100,000 partitions and 5,000 groups. Reported: ns/op (wall time of a
// cycle), Kafka requests per cycle, the process RSS after the cycles and its
// peak during them (both include the in-process kfake fixture), and the heap
// the collector retains between cycles.
func BenchmarkPollCycle(b *testing.B) {
	ac := benchFixture(b)
	fixtureHeap := liveHeapMB()
	fixtureRSS := procStatusMB("VmRSS:")
	col, err := New(Config{Cluster: "bench", CallTimeout: time.Minute}, ac, &discardSink{}, quiet())
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	s := col.PollNow(ctx) // warm-up: connections, history rings
	if s.Cluster.Partial {
		b.Fatalf("warm-up cycle errors: %+v", s.Cluster.Errors)
	}
	if s.Totals.Partitions != benchTopics*benchPartitions || s.Totals.Groups != benchGroups {
		b.Fatalf("snapshot has %d partitions, %d groups", s.Totals.Partitions, s.Totals.Groups)
	}
	before := ac.Stats()
	// Reset the peak-RSS mark so peakRSS-MB covers the timed cycles, not the
	// fixture's construction (Linux: "5" resets VmHWM).
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s = col.PollNow(ctx)
		if s.Cluster.Partial {
			b.Fatalf("cycle errors: %+v", s.Cluster.Errors)
		}
	}
	b.StopTimer()
	d := ac.Stats().Sub(before)
	b.ReportMetric(float64(d.Total)/float64(b.N), "requests/op")
	b.ReportMetric(procStatusMB("VmRSS:"), "RSS-MB")
	b.ReportMetric(procStatusMB("VmHWM:"), "peakRSS-MB")
	// What the collector keeps between cycles: the latest snapshot, the
	// log-end history and its caches (live heap minus the fixture's).
	b.ReportMetric(liveHeapMB()-fixtureHeap, "retained-MB")
	b.ReportMetric(fixtureRSS, "fixtureRSS-MB")
	runtime.KeepAlive(col)
	var committed int
	for _, g := range s.Groups {
		for _, t := range g.Topics {
			committed += len(t.Partitions)
		}
	}
	b.Logf("per cycle: %v; partitions %d, groups %d, committed offsets %d, brokers %d",
		perOp(d.Requests, b.N), s.Totals.Partitions, s.Totals.Groups, committed, s.Totals.Brokers)
}

func perOp(m map[string]int64, n int) map[string]int64 {
	out := make(map[string]int64, len(m))
	for k, v := range m {
		out[k] = v / int64(n)
	}
	return out
}

// procStatusMB reads a kB field of /proc/self/status in MB (0 if unavailable).
func procStatusMB(field string) float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

func liveHeapMB() float64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return float64(ms.HeapAlloc) / (1 << 20)
}

type discardSink struct{}

func (discardSink) WriteSamples(context.Context, *Samples) error { return nil }
