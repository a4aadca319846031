package service

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/osprey-kafka/osprey/admin"
	"github.com/osprey-kafka/osprey/collector"
	"github.com/osprey-kafka/osprey/internal/testenv"
	"github.com/osprey-kafka/osprey/store"
)

// The timelines answered from the in-memory index and encoded as the endpoint sends them equal,
// byte for byte, encoding/json's encoding of the same pages read from partition_events, on both dialects: for every topic and broker, windows that begin inside
// intervals, pages of 1 to 2000 events followed with before= to the end, open intervals, after a
// history loaded from the table, events the collector's snapshots recorded since, expiry, and an
// index bounded below the history's size (whose older pages fall back to the table).
func TestAvailabilityIndexMatchesDatabase(t *testing.T) {
	for _, dialect := range []string{"sqlite", "mysql"} {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			st := openDialect(t, dialect)
			t0 := time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)
			now := t0.Add(3 * time.Hour)
			rng := rand.New(rand.NewPCG(1, 2))
			seedHistory(t, st, rng, t0)

			svc := New(Options{Store: st, Logger: quietLog(), Now: func() time.Time { return now }})
			c := &cluster{spec: ClusterSpec{Name: "c"}, events: newAvailIndex("c", 0)}
			svc.clusters["c"] = c
			bounded := &cluster{spec: ClusterSpec{Name: "c"}, events: newAvailIndex("c", 40)}
			if _, err := svc.LoadAvailabilityIndex(ctx, "c"); err != nil {
				t.Fatal(err)
			}
			if err := bounded.events.load(ctx, st); err != nil {
				t.Fatal(err)
			}
			// Each page is also read from the table, which is slow under the race detector: pages of
			// 25 are followed to the end, pages of one a few steps.
			limits := []int{1, 25, 2000}
			// The collector's path: snapshots recorded by the service, appended to the index as written.
			for i, snap := range randomSnapshots(rng, t0.Add(time.Hour), 16) {
				if err := svc.recordAvailability(ctx, c, snap); err != nil {
					t.Fatalf("snapshot %d: %v", i, err)
				}
			}
			if c.events.size() < 300 {
				t.Fatalf("the index holds %d events, want the seeded and recorded history", c.events.size())
			}
			compareTimelines(t, svc, c, t0, now, rng, 5, limits...)
			if err := bounded.events.refresh(ctx, st); err != nil {
				t.Fatal(err)
			}
			if n := bounded.events.size(); n > 40 {
				t.Fatalf("the bounded index holds %d events, want at most 40", n)
			}
			compareTimelines(t, svc, bounded, t0, now, rng, 2, limits...)

			cutoff := t0.Add(90 * time.Minute)
			if _, err := st.ExpirePartitionEvents(ctx, cutoff); err != nil {
				t.Fatal(err)
			}
			svc.expireAvailability(cutoff)
			compareTimelines(t, svc, c, t0, now, rng, 3, limits...)
		})
	}
}

// A console that does not hold the cluster's lease keeps its index up to date from the table:
// rows the holder wrote after the load, and the ends of intervals it held as open.
func TestAvailabilityIndexRefreshFromHolder(t *testing.T) {
	ctx := context.Background()
	st := openDialect(t, "sqlite")
	t0 := time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)
	now := t0.Add(3 * time.Hour)
	rng := rand.New(rand.NewPCG(3, 4))
	holder := New(Options{Store: st, Logger: quietLog(), Now: func() time.Time { return now }})
	hc := &cluster{spec: ClusterSpec{Name: "c"}, events: newAvailIndex("c", 0)}
	holder.clusters["c"] = hc
	other := New(Options{Store: st, Logger: quietLog(), Now: func() time.Time { return now }})
	oc := &cluster{spec: ClusterSpec{Name: "c"}, events: newAvailIndex("c", 0), lease: &leaseKeeper{}}
	other.clusters["c"] = oc
	snaps := randomSnapshots(rng, t0, 24)
	if err := hc.events.load(ctx, st); err != nil {
		t.Fatal(err)
	}
	for _, snap := range snaps[:12] {
		if err := holder.recordAvailability(ctx, hc, snap); err != nil {
			t.Fatal(err)
		}
	}
	if err := oc.events.load(ctx, st); err != nil {
		t.Fatal(err)
	}
	open := len(oc.events.open)
	if open == 0 {
		t.Fatal("no interval open at the load: the refresh of ends is not exercised")
	}
	for _, snap := range snaps[12:] {
		if err := holder.recordAvailability(ctx, hc, snap); err != nil {
			t.Fatal(err)
		}
	}
	other.syncAvailability(ctx, oc) // refreshes
	for id := range hc.events.open {
		if oc.events.open[id] == nil {
			t.Fatalf("event %d is open at the holder but not at the other console", id)
		}
	}
	if len(oc.events.open) != len(hc.events.open) || oc.events.size() != hc.events.size() {
		t.Fatalf("other console: %d events, %d open; holder %d, %d", oc.events.size(), len(oc.events.open), hc.events.size(), len(hc.events.open))
	}
	compareTimelines(t, other, oc, t0, now, rng, 3, 1, 25, 2000)
}

func openDialect(t *testing.T, dialect string) *store.Store {
	t.Helper()
	opts := store.Options{Driver: "sqlite", DSN: filepath.Join(t.TempDir(), "osprey.db"), Logger: quietLog()}
	if dialect == "mysql" {
		opts = store.Options{Driver: "mysql", DSN: testenv.MySQLDSN(t), Logger: quietLog()}
	}
	st, err := store.Open(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if _, err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return st
}

// seedHistory writes an hour of events straight to the table: instants sharing start times,
// intervals closed with more brokers than they opened with, intervals still open, one begun long
// before, broker-down intervals, times with sub-millisecond parts.
func seedHistory(t *testing.T, st *store.Store, rng *rand.Rand, t0 time.Time) {
	t.Helper()
	ctx := context.Background()
	kinds := []string{collector.AvailISRShrink, collector.AvailISRExpand, collector.AvailLeaderChange}
	var rows []*store.PartitionEvent
	for i := range 150 {
		at := t0.Add(time.Duration(i/3)*time.Minute + time.Duration(rng.IntN(1000))*time.Microsecond)
		if i%3 == 1 {
			at = rows[len(rows)-1].StartedAt // a tie
		}
		brokers := []int32{int32(1 + rng.IntN(4))}
		rows = append(rows, &store.PartitionEvent{Cluster: "c", Kind: kinds[rng.IntN(3)], Topic: fmt.Sprintf("t%d", rng.IntN(3)),
			Partition: int32(rng.IntN(4)), StartedAt: at, EndedAt: &at, Brokers: store.JoinBrokers(brokers), Detail: fmt.Sprint("d", i)})
	}
	var intervals []*store.PartitionEvent
	for i := range 30 {
		at := t0.Add(time.Duration(rng.IntN(3600))*time.Second + 123456*time.Nanosecond)
		if i == 0 {
			at = t0.Add(-5 * time.Hour)
		}
		e := &store.PartitionEvent{Cluster: "c", Kind: collector.AvailUnderReplicated, Topic: fmt.Sprintf("t%d", rng.IntN(3)),
			Partition: int32(rng.IntN(4)), StartedAt: at, Brokers: store.JoinBrokers([]int32{int32(1 + rng.IntN(4))}), Cause: collector.CauseFollowerBehind}
		if i%7 == 3 {
			e = &store.PartitionEvent{Cluster: "c", Kind: collector.AvailBrokerDown, Partition: int32(1 + i%4), StartedAt: at,
				Brokers: store.JoinBrokers([]int32{int32(1 + i%4)}), Detail: "connection refused"}
		}
		intervals = append(intervals, e)
	}
	if err := st.RecordPartitionEvents(ctx, append(rows, intervals...), nil); err != nil {
		t.Fatal(err)
	}
	var closes []store.EventClose
	for i, e := range intervals {
		if i%3 == 2 {
			continue // stays open
		}
		end := e.StartedAt.Add(time.Duration(1+rng.IntN(40))*time.Minute + 789*time.Microsecond)
		if i == 0 {
			end = t0.Add(20 * time.Minute)
		}
		// The tracker closes with the union of the brokers seen; the table keeps the links of
		// both lists even when the closing one leaves a broker out.
		brokers := append(e.BrokerIDs(), int32(1+rng.IntN(4)))
		if i%2 == 0 {
			brokers = brokers[1:]
		}
		closes = append(closes, store.EventClose{ID: e.ID, EndedAt: end, Brokers: brokers})
	}
	if err := st.RecordPartitionEvents(ctx, nil, closes); err != nil {
		t.Fatal(err)
	}
}

// randomSnapshots is n snapshots 37 s apart of 3 topics × 4 partitions on brokers 1–4 whose ISRs,
// leaders and brokers change at random.
func randomSnapshots(rng *rand.Rand, from time.Time, n int) []*collector.Snapshot {
	var out []*collector.Snapshot
	for i := range n {
		s := &collector.Snapshot{Cluster: collector.ClusterInfo{Name: "c", LastPoll: from.Add(time.Duration(i)*37*time.Second + time.Duration(rng.IntN(1e6)))}}
		for id := int32(1); id <= 4; id++ {
			s.Brokers = append(s.Brokers, collector.Broker{ID: id, Up: rng.IntN(10) > 0})
		}
		for ti := range 3 {
			tp := collector.Topic{Name: fmt.Sprintf("t%d", ti), MinISR: 2}
			for p := range int32(4) {
				replicas := []int32{1 + p%4, 1 + (p+1)%4, 1 + (p+2)%4}
				isr := slices.Clone(replicas)
				if rng.IntN(3) == 0 {
					isr = isr[:1+rng.IntN(2)]
				}
				tp.Partitions = append(tp.Partitions, collector.Partition{Partition: p, Leader: isr[rng.IntN(len(isr))], Replicas: replicas,
					ISR: isr, UnderReplicated: len(isr) < 3, UnderMinISR: len(isr) < 2})
			}
			s.Topics = append(s.Topics, tp)
		}
		out = append(out, s)
	}
	return out
}

// compareTimelines asks c's index and the table the same pages and fails on the first difference.
func compareTimelines(t *testing.T, svc *Service, c *cluster, t0, now time.Time, rng *rand.Rand, nWindows int, limits ...int) {
	t.Helper()
	saved := svc.clusters["c"]
	svc.clusters["c"] = c
	defer func() { svc.clusters["c"] = saved }()
	windows := [][2]time.Time{{t0.Add(-6 * time.Hour), now}, {t0.Add(-time.Hour), now}, {t0.Add(10 * time.Minute), t0.Add(25 * time.Minute)}}
	for range 2 {
		a := t0.Add(time.Duration(rng.IntN(150)) * time.Minute)
		windows = append(windows, [2]time.Time{a, a.Add(time.Duration(1+rng.IntN(60)) * time.Minute)})
	}
	windows = windows[:min(nWindows, len(windows))]
	var queries []TimelineQuery
	for _, topic := range []string{"t0", "t1", "t2", "none"} {
		queries = append(queries, TimelineQuery{Topic: topic})
	}
	for b := int32(1); b <= 5; b++ {
		queries = append(queries, TimelineQuery{Broker: &b})
	}
	pages, indexed := 0, 0
	for _, base := range queries {
		for _, w := range windows {
			for _, limit := range limits {
				q := base
				q.From, q.To, q.Limit = w[0], w[1], limit
				for n := 0; limit != 1 || n < 4; n++ {
					db := q
					db.fromDatabase = true
					want, err := svc.AvailabilityTimeline(context.Background(), "c", db)
					if err != nil {
						t.Fatal(err)
					}
					wj, _ := json.Marshal(want)
					gj, err := svc.AvailabilityTimelineJSON(context.Background(), "c", q) // what the endpoint sends
					if err != nil {
						t.Fatal(err)
					}
					if string(wj) != string(gj) {
						t.Fatalf("topic %q broker %v window %v–%v limit %d before %q:\nindex    %s\ndatabase %s", q.Topic, q.Broker, q.From, q.To, limit, q.Before, gj, wj)
					}
					pages++
					before, _ := parseTimelineCursor(q.Before)
					if _, ok := c.events.timeline(q.Topic, q.Broker, q.From, q.To, limit+1, before); ok {
						indexed++
					}
					if want.Next == "" {
						break
					}
					q.Before = want.Next
				}
			}
		}
	}
	if pages < 80 {
		t.Fatalf("compared %d pages, want at least 80", pages)
	}
	// An index holding the whole history answers every page; a bounded one the newer pages only.
	t.Logf("%d pages compared, %d answered by the index", pages, indexed)
	if whole := c.events.horizon == math.MinInt64; whole && indexed != pages || !whole && (indexed == 0 || indexed == pages) {
		t.Fatalf("the index answered %d of %d pages (horizon %d)", indexed, pages, c.events.horizon)
	}
}

// Timelines are read while the collector's events are written and an expiry runs: the index's
// lock keeps readers off events being changed (run with -race).
func TestAvailabilityIndexConcurrentReaders(t *testing.T) {
	ctx := context.Background()
	st := openDialect(t, "sqlite")
	t0 := time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)
	svc := New(Options{Store: st, Logger: quietLog(), Now: func() time.Time { return t0.Add(time.Hour) }})
	c := &cluster{spec: ClusterSpec{Name: "c"}, events: newAvailIndex("c", 50)}
	svc.clusters["c"] = c
	if _, err := svc.LoadAvailabilityIndex(ctx, "c"); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	read := make(chan int)
	for r := range 2 {
		go func() {
			n := 0
			defer func() { read <- n }()
			b := int32(1 + r)
			for {
				select {
				case <-done:
					return
				default:
				}
				for _, q := range []TimelineQuery{{Topic: "t1"}, {Broker: &b}} {
					q.From, q.To, q.Limit = t0.Add(-time.Hour), t0.Add(time.Hour), 5
					if _, err := svc.AvailabilityTimelineJSON(ctx, "c", q); err != nil {
						t.Error(err)
						return
					}
					n++
				}
			}
		}()
	}
	for i, snap := range randomSnapshots(rand.New(rand.NewPCG(5, 6)), t0, 20) {
		if err := svc.recordAvailability(ctx, c, snap); err != nil {
			t.Fatal(err)
		}
		if i == 10 {
			svc.expireAvailability(t0.Add(3 * time.Minute))
		}
	}
	close(done)
	if n := <-read + <-read; n == 0 {
		t.Fatal("no timeline was read while the events were written")
	}
}

// A started console loads the stored history into the index on its own (the timelines then come
// from memory), while its watcher goes on: a broker down in the stored history shows on its timeline.
func TestAvailabilityIndexLoadedAtStart(t *testing.T) {
	ctx := context.Background()
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "orders"))
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	st := openDialect(t, "sqlite")
	at := time.Now().Add(-time.Hour)
	down := &store.PartitionEvent{Cluster: "k", Kind: collector.AvailBrokerDown, Partition: 7, StartedAt: at, EndedAt: &at, Brokers: "7"}
	if err := st.RecordPartitionEvents(ctx, []*store.PartitionEvent{down}, nil); err != nil {
		t.Fatal(err)
	}
	svc := New(Options{Store: st, Logger: quietLog(), Collector: collector.Config{OffsetsInterval: time.Hour}})
	if err := svc.AddCluster(ctx, ClusterSpec{Name: "k", Source: "config", Admin: admin.Config{Bootstrap: kc.ListenAddrs()}}); err != nil {
		t.Fatal(err)
	}
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer svc.Stop()
	c, err := svc.get("k")
	if err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, 10*time.Second, testenv.Until("the index loaded", c.events.isReady))
	seven := int32(7)
	evs, ok := c.events.timeline("", &seven, at.Add(-time.Minute), time.Now(), 10, nil)
	if !ok || len(evs) != 1 || evs[0].ID != down.ID {
		t.Fatalf("broker 7 from the index: %+v (answered %v), want the stored down interval", evs, ok)
	}
}
