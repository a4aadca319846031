package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/osprey-kafka/osprey/broker"
	"github.com/osprey-kafka/osprey/broker/storage"
)

// The txn section measures what transactions and compaction cost on one
// Osprey broker with file logs: a transactional producer committing every
// 100 ms against the same producer without transactions, read_committed
// against read_uncommitted fetches of the transactional log, and the log
// cleaner's throughput and offset-map memory on a log with 10% unique keys.

const (
	txnTopic       = "txn"
	txnPlainTopic  = "txn-plain"
	txnCleanTopic  = "txn-clean"
	txnCommitEvery = 100 * time.Millisecond
	txnRecordSize  = 1024
)

// txnBroker starts one Osprey broker with file logs under dir whose cleaner
// looks for work every 50 ms (not Kafka's 15 s), so the cleaner figure times
// the clean and not the cleaner's idle wait.
func txnBroker(ctx context.Context, o *options, dir string) (*broker.Broker, *target, error) {
	cfg := broker.DefaultConfig()
	cfg.LogDirs = []string{dir}
	cfg.NumPartitions = benchPartitions
	cfg.LogCleaner.Backoff = 50 * time.Millisecond
	b, err := broker.New(cfg, broker.WithLogger(o.quiet))
	if err != nil {
		return nil, nil, fmt.Errorf("configuring the Osprey broker: %w", err)
	}
	if err := b.Start(ctx); err != nil {
		return nil, nil, fmt.Errorf("starting the Osprey broker: %w", err)
	}
	return b, &target{name: "Osprey", bootstrap: []string{b.Addr()}, close: func() { _ = b.Close() }}, nil
}

func runTxn(ctx context.Context, o *options, rep *report, lim *limits) {
	dir := filepath.Join(o.dir, "txn")
	notRun := func(name, why string) {
		rep.add(row{Section: "txn", Name: name, Value: "-", Status: statusNotRun, Why: why})
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		notRun("transactions and log cleaner", err.Error())
		return
	}
	defer os.RemoveAll(dir)
	b, t, err := txnBroker(ctx, o, dir)
	if err != nil {
		notRun("transactions and log cleaner", err.Error())
		return
	}
	defer t.close()
	dur, capBytes := o.dur(20*time.Second, 4*time.Second), o.size(1<<30, 512<<20)
	txnProduceRows(ctx, o, rep, t, dur, capBytes)
	cleanerRows(ctx, o, rep, lim, b, t)
}

// txnProduceRows measures transactional against idempotent produce, then
// read_committed against read_uncommitted fetches of the transactional log.
func txnProduceRows(ctx context.Context, o *options, rep *report, t *target, dur time.Duration, capBytes int64) {
	for _, topic := range []string{txnTopic, txnPlainTopic} {
		if err := createTopic(ctx, t.bootstrap, topic, benchPartitions, 1); err != nil {
			rep.add(row{Section: "txn", Name: "transactional produce", Value: "-", Status: statusNotRun, Why: err.Error()})
			return
		}
	}
	rounds := int(o.size(3, 2))
	tx, plain, txRecords, terr, perr := produceRounds(ctx, o, t, dur, capBytes, rounds)
	tv, pv := resultRate(tx, terr), resultRate(plain, perr)
	st, why := atLeast(tv, 0.9*pv), errWhy(terr, perr)
	if st == statusMissed {
		why = fmt.Sprintf("transactional %s vs idempotent %s with %d commits in %v; every commit flushes the producer "+
			"(the pipeline drains) and costs an EndTxn round trip plus a marker written to each of the %d partitions: "+
			"%s. The process spent %.1f CPU-seconds per GB with transactions and %.1f without. During the "+
			"transactional run %s. During the idempotent run %s",
			mbps(tv), mbps(pv), tx.commits, tx.m.wall.Round(time.Millisecond), benchPartitions, tx.phases(),
			cpuPerGB(tx.produceResult), cpuPerGB(plain.produceResult), tx.m.diagnose(), plain.m.diagnose())
	}
	rep.add(row{Section: "txn", Name: "transactional produce 1 KiB, commit every 100 ms", Value: mbps(tv),
		Reference: "idempotent " + mbps(pv), Ratio: ratio(tv, pv), Target: "≥ 0.90 × idempotent", Status: st, Why: why})
	rep.note("Transactional produce: one Osprey broker (file logs, scratch directory), topics with %d partitions, RF 1; "+
		"one franz-go producer on loopback with acks=all and idempotence (as transactions require), franz-go's default "+
		"batching, no compression, random 1 KiB values, for %v or %s each, whichever comes first: first without transactions to topic %s, then with "+
		"a transactional.id to topic %s, a transaction begun, records produced for 100 ms, the producer flushed and the "+
		"transaction committed, over and over (%d commits in the median round). Throughput = acknowledged value bytes / "+
		"time from first send to the last flush or commit. %d rounds, the order alternating, each figure the median "+
		"round (the upper one of two).", benchPartitions, dur, humanBytes(float64(capBytes)), txnPlainTopic, txnTopic, tx.commits, rounds)
	if terr != nil {
		return
	}
	o.log.Info("txn: fetch read_uncommitted and read_committed", "records", txRecords)
	com, unc, cerr, uerr := isolationRounds(ctx, o, t, txRecords, rounds)
	cv, uv := resultRate(com, cerr), resultRate(unc, uerr)
	st, why = atLeast(cv, 0.9*uv), errWhy(cerr, uerr)
	if st == statusMissed {
		why = fmt.Sprintf("read_committed %s vs read_uncommitted %s on the same log; read_committed stops at the last "+
			"stable offset and carries the aborted-transaction list, so a gap beyond that is the fetch path waiting or "+
			"short of CPU. The process (consumer and broker) spent %.1f CPU-seconds per GB read_committed and %.1f "+
			"read_uncommitted%s. During the read_committed run %s. During the read_uncommitted run %s",
			mbps(cv), mbps(uv), cpuPerGB(com), cpuPerGB(unc), cpuVerdictIso(cpuPerGB(com), cpuPerGB(unc)),
			com.m.diagnose(), unc.m.diagnose())
	}
	rep.add(row{Section: "txn", Name: "fetch read_committed vs read_uncommitted", Value: mbps(cv),
		Reference: "read_uncommitted " + mbps(uv), Ratio: ratio(cv, uv), Target: "≥ 0.90 × read_uncommitted", Status: st, Why: why})
	rep.note("Transactional fetch: after the transactional produce, a franz-go consumer (fetch max 16 MiB, 4 MiB per "+
		"partition) reads the %d committed records of topic %s from offset 0, read_uncommitted (the default) and, in a new "+
		"consumer, read_committed; %d rounds, the order alternating, each figure the median round (the upper one of "+
		"two); the log is warm in the page cache for all. Throughput = value bytes / time.",
		txRecords, txnTopic, rounds)
	rawIsolationRow(ctx, o, rep, t)
}

// produceRounds runs the idempotent and the transactional producer for dur
// each, rounds times with the order alternating, and returns the median
// round of each and how many records the transactional topic received.
func produceRounds(ctx context.Context, o *options, t *target, dur time.Duration, capBytes int64, rounds int) (tx, plain txnResult, txRecords int64, terr, perr error) {
	var txs, plains []txnResult
	for i := 0; i < rounds && ctx.Err() == nil; i++ {
		for j := range 2 {
			if (i+j)%2 == 0 {
				o.log.Info("txn: idempotent produce", "round", i+1, "duration", dur)
				r, err := txnProduce(ctx, t.bootstrap, txnPlainTopic, dur, capBytes, 0)
				perr = errors.Join(perr, err)
				plains = append(plains, r)
			} else {
				o.log.Info("txn: transactional produce", "round", i+1, "duration", dur, "commit_every", txnCommitEvery)
				r, err := txnProduce(ctx, t.bootstrap, txnTopic, dur, capBytes, txnCommitEvery)
				terr = errors.Join(terr, err)
				txs = append(txs, r)
				txRecords += r.records
			}
		}
	}
	if len(txs) == 0 || len(plains) == 0 {
		return tx, plain, 0, errors.Join(terr, errors.New("interrupted")), perr
	}
	median := func(rs []txnResult) txnResult {
		sort.Slice(rs, func(i, j int) bool { return rs[i].rate() < rs[j].rate() })
		return rs[len(rs)/2]
	}
	return median(txs), median(plains), txRecords, terr, perr
}

// isolationRounds reads the transactional topic read_committed and
// read_uncommitted, alternating which goes first, and returns the median
// round of each.
func isolationRounds(ctx context.Context, o *options, t *target, want int64, rounds int) (com, unc produceResult, cerr, uerr error) {
	maxDur := o.dur(90*time.Second, 20*time.Second)
	var cs, us []produceResult
	for i := 0; i < rounds && ctx.Err() == nil; i++ {
		for j := range 2 {
			if (i+j)%2 == 0 {
				r, err := consume(ctx, t.bootstrap, txnTopic, want, maxDur)
				uerr = errors.Join(uerr, err)
				us = append(us, r)
			} else {
				r, err := consume(ctx, t.bootstrap, txnTopic, want, maxDur, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
				cerr = errors.Join(cerr, err)
				cs = append(cs, r)
			}
		}
	}
	if cerr != nil || len(cs) == 0 {
		return com, unc, errors.Join(cerr, errors.New("read_committed did not run")), uerr
	}
	if uerr != nil || len(us) == 0 {
		return com, unc, cerr, errors.Join(uerr, errors.New("read_uncommitted did not run"))
	}
	return medianRate(cs), medianRate(us), nil, nil
}

// cpuVerdictIso says what the CPU cost per GB of the two isolation levels means.
func cpuVerdictIso(com, unc float64) string {
	switch {
	case com <= 0 || unc <= 0:
		return ""
	case com > 1.15*unc:
		return ", so read_committed costs more CPU per byte"
	case unc > 1.15*com:
		return ", so read_committed costs less CPU per byte and the gap is CPU the run did not get or waiting"
	}
	return ", about the same CPU per byte, so the gap is CPU the run did not get (other processes) or waiting"
}

// rawIsolationRow reads the transactional topic with raw Fetch requests at
// both isolation levels, batches not decoded: the broker's side of the
// read_committed cost without the consumer's.
func rawIsolationRow(ctx context.Context, o *options, rep *report, t *target) {
	maxDur := o.dur(90*time.Second, 20*time.Second)
	unc, uerr := rawFetchIsolation(ctx, t.bootstrap, txnTopic, maxDur, 0)
	com, cerr := rawFetchIsolation(ctx, t.bootstrap, txnTopic, maxDur, 1)
	cv, uv := resultRate(com, cerr), resultRate(unc, uerr)
	rep.add(row{Section: "txn", Name: "raw Fetch read_committed vs read_uncommitted, batches not decoded", Value: mbps(cv),
		Reference: "read_uncommitted " + mbps(uv), Ratio: ratio(cv, uv), Target: "diagnostic", Status: statusNoTarget,
		Why: errWhy(cerr, uerr)})
	rep.note("The diagnostic raw Fetch row reads the same log with raw Fetch requests (one at a time, 16 MiB per " +
		"request, 4 MiB per partition) whose record batches are walked by their headers only, read_uncommitted then " +
		"read_committed (up to the last stable offset): the broker's part of the read_committed cost without the consumer's.")
}

// txnResult is a produce run with the number of transactions it committed.
type txnResult struct {
	produceResult
	commits       int
	flush, commit time.Duration // total time spent flushing before commits, and in EndTransaction
}

// phases says how long a commit cycle's flush and commit took on average.
func (r txnResult) phases() string {
	if r.commits == 0 {
		return "no commits"
	}
	n := time.Duration(r.commits)
	return fmt.Sprintf("each commit cycle spent on average %s flushing the records produced in its 100 ms and %s in "+
		"EndTransaction", ms(r.flush/n), ms(r.commit/n))
}

// resultRate is a run's throughput, NaN when it failed.
func resultRate(r interface{ rate() float64 }, err error) float64 {
	if err != nil {
		return math.NaN()
	}
	return r.rate()
}

// errWhy names the failed runs, "" when none failed.
func errWhy(errs ...error) string {
	if err := errors.Join(errs...); err != nil {
		return err.Error()
	}
	return ""
}

// txnProduce sends 1 KiB records to topic for dur (or capBytes) with an idempotent
// producer; with commitEvery > 0 the producer is transactional and commits
// a transaction every commitEvery. Both ways run the same loop so that the
// only difference is the transaction. extra adds client options (TLS, SASL).
func txnProduce(ctx context.Context, bootstrap []string, topic string, dur time.Duration, capBytes int64, commitEvery time.Duration, extra ...kgo.Opt) (txnResult, error) {
	opts := []kgo.Opt{kgo.SeedBrokers(bootstrap...), kgo.DefaultProduceTopic(topic),
		kgo.ProducerBatchCompression(kgo.NoCompression()), kgo.RequiredAcks(kgo.AllISRAcks())}
	opts = append(opts, extra...)
	if commitEvery > 0 {
		opts = append(opts, kgo.TransactionalID("osprey-bench-txn"), kgo.TransactionTimeout(time.Minute))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return txnResult{}, fmt.Errorf("client: %w", err)
	}
	defer cl.Close()
	if err := cl.Ping(ctx); err != nil {
		return txnResult{}, fmt.Errorf("ping: %w", err)
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
	pctx, cancel := context.WithTimeout(ctx, dur+time.Minute)
	defer cancel()
	res := txnResult{}
	m := startMeter()
	end := time.Now().Add(dur)
	var sent int64
	for i := 0; time.Now().Before(end) && sent < capBytes && pctx.Err() == nil; {
		if commitEvery > 0 {
			if err := cl.BeginTransaction(); err != nil {
				return res, fmt.Errorf("begin transaction: %w", err)
			}
		}
		stop := end
		if commitEvery > 0 {
			stop = time.Now().Add(commitEvery)
		}
		for ; pctx.Err() == nil; i++ {
			if i%256 == 0 && time.Now().After(stop) || sent >= capBytes {
				break
			}
			sent += txnRecordSize
			off := (i * 4099) % (len(valuePool) - txnRecordSize)
			cl.Produce(pctx, &kgo.Record{Value: valuePool[off : off+txnRecordSize]}, cb)
		}
		f0 := time.Now()
		if err := cl.Flush(pctx); err != nil {
			return res, fmt.Errorf("flush: %w", err)
		}
		if commitEvery > 0 {
			c0 := time.Now()
			if err := cl.EndTransaction(pctx, kgo.TryCommit); err != nil {
				return res, fmt.Errorf("commit: %w", err)
			}
			res.flush += c0.Sub(f0)
			res.commit += time.Since(c0)
			res.commits++
		}
	}
	m.stop()
	if firstErr != nil {
		return res, fmt.Errorf("produce: %w", firstErr)
	}
	res.produceResult = produceResult{bytes: acked.Load(), records: ackedRecs.Load(), m: m}
	return res, nil
}

// cleanRun is what one timed clean of the benchmark's compacted log measured.
type cleanRun struct {
	cleaned  int64         // bytes the clean read
	took     time.Duration // the clean's own duration, or the wall time when it cannot be told apart
	ownTime  bool          // took is the clean's own duration (the cleaner's last clean was this log's)
	cleans   int           // cleans of the log seen while waiting
	mapUsed  float64       // bytes of the key→offset map the clean filled
	mapBytes float64       // the map's memory (the thread's share of the dedupe buffer)
	hwmDelta float64       // growth of the process's peak RSS over the clean
	recopy   float64       // bytes written over bytes read by the last clean
	m        *meter
}

// cleanerRows fills a compacted one-partition log with 1 KiB records of which
// 10% of the keys are unique, lets the cleaner clean it, and reports its
// throughput and the memory of its key→offset map.
func cleanerRows(ctx context.Context, o *options, rep *report, lim *limits, b *broker.Broker, t *target) {
	total := o.size(1<<30, 64<<20)
	segBytes := total / 64
	buffer := b.Config().LogCleaner.DedupeBufferSize
	cr, err := timedClean(ctx, o, b, t, total, segBytes)
	rate := math.NaN()
	if err == nil && cr.took > 0 {
		rate = float64(cr.cleaned) / cr.took.Seconds()
	}
	why := errWhy(err)
	st := statusNoTarget
	if lim.diskSeq == 0 {
		st, why = statusNotRun, "the machine section did not run, so there is no sequential write figure to compare with (use -only machine,txn)"
	}
	rep.add(row{Section: "txn", Name: "log cleaner, 10% unique keys (MB/s read)", Value: mbps(rate),
		Reference: "seq. write " + mbps(lim.diskSeq), Ratio: ratio(rate, lim.diskSeq), Target: "reported against seq. write",
		Status: st, Why: why})
	if err != nil {
		return
	}
	mst, mwhy := atMost(cr.mapUsed, float64(buffer)), ""
	if mst == statusMissed {
		mwhy = fmt.Sprintf("the clean filled %s of key→offset map with a %s buffer; %s", humanBytes(cr.mapUsed),
			humanBytes(float64(buffer)), cr.m.diagnose())
	}
	rep.add(row{Section: "txn", Name: "log cleaner key→offset map used", Value: humanBytes(cr.mapUsed),
		Reference: "dedupe buffer " + humanBytes(float64(buffer)), Ratio: ratio(cr.mapUsed, float64(buffer)),
		Target: "≤ 1.00 × buffer", Status: mst, Why: mwhy})
	rep.add(row{Section: "txn", Name: "log cleaner, peak RSS growth over the clean", Value: humanBytes(cr.hwmDelta),
		Reference: "dedupe buffer " + humanBytes(float64(buffer)), Ratio: ratio(cr.hwmDelta, float64(buffer)),
		Target: "diagnostic", Status: statusNoTarget})
	timing := "the clean's own duration (max_clean_time_secs, the cleaner's last clean being this log's)"
	if !cr.ownTime {
		timing = "the wall time from lifting the compaction lag to the clean's end (the cleaner's last clean was not " +
			"this log's alone, so its own duration could not be used), which includes up to 50 ms of cleaner backoff"
	}
	rep.note("Log cleaner: on the same broker (log.cleaner.backoff.ms 50, other log.cleaner.* at Kafka's defaults: 1 "+
		"thread, %s dedupe buffer), a one-partition topic with cleanup.policy=compact, segment.bytes %s and "+
		"min.cleanable.dirty.ratio 0.01 receives %s of 1 KiB random values under %d distinct keys (10%% of the records; "+
		"acks=1) while min.compaction.lag.ms is a day, so nothing is cleaned while it fills; then the lag is set to 0 and "+
		"the benchmark waits until the log's last-cleaned time is set and no cleanable dirty bytes remain (%d clean(s) "+
		"seen, %s read). MB/s = bytes the clean read ÷ %s; the sequential write figure is the machine section's. "+
		"Memory: the share of the key→offset map the clean filled (max_buffer_utilization_percent × the thread's map) "+
		"against log.cleaner.dedupe.buffer.size (each cleaner thread allocates its share of the buffer when it starts "+
		"and reuses it for every clean), and as a diagnostic how much the process's peak RSS (VmHWM) grew over "+
		"the clean. The clean wrote back %.0f%% of what it read (cleaner_recopy_percent). During the clean %s.", humanBytes(float64(buffer)), humanBytes(float64(segBytes)),
		humanBytes(float64(total)), total/txnRecordSize/10, cr.cleans, humanBytes(float64(cr.cleaned)), timing,
		100*cr.recopy, cr.m.diagnose())
}

// timedClean fills the compacted log, lifts its compaction lag and waits for
// the cleaner to clean it.
func timedClean(ctx context.Context, o *options, b *broker.Broker, t *target, total, segBytes int64) (cleanRun, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(t.bootstrap...))
	if err != nil {
		return cleanRun{}, fmt.Errorf("client: %w", err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	str := func(s string) *string { return &s }
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	r, err := adm.CreateTopic(cctx, 1, 1, map[string]*string{"cleanup.policy": str("compact"),
		"segment.bytes": str(fmt.Sprint(segBytes)), "min.cleanable.dirty.ratio": str("0.01"),
		"min.compaction.lag.ms": str(fmt.Sprint(24 * time.Hour.Milliseconds()))}, txnCleanTopic)
	cancel()
	if err == nil {
		err = r.Err
	}
	if err != nil {
		return cleanRun{}, fmt.Errorf("creating topic %s: %w", txnCleanTopic, err)
	}
	o.log.Info("txn: filling the compacted log", "bytes", total)
	if err := produceKeyed(ctx, t.bootstrap, txnCleanTopic, total); err != nil {
		return cleanRun{}, err
	}
	var cr cleanRun
	hwm0 := procStatus("VmHWM:")
	cr.m = startMeter()
	t0 := time.Now()
	cctx, cancel = context.WithTimeout(ctx, 30*time.Second)
	ar, err := adm.AlterTopicConfigs(cctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "min.compaction.lag.ms", Value: str("0")}}, txnCleanTopic)
	cancel()
	if err == nil {
		_, err = ar.On(txnCleanTopic, nil)
	}
	if err != nil {
		return cleanRun{}, fmt.Errorf("lifting the compaction lag of %s: %w", txnCleanTopic, err)
	}
	o.log.Info("txn: waiting for the cleaner")
	last, err := waitCleaned(ctx, o, b, &cr)
	cr.m.stop()
	if err != nil {
		return cr, err
	}
	cr.hwmDelta = max(0, procStatus("VmHWM:")-hwm0)
	cr.took = time.UnixMilli(last.LastCleanedMs).Sub(t0)
	cr.cleaned = last.BytesCleaned
	g := cleanerGauges(b)
	cr.mapBytes = float64(b.Config().LogCleaner.DedupeBufferSize) / float64(max(b.Config().LogCleaner.Threads, 1))
	cr.mapUsed = g["max_buffer_utilization_percent"] / 100 * cr.mapBytes
	cr.recopy = g["cleaner_recopy_percent"] / 100
	// The cleaner-wide figures are those of its last clean: use them when that was this log's.
	lastRunMs := float64(time.Now().UnixMilli()) - g["time_since_last_run_ms"]
	if cr.cleans == 1 && math.Abs(lastRunMs-float64(last.LastCleanedMs)) < 1000 && g["max_clean_time_secs"] > 0 {
		cr.took, cr.ownTime = time.Duration(g["max_clean_time_secs"]*float64(time.Second)), true
	}
	o.log.Info("txn: cleaned", "bytes_read", cr.cleaned, "took", cr.took, "own_time", cr.ownTime, "cleans", cr.cleans,
		"map_used", cr.mapUsed)
	return cr, nil
}

// waitCleaned polls the cleaner's state of the benchmark log until a clean
// has finished and no cleanable dirty bytes remain, counting the cleans.
func waitCleaned(ctx context.Context, o *options, b *broker.Broker, cr *cleanRun) (storage.LogCleanerState, error) {
	wctx, cancel := context.WithTimeout(ctx, o.dur(5*time.Minute, time.Minute))
	defer cancel()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	var lastSeen int64
	for {
		s, ok := cleanState(b)
		if ok && s.Uncleanable != "" {
			return s, fmt.Errorf("the cleaner marked %s uncleanable: %s", txnCleanTopic, s.Uncleanable)
		}
		if ok && s.LastCleanedMs != lastSeen {
			lastSeen = s.LastCleanedMs
			cr.cleans++
		}
		if ok && s.LastCleanedMs > 0 && s.DirtyBytes == 0 {
			return s, nil
		}
		select {
		case <-wctx.Done():
			return s, fmt.Errorf("waiting for the cleaner to clean %s: %w", txnCleanTopic, wctx.Err())
		case <-tick.C:
		}
	}
}

// cleanState is the cleaner's state of the benchmark's compacted log.
func cleanState(b *broker.Broker) (storage.LogCleanerState, bool) {
	for _, s := range b.LogCleanerStates() {
		if s.Topic == txnCleanTopic && s.Partition == 0 {
			return s, true
		}
	}
	return storage.LogCleanerState{}, false
}

// cleanerGauges reads the broker's osprey_log_cleaner_* cleaner-wide metrics
// (without the per-log ones), keyed by the name after the prefix.
func cleanerGauges(b *broker.Broker) map[string]float64 {
	out := map[string]float64{}
	mfs, err := b.Registry().Gather()
	if err != nil {
		return out
	}
	for _, mf := range mfs {
		name, ok := strings.CutPrefix(mf.GetName(), "osprey_log_cleaner_")
		if !ok || strings.HasPrefix(name, "log_") || len(mf.GetMetric()) == 0 {
			continue
		}
		m := mf.GetMetric()[0]
		if m.GetGauge() != nil {
			out[name] = m.GetGauge().GetValue()
		} else if m.GetCounter() != nil {
			out[name] = m.GetCounter().GetValue()
		}
	}
	return out
}

// produceKeyed sends total bytes of 1 KiB records to topic with acks=1, the
// keys cycling through a tenth of the record count so that 10% are unique.
func produceKeyed(ctx context.Context, bootstrap []string, topic string, total int64) error {
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(bootstrap...), kgo.DefaultProduceTopic(topic),
		kgo.ProducerBatchCompression(kgo.NoCompression())}, rf1Acks()...)...)
	if err != nil {
		return fmt.Errorf("client: %w", err)
	}
	defer cl.Close()
	n := total / txnRecordSize
	keys := max(n/10, 1)
	var (
		firstErr error
		errOnce  sync.Once
	)
	cb := func(_ *kgo.Record, err error) {
		if err != nil {
			errOnce.Do(func() { firstErr = err })
		}
	}
	for i := int64(0); i < n && ctx.Err() == nil; i++ {
		off := int((i * 4099) % int64(len(valuePool)-txnRecordSize))
		cl.Produce(ctx, &kgo.Record{Key: fmt.Appendf(nil, "key-%08d", i%keys), Value: valuePool[off : off+txnRecordSize]}, cb)
	}
	if err := cl.Flush(ctx); err != nil {
		return fmt.Errorf("flush: %w", err)
	}
	if firstErr != nil {
		return fmt.Errorf("producing to %s: %w", topic, firstErr)
	}
	return nil
}
