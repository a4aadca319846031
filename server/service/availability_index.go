package service

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/osprey-kafka/osprey/store"
)

// The availability timelines are answered from an in-memory index of each cluster's events rather
// than from partition_events: reading a page of 100 rows through the database driver, parsing two
// times per row, cost about a millisecond of CPU per request, which at 50 concurrent clients put
// the p99 above the lists' 50 ms. The index holds the same events as the table (loaded from it, and
// kept up to date with what is written to it) and answers the same query: the events of one topic
// or involving one broker that overlap the window, newest first by (start, id), after a cursor.
//
// Memory is bounded: an index holds at most Options.AvailabilityIndexEvents events (default
// DefaultAvailabilityIndexEvents). Past that the oldest ended events are dropped from memory (not
// from the database) and the index remembers the newest start it dropped, its horizon; a page
// that would reach back to the horizon is answered by the database instead.

// DefaultAvailabilityIndexEvents bounds a cluster's in-memory event index: about 200 bytes an
// event, so 200 MB at most per cluster.
const DefaultAvailabilityIndexEvents = 1_000_000

// openEnd marks an event that has not ended.
const openEnd = math.MaxInt64

// indexedEvent is one event in memory. Times are Unix nanoseconds of the stored (millisecond) times.
type indexedEvent struct {
	id         int64
	start, end int64 // end is openEnd while the interval is ongoing
	topic      string
	kind       string
	cause      string
	detail     string
	brokers    []int32 // the row's brokers column
	// links are the brokers partition_event_brokers names for the event (those at insert and those
	// added when it ended), which the per-broker timeline follows.
	links     []int32
	partition int32
	dropped   bool // removed from the index (expired or trimmed); set under the index's lock
}

func (e *indexedEvent) before(o *indexedEvent) bool {
	return e.start < o.start || e.start == o.start && e.id < o.id
}

// availIndex is one cluster's events in memory, each list sorted by (start, id) ascending.
//
// Writers (load, refresh, apply, expire) hold wmu for their whole run, database reads included, so
// they never interleave; they take mu to change the lists. Readers hold mu.RLock for one page.
type availIndex struct {
	cluster string
	max     int

	wmu sync.Mutex

	mu      sync.RWMutex
	ready   bool // loaded: until then timelines are read from the database
	all     []*indexedEvent
	topics  map[string][]*indexedEvent
	brokers map[int32][]*indexedEvent
	open    map[int64]*indexedEvent
	lastID  int64 // the highest id read or applied
	// horizon is the newest start (Unix ns) of an ended event no longer held; math.MinInt64 when
	// the index holds every event of the table.
	horizon int64
	// cutoff is the last expiry's: events that ended before it are gone from the table.
	cutoff int64
	// longest is the longest ended interval held (ns): an event that started more than that before
	// a window, and has ended, cannot overlap it.
	longest int64
	strs    map[string]string // interned topics, kinds and causes
}

func newAvailIndex(cluster string, max int) *availIndex {
	if max <= 0 {
		max = DefaultAvailabilityIndexEvents
	}
	return &availIndex{cluster: cluster, max: max, topics: map[string][]*indexedEvent{}, brokers: map[int32][]*indexedEvent{},
		open: map[int64]*indexedEvent{}, horizon: math.MinInt64, cutoff: math.MinInt64, strs: map[string]string{}}
}

// eventSource is the part of *store.Store the index reads.
type eventSource interface {
	PartitionEventsAfter(ctx context.Context, cluster string, afterID int64, limit int) ([]store.PartitionEvent, error)
	PartitionEventLinks(ctx context.Context, cluster string, afterID, toID int64) ([]store.EventLink, error)
	EndedPartitionEvents(ctx context.Context, ids []int64) ([]store.PartitionEvent, error)
}

// loadBatch is how many rows one read of the history takes.
const loadBatch = 20_000

// load reads the cluster's whole history from the table, in id order, and marks the index ready.
// Calling it again on a ready index only refreshes it.
func (x *availIndex) load(ctx context.Context, src eventSource) error {
	x.wmu.Lock()
	defer x.wmu.Unlock()
	if err := x.readNew(ctx, src); err != nil {
		return err
	}
	x.mu.Lock()
	x.ready = true
	x.mu.Unlock()
	return nil
}

// refresh picks up what another console wrote since the last read: rows with a higher id, and the
// end of every interval held as open that has ended. A no-op until the index is loaded.
func (x *availIndex) refresh(ctx context.Context, src eventSource) error {
	if !x.isReady() {
		return nil // without waiting for a load in progress; ready never goes back to false
	}
	x.wmu.Lock()
	defer x.wmu.Unlock()
	x.mu.RLock()
	ids := make([]int64, 0, len(x.open))
	for id := range x.open {
		ids = append(ids, id)
	}
	x.mu.RUnlock()
	if len(ids) > 0 {
		ended, err := src.EndedPartitionEvents(ctx, ids)
		if err != nil {
			return err
		}
		closes := make([]store.EventClose, 0, len(ended))
		for _, r := range ended {
			closes = append(closes, store.EventClose{ID: r.ID, EndedAt: *r.EndedAt, Brokers: r.BrokerIDs()})
		}
		x.mu.Lock()
		x.closeLocked(closes)
		x.mu.Unlock()
	}
	return x.readNew(ctx, src)
}

// readNew reads the rows above lastID in batches, with their links. wmu held.
func (x *availIndex) readNew(ctx context.Context, src eventSource) error {
	for {
		rows, err := src.PartitionEventsAfter(ctx, x.cluster, x.lastID, loadBatch)
		if err != nil {
			return err
		}
		if len(rows) == 0 {
			return nil
		}
		last := rows[len(rows)-1].ID
		links, err := src.PartitionEventLinks(ctx, x.cluster, x.lastID, last)
		if err != nil {
			return err
		}
		byEvent := make(map[int64][]int32, len(rows))
		for _, l := range links {
			byEvent[l.EventID] = append(byEvent[l.EventID], l.BrokerID)
		}
		x.mu.Lock()
		for i := range rows {
			x.addLocked(&rows[i], byEvent[rows[i].ID])
		}
		x.lastID = last
		x.trimLocked()
		x.mu.Unlock()
		if len(rows) < loadBatch {
			return nil
		}
	}
}

// apply adds what this console has just written to the table: the new rows (their ids set by the
// insert) and the closes. A no-op until the index is loaded (the load reads them); rows the load
// already read are skipped.
func (x *availIndex) apply(add []*store.PartitionEvent, closes []store.EventClose) {
	x.wmu.Lock()
	defer x.wmu.Unlock()
	x.mu.Lock()
	defer x.mu.Unlock()
	if !x.ready {
		return
	}
	for _, r := range add {
		if r.ID <= x.lastID {
			continue
		}
		x.addLocked(r, nil)
		x.lastID = max(x.lastID, r.ID)
	}
	x.closeLocked(closes)
	x.trimLocked()
}

// expire drops the events that ended before cutoff, as the table's expiry did.
func (x *availIndex) expire(cutoff time.Time) {
	x.wmu.Lock()
	defer x.wmu.Unlock()
	x.mu.Lock()
	defer x.mu.Unlock()
	c := cutoff.UnixNano()
	x.cutoff = max(x.cutoff, c)
	x.removeLocked(func(e *indexedEvent) bool { return e.end < c })
}

func (x *availIndex) intern(s string) string {
	if v, ok := x.strs[s]; ok {
		return v
	}
	x.strs[s] = s
	return s
}

// addLocked inserts a row; links nil means the row's own brokers (a row just inserted). mu held.
func (x *availIndex) addLocked(r *store.PartitionEvent, links []int32) {
	e := &indexedEvent{id: r.ID, start: r.StartedAt.UnixNano(), end: openEnd, topic: x.intern(r.Topic), kind: x.intern(r.Kind),
		cause: x.intern(r.Cause), detail: r.Detail, brokers: r.BrokerIDs(), partition: r.Partition}
	if r.EndedAt != nil {
		e.end = r.EndedAt.UnixNano()
		if e.end < x.cutoff {
			return // expired while it was being read
		}
		x.longest = max(x.longest, e.end-e.start)
	} else {
		x.open[e.id] = e
	}
	if links == nil {
		links = slices.Clone(e.brokers)
	}
	slices.Sort(links)
	e.links = slices.Compact(links)
	x.all = insertSorted(x.all, e)
	if e.topic != "" {
		x.topics[e.topic] = insertSorted(x.topics[e.topic], e)
	}
	for _, b := range e.links {
		x.brokers[b] = insertSorted(x.brokers[b], e)
	}
}

// insertSorted adds e in (start, id) order: at the end for nearly every event, which is newer
// than those before it.
func insertSorted(list []*indexedEvent, e *indexedEvent) []*indexedEvent {
	if n := len(list); n == 0 || list[n-1].before(e) {
		return append(list, e)
	}
	i, _ := slices.BinarySearchFunc(list, e, cmpEvents)
	return slices.Insert(list, i, e)
}

func cmpEvents(a, b *indexedEvent) int {
	if c := cmp.Compare(a.start, b.start); c != 0 {
		return c
	}
	return cmp.Compare(a.id, b.id)
}

// closeLocked ends open events as closing them in the table did: the end, the brokers column, and
// the brokers added to the event's links. mu held.
func (x *availIndex) closeLocked(closes []store.EventClose) {
	for _, c := range closes {
		e, ok := x.open[c.ID]
		if !ok {
			continue
		}
		delete(x.open, c.ID)
		e.end = store.EventTime(c.EndedAt).UnixNano()
		x.longest = max(x.longest, e.end-e.start)
		e.brokers = slices.Clone(c.Brokers)
		for _, b := range c.Brokers {
			if !slices.Contains(e.links, b) {
				e.links = append(e.links, b)
				x.brokers[b] = insertSorted(x.brokers[b], e)
			}
		}
	}
}

// trimLocked keeps the index within its bound: past it, the oldest ended events are dropped until
// a tenth of the bound is free, and the horizon moves to the newest start dropped. mu held.
func (x *availIndex) trimLocked() {
	if len(x.all) <= x.max {
		return
	}
	drop := len(x.all) - x.max*9/10
	var horizon int64 = math.MinInt64
	for _, e := range x.all {
		if drop == 0 {
			break
		}
		if e.end != openEnd {
			e.dropped = true
			horizon = max(horizon, e.start)
			drop--
		}
	}
	x.horizon = max(x.horizon, horizon)
	x.removeLocked(func(e *indexedEvent) bool { return e.dropped })
}

// removeLocked removes the ended events gone says are gone from every list. mu held.
func (x *availIndex) removeLocked(gone func(*indexedEvent) bool) {
	keep := func(e *indexedEvent) bool {
		if e.end != openEnd && gone(e) {
			e.dropped = true
			return false
		}
		return true
	}
	x.all = slices.DeleteFunc(x.all, func(e *indexedEvent) bool { return !keep(e) })
	for t, l := range x.topics {
		if l = slices.DeleteFunc(l, func(e *indexedEvent) bool { return e.dropped }); len(l) == 0 {
			delete(x.topics, t)
		} else {
			x.topics[t] = l
		}
	}
	for b, l := range x.brokers {
		if l = slices.DeleteFunc(l, func(e *indexedEvent) bool { return e.dropped }); len(l) == 0 {
			delete(x.brokers, b)
		} else {
			x.brokers[b] = l
		}
	}
}

// pageLocked answers the timeline query the store's PartitionEvents answers, for a topic or a broker:
// up to limit events that overlap [from, to] (started in it, or before it and not ended by from),
// newest first, older than before. ok is false when the index cannot answer exactly (not loaded,
// or the page reaches back to events it no longer holds): ask the database. mu held (read).
func (x *availIndex) pageLocked(topic string, broker *int32, from, to time.Time, limit int, before *store.EventCursor) (out []*indexedEvent, ok bool) {
	if !x.ready {
		return nil, false
	}
	var list []*indexedEvent
	if broker != nil {
		list = x.brokers[*broker]
	} else {
		list = x.topics[topic]
	}
	f, t := from.UnixNano(), to.UnixNano()
	// The newest candidate: started at or before to, and before the cursor.
	hi := &indexedEvent{start: t, id: math.MaxInt64}
	if before != nil {
		if c := (&indexedEvent{start: before.StartedAt.UnixNano(), id: before.ID}); c.before(hi) {
			hi = c
			hi.id-- // strictly before the cursor
		}
	}
	i, found := slices.BinarySearchFunc(list, hi, cmpEvents)
	if found {
		i++
	}
	// Events that started inside the window, newest first.
	for i--; i >= 0 && len(out) < limit && list[i].start >= f; i-- {
		out = append(out, list[i])
	}
	if len(out) < limit {
		out = x.openAtLocked(out, list[:i+1], topic, broker, f, limit)
	}
	// Every ended event that started after the horizon is held; one at or before it may be missing.
	if x.horizon != math.MinInt64 && (len(out) < limit || out[len(out)-1].start <= x.horizon) {
		return nil, false
	}
	return out, true
}

// openAtLocked adds, newest first, the events of older (all started before from, sorted) that
// were still ongoing at from: the ended ones are found by walking back no further than the longest
// interval, the ongoing ones from the open set. mu held.
func (x *availIndex) openAtLocked(out, older []*indexedEvent, topic string, broker *int32, from int64, limit int) []*indexedEvent {
	var cand []*indexedEvent
	for i := len(older) - 1; i >= 0 && older[i].start >= from-x.longest; i-- {
		if e := older[i]; e.end != openEnd && e.end >= from {
			cand = append(cand, e)
		}
	}
	var lastOlder *indexedEvent
	if len(older) > 0 {
		lastOlder = older[len(older)-1]
	}
	for _, e := range x.open {
		if lastOlder == nil || lastOlder.before(e) {
			continue // after the cursor (or the list is empty)
		}
		if broker != nil && !slices.Contains(e.links, *broker) || broker == nil && e.topic != topic {
			continue
		}
		cand = append(cand, e)
	}
	slices.SortFunc(cand, func(a, b *indexedEvent) int { return cmpEvents(b, a) })
	return append(out, cand[:min(len(cand), limit-len(out))]...)
}

// size reports how many events the index holds (tests, logs).
func (x *availIndex) size() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.all)
}

func (x *availIndex) String() string {
	return fmt.Sprintf("availability index of %s: %d events", x.cluster, x.size())
}

func (x *availIndex) isReady() bool {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.ready
}

// timeline is pageLocked with the events as the API shows them (Seconds left to the caller), copied
// under the lock: closing an event changes its end and brokers.
func (x *availIndex) timeline(topic string, broker *int32, from, to time.Time, limit int, before *store.EventCursor) ([]AvailabilityEvent, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	evs, ok := x.pageLocked(topic, broker, from, to, limit, before)
	if !ok {
		return nil, false
	}
	out := make([]AvailabilityEvent, len(evs))
	for i, e := range evs {
		a := &out[i]
		*a = AvailabilityEvent{ID: e.id, Kind: e.kind, Topic: e.topic, Partition: e.partition, Start: time.Unix(0, e.start).UTC(),
			Brokers: e.brokers, Cause: e.cause, Detail: e.detail}
		if e.end != openEnd {
			end := time.Unix(0, e.end).UTC()
			a.End = &end
		}
		if a.Brokers == nil {
			a.Brokers = []int32{}
		}
	}
	return out, true
}
