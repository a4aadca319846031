package main

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"runtime/metrics"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The soak section holds the console under the dashboard's load for a long time at the collector
// fixture's scale: soakClients API clients over the pages the SPA loads, soakStreams subscribers on
// the event stream, a poll every soakPoll (each one a snapshot event on every stream), and memory
// sampled every soakSample, so a slow leak shows as last-minute memory above the first minute's.

const (
	soakClients = 500
	soakStreams = 200
	soakPoll    = 15 * time.Second // the collector's default offsets interval
	soakSample  = 10 * time.Second
	// soakThink is the most a client waits after an answer before its next request (uniform, so a
	// request a second on average per client): a user moving between pages, and twice the rate of
	// the dashboard's refresh (5 requests every 10 s) per open tab. Back-to-back clients would measure
	// queueing instead: with 500 always outstanding, latency is 500 ÷ throughput whatever the server does.
	soakThink = 2 * time.Second
)

// soakWarm is how far back the warm-up starts: the collector's longest window (its default
// CatchUpWindow), which fills one poll at a time.
const soakWarm = 10 * time.Minute

// shiftedClock runs shift behind the wall clock; the warm-up brings shift down to 0.
type shiftedClock struct{ shift atomic.Int64 }

func (c *shiftedClock) now() time.Time { return time.Now().Add(-time.Duration(c.shift.Load())) }

// warmUp polls on the shifted clock, soakPoll of simulated time apart, until the clock has caught up
// with the wall clock (the first poll, serveFixture's, was at -soakWarm). It returns the polls made.
func warmUp(ctx context.Context, clock *shiftedClock, poll func(context.Context) error) (int, error) {
	n := 0
	for sh := soakWarm - soakPoll; sh >= 0; sh -= soakPoll {
		clock.shift.Store(int64(sh))
		if err := poll(ctx); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

func runSoak(ctx context.Context, o *options, rep *report, lim *limits) {
	spec := o.fixtureSpec()
	fx, err := sharedFixture(ctx, o, lim)
	if err != nil {
		rep.add(row{Section: "soak", Name: "API p99 under soak", Value: "-", Status: statusNotRun, Why: "fixture: " + err.Error()})
		return
	}
	clock := &shiftedClock{}
	clock.shift.Store(int64(soakWarm))
	base, svc, stop, err := serveFixture(ctx, o, fx, spec, nil, clock.now)
	if err != nil {
		rep.add(row{Section: "soak", Name: "API p99 under soak", Value: "-", Status: statusNotRun, Why: err.Error()})
		return
	}
	defer stop()
	warmPolls, err := warmUp(ctx, clock, func(pctx context.Context) error { _, err := svc.PollNow(pctx, apiCluster); return err })
	if err != nil {
		rep.add(row{Section: "soak", Name: "API p99 under soak", Value: "-", Status: statusNotRun, Why: "warming up: " + err.Error()})
		return
	}
	d := o.dur(10*time.Minute, 90*time.Second)
	window := min(time.Minute, d/3)
	sctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()

	streams := startStreams(sctx, base, soakStreams)
	mem := startMemSampler(sctx)
	polls := startPoller(sctx, func(pctx context.Context) error { _, err := svc.PollNow(pctx, apiCluster); return err })
	hist, m, apiErr := soakClientsRun(sctx, base, spec)
	events, streamErr := streams.wait()
	samples := mem.wait()
	polled, pollErr := polls.wait()

	if apiErr != nil {
		rep.add(row{Section: "soak", Name: fmt.Sprintf("API p99, %d clients + %d SSE streams", soakClients, soakStreams), Value: "-", Status: statusNotRun, Why: apiErr.Error()})
	} else {
		soakLatencyRow(rep, hist, m)
	}
	soakStreamRow(rep, events, polled, streamErr, pollErr)
	soakMemoryRows(rep, samples, window, m)
	rep.note("Soak: the API server of the api section over the same fixture (%d partitions in %d topics, %d groups) for %v: "+
		"%d client goroutines (keep-alive) each send a request, wait a random 0–%v after the answer (a request a second on average per client) and send the next, each a random pick of the pages the SPA loads: the cluster list, "+
		"the cluster summary, the brokers, the dashboard's top 5 topics by msgs/s and top 5 groups by lag, a random topics page (limit=50, by name), "+
		"a random groups page (limit=50, by lag desc), a random topic's detail and a random group's detail; latency per request, client side, in a "+
		"histogram of 1%%-wide buckets. Meanwhile %d subscribers hold GET /api/v1/events open (the SPA's one stream) and the service polls the fixture "+
		"every %v (the default offsets interval), each poll a snapshot event on every stream. RSS and the live heap (as of the last GC, not forced) "+
		"are sampled every %v; first and last are the means of the samples in the first and the last %v. Before all that, the service polls the fixture "+
		"%d times on a clock %v behind, catching up %v a poll, so the collector's bounded windows (the catch-up rates over the last %v, "+
		"the log-end history) are already full when the measurement starts: growth after that is what a leak adds, not the windows filling.",
		spec.totalPartitions(), spec.topics, spec.groups, d, soakClients, soakThink, soakStreams, soakPoll, soakSample, window,
		warmPolls, soakWarm, soakPoll, soakWarm)
}

// soakClientsRun runs the API clients until ctx ends and returns their merged latency histogram.
func soakClientsRun(ctx context.Context, base string, spec fixtureSpec) (*latHist, *meter, error) {
	tr := &http.Transport{MaxIdleConns: soakClients, MaxIdleConnsPerHost: soakClients, IdleConnTimeout: time.Minute}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	mix := soakMix(base, spec)
	url := func(r *rand.Rand) string { return mix[r.IntN(len(mix))](r) }
	think := func(r *rand.Rand) time.Duration { return time.Duration(r.Int64N(int64(soakThink))) }
	var (
		mu       sync.Mutex
		all      latHist
		firstErr error
		wg       sync.WaitGroup
	)
	m := startMeter()
	for c := 0; c < soakClients; c++ {
		wg.Go(func() {
			var mine latHist
			err := getLoop(ctx, hc, uint64(c), url, think, mine.add)
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = err
			}
			all.merge(&mine)
		})
	}
	wg.Wait()
	m.stop()
	if firstErr != nil {
		return nil, nil, firstErr
	}
	if all.n == 0 {
		return nil, nil, fmt.Errorf("no request completed")
	}
	return &all, m, nil
}

// soakMix is the requests the soak's clients pick from, one URL builder each.
func soakMix(base string, spec fixtureSpec) []func(*rand.Rand) string {
	cl := base + "/api/v1/clusters/" + apiCluster
	topicsPages, groupPages := spec.topics/50, spec.groups/50
	return []func(*rand.Rand) string{
		func(*rand.Rand) string { return base + "/api/v1/clusters" },
		func(*rand.Rand) string { return cl },
		func(*rand.Rand) string { return cl + "/brokers" },
		func(*rand.Rand) string { return cl + "/topics?sort=msgsPerSec&order=desc&limit=5" },
		func(*rand.Rand) string { return cl + "/groups?sort=lag&order=desc&limit=5" },
		func(r *rand.Rand) string {
			return fmt.Sprintf("%s/topics?limit=50&offset=%d&sort=name", cl, 50*r.IntN(topicsPages))
		},
		func(r *rand.Rand) string {
			return fmt.Sprintf("%s/groups?limit=50&offset=%d&sort=lag&order=desc", cl, 50*r.IntN(groupPages))
		},
		func(r *rand.Rand) string { return cl + "/topics/" + topicName(r.IntN(spec.topics)) },
		func(r *rand.Rand) string { return cl + "/groups/" + groupName(r.IntN(spec.groups)) },
	}
}

func soakLatencyRow(rep *report, h *latHist, m *meter) {
	p50, p99 := h.quantile(0.5), h.quantile(0.99)
	rps := float64(h.n) / m.wall.Seconds()
	cpuPer := m.cpu / time.Duration(h.n)
	st := atMost(float64(p99), float64(50*time.Millisecond))
	why := ""
	if st == statusMissed {
		why = fmt.Sprintf("p99 %s with %d clients (%.0f req/s) and the server, the %d streams and the polls in one process: %s of CPU "+
			"per request (clients, streams and polls included); %s", ms(p99), soakClients, rps, soakStreams, ms(cpuPer), m.diagnose())
	}
	rep.add(row{Section: "soak", Name: fmt.Sprintf("API p99, %d clients + %d SSE streams, dashboard mix", soakClients, soakStreams),
		Value:  fmt.Sprintf("p50 %s, p99 %s (%.0f req/s, %d requests, %s CPU each)", ms(p50), ms(p99), rps, h.n, ms(cpuPer)),
		Target: "p99 ≤ 50 ms", Status: st, Why: why})
}

func soakStreamRow(rep *report, events []int, polled int, streamErr, pollErr error) {
	name := fmt.Sprintf("SSE events per subscriber (%d streams)", soakStreams)
	if streamErr != nil || len(events) == 0 {
		why := "no stream opened"
		if streamErr != nil {
			why = streamErr.Error()
		}
		rep.add(row{Section: "soak", Name: name, Value: "-", Status: statusNotRun, Why: why})
		return
	}
	slices.Sort(events)
	val := fmt.Sprintf("min %d, median %d, max %d (%d polls)", events[0], events[len(events)/2], events[len(events)-1], polled)
	why := ""
	if pollErr != nil {
		why = "a poll failed: " + pollErr.Error()
	}
	// One snapshot event on connect plus one per poll; a stream that fell behind loses superseded ones.
	rep.add(row{Section: "soak", Name: name, Value: val, Reference: fmt.Sprintf("%d (1 on connect + 1 a poll)", polled+1),
		Ratio: ratio(float64(events[0]), float64(polled+1)), Status: statusNoTarget, Why: why})
}

func soakMemoryRows(rep *report, samples []memSample, window time.Duration, m *meter) {
	if len(samples) < 2 {
		rep.add(row{Section: "soak", Name: "memory, first vs last minute", Value: "-", Status: statusNotRun, Why: "fewer than 2 samples"})
		return
	}
	end := samples[len(samples)-1].at
	var first, last memSample
	var nf, nl float64
	for _, s := range samples {
		if s.at <= window {
			first.rss, first.heap, nf = first.rss+s.rss, first.heap+s.heap, nf+1
		}
		if s.at >= end-window {
			last.rss, last.heap, nl = last.rss+s.rss, last.heap+s.heap, nl+1
		}
	}
	first.rss, first.heap, last.rss, last.heap = first.rss/nf, first.heap/nf, last.rss/nl, last.heap/nl
	for _, f := range []struct {
		name        string
		first, last float64
	}{{"RSS (whole bench process)", first.rss, last.rss}, {"live heap", first.heap, last.heap}} {
		st := atMost(f.last, 1.1*f.first)
		why := ""
		if st == statusMissed {
			why = fmt.Sprintf("%s grew from %s to %s over the run (%d samples); %s", f.name, humanBytes(f.first), humanBytes(f.last), len(samples), m.cpuSummary())
		}
		rep.add(row{Section: "soak", Name: "memory: " + f.name + ", last vs first " + window.String(),
			Value: humanBytes(f.last), Reference: "first " + humanBytes(f.first), Ratio: ratio(f.last, f.first),
			Target: "flat (last ≤ first × 1.1)", Status: st, Why: why})
	}
}

// streamSet is the SSE subscribers; wait returns each one's count of events once ctx has ended.
type streamSet struct {
	wg     sync.WaitGroup
	mu     sync.Mutex
	counts []int
	err    error
}

func startStreams(ctx context.Context, base string, n int) *streamSet {
	s := &streamSet{}
	// No client timeout: a stream lasts as long as the run.
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n}}
	for i := 0; i < n; i++ {
		s.wg.Go(func() {
			got, err := readStream(ctx, hc, base+"/api/v1/events")
			s.mu.Lock()
			defer s.mu.Unlock()
			if err != nil && s.err == nil {
				s.err = err
			}
			s.counts = append(s.counts, got)
		})
	}
	return s
}

func (s *streamSet) wait() ([]int, error) {
	s.wg.Wait()
	return s.counts, s.err
}

// readStream reads one event stream until ctx ends and counts its events (heartbeat comments are not).
func readStream(ctx context.Context, hc *http.Client, url string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return 0, nil
		}
		return 0, fmt.Errorf("opening the event stream: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET /api/v1/events: %s", resp.Status)
	}
	n := 0
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "event: ") {
			n++
		}
	}
	if err := sc.Err(); err != nil && ctx.Err() == nil {
		return n, fmt.Errorf("reading the event stream: %w", err)
	}
	return n, nil
}

// memSample is the process's RSS and live heap at a time since the sampler started.
type memSample struct {
	at        time.Duration
	rss, heap float64
}

type memSampler struct {
	done    chan struct{}
	samples []memSample // written by the sampler's goroutine until done is closed
}

func startMemSampler(ctx context.Context) *memSampler {
	s := &memSampler{done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t0 := time.Now()
		tick := time.NewTicker(soakSample)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				s.samples = append(s.samples, memSample{at: time.Since(t0), rss: procStatus("VmRSS:"), heap: liveHeap()})
			}
		}
	}()
	return s
}

func (s *memSampler) wait() []memSample {
	<-s.done
	return s.samples
}

// liveHeap is the heap the last GC found live, in bytes (read without forcing a collection, which
// would stall the clients being measured).
func liveHeap() float64 {
	sm := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(sm)
	if sm[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return float64(sm[0].Value.Uint64())
}

// poller runs poll every soakPoll until ctx ends; wait returns how many succeeded and the first error.
type poller struct {
	done chan struct{}
	n    int   // written by the poller's goroutine until done is closed
	err  error // likewise
}

func startPoller(ctx context.Context, poll func(context.Context) error) *poller {
	p := &poller{done: make(chan struct{})}
	go func() {
		defer close(p.done)
		tick := time.NewTicker(soakPoll)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				if err := poll(ctx); err != nil {
					if ctx.Err() == nil && p.err == nil {
						p.err = err
					}
					continue
				}
				if ctx.Err() == nil {
					p.n++
				}
			}
		}
	}()
	return p
}

func (p *poller) wait() (int, error) {
	<-p.done
	return p.n, p.err
}

// latHist counts latencies in buckets 1% wide from 1 µs, so a long run's quantiles take constant
// memory (a slice of every latency would itself grow the heap the soak watches).
type latHist struct {
	counts [latBuckets]uint64
	n      uint64
}

const latBuckets = 2000 // 1 µs × 1.01^2000 is far beyond the client timeout

var latGrowth = math.Log(1.01)

func (h *latHist) add(d time.Duration) {
	i := 0
	if us := float64(d) / float64(time.Microsecond); us > 1 {
		i = min(int(math.Log(us)/latGrowth), latBuckets-1)
	}
	h.counts[i]++
	h.n++
}

func (h *latHist) merge(o *latHist) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
}

// quantile is the upper edge of the bucket holding the q-quantile.
func (h *latHist) quantile(q float64) time.Duration {
	want := uint64(math.Ceil(q * float64(h.n)))
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= want && c > 0 {
			return time.Duration(math.Exp(float64(i+1)*latGrowth) * float64(time.Microsecond))
		}
	}
	return 0
}
