package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// multiBrokerRuntime stands up n Osprey brokers forming one cluster (a
// controller and replication), with logs under dir, and returns their
// bootstrap addresses and a function that stops them all.
type multiBrokerRuntime func(ctx context.Context, o *options, dir string, n int) (bootstrap []string, stop func(), err error)

// multiBroker is set by runtime.go (broker/supervisor). Without it the
// cluster rows say "not measured" instead of inventing a figure.
var multiBroker multiBrokerRuntime

const notReady = "not measured: multi-broker runtime not available yet"

func runCluster(ctx context.Context, o *options, rep *report, lim *limits) {
	if multiBroker == nil {
		for _, n := range []string{"3 brokers RF 3 acks=all produce, vs RF 1", "3 brokers RF 3 acks=all latency p50", "3 brokers RF 3 acks=all latency p99"} {
			rep.add(row{Section: "cluster", Name: n, Value: "-", Status: statusNotRun, Why: notReady +
				" (cmd/osprey-bench is written against a function that stands up N brokers; it is wired when broker/supervisor lands)"})
		}
		rep.note("3-broker cluster: not measured in this run (no multi-broker runtime in the broker package yet).")
		return
	}
	total := o.size(512<<20, 32<<20)
	maxDur := o.dur(60*time.Second, 15*time.Second)
	rate := o.size(1000, 500)
	latDur := o.dur(15*time.Second, 4*time.Second)
	dir := filepath.Join(o.dir, "cluster")
	fail := func(err error) {
		for _, n := range []string{"3 brokers RF 3 acks=all produce, vs RF 1", "3 brokers RF 3 acks=all latency p99"} {
			rep.add(row{Section: "cluster", Name: n, Value: "-", Status: statusNotRun, Why: "the run failed: " + err.Error()})
		}
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		fail(err)
		return
	}
	defer os.RemoveAll(dir)
	boot, stop, err := multiBroker(ctx, o, dir, 3)
	if err != nil {
		fail(fmt.Errorf("starting 3 brokers: %w", err))
		return
	}
	defer stop()
	rounds := int(o.size(3, 1))
	runs1, runs3, err := clusterRounds(ctx, boot, rounds, total, maxDur)
	if err != nil {
		fail(err)
		return
	}
	clusterThroughputRow(rep, runs1, runs3)

	lm := startMeter()
	lat, err := fixedRate(ctx, boot, "rf3-1", 1024, int(rate), latDur)
	if err != nil {
		fail(fmt.Errorf("latency run: %w", err))
		return
	}
	lm.stop()
	clusterLatencyRows(rep, lat, rate, lm)
	rep.note("3-broker cluster: three in-process Osprey brokers stood up by the cluster supervisor "+
		"(`supervisor.New(Options{Brokers: 3, Mode: InProcess})`: the in-process local metadata store, the console's "+
		"embedded default) with file logs; the run starts once every "+
		"partition has all its replicas in the ISR; topics of %d partitions with RF 1 "+
		"and RF 3; %s of 1 KiB records (or %v) with acks=1 to RF 1 and acks=all to RF 3, otherwise the same producer "+
		"settings as the single-broker runs (idempotence off, 5 requests in flight, franz-go default batching). Latency: %d records/s of 1 KiB for %v, linger 0, acks=all, time from Produce to its acknowledgement.",
		benchPartitions, humanBytes(float64(total)), maxDur, rate, latDur)
	rep.note("Cluster throughput figures are the medians of %d rounds (fresh topics each round, RF 1 and RF 3 order alternating).", rounds)
}

// clusterRounds produces to a fresh RF 1 and a fresh RF 3 topic in each round
// and returns each round's figures; an interrupted run with no figures is an error.
func clusterRounds(ctx context.Context, boot []string, rounds int, total int64, maxDur time.Duration) (runs1, runs3 []produceResult, err error) {
	for round := 1; round <= rounds && ctx.Err() == nil; round++ {
		t1, t3 := fmt.Sprintf("rf1-%d", round), fmt.Sprintf("rf3-%d", round)
		for _, t := range []struct {
			name string
			rf   int16
		}{{t1, 1}, {t3, 3}} {
			if err := createTopic(ctx, boot, t.name, benchPartitions, t.rf); err != nil {
				return nil, nil, err
			}
			if err := waitISR(ctx, boot, t.name, int(t.rf)); err != nil {
				return nil, nil, err
			}
		}
		// Alternate the order so a drift in the machine's load hits both.
		for _, rf := range map[bool][]int{true: {1, 3}, false: {3, 1}}[round%2 == 1] {
			if rf == 1 {
				r1, err := produce(ctx, boot, t1, 1024, total, maxDur, rf1Acks()...)
				if err != nil {
					return nil, nil, fmt.Errorf("RF 1 produce: %w", err)
				}
				runs1 = append(runs1, r1)
				continue
			}
			// Same producer settings as RF 1 except acks, so the ratio is the cost of
			// replication (LinkedIn's comparison: 3x sync replication vs none).
			r3, err := produce(ctx, boot, t3, 1024, total, maxDur,
				kgo.RequiredAcks(kgo.AllISRAcks()), kgo.DisableIdempotentWrite(), kgo.MaxProduceRequestsInflightPerBroker(5))
			if err != nil {
				return nil, nil, fmt.Errorf("RF 3 produce: %w", err)
			}
			runs3 = append(runs3, r3)
		}
	}
	if len(runs1) == 0 || len(runs3) == 0 {
		return nil, nil, errors.New("interrupted")
	}
	return runs1, runs3, nil
}

// clusterThroughputRow reports every round and the median RF 3 acks=all
// throughput against RF 1 acks=1.
func clusterThroughputRow(rep *report, runs1, runs3 []produceResult) {
	for i := range runs1 {
		if i < len(runs3) {
			rep.note("Cluster round %d: RF 1 %s (%s); RF 3 %s (%s).", i+1, mbps(runs1[i].rate()), runs1[i].m.cpuSummary(),
				mbps(runs3[i].rate()), runs3[i].m.cpuSummary())
		}
	}
	r1, r3 := medianRate(runs1), medianRate(runs3)
	v1, v3 := r1.rate(), r3.rate()
	st := atLeast(v3/v1, 0.5)
	why := ""
	if st == statusMissed {
		lead := "RF 3 moves every byte three times (leader append plus two follower fetches and appends), all in " +
			"this process on the same cores as the client"
		if !r3.m.saturated() {
			lead = "the RF 3 run left CPU idle, so it waited: every acks=all request waits until both followers have " +
				"fetched its batches, and 5 requests in flight per broker do not cover that round trip"
		}
		why = fmt.Sprintf("%s; CPU per GB produced was %.1f s with RF 3 vs %.1f s with RF 1. RF 3 run: %s. RF 1 run: %s",
			lead, cpuPerGB(r3), cpuPerGB(r1), r3.m.diagnose(), r1.m.diagnose())
	}
	rep.add(row{Section: "cluster", Name: "3 brokers RF 3 acks=all produce, vs RF 1", Value: mbps(v3),
		Reference: "RF 1 acks=1 " + mbps(v1), Ratio: ratio(v3, v1), Target: "≥ 0.50 × RF 1", Status: st, Why: why})
}

// clusterLatencyRows reports the acks=all latencies (sorted) of the
// fixed-rate run at rate records/s, lm its CPU meter.
func clusterLatencyRows(rep *report, lat []time.Duration, rate int64, lm *meter) {
	p50, p99 := percentile(lat, 0.5), percentile(lat, 0.99)
	// Followers long-poll with a 500 ms Fetch max wait (broker/replica.go): a
	// request held that long waited for a follower's fetch to expire.
	near := 0
	for _, l := range lat {
		if l >= 400*time.Millisecond && l <= 700*time.Millisecond {
			near++
		}
	}
	rep.add(row{Section: "cluster", Name: "3 brokers RF 3 acks=all latency p50", Value: ms(p50), Status: statusNoTarget})
	rep.note("Latency run: %d records acknowledged; p50 %s, p90 %s, p99 %s, p99.9 %s, max %s; %d took 400–700 ms "+
		"(about the followers' 500 ms Fetch max wait); %s.", len(lat), ms(p50), ms(percentile(lat, 0.9)), ms(p99),
		ms(percentile(lat, 0.999)), ms(lat[len(lat)-1]), near, lm.cpuSummary())
	st := atMost(float64(p99), float64(5*time.Millisecond))
	why := ""
	if st == statusMissed {
		tail := "This run does not break the tail down further (follower fetch wake-up, Go GC and scheduling are the candidates)"
		if near > 0 {
			tail = fmt.Sprintf("%d of %d requests (%.2f%%) took 400–700 ms, about the followers' Fetch max wait (500 ms in "+
				"broker/replica.go): those were answered when a follower's long-poll fetch expired, not when the data "+
				"arrived, which points at a missed wake-up of waiting follower fetches on append", near, len(lat),
				100*float64(near)/float64(len(lat)))
		}
		why = fmt.Sprintf("p99 %s at %d records/s while p50 is %s (p90 %s, p99.9 %s, max %s): acks=all waits until "+
			"both followers have fetched the batch, and a few requests wait much longer than the median; %s. %s",
			ms(p99), rate, ms(p50), ms(percentile(lat, 0.9)), ms(percentile(lat, 0.999)), ms(lat[len(lat)-1]), lm.cpuSummary(), tail)
	}
	rep.add(row{Section: "cluster", Name: "3 brokers RF 3 acks=all latency p99", Value: ms(p99), Target: "≤ 5 ms", Status: st, Why: why})
}

// fixedRate produces perSec records a second for d and returns each record's
// latency from Produce to acknowledgement, sorted.
func fixedRate(ctx context.Context, boot []string, topic string, recSize, perSec int, d time.Duration) ([]time.Duration, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(boot...), kgo.DefaultProduceTopic(topic), kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerLinger(0), kgo.ProducerBatchCompression(kgo.NoCompression()))
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	defer cl.Close()
	if err := cl.Ping(ctx); err != nil {
		return nil, fmt.Errorf("ping: %w", err)
	}
	// Warm up: metadata and producer ID before the clock starts.
	if err := cl.ProduceSync(ctx, &kgo.Record{Value: valuePool[:recSize]}).FirstErr(); err != nil {
		return nil, fmt.Errorf("warm-up produce: %w", err)
	}
	var (
		mu       sync.Mutex
		lat      []time.Duration
		firstErr error
	)
	interval := time.Second / time.Duration(perSec)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	end := time.Now().Add(d)
	pctx, cancel := context.WithTimeout(ctx, d+30*time.Second)
	defer cancel()
	for i := 0; time.Now().Before(end) && pctx.Err() == nil; i++ {
		<-tick.C
		off := (i * 4099) % (len(valuePool) - recSize)
		t0 := time.Now()
		cl.Produce(pctx, &kgo.Record{Value: valuePool[off : off+recSize]}, func(_ *kgo.Record, err error) {
			took := time.Since(t0)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = err
				}
				return
			}
			lat = append(lat, took)
		})
	}
	if err := cl.Flush(pctx); err != nil {
		return nil, fmt.Errorf("flush: %w", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if firstErr != nil {
		return nil, firstErr
	}
	if len(lat) == 0 {
		return nil, fmt.Errorf("no record acknowledged")
	}
	sortDurations(lat)
	return lat, nil
}

// cpuPerGB is the process CPU seconds spent per GB acknowledged.
func cpuPerGB(r produceResult) float64 {
	if r.bytes == 0 || r.m == nil {
		return 0
	}
	return r.m.cpu.Seconds() / (float64(r.bytes) / 1e9)
}

// medianRate returns the run with the median rate.
func medianRate(rs []produceResult) produceResult {
	s := append([]produceResult(nil), rs...)
	sort.Slice(s, func(i, j int) bool { return s[i].rate() < s[j].rate() })
	return s[len(s)/2]
}
