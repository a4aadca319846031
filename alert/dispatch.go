package alert

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// errQueueFull is recorded on an event whose notification was dropped.
var errQueueFull = errors.New("notification queue full: dropped")

// deliveryResult reports one notification's fate to the evaluator.
type deliveryResult func(err error)

type job struct {
	n    Notification
	done deliveryResult
}

// queue is one channel's bounded queue and its worker.
type queue struct {
	id   int64
	ch   chan job
	quit chan struct{}

	mu     sync.Mutex // guards name, typ, sender
	name   string
	typ    ChannelType
	sender Sender
}

func (q *queue) current() (string, ChannelType, Sender) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.name, q.typ, q.sender
}

// dispatcher owns the per-channel queues. Enqueue never blocks.
type dispatcher struct {
	log *slog.Logger
	cfg dispatchConfig

	sent, errs, dropped *prometheus.CounterVec
	queued              *prometheus.GaugeVec

	mu     sync.Mutex // guards queues, ctx
	queues map[int64]*queue
	ctx    context.Context
	wg     sync.WaitGroup
}

type dispatchConfig struct {
	queueSize   int
	maxAttempts int
	backoffBase time.Duration
	backoffMax  time.Duration
	sendTimeout time.Duration
}

func newDispatcher(cfg dispatchConfig, reg prometheus.Registerer, log *slog.Logger) *dispatcher {
	d := &dispatcher{log: log, cfg: cfg, queues: map[int64]*queue{}}
	labels := []string{"channel", "type"}
	d.sent = register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "osprey", Subsystem: "alert", Name: "notifications_sent_total",
		Help: "Notifications delivered, per channel.",
	}, labels))
	d.errs = register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "osprey", Subsystem: "alert", Name: "notifications_errors_total",
		Help: "Failed delivery attempts, per channel.",
	}, labels))
	d.dropped = register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "osprey", Subsystem: "alert", Name: "notifications_dropped_total",
		Help: "Notifications given up: queue full, or every attempt failed.",
	}, labels))
	d.queued = register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: "osprey", Subsystem: "alert", Name: "notifications_queued",
		Help: "Notifications waiting in a channel's queue.",
	}, labels))
	return d
}

// register registers c, or reuses the collector already registered under
// the same name (two evaluators on one registry, tests).
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
	}
	return c
}

// start lets queues run workers under ctx; queues made before start get theirs now.
func (d *dispatcher) start(ctx context.Context) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.ctx = ctx
	for _, q := range d.queues {
		d.runWorker(q)
	}
}

// wait returns when every worker has exited (after ctx is cancelled).
func (d *dispatcher) wait() { d.wg.Wait() }

// runWorker starts q's worker. d.mu must be held and d.ctx set.
func (d *dispatcher) runWorker(q *queue) {
	if d.ctx == nil {
		return
	}
	ctx := d.ctx
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		d.work(ctx, q)
	}()
}

// setChannel creates or updates channel id's queue with a new sender.
func (d *dispatcher) setChannel(id int64, name string, typ ChannelType, s Sender) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if q, ok := d.queues[id]; ok {
		q.mu.Lock()
		q.name, q.typ, q.sender = name, typ, s
		q.mu.Unlock()
		return
	}
	q := &queue{id: id, name: name, typ: typ, sender: s, ch: make(chan job, d.cfg.queueSize), quit: make(chan struct{})}
	d.queues[id] = q
	d.runWorker(q)
}

// removeChannel stops channel id's worker; what is still queued is dropped.
func (d *dispatcher) removeChannel(id int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if q, ok := d.queues[id]; ok {
		close(q.quit)
		delete(d.queues, id)
	}
}

func (d *dispatcher) channelIDs() map[int64]bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make(map[int64]bool, len(d.queues))
	for id := range d.queues {
		out[id] = true
	}
	return out
}

// enqueue queues n for channel id without blocking. It returns an error when
// the channel is unknown or its queue is full (the drop is counted); done is
// then never called. Otherwise done is called once, from the worker, with
// the delivery's outcome.
func (d *dispatcher) enqueue(id int64, n Notification, done deliveryResult) error {
	d.mu.Lock()
	q, ok := d.queues[id]
	d.mu.Unlock()
	if !ok {
		return fmt.Errorf("channel %d does not exist or is disabled", id)
	}
	name, typ, _ := q.current()
	select {
	case q.ch <- job{n: n, done: done}:
		d.queued.WithLabelValues(name, string(typ)).Inc()
		return nil
	default:
		d.dropped.WithLabelValues(name, string(typ)).Inc()
		return fmt.Errorf("channel %s: %w", name, errQueueFull)
	}
}

func (d *dispatcher) work(ctx context.Context, q *queue) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-q.quit:
			d.drain(q)
			return
		case j := <-q.ch:
			name, typ, _ := q.current()
			d.queued.WithLabelValues(name, string(typ)).Dec()
			err := d.deliver(ctx, q, j.n)
			if j.done != nil {
				j.done(err)
			}
		}
	}
}

// drain gives up the jobs of a removed channel, reporting each.
func (d *dispatcher) drain(q *queue) {
	name, typ, _ := q.current()
	for {
		select {
		case j := <-q.ch:
			d.queued.WithLabelValues(name, string(typ)).Dec()
			d.dropped.WithLabelValues(name, string(typ)).Inc()
			if j.done != nil {
				j.done(fmt.Errorf("channel %s was removed or disabled before delivery", name))
			}
		default:
			return
		}
	}
}

// deliver tries up to maxAttempts times with exponential backoff; a
// permanent error (a 4xx answer) stops the retries.
func (d *dispatcher) deliver(ctx context.Context, q *queue, n Notification) error {
	var err error
	delay := d.cfg.backoffBase
	for attempt := 1; attempt <= d.cfg.maxAttempts; attempt++ {
		name, typ, s := q.current()
		actx, cancel := context.WithTimeout(ctx, d.cfg.sendTimeout)
		err = s.Send(actx, n)
		cancel()
		if err == nil {
			d.sent.WithLabelValues(name, string(typ)).Inc()
			return nil
		}
		d.errs.WithLabelValues(name, string(typ)).Inc()
		d.log.Warn("alert notification failed", "channel", name, "type", typ, "attempt", attempt, "fingerprint", n.Fingerprint, "err", err)
		if isPermanent(err) || attempt == d.cfg.maxAttempts {
			break
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			d.dropped.WithLabelValues(name, string(typ)).Inc()
			return fmt.Errorf("channel %s: %w (gave up at shutdown)", name, err)
		case <-q.quit:
			t.Stop()
			d.dropped.WithLabelValues(name, string(typ)).Inc()
			return fmt.Errorf("channel %s: %w (channel removed)", name, err)
		case <-t.C:
		}
		delay = min(delay*2, d.cfg.backoffMax)
	}
	name, typ, _ := q.current()
	d.dropped.WithLabelValues(name, string(typ)).Inc()
	return fmt.Errorf("channel %s: %w", name, err)
}
