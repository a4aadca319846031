package server

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/osprey-kafka/osprey/collector"
)

// This file serves GET /api/v1/events, a Server-Sent Events stream: a `snapshot` event for every new
// snapshot of every cluster (and the latest of each on connect), events pushed through Publish (alerts,
// reassignment changes), and a heartbeat comment every 15 s so proxies keep the connection open.

const eventsRoute = "/api/v1/events"

// Bounds: a stream costs a goroutine per cluster plus a small queue; a slow reader loses events (each
// snapshot event supersedes the previous one) instead of holding memory.
const (
	maxEventClients  = 1000
	clientQueue      = 64
	defaultHeartbeat = 15 * time.Second
)

type sseEvent struct {
	name string
	data []byte
}

// eventHub fans published events out to the connected streams. Its fields are guarded by mu, except
// heartbeat, which is set before the first stream starts.
type eventHub struct {
	log       *slog.Logger
	heartbeat time.Duration

	mu      sync.Mutex
	clients map[chan sseEvent]struct{}
	closed  bool
	done    chan struct{} // closed by close: every stream ends

	dropped   atomic.Int64
	published atomic.Int64
}

func newEventHub(log *slog.Logger) *eventHub {
	if log == nil {
		log = slog.Default()
	}
	return &eventHub{log: log, heartbeat: defaultHeartbeat, clients: map[chan sseEvent]struct{}{}, done: make(chan struct{})}
}

func (h *eventHub) add() (chan sseEvent, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, fmt.Errorf("the console is shutting down")
	}
	if len(h.clients) >= maxEventClients {
		return nil, fmt.Errorf("too many event streams (%d); close some", maxEventClients)
	}
	ch := make(chan sseEvent, clientQueue)
	h.clients[ch] = struct{}{}
	return ch, nil
}

func (h *eventHub) remove(ch chan sseEvent) {
	h.mu.Lock()
	delete(h.clients, ch)
	h.mu.Unlock()
}

func (h *eventHub) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.clients)
}

// publish queues an event for every stream without blocking; a full queue drops it for that stream.
func (h *eventHub) publish(ev sseEvent) {
	h.published.Add(1)
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.clients {
		select {
		case ch <- ev:
		default:
			h.dropped.Add(1)
		}
	}
}

// close ends every stream and refuses new ones (server shutdown).
func (h *eventHub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.closed {
		h.closed = true
		close(h.done)
	}
}

// metrics exposes the hub's figures to the Server's registry.
func (h *eventHub) metrics() prometheus.Collector { return hubCollector{h} }

type hubCollector struct{ h *eventHub }

var (
	dSSEClients   = prometheus.NewDesc("osprey_sse_clients", "Connected Server-Sent Events streams.", nil, nil)
	dSSEPublished = prometheus.NewDesc("osprey_sse_events_published_total", "Events published through Publish.", nil, nil)
	dSSEDropped   = prometheus.NewDesc("osprey_sse_events_dropped_total", "Events dropped for streams that read too slowly.", nil, nil)
)

func (c hubCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- dSSEClients
	ch <- dSSEPublished
	ch <- dSSEDropped
}

func (c hubCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(dSSEClients, prometheus.GaugeValue, float64(c.h.count()))
	ch <- prometheus.MustNewConstMetric(dSSEPublished, prometheus.CounterValue, float64(c.h.published.Load()))
	ch <- prometheus.MustNewConstMetric(dSSEDropped, prometheus.CounterValue, float64(c.h.dropped.Load()))
}

// Publish pushes an event (for example "alert") to every connected stream. data is sent as JSON.
// It never blocks; safe for concurrent use.
func (s *Server) Publish(event string, data any) {
	if event == "" || strings.ContainsAny(event, "\r\n:") {
		s.opts.Logger.Error("refusing to publish an event with a bad name", "event", event)
		return
	}
	b, err := json.Marshal(data)
	if err != nil {
		s.opts.Logger.Error("publishing an event", "event", event, "err", err)
		return
	}
	s.ext().hub.publish(sseEvent{name: event, data: b})
}

// closeEvents ends every open event stream. http.Server.Shutdown does not cancel running handlers, so
// Serve must call this (hs.RegisterOnShutdown(s.closeEvents)) or shutdown waits for every stream.
func (s *Server) closeEvents() { s.ext().hub.close() }

// registerEvents adds GET /events (under /api/v1).
func (s *Server) registerEvents(api *gin.RouterGroup) {
	api.GET("/events", s.events)
}

// snapshotEvent is the payload of a `snapshot` event.
type snapshotEvent struct {
	Cluster    string           `json:"cluster"`
	Sequence   uint64           `json:"sequence"`
	LastPoll   time.Time        `json:"lastPoll"`
	Controller int32            `json:"controller"`
	Partial    bool             `json:"partial"`
	Totals     collector.Totals `json:"totals"`
}

func (s *Server) events(c *gin.Context) {
	hub := s.ext().hub
	own, err := hub.add()
	if err != nil {
		writeError(c, http.StatusServiceUnavailable, "unavailable", err.Error())
		return
	}
	defer hub.remove(own)
	ctx := c.Request.Context()

	// One forwarding goroutine per cluster subscription, all stopped (and waited for) on return.
	merged := make(chan *collector.Snapshot, 16)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	cancels := map[string]func(){}
	defer func() {
		close(stop)
		for _, cancel := range cancels {
			cancel()
		}
		wg.Wait()
	}()
	sent := map[string]uint64{} // last sequence sent per cluster: the initial snapshot may arrive twice
	var initial []*collector.Snapshot
	subscribe := func() {
		for _, cl := range s.svc.Clusters() {
			if _, ok := cancels[cl.Name]; ok {
				continue
			}
			ch, cancel, err := s.svc.Subscribe(cl.Name, 1)
			if err != nil {
				continue // removed meanwhile
			}
			cancels[cl.Name] = cancel
			wg.Add(1)
			go func() {
				defer wg.Done()
				for snap := range ch {
					select {
					case merged <- snap:
					case <-stop:
						return
					}
				}
			}()
			if snap, err := s.svc.Snapshot(cl.Name); err == nil && snap != nil {
				initial = append(initial, snap)
			}
		}
	}

	h := c.Writer.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("Connection", "keep-alive")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	c.Status(http.StatusOK)
	w := c.Writer
	write := func(format string, a ...any) bool {
		if _, err := fmt.Fprintf(w, format, a...); err != nil {
			return false
		}
		w.Flush()
		return true
	}
	sendSnapshot := func(snap *collector.Snapshot) bool {
		name := snap.Cluster.Name
		if snap.Cluster.Sequence <= sent[name] {
			return true
		}
		sent[name] = snap.Cluster.Sequence
		b, err := json.Marshal(snapshotEvent{Cluster: name, Sequence: snap.Cluster.Sequence, LastPoll: snap.Cluster.LastPoll,
			Controller: snap.Cluster.Controller, Partial: snap.Cluster.Partial, Totals: snap.Totals})
		if err != nil {
			return false
		}
		return write("event: snapshot\ndata: %s\n\n", b)
	}
	if !write("retry: 5000\n\n") {
		return
	}
	subscribe()
	for _, snap := range initial {
		if !sendSnapshot(snap) {
			return
		}
	}
	initial = nil
	tick := time.NewTicker(hub.heartbeat)
	defer tick.Stop()
	for {
		ok := true
		select {
		case <-ctx.Done():
			return
		case <-hub.done:
			return
		case ev := <-own:
			ok = write("event: %s\ndata: %s\n\n", ev.name, ev.data)
		case snap := <-merged:
			ok = sendSnapshot(snap)
		case <-tick.C:
			ok = write(": heartbeat\n\n")
			// Clusters added since the stream opened join it here.
			subscribe()
			for _, snap := range initial {
				ok = ok && sendSnapshot(snap)
			}
			initial = nil
		}
		if !ok {
			return
		}
	}
}
