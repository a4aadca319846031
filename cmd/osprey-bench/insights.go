package main

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"time"

	"github.com/osprey-kafka/osprey/collector"
	"github.com/osprey-kafka/osprey/server/service"
	"github.com/osprey-kafka/osprey/store"
)

// The insights section measures the history queries behind the insight pages at the collector
// fixture's scale: the group list sorted by time to catch up (from the snapshot), and the topic's
// and the broker's availability timelines (from partition_events, in SQLite and in MariaDB),
// against the same p99 target as the other lists.

// eventsWeek is the span of the seeded availability history: a busy week in which every partition
// had an ISR shrink and expand and every tenth an under-replicated interval.
const eventsWeek = 7 * 24 * time.Hour

func runInsights(ctx context.Context, o *options, rep *report, lim *limits) {
	spec := o.fixtureSpec()
	fx, err := sharedFixture(ctx, o, lim)
	if err != nil {
		rep.add(row{Section: "insights", Name: "history queries p99", Value: "-", Status: statusNotRun, Why: "fixture: " + err.Error()})
		return
	}
	dbs := []struct{ name, driver, dsn string }{{"SQLite", "sqlite", filepath.Join(o.dir, "insights.db")}}
	if o.mysqlDSN != "" {
		dsn, _, drop, err := benchDatabase(ctx, o.mysqlDSN)
		if err != nil {
			rep.add(row{Section: "insights", Name: "availability timelines, MariaDB", Value: "-", Status: statusNotRun, Why: err.Error()})
		} else {
			defer drop()
			dbs = append(dbs, struct{ name, driver, dsn string }{"MariaDB", "mysql", dsn})
		}
	} else {
		rep.add(row{Section: "insights", Name: "availability timelines, MariaDB", Value: "-", Status: statusNotRun,
			Why: "no MariaDB: set OSPREY_TEST_MYSQL_DSN (deploy/scripts/services.sh start writes it) or -mysql-dsn"})
	}
	defer runSearchBench(ctx, o, rep)
	seeded := 0
	for i, db := range dbs {
		n, err := insightsOn(ctx, o, rep, fx, spec, db.name, db.driver, db.dsn, i == 0)
		if err != nil {
			rep.add(row{Section: "insights", Name: "availability timelines, " + db.name, Value: "-", Status: statusNotRun, Why: err.Error()})
		}
		seeded = max(seeded, n)
	}
	rep.note("Insights: the API server of the api section, over a service with a store (%s) holding a seeded week of "+
		"availability history: %d events for the fixture's %d partitions (every partition one ISR shrink and one expand, "+
		"every tenth partition an under-replicated interval, brokers 0–2 in turn, spread evenly over 7 days). 50 "+
		"client goroutines for each row; a topic timeline asks for a random topic's last 24 hours (the page's default "+
		"window) or 7 days, a broker timeline for a random broker's last 24 hours (a broker takes part in a third of "+
		"all events); each asks for the first page, the newest %d events (the default page), except the random older page, "+
		"which continues the week's broker timeline from a cursor at a random time (before=, as Load more does); all are answered from the console's in-memory "+
		"event index, which holds the same events as partition_events. Time to catch up is computed by the collector each poll and kept in the "+
		"snapshot, so its sort is a snapshot list like the others; the storage forecast answers every log directory and every topic from the last poll and the in-memory history, built and encoded once per poll.", "SQLite, and MariaDB when available", seeded,
		spec.totalPartitions(), service.DefaultTimelineEvents)
}

// insightsOn runs the rows against one database and returns how many events it seeded.
func insightsOn(ctx context.Context, o *options, rep *report, fx *fixture, spec fixtureSpec, name, driver, dsn string, withSnapshotRows bool) (int, error) {
	st, err := store.Open(ctx, store.Options{Driver: driver, DSN: dsn, Logger: o.quiet})
	if err != nil {
		return 0, fmt.Errorf("opening %s: %w", name, err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		return 0, fmt.Errorf("migrating %s: %w", name, err)
	}
	now := time.Now().UTC()
	t0 := time.Now()
	n, err := seedEvents(ctx, st, spec, now)
	if err != nil {
		return n, fmt.Errorf("seeding %s: %w", name, err)
	}
	o.log.Info("insights: seeded", "db", name, "events", n, "took", time.Since(t0).Round(time.Millisecond))
	base, svc, stop, err := serveFixture(ctx, o, fx, spec, st, nil)
	if err != nil {
		return n, err
	}
	defer stop()
	// A started console loads the index from its cluster's watcher; the bench does not start the
	// service's loops (no poll during the measurement), so it loads it here, and weighs it.
	heapBefore := heapInUse()
	t0 = time.Now()
	held, err := svc.LoadAvailabilityIndex(ctx, apiCluster)
	if err != nil {
		return n, err
	}
	took := time.Since(t0)
	grew := heapInUse() - heapBefore
	o.log.Info("insights: availability index loaded", "db", name, "events", held, "took", took.Round(time.Millisecond),
		"heap_MiB", fmt.Sprintf("%.1f", grew/(1<<20)), "bytes_per_event", fmt.Sprintf("%.0f", grew/float64(max(held, 1))))
	rep.note("Availability index (%s): the %d events loaded from partition_events into memory in %s; the heap grew by %.1f MiB (%.0f bytes an event).",
		name, held, took.Round(10*time.Millisecond), grew/(1<<20), grew/float64(max(held, 1)))
	from := now.Add(-eventsWeek).Format(time.RFC3339)
	day := now.Add(-24 * time.Hour).Format(time.RFC3339)
	to := now.Add(time.Minute).Format(time.RFC3339)
	loads := []apiLoad{{"/healthz (HTTP floor), " + name, func(*rand.Rand) string { return base + "/healthz" }, ""}}
	page := fmt.Sprintf("answers one page of the timeline (up to %d events, newest first, the default) from the cluster's in-memory "+
		"event index (loaded from partition_events in %s), each event a JSON object to write", service.DefaultTimelineEvents, name)
	if withSnapshotRows {
		groupPages := spec.groups / 50
		loads = append(loads, apiLoad{"groups sort=catchUp desc", func(r *rand.Rand) string {
			return fmt.Sprintf("%s/api/v1/clusters/%s/groups?limit=50&offset=%d&sort=catchUp&order=desc", base, apiCluster, 50*r.IntN(groupPages))
		}, ""}, apiLoad{"storage forecast (every log dir and topic)", func(*rand.Rand) string {
			return fmt.Sprintf("%s/api/v1/clusters/%s/storage", base, apiCluster)
		}, fmt.Sprintf("sends the poll's answer, built and encoded once per poll (every log directory and all %d topics)", spec.topics)})
	}
	loads = append(loads,
		apiLoad{"topic availability, 24 hours, " + name, func(r *rand.Rand) string {
			return fmt.Sprintf("%s/api/v1/clusters/%s/topics/%s/availability?from=%s&to=%s", base, apiCluster, topicName(r.IntN(spec.topics)), day, to)
		}, page},
		apiLoad{"topic availability, 7 days, " + name, func(r *rand.Rand) string {
			return fmt.Sprintf("%s/api/v1/clusters/%s/topics/%s/availability?from=%s&to=%s", base, apiCluster, topicName(r.IntN(spec.topics)), from, to)
		}, page},
		apiLoad{"broker availability, 24 hours, " + name, func(r *rand.Rand) string {
			return fmt.Sprintf("%s/api/v1/clusters/%s/brokers/%d/availability?from=%s&to=%s", base, apiCluster, r.IntN(3), day, to)
		}, page},
		// "Load more" deep in the week: a cursor at a random time, so no two requests ask for the same page.
		apiLoad{"broker availability, 7 days, a random older page (before=), " + name, func(r *rand.Rand) string {
			at := now.Add(-time.Duration(r.Int64N(int64(eventsWeek))))
			return fmt.Sprintf("%s/api/v1/clusters/%s/brokers/%d/availability?from=%s&to=%s&before=%d-%d", base, apiCluster, r.IntN(3), from, to,
				at.UnixNano(), int64(math.MaxInt64))
		}, page})
	runLoads(ctx, o.log, rep, "insights", loads, 50, o.dur(10*time.Second, 2*time.Second))
	return n, nil
}

// seedEvents writes the week of availability history runInsights describes, in batches.
func seedEvents(ctx context.Context, st *store.Store, spec fixtureSpec, now time.Time) (int, error) {
	total := spec.totalPartitions()
	step := eventsWeek / time.Duration(total)
	var batch []*store.PartitionEvent
	n := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := st.RecordPartitionEvents(ctx, batch, nil); err != nil {
			return err
		}
		n += len(batch)
		batch = batch[:0]
		return nil
	}
	for i := 0; i < total; i++ {
		topic, p := topicName(i/spec.partitions), int32(i%spec.partitions)
		at := now.Add(-eventsWeek + time.Duration(i)*step)
		back := at.Add(30 * time.Second)
		b := int32(i % 3)
		brokers := store.JoinBrokers([]int32{b})
		batch = append(batch,
			&store.PartitionEvent{Cluster: apiCluster, Kind: collector.AvailISRShrink, Topic: topic, Partition: p, StartedAt: at, EndedAt: &at, Brokers: brokers},
			&store.PartitionEvent{Cluster: apiCluster, Kind: collector.AvailISRExpand, Topic: topic, Partition: p, StartedAt: back, EndedAt: &back, Brokers: brokers})
		if i%10 == 0 {
			batch = append(batch, &store.PartitionEvent{Cluster: apiCluster, Kind: collector.AvailUnderReplicated, Topic: topic, Partition: p,
				StartedAt: at, EndedAt: &back, Brokers: brokers, Cause: collector.CauseFollowerBehind})
		}
		if len(batch) >= 6000 {
			if err := flush(); err != nil {
				return n, err
			}
		}
	}
	return n, flush()
}

// heapInUse is the live heap after a collection, in bytes.
func heapInUse() float64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return float64(ms.HeapAlloc)
}
