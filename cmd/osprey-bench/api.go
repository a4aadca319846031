package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/osprey-kafka/osprey/admin"
	"github.com/osprey-kafka/osprey/collector"
	"github.com/osprey-kafka/osprey/server"
	"github.com/osprey-kafka/osprey/server/service"
	"github.com/osprey-kafka/osprey/store"
)

const apiCluster = "x"

func runAPI(ctx context.Context, o *options, rep *report, lim *limits) {
	spec := o.fixtureSpec()
	base, stop, err := apiServer(ctx, o, lim, spec)
	if err != nil {
		rep.add(row{Section: "api", Name: "paginated lists p99", Value: "-", Status: statusNotRun, Why: err.Error()})
		return
	}
	defer stop()
	clients := 50
	d := o.dur(10*time.Second, 2*time.Second)
	loads := apiLoads(base, spec)
	runLoads(ctx, o.log, rep, "api", loads, clients, d)
	rep.note("API: `server.New` over a `service.Service` whose only cluster's snapshot holds the collector fixture "+
		"(%d partitions in %d topics, %d groups), served on 127.0.0.1; %d client goroutines (keep-alive) send requests "+
		"back to back for %v per row, each for a random page (limit=50) of the list; latency per request, client side. "+
		"The reference is the same load on /healthz, the router's floor on this machine. Topic rows have no lag "+
		"column (the service sorts topics by name, partitions, skew, size, rates...), so topics are sorted by name "+
		"and by partition count, groups by name and by lag.",
		spec.totalPartitions(), spec.topics, spec.groups, clients, d)
}

// apiServer serves the console's API on 127.0.0.1 over a service whose only
// cluster has polled the shared fixture once, and returns its base URL and a
// function that shuts the server and the service down.
func apiServer(ctx context.Context, o *options, lim *limits, spec fixtureSpec) (string, func(), error) {
	fx, err := sharedFixture(ctx, o, lim)
	if err != nil {
		return "", nil, fmt.Errorf("fixture: %w", err)
	}
	base, _, stop, err := serveFixture(ctx, o, fx, spec, nil, nil)
	return base, stop, err
}

// serveFixture serves the API over a service with st behind it (nil: no
// database) whose only cluster has polled fx once. now is the service's and
// the collector's clock (nil: time.Now).
func serveFixture(ctx context.Context, o *options, fx *fixture, spec fixtureSpec, st *store.Store, now func() time.Time) (string, *service.Service, func(), error) {
	svc := service.New(service.Options{Logger: o.quiet, Store: st, Now: now, Collector: collector.Config{CallTimeout: time.Minute, Now: now}})
	if err := svc.AddCluster(ctx, service.ClusterSpec{Name: apiCluster, Source: "config",
		Admin: admin.Config{Name: apiCluster, Bootstrap: fx.bootstrap, Timeout: time.Minute}}); err != nil {
		return "", nil, nil, fmt.Errorf("adding the cluster: %w", err)
	}
	// One poll fills the snapshot; the service is not started, so no poll runs during the measurement.
	snap, err := svc.PollNow(ctx, apiCluster)
	if err != nil {
		svc.Stop()
		return "", nil, nil, fmt.Errorf("polling: %w", err)
	}
	if snap.Totals.Partitions != spec.totalPartitions() || snap.Totals.Groups != spec.allGroups() {
		svc.Stop()
		return "", nil, nil, fmt.Errorf("snapshot has %d partitions and %d groups", snap.Totals.Partitions, snap.Totals.Groups)
	}
	srv := server.New(server.Options{Logger: o.quiet, Service: svc, Version: "bench"})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		svc.Stop()
		return "", nil, nil, fmt.Errorf("listening: %w", err)
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	stop := func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = hs.Shutdown(sctx)
		svc.Stop()
	}
	return "http://" + ln.Addr().String(), svc, stop, nil
}

// runLoads hammers each load in turn with clients keep-alive connections for d and reports the
// rows (apiRows) in section.
func runLoads(ctx context.Context, log *slog.Logger, rep *report, section string, loads []apiLoad, clients int, d time.Duration) {
	tr := &http.Transport{MaxIdleConns: clients, MaxIdleConnsPerHost: clients, IdleConnTimeout: time.Minute}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	results := map[string]apiResult{}
	for _, l := range loads {
		lat, m, err := hammer(ctx, hc, clients, d, l.url)
		if err != nil {
			rep.add(row{Section: section, Name: l.name, Value: "-", Status: statusNotRun, Why: err.Error()})
			continue
		}
		r := apiResult{p50: percentile(lat, 0.5), p99: percentile(lat, 0.99), rps: float64(len(lat)) / m.wall.Seconds(), n: len(lat), m: m}
		results[l.name] = r
		// CPU per request is the figure to compare between runs on a shared machine, where p99 moves with the load.
		log.Info("api load", "section", section, "load", l.name, "p99", ms(r.p99), "cpu_per_request", ms(r.cpuPerReq()), "requests", r.n)
	}
	apiRows(rep, section, loads, results)
}

// apiLoad is one row's requests: url gives each request's URL; work says what the server does for
// one (for the why of a missed target; "" for a snapshot list).
type apiLoad struct {
	name string
	url  func(r *rand.Rand) string
	work string
}

// apiLoads are the rows of the API section, /healthz (the floor) first, then
// random pages of the topic and group lists in two orders each.
func apiLoads(base string, spec fixtureSpec) []apiLoad {
	topicsPages := spec.topics / 50
	groupPages := spec.groups / 50
	return []apiLoad{
		{"/healthz (HTTP floor)", func(*rand.Rand) string { return base + "/healthz" }, ""},
		{"topics sort=name", func(r *rand.Rand) string {
			return fmt.Sprintf("%s/api/v1/clusters/%s/topics?limit=50&offset=%d&sort=name", base, apiCluster, 50*r.IntN(topicsPages))
		}, ""},
		{"topics sort=partitions desc", func(r *rand.Rand) string {
			return fmt.Sprintf("%s/api/v1/clusters/%s/topics?limit=50&offset=%d&sort=partitions&order=desc", base, apiCluster, 50*r.IntN(topicsPages))
		}, ""},
		{"groups sort=name", func(r *rand.Rand) string {
			return fmt.Sprintf("%s/api/v1/clusters/%s/groups?limit=50&offset=%d&sort=name", base, apiCluster, 50*r.IntN(groupPages))
		}, ""},
		{"groups sort=lag desc", func(r *rand.Rand) string {
			return fmt.Sprintf("%s/api/v1/clusters/%s/groups?limit=50&offset=%d&sort=lag&order=desc", base, apiCluster, 50*r.IntN(groupPages))
		}, ""},
	}
}

// apiRows reports each load that ran in section, the lists against the p99 target with
// the /healthz floor (loads[0]) as the reference.
func apiRows(rep *report, section string, loads []apiLoad, results map[string]apiResult) {
	floor, haveFloor := results[loads[0].name]
	for i, l := range loads {
		r, ok := results[l.name]
		if !ok {
			continue
		}
		val := fmt.Sprintf("p50 %s, p99 %s (%.0f req/s)", ms(r.p50), ms(r.p99), r.rps)
		if i == 0 {
			rep.add(row{Section: section, Name: l.name + ", 50 clients", Value: val, Status: statusNoTarget})
			continue
		}
		ref, rat := "n/a", "n/a"
		if haveFloor {
			ref = "/healthz p99 " + ms(floor.p99)
			rat = ratio(float64(r.p99), float64(floor.p99))
		}
		st := atMost(float64(r.p99), float64(50*time.Millisecond))
		why := ""
		if st == statusMissed {
			work := l.work
			if work == "" {
				work = "filters, sorts and pages all of the snapshot's rows"
			}
			why = fmt.Sprintf("p99 %s with 50 clients and the server in one process. Each request %s: %s of CPU per "+
				"request (clients included) vs %s for /healthz, and with 50 requests always outstanding the wait is about "+
				"50 × that ÷ the cores this process got; /healthz p99 under the same load was %s; %s", ms(r.p99), work,
				ms(r.cpuPerReq()), ms(floor.cpuPerReq()), ms(floor.p99), r.m.diagnose())
		}
		rep.add(row{Section: section, Name: l.name + ", 50 clients", Value: val, Reference: ref, Ratio: rat,
			Target: "p99 ≤ 50 ms", Status: st, Why: why})
	}
}

// hammer runs clients goroutines sending GETs back to back for d and returns
// the sorted latencies of the successful ones; any non-200 answer fails the run.
func hammer(ctx context.Context, hc *http.Client, clients int, d time.Duration, url func(*rand.Rand) string) ([]time.Duration, *meter, error) {
	var (
		mu       sync.Mutex
		all      []time.Duration
		firstErr error
		wg       sync.WaitGroup
	)
	hctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	m := startMeter()
	for c := 0; c < clients; c++ {
		wg.Go(func() {
			var mine []time.Duration
			err := getLoop(hctx, hc, uint64(c), url, nil, func(d time.Duration) { mine = append(mine, d) })
			mu.Lock()
			if err != nil {
				firstErr = err
			}
			all = append(all, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	m.stop()
	if firstErr != nil {
		return nil, nil, firstErr
	}
	if len(all) == 0 {
		return nil, nil, errors.New("no request completed")
	}
	sortDurations(all)
	return all, m, nil
}

// getLoop is one client: GETs sent on hc until ctx ends, back to back or, with think, after a pause
// it picks after each answer; each answer is read whole and its latency passed to observe. A failed
// request or a non-200 answer ends it with the error.
func getLoop(ctx context.Context, hc *http.Client, seed uint64, url func(*rand.Rand) string, think func(*rand.Rand) time.Duration, observe func(time.Duration)) error {
	r := rand.New(rand.NewPCG(seed, 7))
	for ctx.Err() == nil {
		if think != nil {
			t := time.NewTimer(think(r))
			select {
			case <-ctx.Done():
				t.Stop()
				return nil
			case <-t.C:
			}
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url(r), nil)
		if err != nil {
			return err
		}
		t0 := time.Now()
		resp, err := hc.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: %s", req.URL.Path, resp.Status)
		}
		observe(time.Since(t0))
	}
	return nil
}

// apiResult is one load's figures.
type apiResult struct {
	p50, p99 time.Duration
	rps      float64
	n        int
	m        *meter
}

// cpuPerReq is the process CPU time per completed request.
func (r apiResult) cpuPerReq() time.Duration {
	if r.n == 0 || r.m == nil {
		return 0
	}
	return r.m.cpu / time.Duration(r.n)
}
