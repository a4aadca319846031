package service

import (
	"context"
	"sync"
	"time"

	"github.com/osprey-kafka/osprey/admin"
	"github.com/osprey-kafka/osprey/internal/msgfilter"
)

// The scan behind Search.Run. Fetches run ahead of the records being handled: each fetch is
// decoded, masked and filtered on its own goroutine while the scan handles the records of earlier
// ones, so waiting on the brokers and the CPU work of several fetches overlap instead of taking
// turns. The scan still handles records in the order it issued the fetches, one partition after
// the other round-robin, so limits, matches and progress count exactly as a one-at-a-time scan would.
//
// Memory: at most limits.Prefetch fetches are in flight or waiting besides the one being handled,
// each asking for at most limits.FetchBytes of record batches (a broker answers more only when one
// batch is larger; compressed batches grow when decoded, up to FetchRecords records), and together, with what was read, never for more than MaxBytes (nor for more records
// than MaxRecords): what a search holds is bounded by both.

// searchFetch is one fetch of a partition's next records. Its goroutine sets the result fields and
// closes done; the scan reads them only after done is closed.
type searchFetch struct {
	part    *searchPart
	offset  int64 // the first offset asked for
	records int64 // the most records asked for
	bytes   int64 // the most bytes asked for
	done    chan struct{}

	recs  []searchRec // the records below the range's end, in offset order
	size  int64       // their sizes summed
	atEnd bool        // the fetch reached the range's end or found nothing readable
	err   error
}

// searchRec is a fetched record: as fetched, as the caller sees it (masked), and whether the
// filter matched the masked form.
type searchRec struct {
	orig  admin.Message
	seen  admin.Message
	size  int64
	match bool
}

// scanState is what scan tracks besides the partitions' progress; owned by scan's goroutine.
type scanState struct {
	queue []*searchFetch // issued fetches in issue order
	next  int            // where the round-robin over q.parts continues
	// heldRecords and heldBytes are what the fetches in the queue asked for (or, once done and
	// being handled, what they hold), counted against MaxRecords and MaxBytes before the records
	// are read.
	heldRecords, heldBytes int64
}

// scan is Run's loop; it returns the reason it stopped ("" when the ranges were read) and, for a
// failure or a cancellation by the reader, the error.
func (q *Search) scan(ctx context.Context, start time.Time, prog *SearchProgress, emit func(SearchEvent) error) (string, error) {
	fctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel() // a limit or an error ends the scan with fetches still in flight
		wg.Wait()
	}()
	st := &scanState{}
	handled := 0 // fetches handled since the last progress event
	for {
		q.issue(fctx, &wg, st, prog)
		if len(st.queue) == 0 {
			break
		}
		f := st.queue[0]
		select {
		case <-f.done:
		case <-ctx.Done():
			return q.stopReason(ctx, "", ctx.Err())
		}
		st.queue = st.queue[1:]
		p := f.part
		p.inFlight = false
		st.heldRecords -= f.records - int64(len(f.recs))
		st.heldBytes -= f.bytes - f.size
		if f.err != nil {
			return q.stopReason(ctx, "", f.err)
		}
		if n := len(f.recs); n > 0 {
			p.fetchPos = f.recs[n-1].orig.Offset + 1
		}
		if f.atEnd {
			p.fetchPos = p.End
		}
		// The next fetches go out before this one's records are handled.
		q.issue(fctx, &wg, st, prog)
		reason, err := q.handleFetch(f, prog, emit)
		st.heldRecords -= int64(len(f.recs))
		st.heldBytes -= f.size
		if reason != "" || err != nil {
			return q.stopReason(ctx, reason, err)
		}
		if handled++; handled >= q.reading() {
			handled = 0
			if err := q.progress(prog, start, emit); err != nil {
				return SearchCancelled, err
			}
		}
	}
	if err := q.progress(prog, start, emit); err != nil {
		return SearchCancelled, err
	}
	return "", nil
}

// progress emits a progress event.
func (q *Search) progress(prog *SearchProgress, start time.Time, emit func(SearchEvent) error) error {
	q.snapshot(prog, start)
	return emit(SearchEvent{Type: "progress", Progress: prog})
}

// reading counts the partitions not read to their end: a round of fetches has one for each.
func (q *Search) reading() int {
	n := 0
	for _, p := range q.parts {
		if !p.Done {
			n++
		}
	}
	return max(n, 1)
}

// issue starts fetches, round-robin over the partitions with records left to fetch and none in
// flight, until Prefetch are queued or the record and byte budgets left are held.
func (q *Search) issue(ctx context.Context, wg *sync.WaitGroup, st *scanState, prog *SearchProgress) {
	for len(st.queue) < q.limits.Prefetch {
		p := q.nextToFetch(st)
		if p == nil {
			return
		}
		n := min(int64(q.limits.FetchRecords), p.End-p.fetchPos, q.limits.MaxRecords-prog.Records-st.heldRecords)
		// One byte past the budget, so a fetch at the limit still reads the record that reaches it.
		b := min(q.limits.FetchBytes, q.limits.MaxBytes-prog.Bytes-st.heldBytes+1)
		if n <= 0 || b <= 0 {
			return
		}
		f := &searchFetch{part: p, offset: p.fetchPos, records: n, bytes: b, done: make(chan struct{})}
		p.inFlight = true
		st.heldRecords += n
		st.heldBytes += b
		st.queue = append(st.queue, f)
		if q.observe != nil {
			q.observe(len(st.queue), st.heldBytes)
		}
		wg.Go(func() { q.fetch(ctx, f) })
	}
}

// nextToFetch is the next partition round-robin with records left to fetch and no fetch in flight.
func (q *Search) nextToFetch(st *scanState) *searchPart {
	for range q.parts {
		p := q.parts[st.next%len(q.parts)]
		st.next++
		if !p.Done && !p.inFlight && p.fetchPos < p.End {
			return p
		}
	}
	return nil
}

// fetch reads f's records and masks and filters each; it runs on its own goroutine and touches
// only f and the partition's fixed fields.
func (q *Search) fetch(ctx context.Context, f *searchFetch) {
	defer close(f.done)
	p := f.part
	res, err := q.c.client.FetchMessages(ctx, q.md, q.topic, p.Partition, f.offset, int(f.records), f.bytes, 100*time.Millisecond)
	if err != nil {
		f.err = err
		return
	}
	if len(res.Messages) == 0 {
		// Nothing readable below the range's end (compacted away, aborted or control records):
		// the partition is done rather than asked for the same offset again.
		f.atEnd = true
		return
	}
	f.recs = make([]searchRec, 0, len(res.Messages))
	for _, m := range res.Messages {
		if m.Offset >= p.End {
			f.atEnd = true
			break
		}
		r := searchRec{orig: m, size: recordSize(m)}
		r.seen, r.match = q.match(m)
		f.recs = append(f.recs, r)
		f.size += r.size
	}
}

// recordSize is what a record counts against MaxBytes: its key, value and headers.
func recordSize(m admin.Message) int64 {
	size := int64(len(m.Key) + len(m.Value))
	for _, h := range m.Headers {
		size += int64(len(h.Key) + len(h.Value))
	}
	return size
}

// match masks m and evaluates the filter on the masked record. Masking comes first so a value the
// caller may not see cannot be found by searching for it; a record masking drops never matches.
func (q *Search) match(m admin.Message) (admin.Message, bool) {
	if q.mask != nil {
		var keep bool
		if m, keep = q.mask(m); !keep {
			return m, false
		}
	}
	rec := msgfilter.Record{Key: m.Key, Value: m.Value, Timestamp: m.Time, Partition: m.Partition, Offset: m.Offset,
		Headers: make(map[string]string, len(m.Headers))}
	for _, h := range m.Headers {
		rec.Headers[h.Key] = string(h.Value)
	}
	ok, _ := q.filter.Match(rec) // an evaluation error (a missing field) is no match
	return m, ok
}

// handleFetch counts f's records into the progress in order and emits (or collects) the matches;
// it returns the limit that stopped the search, or the error of emit or collect.
func (q *Search) handleFetch(f *searchFetch, prog *SearchProgress, emit func(SearchEvent) error) (string, error) {
	p := f.part
	for i := range f.recs {
		r := &f.recs[i]
		p.Position, p.Records, p.Bytes = r.orig.Offset+1, p.Records+1, p.Bytes+r.size
		prog.Records, prog.Bytes = prog.Records+1, prog.Bytes+r.size
		if r.match {
			p.Matches++
			prog.Matches++
			if err := q.deliver(r, emit); err != nil {
				return "", err
			}
		}
		if prog.Matches >= q.limits.MaxResults {
			return SearchMaxResults, nil
		}
		if prog.Bytes >= q.limits.MaxBytes {
			return SearchMaxBytes, nil
		}
		if prog.Records >= q.limits.MaxRecords {
			return SearchMaxRecords, nil
		}
	}
	if f.atEnd || p.Position >= p.End {
		p.Done = true
	}
	return "", nil
}

// deliver hands a match to the collector (a redrive: the record as fetched) or emits it.
func (q *Search) deliver(r *searchRec, emit func(SearchEvent) error) error {
	if q.collect != nil {
		return q.collect(r.orig)
	}
	v := messageView(r.seen)
	if q.full {
		v = fullMessageView(r.seen)
	}
	if err := emit(SearchEvent{Type: "message", Message: &v}); err != nil {
		return &emitError{err}
	}
	return nil
}
