package service

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/osprey-kafka/osprey/collector"
	"github.com/osprey-kafka/osprey/store"
)

// Availability history: the service turns each cluster's successive snapshots into events
// (collector.AvailTracker) and keeps them in the store's partition_events and in the cluster's
// in-memory index; the topic page and the broker view read them back as a timeline.

// availRecorder is one cluster's tracker; owned by the cluster's snapshot-watching goroutine.
type availRecorder struct {
	tracker *collector.AvailTracker
}

// recordAvailability diffs snap against the previous snapshot the watcher saw and writes the
// changes. The first call loads the intervals still open in the store, so an interval that spans
// a restart continues instead of being opened twice.
func (s *Service) recordAvailability(ctx context.Context, c *cluster, snap *collector.Snapshot) error {
	st := s.opts.Store
	if st == nil || snap == nil {
		return nil
	}
	if c.avail == nil {
		rows, err := st.OpenPartitionEvents(ctx, c.spec.Name)
		if err != nil {
			return err
		}
		open := make([]*collector.AvailEvent, 0, len(rows))
		for _, r := range rows {
			open = append(open, &collector.AvailEvent{ID: r.ID, Kind: r.Kind, Topic: r.Topic, Partition: r.Partition,
				Start: r.StartedAt, Brokers: r.BrokerIDs(), Cause: r.Cause, Detail: r.Detail})
		}
		c.avail = &availRecorder{tracker: collector.NewAvailTracker(open)}
	}
	ch := c.avail.tracker.Observe(snap)
	if ch.Empty() {
		return nil
	}
	add := make([]*store.PartitionEvent, 0, len(ch.Instants)+len(ch.Opened))
	for i := range ch.Instants {
		add = append(add, eventRow(c.spec.Name, &ch.Instants[i]))
	}
	opened := make([]*store.PartitionEvent, 0, len(ch.Opened))
	for _, e := range ch.Opened {
		r := eventRow(c.spec.Name, e)
		opened = append(opened, r)
		add = append(add, r)
	}
	closes := make([]store.EventClose, 0, len(ch.Closed))
	for _, e := range ch.Closed {
		if e.ID == 0 {
			continue // its insert failed earlier; nothing to close
		}
		closes = append(closes, store.EventClose{ID: e.ID, EndedAt: *e.End, Brokers: e.Brokers})
	}
	if err := st.RecordPartitionEvents(ctx, add, closes); err != nil {
		if c.events != nil {
			// The write may have committed before it failed (a timeout): read back what it did.
			if rerr := c.events.refresh(ctx, st); rerr != nil {
				s.log.Warn("refreshing the availability index", "cluster", c.spec.Name, "err", rerr)
			}
		}
		return err
	}
	for i, e := range ch.Opened {
		e.ID = opened[i].ID
	}
	if c.events != nil {
		c.events.apply(add, closes)
	}
	return nil
}

// loadAvailability reads the cluster's history into its index when the service starts. It runs on
// its own goroutine so that the watcher records and shares snapshots meanwhile (timelines are read
// from the table until it is done; events written meanwhile are added once it is); a failed read is
// retried every half minute.
func (s *Service) loadAvailability(ctx context.Context, c *cluster) {
	for {
		err := c.events.load(ctx, s.opts.Store)
		if err == nil || ctx.Err() != nil {
			return
		}
		s.log.Warn("reading availability events into memory", "cluster", c.spec.Name, "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(30 * time.Second):
		}
	}
}

// syncAvailability, when several consoles share the database, reads into the cluster's index what
// the holder of the cluster's lease wrote since the last call (nothing before the index is loaded).
// Called from the cluster's watcher goroutine, before each snapshot's events are recorded.
func (s *Service) syncAvailability(ctx context.Context, c *cluster) {
	if c.events == nil || c.lease == nil {
		return
	}
	if err := c.events.refresh(ctx, s.opts.Store); err != nil && ctx.Err() == nil {
		s.log.Warn("reading availability events into memory", "cluster", c.spec.Name, "err", err)
	}
}

// LoadAvailabilityIndex reads a cluster's availability history into memory, as its watcher does
// when the service starts (until then, or if it fails, timelines are read from the database), and
// returns how many events the index holds.
func (s *Service) LoadAvailabilityIndex(ctx context.Context, cluster string) (int, error) {
	c, err := s.get(cluster)
	if err != nil {
		return 0, err
	}
	if c.events == nil {
		return 0, nil
	}
	if err := c.events.load(ctx, s.opts.Store); err != nil {
		return 0, fmt.Errorf("loading the availability events of %s: %w", cluster, err)
	}
	return c.events.size(), nil
}

// expireAvailability drops from every cluster's index the events the table's expiry deleted.
func (s *Service) expireAvailability(cutoff time.Time) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, c := range s.clusters {
		if c.events != nil {
			c.events.expire(cutoff)
		}
	}
}

func eventRow(cluster string, e *collector.AvailEvent) *store.PartitionEvent {
	return &store.PartitionEvent{Cluster: cluster, Kind: e.Kind, Topic: e.Topic, Partition: e.Partition, StartedAt: e.Start,
		EndedAt: e.End, Brokers: store.JoinBrokers(e.Brokers), Cause: e.Cause, Detail: e.Detail}
}

// AvailabilityEvent is one event of the availability timeline. End is null while an interval is
// ongoing; instants (isr_shrink, isr_expand, leader_change) have End = Start.
type AvailabilityEvent struct {
	ID        int64      `json:"id"`
	Kind      string     `json:"kind" enum:"isr_shrink,isr_expand,leader_change,offline,under_replicated,under_min_isr,broker_down"`
	Topic     string     `json:"topic" description:"Empty for broker_down"`
	Partition int32      `json:"partition" description:"The broker id for broker_down"`
	Start     time.Time  `json:"start"`
	End       *time.Time `json:"end" description:"null while the interval is ongoing"`
	// Seconds is the interval's length so far (to now while ongoing); 0 for instants.
	Seconds float64 `json:"seconds"`
	Brokers []int32 `json:"brokers" description:"Brokers involved: out of the ISR, joining it, old and new leader, or the down broker"`
	Cause   string  `json:"cause" description:"Most likely cause of an offline, under-replicated or under-min-ISR interval: broker_down, log_dir_offline, reassignment, follower_behind (empty for other kinds)"`
	Detail  string  `json:"detail"`
}

// FlappingPartition is a partition whose ISR changed at least FlapChanges times within some
// FlapMinutes-long part of the timeline's window.
type FlappingPartition struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	// Changes is the most ISR changes (shrinks plus expands) seen within FlapMinutes.
	Changes int       `json:"changes"`
	Since   time.Time `json:"since" description:"Start of the busiest FlapMinutes stretch"`
}

// Timeline is a page of a topic's or a broker's availability history over a window, newest first;
// Flapping is found among the page's events.
type Timeline struct {
	From        time.Time           `json:"from"`
	To          time.Time           `json:"to"`
	FlapChanges int                 `json:"flapChanges"`
	FlapMinutes int                 `json:"flapMinutes"`
	Events      []AvailabilityEvent `json:"events"`
	Flapping    []FlappingPartition `json:"flapping"`
	// Truncated says the window holds older events than this page carries: ask again with
	// before = Next for them.
	Truncated bool `json:"truncated" description:"The window holds older events than this page: pass next as before for them"`
	// Next continues the timeline after this page's oldest event; "" on the last page.
	Next string `json:"next" description:"Cursor for the next (older) page, given as before; empty on the last page"`
}

// TimelineQuery selects a timeline: one topic or one broker, a window, and the flapping rule.
type TimelineQuery struct {
	Topic       string
	Broker      *int32
	From, To    time.Time
	FlapChanges int // default 4
	FlapMinutes int // default 10
	// Limit is the page size (default DefaultTimelineEvents, at most MaxTimelineEvents).
	Limit int
	// Before is the Next of the previous page: only events older than it ("" for the newest page).
	Before string
	// fromDatabase reads the page from partition_events even when the index could answer (tests
	// compare the two).
	fromDatabase bool
}

// A timeline answers a page of the newest events: a broker takes part in a third of a large
// cluster's events, and answering all of a busy day's at once cost seconds. Pages come from the
// cluster's in-memory index (availability_index.go), or from the table (about 10 µs of CPU an
// event: the row, its two times parsed) while the index is loading or for pages older than it holds.
const (
	DefaultTimelineEvents = 100
	MaxTimelineEvents     = 2000
)

// timelineCursor formats a page's continuation: the oldest event's start (Unix nanoseconds) and id.
func timelineCursor(c store.EventCursor) string {
	return strconv.FormatInt(c.StartedAt.UnixNano(), 10) + "-" + strconv.FormatInt(c.ID, 10)
}

func parseTimelineCursor(s string) (*store.EventCursor, error) {
	if s == "" {
		return nil, nil
	}
	at, id, ok := strings.Cut(s, "-")
	ns, err1 := strconv.ParseInt(at, 10, 64)
	n, err2 := strconv.ParseInt(id, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return nil, badRequest("bad_request", "before %q is not a timeline cursor (the next of a previous answer)", s)
	}
	return &store.EventCursor{StartedAt: time.Unix(0, ns).UTC(), ID: n}, nil
}

// AvailabilityTimeline reads the events of a topic or a broker that overlap the window.
func (s *Service) AvailabilityTimeline(ctx context.Context, cluster string, q TimelineQuery) (Timeline, error) {
	c, err := s.get(cluster)
	if err != nil {
		return Timeline{}, err
	}
	if s.opts.Store == nil {
		return Timeline{}, &UserError{Status: http.StatusServiceUnavailable, Code: "no_database", Message: "the availability history needs the database"}
	}
	if !q.To.After(q.From) {
		return Timeline{}, badRequest("bad_range", "\"to\" must be after \"from\"")
	}
	if q.FlapChanges <= 0 {
		q.FlapChanges = 4
	}
	if q.FlapMinutes <= 0 {
		q.FlapMinutes = 10
	}
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultTimelineEvents
	}
	limit = min(limit, MaxTimelineEvents)
	before, err := parseTimelineCursor(q.Before)
	if err != nil {
		return Timeline{}, err
	}
	ok := false
	var events []AvailabilityEvent
	if c.events != nil && !q.fromDatabase {
		events, ok = c.events.timeline(q.Topic, q.Broker, q.From, q.To, limit+1, before)
	}
	if !ok {
		if events, err = s.timelineFromStore(ctx, cluster, q, limit+1, before); err != nil {
			return Timeline{}, err
		}
	}
	t := Timeline{From: q.From, To: q.To, FlapChanges: q.FlapChanges, FlapMinutes: q.FlapMinutes, Events: events, Flapping: []FlappingPartition{}}
	if len(events) > limit {
		t.Events, t.Truncated = events[:limit], true
		last := t.Events[limit-1]
		t.Next = timelineCursor(store.EventCursor{StartedAt: last.Start, ID: last.ID})
	}
	now := s.opts.Now()
	for i := range t.Events {
		e := &t.Events[i]
		end := now
		if e.End != nil {
			end = *e.End
		}
		e.Seconds = max(end.Sub(e.Start).Seconds(), 0)
	}
	t.Flapping = Flapping(t.Events, q.FlapChanges, time.Duration(q.FlapMinutes)*time.Minute)
	return t, nil
}

// timelineFromStore reads a page of the timeline from partition_events, when the cluster's index
// cannot answer it.
func (s *Service) timelineFromStore(ctx context.Context, cluster string, q TimelineQuery, limit int, before *store.EventCursor) ([]AvailabilityEvent, error) {
	rows, err := s.opts.Store.PartitionEvents(ctx, store.EventFilter{Cluster: cluster, Topic: q.Topic, Broker: q.Broker,
		From: q.From, To: q.To, Limit: limit, Before: before})
	if err != nil {
		return nil, fmt.Errorf("reading the availability timeline of %s: %w", cluster, err)
	}
	out := make([]AvailabilityEvent, 0, len(rows))
	for _, r := range rows {
		e := AvailabilityEvent{ID: r.ID, Kind: r.Kind, Topic: r.Topic, Partition: r.Partition, Start: r.StartedAt, End: r.EndedAt,
			Brokers: r.BrokerIDs(), Cause: r.Cause, Detail: r.Detail}
		if e.Brokers == nil {
			e.Brokers = []int32{}
		}
		out = append(out, e)
	}
	return out, nil
}

// Flapping finds the partitions with at least n ISR changes (shrinks and expands) within some
// stretch of length w: a sliding window over each partition's change times.
func Flapping(events []AvailabilityEvent, n int, w time.Duration) []FlappingPartition {
	type key struct {
		topic string
		p     int32
	}
	times := map[key][]time.Time{}
	for _, e := range events {
		if e.Kind == collector.AvailISRShrink || e.Kind == collector.AvailISRExpand {
			k := key{e.Topic, e.Partition}
			times[k] = append(times[k], e.Start)
		}
	}
	out := []FlappingPartition{}
	for k, ts := range times {
		sort.Slice(ts, func(i, j int) bool { return ts[i].Before(ts[j]) })
		best, since := 0, time.Time{}
		lo := 0
		for hi := range ts {
			for ts[hi].Sub(ts[lo]) > w {
				lo++
			}
			if c := hi - lo + 1; c > best {
				best, since = c, ts[lo]
			}
		}
		if best >= n {
			out = append(out, FlappingPartition{Topic: k.topic, Partition: k.p, Changes: best, Since: since})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Topic != out[j].Topic {
			return out[i].Topic < out[j].Topic
		}
		return out[i].Partition < out[j].Partition
	})
	return out
}

// seedCatchUp starts a new collector's catch-up estimates from the stored group series of the last
// catch-up window, so a restarted console estimates at its first poll. A failed read only costs
// that head start.
func (s *Service) seedCatchUp(ctx context.Context, cluster string, col *collector.Collector) {
	if s.opts.Store == nil {
		return
	}
	since := s.opts.Now().Add(-col.Config().CatchUpWindow)
	pts, err := s.opts.Store.RecentGroupPoints(ctx, cluster, since)
	if err != nil {
		s.log.Warn("seeding catch-up estimates", "cluster", cluster, "err", err)
		return
	}
	seed := make([]collector.CatchUpPoint, 0, len(pts))
	for _, p := range pts {
		seed = append(seed, collector.CatchUpPoint{Group: p.GroupName, Topic: p.Topic, At: time.Unix(p.Ts, 0), Committed: p.Committed, Lag: p.Lag})
	}
	col.SeedCatchUp(seed)
}
