package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/osprey-kafka/osprey/admin"
	"github.com/osprey-kafka/osprey/server/service"
)

// searchTopic holds JSON records of searchUsers users; the filter picks one user.
const (
	searchTopic  = "search"
	searchUsers  = 10000
	searchFilter = `json.user == "u-00042"`
)

// searchRun is what the search figure measured.
type searchRun struct {
	raw        produceResult // raw Fetch of the whole log, the reference
	searchDur  time.Duration
	searchM    *meter // CPU during the search
	searched   int64  // record bytes the search read (keys, values, headers)
	records    int64
	matches    int
	reason     string
	rssBefore  float64 // bytes, VmRSS before the search
	peakRSS    float64 // bytes, VmHWM during the search
	fetchBytes int64   // bytes one fetch asks a partition for
	prefetch   int     // fetches in flight
}

// runSearchBench writes a JSON topic of size bytes to one Osprey broker, reads it once with raw
// Fetch requests (the reference), then searches all of it with a CEL filter on a JSON field
// through the console's service, as the Search tab does.
func runSearchBench(ctx context.Context, o *options, rep *report) {
	size := o.size(1<<30, 64<<20)
	r, err := searchBench(ctx, o, size)
	if err != nil {
		rep.add(row{Section: "insights", Name: "message search, CEL filter on a JSON field", Value: "-", Status: statusNotRun, Why: err.Error()})
		return
	}
	rate := float64(r.raw.bytes) / r.searchDur.Seconds()
	st := atLeast(rate/r.raw.rate(), 0.5)
	why := ""
	if st == statusMissed {
		why = fmt.Sprintf("the search decodes every record (the consumer's work), masks it, parses its value as JSON for "+
			"the `json` variable and evaluates the CEL program on it: %.2f µs of CPU per record (%d records; broker and "+
			"search together) where raw Fetch, which only walks batch headers, spent %.2f µs per record; during the search %s",
			float64(r.searchM.cpu.Nanoseconds())/1e3/float64(max(r.records, 1)), r.records,
			float64(r.raw.m.cpu.Nanoseconds())/1e3/float64(max(r.records, 1)), r.searchM.diagnose())
	}
	rep.add(row{Section: "insights", Name: fmt.Sprintf("message search, CEL filter on a JSON field, %s log", sizeName(size)),
		Value: mbps(rate), Reference: "raw Fetch " + mbps(r.raw.rate()), Ratio: ratio(rate, r.raw.rate()),
		Target: "≥ 0.5 × raw Fetch", Status: st, Why: why})
	rep.add(row{Section: "insights", Name: "message search, peak RSS during the search (whole bench process)",
		Value: fmt.Sprintf("%.1f MiB", r.peakRSS/(1<<20)), Reference: fmt.Sprintf("before the search %.1f MiB", r.rssBefore/(1<<20)),
		Target: "bounded by the scan limits, not the log", Status: statusNoTarget})
	rep.note("Message search: one Osprey broker (file logs) with a %d-partition topic of %s of JSON records (~1 KiB, "+
		"`{\"user\":\"u-NNNNN\",\"n\":…,\"pad\":…}` over %d users), produced once. The reference reads the whole log with raw "+
		"Fetch requests (batches not decoded, as in the broker section); then `service.PrepareSearch` + `Run` (the Search "+
		"tab's path: fetches of up to %s per partition, %d in flight, each decoded, masked and filtered on its own goroutine "+
		"while the records of earlier ones are counted and sent) searches the whole log "+
		"for `%s`: %d records read, %d matches, ended %q after %v. The rate is the log's batch bytes over the search's "+
		"wall time, so both figures count the same bytes. Peak RSS is VmHWM reset before the search; the broker runs in "+
		"this process too.", benchPartitions, sizeName(size), searchUsers, humanBytes(float64(r.fetchBytes)), r.prefetch, searchFilter, r.records,
		r.matches, r.reason, r.searchDur.Round(time.Millisecond))
}

func sizeName(n int64) string {
	if n >= 1<<30 {
		return fmt.Sprintf("%.0f GiB", float64(n)/(1<<30))
	}
	return fmt.Sprintf("%.0f MiB", float64(n)/(1<<20))
}

func searchBench(ctx context.Context, o *options, size int64) (*searchRun, error) {
	dir := filepath.Join(o.dir, "search")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	t, err := startOsprey(ctx, o, dir)
	if err != nil {
		return nil, err
	}
	defer t.close()
	if err := createTopic(ctx, t.bootstrap, searchTopic, benchPartitions, 1); err != nil {
		return nil, err
	}
	o.log.Info("search: producing", "bytes", size)
	if err := produceJSON(ctx, t.bootstrap, size); err != nil {
		return nil, err
	}
	r := &searchRun{}
	if r.raw, err = rawFetch(ctx, t.bootstrap, searchTopic, 10*time.Minute); err != nil {
		return nil, fmt.Errorf("raw fetch: %w", err)
	}
	limits := service.SearchLimits{MaxRecords: math.MaxInt32, MaxBytes: 4 * size, MaxDuration: 20 * time.Minute, MaxResults: 500}
	svc := service.New(service.Options{Logger: o.quiet, Search: limits})
	defer svc.Stop()
	if err := svc.AddCluster(ctx, service.ClusterSpec{Name: "search", Source: "config",
		Admin: admin.Config{Name: "search", Bootstrap: t.bootstrap, Timeout: time.Minute}}); err != nil {
		return nil, fmt.Errorf("adding the cluster: %w", err)
	}
	if _, err := svc.PollNow(ctx, "search"); err != nil {
		return nil, fmt.Errorf("polling: %w", err)
	}
	q, err := svc.PrepareSearch(ctx, service.Caller{}, "search", searchTopic, service.SearchRequest{Filter: searchFilter})
	if err != nil {
		return nil, fmt.Errorf("preparing the search: %w", err)
	}
	r.fetchBytes, r.prefetch = service.DefaultSearchLimits.FetchBytes, service.DefaultSearchLimits.Prefetch
	r.rssBefore = procStatus("VmRSS:")
	// Linux: writing 5 to clear_refs resets VmHWM, so the peak covers the search only.
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
	o.log.Info("search: searching", "filter", searchFilter)
	t0 := time.Now()
	r.searchM = startMeter()
	err = q.Run(ctx, func(ev service.SearchEvent) error {
		switch {
		case ev.Message != nil:
			r.matches++
		case ev.Done != nil:
			r.reason = ev.Done.Reason
			r.records, r.searched = ev.Done.Progress.Records, ev.Done.Progress.Bytes
			if ev.Done.Error != "" {
				return fmt.Errorf("search failed: %s", ev.Done.Error)
			}
		}
		return nil
	})
	r.searchDur = time.Since(t0)
	r.searchM.stop()
	r.peakRSS = procStatus("VmHWM:")
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	if r.reason != service.SearchComplete {
		return nil, fmt.Errorf("the search ended %q after %d records, not at the log's end", r.reason, r.records)
	}
	return r, nil
}

// produceJSON writes about size bytes of ~1 KiB JSON records to searchTopic.
func produceJSON(ctx context.Context, bootstrap []string, size int64) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap...), kgo.DefaultProduceTopic(searchTopic),
		kgo.ProducerBatchCompression(kgo.NoCompression()))
	if err != nil {
		return fmt.Errorf("client: %w", err)
	}
	defer cl.Close()
	pad := make([]byte, 960)
	for i := range pad {
		pad[i] = 'a' + byte(i%26)
	}
	var (
		firstErr error
		once     sync.Once
		acked    atomic.Int64
	)
	pctx, cancel := context.WithTimeout(ctx, 20*time.Minute)
	defer cancel()
	var sent int64
	for i := 0; sent < size && pctx.Err() == nil; i++ {
		v := fmt.Appendf(nil, `{"user":"u-%05d","n":%d,"pad":"%s"}`, i%searchUsers, i, pad[:960-i%64])
		cl.Produce(pctx, &kgo.Record{Value: v}, func(_ *kgo.Record, err error) {
			if err != nil {
				once.Do(func() { firstErr = err })
				return
			}
			acked.Add(1)
		})
		sent += int64(len(v))
	}
	if err := cl.Flush(pctx); err != nil {
		return fmt.Errorf("flush: %w", err)
	}
	if firstErr != nil {
		return fmt.Errorf("produce: %w", firstErr)
	}
	return nil
}
