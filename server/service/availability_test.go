package service

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/osprey-kafka/osprey/collector"
	"github.com/osprey-kafka/osprey/store"
)

// Successive snapshots in which broker 3 goes down and comes back twice are recorded as events;
// the topic's and the broker's timelines read them back, with the partition flagged as flapping
// (4 ISR changes within 10 minutes), and an interval open across a restart of the recorder is
// continued, not opened twice.
func TestAvailabilityRecordedAndTimeline(t *testing.T) {
	ctx := context.Background()
	st := newOpsTestStore(t)
	t0 := time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)
	now := t0.Add(time.Hour)
	svc := New(Options{Store: st, Logger: quietLog(), Now: func() time.Time { return now }})
	c := &cluster{spec: ClusterSpec{Name: "c"}}
	svc.clusters["c"] = c
	snap := func(m int, isr []int32, up ...int32) *collector.Snapshot {
		p := collector.Partition{Partition: 0, Leader: 1, Replicas: []int32{1, 2, 3}, ISR: isr, UnderReplicated: len(isr) < 3}
		s := &collector.Snapshot{Cluster: collector.ClusterInfo{Name: "c", LastPoll: t0.Add(time.Duration(m) * time.Minute)},
			Topics: []collector.Topic{{Name: "orders", MinISR: 1, Partitions: []collector.Partition{p}}}}
		for id := int32(1); id <= 3; id++ {
			s.Brokers = append(s.Brokers, collector.Broker{ID: id, Up: slices.Contains(up, id)})
		}
		return s
	}
	full, short := []int32{1, 2, 3}, []int32{1, 2}
	seq := []*collector.Snapshot{
		snap(0, full, 1, 2, 3), snap(1, short, 1, 2), snap(2, full, 1, 2, 3), snap(3, short, 1, 2), snap(4, full, 1, 2, 3),
		snap(20, short, 1, 2, 3), // the follower falls behind, broker up
	}
	for _, s := range seq {
		if err := svc.recordAvailability(ctx, c, s); err != nil {
			t.Fatal(err)
		}
	}
	// A restart: a new recorder finds the open interval and continues it.
	c.avail = nil
	if err := svc.recordAvailability(ctx, c, snap(21, short, 1, 2, 3)); err != nil {
		t.Fatal(err)
	}
	tl, err := svc.AvailabilityTimeline(ctx, "c", TimelineQuery{Topic: "orders", From: t0, To: now})
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	var open []AvailabilityEvent
	for _, e := range tl.Events {
		count[e.Kind]++
		if e.End == nil {
			open = append(open, e)
		}
	}
	// 3 shrinks, 2 expands; 3 under-replicated intervals (two closed, one open).
	if count["isr_shrink"] != 3 || count["isr_expand"] != 2 || count["under_replicated"] != 3 {
		t.Fatalf("events by kind %v, want 3 shrinks, 2 expands, 3 under-replicated intervals", count)
	}
	if len(open) != 1 || open[0].Cause != collector.CauseFollowerBehind || !open[0].Start.Equal(t0.Add(20*time.Minute)) ||
		open[0].Seconds != now.Sub(t0.Add(20*time.Minute)).Seconds() {
		t.Fatalf("open intervals %+v, want one from minute 20, cause follower_behind, 40 min so far", open)
	}
	for _, e := range tl.Events {
		if e.Kind == "under_replicated" && e.End != nil && (e.Cause != collector.CauseBrokerDown || e.Seconds != 60) {
			t.Fatalf("closed interval %+v, want cause broker_down lasting 60 s", e)
		}
	}
	if len(tl.Flapping) != 1 || tl.Flapping[0].Changes != 4 || !tl.Flapping[0].Since.Equal(t0.Add(time.Minute)) {
		t.Fatalf("flapping %+v, want partition 0 with 4 changes since minute 1", tl.Flapping)
	}
	three := int32(3)
	bt, err := svc.AvailabilityTimeline(ctx, "c", TimelineQuery{Broker: &three, From: t0, To: now})
	if err != nil {
		t.Fatal(err)
	}
	downs := 0
	for _, e := range bt.Events {
		if e.Kind == "broker_down" {
			downs++
		}
	}
	if downs != 2 || len(bt.Events) != len(tl.Events)+2 {
		t.Fatalf("broker 3 timeline: %d events (%d down intervals), want the topic's %d plus 2 down intervals", len(bt.Events), downs, len(tl.Events))
	}
}

// A timeline is answered in pages, newest first: following next from the first page reads every
// event of the window exactly once and in order — events that share a start time, and intervals
// that started before the window and were still open in it, included — for a topic and a broker.
func TestAvailabilityTimelinePages(t *testing.T) {
	ctx := context.Background()
	st := newOpsTestStore(t)
	t0 := time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)
	now := t0.Add(2 * time.Hour)
	svc := New(Options{Store: st, Logger: quietLog(), Now: func() time.Time { return now }})
	svc.clusters["c"] = &cluster{spec: ClusterSpec{Name: "c"}}
	var rows []*store.PartitionEvent
	for i := range 45 {
		// Three events share each start time, so the id breaks the ties.
		at := t0.Add(time.Duration(i/3) * time.Minute)
		rows = append(rows, &store.PartitionEvent{Cluster: "c", Kind: collector.AvailISRShrink, Topic: "orders", Partition: int32(i % 4),
			StartedAt: at, EndedAt: &at, Brokers: store.JoinBrokers([]int32{int32(i % 2)})})
	}
	// Two intervals began before the window: one still open, one that ended inside it.
	early, ended := t0.Add(-3*time.Hour), t0.Add(30*time.Minute)
	rows = append(rows,
		&store.PartitionEvent{Cluster: "c", Kind: collector.AvailUnderReplicated, Topic: "orders", Partition: 1, StartedAt: early, Brokers: "0"},
		&store.PartitionEvent{Cluster: "c", Kind: collector.AvailUnderReplicated, Topic: "orders", Partition: 2, StartedAt: early.Add(time.Minute), EndedAt: &ended, Brokers: "0"})
	if err := st.RecordPartitionEvents(ctx, rows, nil); err != nil {
		t.Fatal(err)
	}
	zero := int32(0)
	for _, tc := range []struct {
		name string
		q    TimelineQuery
		want int
	}{
		{"topic", TimelineQuery{Topic: "orders"}, 47},
		{"broker", TimelineQuery{Broker: &zero}, 23 + 2},
	} {
		q := tc.q
		q.From, q.To = t0.Add(-time.Hour), now
		whole := q
		whole.Limit = MaxTimelineEvents
		all, err := svc.AvailabilityTimeline(ctx, "c", whole)
		if err != nil {
			t.Fatal(err)
		}
		if len(all.Events) != tc.want || all.Truncated || all.Next != "" {
			t.Fatalf("%s: one page of %d events (truncated %v, next %q), want all %d", tc.name, len(all.Events), all.Truncated, all.Next, tc.want)
		}
		var paged []AvailabilityEvent
		pages := 0
		q.Limit = 7
		for {
			page, err := svc.AvailabilityTimeline(ctx, "c", q)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			paged = append(paged, page.Events...)
			if page.Truncated != (page.Next != "") || len(page.Events) > 7 {
				t.Fatalf("%s page %d: %d events, truncated %v, next %q", tc.name, pages, len(page.Events), page.Truncated, page.Next)
			}
			if page.Next == "" {
				break
			}
			q.Before = page.Next
		}
		if pages != (tc.want+6)/7 {
			t.Fatalf("%s: %d pages, want %d", tc.name, pages, (tc.want+6)/7)
		}
		ids := func(evs []AvailabilityEvent) []int64 {
			out := make([]int64, len(evs))
			for i, e := range evs {
				out[i] = e.ID
			}
			return out
		}
		if !slices.Equal(ids(paged), ids(all.Events)) {
			t.Fatalf("%s: pages read %v, want the whole answer %v in order", tc.name, ids(paged), ids(all.Events))
		}
		for i := 1; i < len(paged); i++ {
			a, b := paged[i-1], paged[i]
			if a.Start.Before(b.Start) || a.Start.Equal(b.Start) && a.ID < b.ID {
				t.Fatalf("%s: event %d (%v #%d) before %d (%v #%d): not newest first", tc.name, i-1, a.Start, a.ID, i, b.Start, b.ID)
			}
		}
	}
	if _, err := svc.AvailabilityTimeline(ctx, "c", TimelineQuery{Topic: "orders", From: t0, To: now, Before: "yesterday"}); err == nil {
		t.Fatal("a malformed cursor was accepted")
	}
}
