package service

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/osprey-kafka/osprey/collector"
)

// Defaults of the sample buffer (Options.SampleBuffer).
const (
	defaultSampleBufferMax = 1000
	defaultSampleRetry     = time.Second
	maxSampleRetry         = 15 * time.Second
)

// SampleBufferOptions bound the in-memory buffer between the collectors and the database.
type SampleBufferOptions struct {
	// Max is how many cycles' samples (one cluster's poll each) wait while the database does not
	// answer; past it the oldest is dropped and counted (1000).
	Max int
	// WriteTimeout bounds one write (Collector.SinkTimeout, else 30 s).
	WriteTimeout time.Duration
	// Retry is the first wait after a failed write; it doubles up to MaxRetry (1 s, 15 s).
	Retry, MaxRetry time.Duration
}

// DatabaseStatus is what the console knows about its database from its own writes.
type DatabaseStatus struct {
	Available bool `json:"available" description:"False while the console's writes of time series fail"`
	// DownSince is when writes started failing; nil while they succeed.
	DownSince *time.Time `json:"downSince,omitempty" description:"When the database stopped answering the console's writes"`
	Error     string     `json:"error,omitempty" description:"The last write error while the database is unavailable"`
	Buffered  int        `json:"buffered" description:"Cycles of samples waiting in memory to be written"`
	Dropped   int64      `json:"dropped" description:"Cycles of samples dropped since the start because the buffer was full"`
	Written   int64      `json:"written" description:"Cycles of samples written since the start"`
}

// sampleBuffer stands between the collectors and the store. A collector hands it each cycle's
// samples without waiting; one writer goroutine (run) writes them in arrival order. While the
// database does not answer, samples wait in memory, at most max of them; past that the oldest is
// dropped and counted. When a write fails but the database answers a ping, the samples themselves
// were refused: they are dropped (logged) so that one bad batch cannot hold back the others.
type sampleBuffer struct {
	sink    collector.Sink
	ping    func(context.Context) error
	opts    SampleBufferOptions
	log     *slog.Logger
	now     func() time.Time
	wake    chan struct{} // capacity 1: "the queue grew"
	mu      sync.Mutex    // guards the fields below
	running bool
	queue   []*collector.Samples
	dropped int64
	written int64
	since   time.Time // first failure of the current outage; zero while writes succeed
	lastErr string
}

func newSampleBuffer(sink collector.Sink, ping func(context.Context) error, o SampleBufferOptions, log *slog.Logger, now func() time.Time) *sampleBuffer {
	if o.Max <= 0 {
		o.Max = defaultSampleBufferMax
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 30 * time.Second
	}
	if o.Retry <= 0 {
		o.Retry = defaultSampleRetry
	}
	if o.MaxRetry < o.Retry {
		o.MaxRetry = max(o.Retry, maxSampleRetry)
	}
	return &sampleBuffer{sink: sink, ping: ping, opts: o, log: log, now: now, wake: make(chan struct{}, 1)}
}

// WriteSamples queues smp while the writer runs and returns at once; before Start and after Stop
// it writes directly, so a poll outside the running service still lands in the database.
func (b *sampleBuffer) WriteSamples(ctx context.Context, smp *collector.Samples) error {
	b.mu.Lock()
	if !b.running {
		b.mu.Unlock()
		return b.sink.WriteSamples(ctx, smp)
	}
	b.queue = append(b.queue, smp)
	if len(b.queue) > b.opts.Max {
		b.queue[0] = nil
		b.queue = b.queue[1:]
		b.dropped++
	}
	b.mu.Unlock()
	select {
	case b.wake <- struct{}{}:
	default:
	}
	return nil
}

// Status reports the database as the writer last saw it.
func (b *sampleBuffer) Status() DatabaseStatus {
	b.mu.Lock()
	defer b.mu.Unlock()
	st := DatabaseStatus{Available: b.since.IsZero(), Buffered: len(b.queue), Dropped: b.dropped, Written: b.written}
	if !b.since.IsZero() {
		t := b.since
		st.DownSince, st.Error = &t, b.lastErr
	}
	return st
}

func (b *sampleBuffer) head() *collector.Samples {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.queue) == 0 {
		return nil
	}
	return b.queue[0]
}

// done removes s, the head when its write started, after it was written (ok) or refused; a full
// buffer may have dropped it meanwhile.
func (b *sampleBuffer) done(s *collector.Samples, ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.queue) > 0 && b.queue[0] == s {
		b.queue[0] = nil
		b.queue = b.queue[1:]
	}
	if ok {
		b.written++
	}
	if !b.since.IsZero() {
		b.log.Info("the database answers again", "down_for", b.now().Sub(b.since).Round(time.Millisecond), "buffered", len(b.queue), "dropped", b.dropped)
	}
	b.since, b.lastErr = time.Time{}, ""
}

func (b *sampleBuffer) failed(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.since.IsZero() {
		b.since = b.now()
		b.log.Warn("the database does not answer; buffering samples", "err", err)
	}
	b.lastErr = err.Error()
}

// run writes queued samples until ctx ends, then tries once more to write what is left.
func (b *sampleBuffer) run(ctx context.Context) {
	b.mu.Lock()
	b.running = true
	b.mu.Unlock()
	retry := b.opts.Retry
	for {
		s := b.head()
		if s == nil {
			select {
			case <-ctx.Done():
				b.stop()
				return
			case <-b.wake:
				continue
			}
		}
		if b.write(ctx, s) {
			retry = b.opts.Retry
			continue
		}
		t := time.NewTimer(retry)
		select {
		case <-ctx.Done():
			t.Stop()
			b.stop()
			return
		case <-t.C:
		}
		retry = min(2*retry, b.opts.MaxRetry)
	}
}

// write writes s and reports whether the queue may move on.
func (b *sampleBuffer) write(ctx context.Context, s *collector.Samples) bool {
	wctx, cancel := context.WithTimeout(ctx, b.opts.WriteTimeout)
	err := b.sink.WriteSamples(wctx, s)
	cancel()
	if err == nil {
		b.done(s, true)
		return true
	}
	if ctx.Err() != nil {
		return false
	}
	pctx, cancel := context.WithTimeout(ctx, b.opts.WriteTimeout)
	perr := b.ping(pctx)
	cancel()
	if perr == nil {
		b.log.Warn("samples refused by the database; dropped", "cluster", s.Cluster, "err", err)
		b.done(s, false)
		return true
	}
	b.failed(err)
	return false
}

// stop makes later writes direct and writes what is queued, once each, until the first failure.
func (b *sampleBuffer) stop() {
	b.mu.Lock()
	b.running = false
	q := b.queue
	b.queue = nil
	b.mu.Unlock()
	for i, s := range q {
		ctx, cancel := context.WithTimeout(context.Background(), b.opts.WriteTimeout)
		err := b.sink.WriteSamples(ctx, s)
		cancel()
		if err != nil {
			b.log.Warn("samples not written at stop", "cycles", len(q)-i, "err", err)
			return
		}
	}
}
