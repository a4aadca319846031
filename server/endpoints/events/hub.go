package events

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Bounds: a stream costs a goroutine per cluster plus a small queue; a slow reader loses events (each
// snapshot event supersedes the previous one) instead of holding memory.
const (
	maxClients       = 1000
	clientQueue      = 64
	defaultHeartbeat = 15 * time.Second
)

type event struct {
	name string
	data []byte
}

// Hub fans published events out to the connected streams. Its fields are guarded by mu, except
// Heartbeat, which is set before the first stream starts.
type Hub struct {
	log *slog.Logger
	// Heartbeat is the interval of the comment that keeps proxies from closing an idle stream; it is
	// also when clusters added since a stream opened join it.
	Heartbeat time.Duration

	mu      sync.Mutex
	clients map[chan event]struct{}
	closed  bool
	done    chan struct{} // closed by Close: every stream ends

	dropped   atomic.Int64
	published atomic.Int64
}

// NewHub returns a hub with no streams.
func NewHub(log *slog.Logger) *Hub {
	if log == nil {
		log = slog.Default()
	}
	return &Hub{log: log, Heartbeat: defaultHeartbeat, clients: map[chan event]struct{}{}, done: make(chan struct{})}
}

var (
	errClosed  = errors.New("the console is shutting down")
	errTooMany = fmt.Errorf("too many event streams (%d); close some", maxClients)
)

func (h *Hub) add() (chan event, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, errClosed
	}
	if len(h.clients) >= maxClients {
		return nil, errTooMany
	}
	ch := make(chan event, clientQueue)
	h.clients[ch] = struct{}{}
	return ch, nil
}

func (h *Hub) remove(ch chan event) {
	h.mu.Lock()
	delete(h.clients, ch)
	h.mu.Unlock()
}

// Count is the number of connected streams.
func (h *Hub) Count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.clients)
}

// Publish pushes an event (for example "alert") to every connected stream; data is sent as JSON.
// A name that would break the stream's framing is refused (and logged). It never blocks: a stream
// whose queue is full loses the event. Safe for concurrent use.
func (h *Hub) Publish(name string, data any) {
	if name == "" || strings.ContainsAny(name, "\r\n:") {
		h.log.Error("refusing to publish an event with a bad name", "event", name)
		return
	}
	b, err := json.Marshal(data)
	if err != nil {
		h.log.Error("publishing an event", "event", name, "err", err)
		return
	}
	h.published.Add(1)
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.clients {
		select {
		case ch <- event{name: name, data: b}:
		default:
			h.dropped.Add(1)
		}
	}
}

// Close ends every stream and refuses new ones (server shutdown).
func (h *Hub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.closed {
		h.closed = true
		close(h.done)
	}
}

// Metrics exposes the hub's figures for a Prometheus registry.
func (h *Hub) Metrics() prometheus.Collector { return hubCollector{h} }

type hubCollector struct{ h *Hub }

var (
	dClients   = prometheus.NewDesc("osprey_sse_clients", "Connected Server-Sent Events streams.", nil, nil)
	dPublished = prometheus.NewDesc("osprey_sse_events_published_total", "Events published through Publish.", nil, nil)
	dDropped   = prometheus.NewDesc("osprey_sse_events_dropped_total", "Events dropped for streams that read too slowly.", nil, nil)
)

func (c hubCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- dClients
	ch <- dPublished
	ch <- dDropped
}

func (c hubCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(dClients, prometheus.GaugeValue, float64(c.h.Count()))
	ch <- prometheus.MustNewConstMetric(dPublished, prometheus.CounterValue, float64(c.h.published.Load()))
	ch <- prometheus.MustNewConstMetric(dDropped, prometheus.CounterValue, float64(c.h.dropped.Load()))
}
