package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/osprey-kafka/osprey/broker"
)

const (
	benchTopic      = "bench"
	benchPartitions = 16
)

// target is a broker under test: its bootstrap addresses and how to stop it.
type target struct {
	name      string
	bootstrap []string
	close     func()
}

// startOsprey starts one Osprey broker with file logs under dir.
func startOsprey(ctx context.Context, o *options, dir string) (*target, error) {
	cfg := broker.DefaultConfig()
	cfg.LogDirs = []string{dir}
	cfg.NumPartitions = benchPartitions
	b, err := broker.New(cfg, broker.WithLogger(o.quiet))
	if err != nil {
		return nil, fmt.Errorf("configuring the Osprey broker: %w", err)
	}
	if err := b.Start(ctx); err != nil {
		return nil, fmt.Errorf("starting the Osprey broker: %w", err)
	}
	t := &target{name: "Osprey", bootstrap: []string{b.Addr()}, close: func() { _ = b.Close() }}
	if err := createTopic(ctx, t.bootstrap, benchTopic, benchPartitions, 1); err != nil {
		t.close()
		return nil, err
	}
	return t, nil
}

// startKfake starts franz-go's kfake with one broker persisting to dir.
func startKfake(ctx context.Context, dir string) (*target, error) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.DataDir(dir), kfake.SeedTopics(benchPartitions, benchTopic))
	if err != nil {
		return nil, fmt.Errorf("starting kfake: %w", err)
	}
	return &target{name: "kfake", bootstrap: c.ListenAddrs(), close: c.Close}, nil
}

func createTopic(ctx context.Context, bootstrap []string, topic string, partitions int32, rf int16) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap...))
	if err != nil {
		return fmt.Errorf("client: %w", err)
	}
	defer cl.Close()
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	r, err := kadm.NewClient(cl).CreateTopic(cctx, partitions, rf, nil, topic)
	if err == nil {
		err = r.Err
	}
	if err != nil {
		return fmt.Errorf("creating topic %s: %w", topic, err)
	}
	return nil
}

// produceResult is one produce run.
type produceResult struct {
	bytes   int64 // record value bytes acknowledged
	records int64
	m       *meter
}

func (r produceResult) rate() float64 {
	if r.m == nil || r.m.wall <= 0 {
		return math.NaN()
	}
	return float64(r.bytes) / r.m.wall.Seconds()
}

// valuePool is random bytes that record values are cut from: incompressible
// and distinct, so neither side can shortcut the work.
var valuePool = func() []byte {
	b := make([]byte, 8<<20)
	_, _ = rand.Read(b)
	return b
}()

// produce sends recSize-byte records to topic until total bytes or maxDur,
// then flushes; the rate counts acknowledged bytes over the whole time.
func produce(ctx context.Context, bootstrap []string, topic string, recSize int, total int64, maxDur time.Duration, opts ...kgo.Opt) (produceResult, error) {
	base := []kgo.Opt{kgo.SeedBrokers(bootstrap...), kgo.DefaultProduceTopic(topic),
		kgo.ProducerBatchCompression(kgo.NoCompression())}
	cl, err := kgo.NewClient(append(base, opts...)...)
	if err != nil {
		return produceResult{}, fmt.Errorf("client: %w", err)
	}
	defer cl.Close()
	// Connect and learn the partitions before the clock starts.
	if err := cl.Ping(ctx); err != nil {
		return produceResult{}, fmt.Errorf("ping: %w", err)
	}
	var (
		acked, ackedRecs atomic.Int64
		firstErr         error
		errOnce          sync.Once
	)
	cb := func(r *kgo.Record, err error) {
		if err != nil {
			errOnce.Do(func() { firstErr = err })
			return
		}
		acked.Add(int64(len(r.Value)))
		ackedRecs.Add(1)
	}
	pctx, cancel := context.WithTimeout(ctx, maxDur+time.Minute)
	defer cancel()
	m := startMeter()
	deadline := time.Now().Add(maxDur)
	var sent int64
	for i := 0; sent < total && pctx.Err() == nil; i++ {
		if i%1024 == 0 && time.Now().After(deadline) {
			break
		}
		off := (i * 4099) % (len(valuePool) - recSize)
		cl.Produce(pctx, &kgo.Record{Value: valuePool[off : off+recSize]}, cb)
		sent += int64(recSize)
	}
	if err := cl.Flush(pctx); err != nil {
		return produceResult{}, fmt.Errorf("flush: %w", err)
	}
	m.stop()
	if firstErr != nil {
		return produceResult{}, fmt.Errorf("produce: %w", firstErr)
	}
	return produceResult{bytes: acked.Load(), records: ackedRecs.Load(), m: m}, nil
}

// consume reads records from the start of topic until want records or maxDur;
// opts add to the consumer's settings (an isolation level, say).
func consume(ctx context.Context, bootstrap []string, topic string, want int64, maxDur time.Duration, opts ...kgo.Opt) (produceResult, error) {
	base := []kgo.Opt{kgo.SeedBrokers(bootstrap...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxBytes(16 << 20), kgo.FetchMaxPartitionBytes(4 << 20)}
	cl, err := kgo.NewClient(append(base, opts...)...)
	if err != nil {
		return produceResult{}, fmt.Errorf("client: %w", err)
	}
	defer cl.Close()
	if err := cl.Ping(ctx); err != nil {
		return produceResult{}, fmt.Errorf("ping: %w", err)
	}
	cctx, cancel := context.WithTimeout(ctx, maxDur)
	defer cancel()
	var n, bytes int64
	m := startMeter()
	for n < want {
		fs := cl.PollFetches(cctx)
		if cctx.Err() != nil {
			break
		}
		var ferr error
		fs.EachError(func(t string, p int32, err error) { ferr = fmt.Errorf("fetch %s/%d: %w", t, p, err) })
		if ferr != nil {
			return produceResult{}, ferr
		}
		fs.EachRecord(func(r *kgo.Record) { bytes += int64(len(r.Value)) })
		n += int64(fs.NumRecords())
	}
	m.stop()
	if n == 0 {
		return produceResult{}, errors.New("consumed nothing")
	}
	return produceResult{bytes: bytes, records: n, m: m}, nil
}

// rf1Acks is the producer setting of the RF 1 runs: acks=1 (which needs
// idempotence off) and, tuned for throughput, 5 produce requests in flight per
// broker (Kafka's max.in.flight.requests.per.connection default; franz-go's is 1).
func rf1Acks() []kgo.Opt {
	return []kgo.Opt{kgo.RequiredAcks(kgo.LeaderAck()), kgo.DisableIdempotentWrite(), kgo.MaxProduceRequestsInflightPerBroker(5)}
}

// brokerRuns holds the figures of one broker.
type brokerRuns struct {
	p1k, p100 produceResult
	fetch     produceResult
	raw       produceResult // raw Fetch requests, records not decoded
	err       error
}

// brokerRound runs produce 1 KiB, fetch (consumer and raw), produce 100 B on a fresh broker.
func brokerRound(ctx context.Context, o *options, name string, round int, total1k, total100 int64, maxDur time.Duration) *brokerRuns {
	r := &brokerRuns{}
	r.err = func() error {
		dir := filepath.Join(o.dir, fmt.Sprintf("broker-%s-%d", name, round))
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		var (
			t   *target
			err error
		)
		if name == "Osprey" {
			t, err = startOsprey(ctx, o, dir)
		} else {
			t, err = startKfake(ctx, dir)
		}
		if err != nil {
			return err
		}
		defer t.close()
		acks := rf1Acks()
		o.log.Info("produce 1 KiB", "broker", name, "round", round, "bytes", total1k)
		if r.p1k, err = produce(ctx, t.bootstrap, benchTopic, 1024, total1k, maxDur, acks...); err != nil {
			return fmt.Errorf("produce 1 KiB: %w", err)
		}
		o.log.Info("fetch", "broker", name, "round", round, "records", r.p1k.records)
		if r.fetch, err = consume(ctx, t.bootstrap, benchTopic, r.p1k.records, maxDur); err != nil {
			return fmt.Errorf("fetch: %w", err)
		}
		if r.raw, err = rawFetch(ctx, t.bootstrap, benchTopic, maxDur); err != nil {
			return fmt.Errorf("raw fetch: %w", err)
		}
		// 100-byte records go to a second topic so the fetches above read 1 KiB records only.
		if err := createTopic(ctx, t.bootstrap, benchTopic+"-100", benchPartitions, 1); err != nil {
			return err
		}
		o.log.Info("produce 100 B", "broker", name, "round", round, "bytes", total100)
		if r.p100, err = produce(ctx, t.bootstrap, benchTopic+"-100", 100, total100, maxDur, acks...); err != nil {
			return fmt.Errorf("produce 100 B: %w", err)
		}
		return nil
	}()
	if r.err != nil {
		o.log.Error("broker run failed", "broker", name, "round", round, "err", r.err)
	}
	return r
}

// cpuPerGBOf is the process CPU-seconds per GB of a figure, NaN when the run failed.
func cpuPerGBOf(r *brokerRuns, pick func(*brokerRuns) produceResult) float64 {
	if r.err != nil {
		return math.NaN()
	}
	return cpuPerGB(pick(r))
}

// cpuVerdict says what the CPU cost per GB means for a throughput gap: on a
// shared machine it is the figure other processes cannot distort much.
func cpuVerdict(osp, kf float64) string {
	switch {
	case math.IsNaN(osp) || math.IsNaN(kf):
		return ""
	case osp > 1.15*kf:
		return ": Osprey's path costs more CPU per byte, so with client and broker sharing the cores it moves less"
	case kf > 1.15*osp:
		return ": Osprey costs less CPU per byte, so the gap comes from how much CPU each run got (other processes) or from waiting, not from Osprey's work"
	}
	return ": about the same CPU per byte, so the gap comes from how much CPU each run got (other processes) or from waiting"
}

// medianRuns keeps, for each figure, the round with the median rate (its meter comes with it).
func medianRuns(rounds []*brokerRuns) *brokerRuns {
	for _, r := range rounds {
		if r.err != nil {
			return r
		}
	}
	pick := func(get func(*brokerRuns) produceResult) produceResult {
		rs := make([]produceResult, len(rounds))
		for i, r := range rounds {
			rs[i] = get(r)
		}
		sort.Slice(rs, func(i, j int) bool { return rs[i].rate() < rs[j].rate() })
		return rs[len(rs)/2]
	}
	return &brokerRuns{
		p1k:   pick(func(r *brokerRuns) produceResult { return r.p1k }),
		p100:  pick(func(r *brokerRuns) produceResult { return r.p100 }),
		fetch: pick(func(r *brokerRuns) produceResult { return r.fetch }),
		raw:   pick(func(r *brokerRuns) produceResult { return r.raw }),
	}
}

func runBroker(ctx context.Context, o *options, rep *report, lim *limits) {
	total1k := o.size(1<<30, 64<<20)
	total100 := o.size(256<<20, 16<<20)
	maxDur := o.dur(90*time.Second, 20*time.Second)
	rounds := int(o.size(5, 1))
	all := brokerRounds(ctx, o, rounds, total1k, total100, maxDur)
	res := map[string]*brokerRuns{}
	for _, name := range []string{"Osprey", "kfake"} {
		if len(all[name]) == 0 {
			res[name] = &brokerRuns{err: errors.New("interrupted")}
			continue
		}
		res[name] = medianRuns(all[name])
	}
	osp, kf := res["Osprey"], res["kfake"]
	brokerProduceRows(rep, lim, osp, kf)
	brokerFetchRows(rep, lim, osp, kf)
	brokerNotes(rep, all, rounds, total1k, total100, maxDur)
}

// brokerRounds runs the given number of rounds of both brokers, keyed by
// broker name, stopping early when ctx ends.
func brokerRounds(ctx context.Context, o *options, rounds int, total1k, total100 int64, maxDur time.Duration) map[string][]*brokerRuns {
	all := map[string][]*brokerRuns{}
	for round := 1; round <= rounds && ctx.Err() == nil; round++ {
		// Alternate which broker goes first, so a drift in the machine's load hits both.
		order := []string{"Osprey", "kfake"}
		if round%2 == 0 {
			order = []string{"kfake", "Osprey"}
		}
		for _, name := range order {
			all[name] = append(all[name], brokerRound(ctx, o, name, round, total1k, total100, maxDur))
		}
	}
	return all
}

func runsP1k(r *brokerRuns) produceResult   { return r.p1k }
func runsP100(r *brokerRuns) produceResult  { return r.p100 }
func runsFetch(r *brokerRuns) produceResult { return r.fetch }
func runsRaw(r *brokerRuns) produceResult   { return r.raw }

// runsRate is the throughput of a figure, NaN when the run failed.
func runsRate(r *brokerRuns, pick func(*brokerRuns) produceResult) float64 {
	if r.err != nil {
		return math.NaN()
	}
	return pick(r).rate()
}

// runsDiag is what the machine did during a figure's run.
func runsDiag(r *brokerRuns, pick func(*brokerRuns) produceResult) string {
	if r.err != nil {
		return "run failed"
	}
	return pick(r).m.diagnose()
}

// runsFailed says which broker's run failed, or "" when both ran.
func runsFailed(osp, kf *brokerRuns) string {
	if osp.err != nil {
		return "Osprey run failed: " + osp.err.Error()
	}
	if kf.err != nil {
		return "kfake run failed: " + kf.err.Error()
	}
	return ""
}

// brokerProduceRows reports the produce figures: Osprey against kfake and,
// for 1 KiB records, against the disk's sequential write.
func brokerProduceRows(rep *report, lim *limits, osp, kf *brokerRuns) {
	for _, c := range []struct {
		label string
		pick  func(*brokerRuns) produceResult
	}{{"1 KiB", runsP1k}, {"100 B", runsP100}} {
		ov, kv := runsRate(osp, c.pick), runsRate(kf, c.pick)
		st := atLeast(ov, kv)
		why := runsFailed(osp, kf)
		oc, kc := cpuPerGBOf(osp, c.pick), cpuPerGBOf(kf, c.pick)
		if st == statusMissed {
			why = fmt.Sprintf("Osprey %s vs kfake %s. The process (producer and broker) spent %.1f CPU-seconds per GB "+
				"with Osprey and %.1f with kfake%s. During Osprey's run %s. During kfake's run %s",
				mbps(ov), mbps(kv), oc, kc, cpuVerdict(oc, kc), runsDiag(osp, c.pick), runsDiag(kf, c.pick))
		}
		rep.add(row{Section: "broker", Name: "produce " + c.label + " records, Osprey vs kfake", Value: mbps(ov),
			Reference: "kfake " + mbps(kv), Ratio: ratio(ov, kv), Target: "≥ 1.00 × kfake", Status: st, Why: why})
		rep.add(row{Section: "broker", Name: "produce " + c.label + " records, CPU-s per GB (client + broker)", Value: fmt.Sprintf("%.1f s", oc),
			Reference: fmt.Sprintf("kfake %.1f s", kc), Ratio: ratio(oc, kc), Target: "diagnostic (lower is better)", Status: statusNoTarget})
		if c.label == "1 KiB" {
			lim.rf1Osp = ov
			st := atLeast(ov, 0.8*lim.diskSeq)
			why := runsFailed(osp, kf)
			if lim.diskSeq == 0 {
				st, why = statusNotRun, "the machine section did not run (use -only machine,broker)"
			} else if st == statusMissed {
				why = fmt.Sprintf("Osprey appends %s (into the page cache; no fsync per batch, Kafka's default) while the "+
					"1 MiB sequential writer reaches %s including its fsync; the produce path (franz-go client encoding, "+
					"loopback TCP, request decoding, CRC check, append) is the limit, not the disk: kfake, which "+
					"shares that path up to the append, reached %s in the same rounds, and during Osprey's run %s",
					mbps(ov), mbps(lim.diskSeq), mbps(runsRate(kf, c.pick)), runsDiag(osp, c.pick))
			}
			rep.add(row{Section: "broker", Name: "produce 1 KiB records, Osprey vs sequential write", Value: mbps(ov),
				Reference: "seq. write " + mbps(lim.diskSeq), Ratio: ratio(ov, lim.diskSeq), Target: "≥ 0.80 × seq. write", Status: st, Why: why})
		}
	}
}

// brokerFetchRows reports the fetch figures: the consumer against kfake and
// sendfile, and the raw Fetch requests that tell decoding from the fetch path.
func brokerFetchRows(rep *report, lim *limits, osp, kf *brokerRuns) {
	ov, kv := runsRate(osp, runsFetch), runsRate(kf, runsFetch)
	rep.add(row{Section: "broker", Name: "fetch 1 KiB records (warm log), Osprey vs kfake", Value: mbps(ov),
		Reference: "kfake " + mbps(kv), Ratio: ratio(ov, kv), Target: "-", Status: statusNoTarget})
	st := atLeast(ov, 0.7*lim.sendfile)
	why := runsFailed(osp, kf)
	if lim.sendfile == 0 {
		st, why = statusNotRun, "the machine section did not run (use -only machine,broker)"
	} else if st == statusMissed {
		why = fetchGapWhy(lim, osp, ov)
	}
	rep.add(row{Section: "broker", Name: "fetch 1 KiB records (warm log), Osprey vs sendfile", Value: mbps(ov),
		Reference: "sendfile " + mbps(lim.sendfile), Ratio: ratio(ov, lim.sendfile), Target: "≥ 0.70 × sendfile", Status: st, Why: why})
	rv, rk := runsRate(osp, runsRaw), runsRate(kf, runsRaw)
	rep.add(row{Section: "broker", Name: "raw Fetch requests, batches not decoded (Osprey; kfake)", Value: mbps(rv),
		Reference: fmt.Sprintf("sendfile %s; kfake %s", mbps(lim.sendfile), mbps(rk)), Ratio: ratio(rv, lim.sendfile),
		Target: "diagnostic", Status: statusNoTarget})
}

// fetchGapWhy explains why Osprey's consumer (at ov) missed the sendfile
// target: it splits the gap to sendfile into the consumer's decoding
// (consumer → raw) and the fetch path itself (raw → sendfile).
func fetchGapWhy(lim *limits, osp *brokerRuns, ov float64) string {
	rawRate := runsRate(osp, runsRaw)
	var verdict string
	decodeShare := (rawRate - ov) / (lim.sendfile - ov)
	rawM := osp.raw.m
	path := "the raw fetches ran one request at a time (each waits for the previous response), and "
	if rawM != nil && rawM.saturated() {
		path += "the cores were busy, so the broker's fetch path (request decoding, reading the segments, framing) costs CPU"
	} else {
		path += "the cores were not saturated, so that path waits between requests rather than runs out of CPU"
	}
	switch {
	case math.IsNaN(decodeShare) || decodeShare <= 0.1:
		verdict = "no faster than the consumer, so decoding is not the gap: " + path
	case decodeShare >= 0.5:
		verdict = fmt.Sprintf("so the consumer's decoding is %.0f%% of the gap", 100*decodeShare)
	default:
		verdict = fmt.Sprintf("so the consumer's decoding is %.0f%% of the gap and the rest is the fetch path: %s", 100*decodeShare, path)
	}
	return fmt.Sprintf("the consumer reads %s while sendfile alone moves %s; unlike the sendfile test's reader, "+
		"the franz-go consumer decodes every batch and record (CRC, varints, one Record per message) in the same "+
		"process as the broker. Raw Fetch requests on the same log without that decoding moved %s (%s of sendfile), "+
		"%s. During the consumer run %s",
		mbps(ov), mbps(lim.sendfile), mbps(rawRate), ratio(rawRate, lim.sendfile), verdict, runsDiag(osp, runsFetch))
}

// brokerNotes describes how the broker figures were measured, and every round's figures.
func brokerNotes(rep *report, all map[string][]*brokerRuns, rounds int, total1k, total100 int64, maxDur time.Duration) {
	rep.note("Broker produce: one broker (Osprey: `broker.New` with file logs in the scratch directory; kfake: "+
		"`kfake.NewCluster(NumBrokers(1), DataDir(dir))`, kfake's own persistence, no per-batch fsync like Osprey's "+
		"default), topic with %d partitions, RF 1; one franz-go producer on loopback, acks=1 (idempotence off, which "+
		"acks=1 requires), no compression, franz-go's default batching (linger 10 ms, 1 MB batches, 50,000 buffered "+
		"records) tuned for throughput in one respect: 5 produce requests in flight per broker (Kafka's default; "+
		"franz-go's is 1), random record values; %s of 1 KiB records and %s of 100 B records (or %v each, whichever comes "+
		"first); throughput = acknowledged value bytes / time from first send to flush.",
		benchPartitions, humanBytes(float64(total1k)), humanBytes(float64(total100)), maxDur)
	rep.note("Broker fetch: after the 1 KiB produce run, a franz-go consumer (fetch max 16 MiB, 4 MiB per partition) " +
		"reads every record from offset 0 (the log is in the page cache: warm); throughput = value bytes / time. The " +
		"diagnostic row then reads the same log with raw Fetch requests (same limits) whose record batches are only " +
		"walked by their headers, not decoded: the broker's send path without the consumer's decoding; throughput = " +
		"record-batch bytes / time.")
	rep.note("Each broker figure is the median of %d rounds; every round starts a fresh broker on an empty directory, "+
		"and the order of Osprey and kfake alternates between rounds.", rounds)
	for _, n := range []string{"Osprey", "kfake"} {
		for i, r := range all[n] {
			if r.err != nil {
				rep.note("%s round %d failed: %v", n, i+1, r.err)
				continue
			}
			rep.note("%s round %d: 1 KiB produce %s (%d records in %v; %s); fetch %s (%s); raw fetch %s; 100 B produce %s (%s).",
				n, i+1, mbps(r.p1k.rate()), r.p1k.records, r.p1k.m.wall.Round(time.Millisecond), r.p1k.m.cpuSummary(),
				mbps(r.fetch.rate()), r.fetch.m.cpuSummary(), mbps(r.raw.rate()), mbps(r.p100.rate()), r.p100.m.cpuSummary())
		}
	}
}

// percentile of sorted durations (q in 0..1).
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	i = max(0, min(i, len(sorted)-1))
	return sorted[i]
}

func sortDurations(d []time.Duration) { sort.Slice(d, func(i, j int) bool { return d[i] < d[j] }) }
