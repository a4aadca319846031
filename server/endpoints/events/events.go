// Package events serves GET /api/v1/events, a Server-Sent Events stream: a `snapshot` event for
// every new snapshot of every cluster (and the latest of each on connect), events pushed through
// Hub.Publish (alerts, reassignment changes), and a heartbeat comment so proxies keep the
// connection open.
package events

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/osprey-kafka/osprey/collector"
	"github.com/osprey-kafka/osprey/server/api"
	"github.com/osprey-kafka/osprey/server/service"
)

// Route is the stream's path. A stream lasts as long as its reader, so request-latency figures
// leave it out.
const Route = "/api/v1/events"

// Declare adds the stream. It writes its own answer (api.Raw): an event stream is not one JSON value.
func Declare(r *api.Registry, h *Hub, svc *service.Service) {
	r.Add(api.Raw[struct{}](http.MethodGet, Route, "text/event-stream", h.stream(svc),
		api.Doc("events", "Server-Sent Events: `snapshot` after every poll of every cluster, `alert` events, heartbeat comments every 15 s"),
		api.Errors(http.StatusServiceUnavailable), api.StreamOf[EventData]()))
}

// EventData documents the data of the stream's events; the event's name says which it is:
// `snapshot` (SnapshotEvent), `reassignment` (service.ReassignmentEvent), `alert` (the alert
// notification the channels receive, not typed here: its samples are free-form).
type EventData struct{}

// JSONSchemaOneOf lists the typed payloads for the document.
func (EventData) JSONSchemaOneOf() []any {
	return []any{SnapshotEvent{}, service.ReassignmentEvent{}}
}

// SnapshotEvent is the payload of a `snapshot` event.
type SnapshotEvent struct {
	Cluster    string           `json:"cluster"`
	Sequence   uint64           `json:"sequence"`
	LastPoll   time.Time        `json:"lastPoll"`
	Controller int32            `json:"controller"`
	Partial    bool             `json:"partial"`
	Totals     collector.Totals `json:"totals"`
}

func (h *Hub) stream(svc *service.Service) gin.HandlerFunc {
	return func(c *gin.Context) {
		own, err := h.add()
		if err != nil {
			c.AbortWithStatusJSON(http.StatusServiceUnavailable, api.ErrorBody{Error: api.ErrorDetail{Code: "unavailable", Message: err.Error()}})
			return
		}
		defer h.remove(own)
		h.serve(c, svc, own)
	}
}

// serve writes the stream until the reader goes, the hub closes or a write fails.
func (h *Hub) serve(c *gin.Context, svc *service.Service, own chan event) {
	subs := &subscriptions{svc: svc, merged: make(chan *collector.Snapshot, 16), stop: make(chan struct{}), cancels: map[string]func(){}}
	defer subs.close()

	hdr := c.Writer.Header()
	hdr.Set("Content-Type", "text/event-stream")
	hdr.Set("Cache-Control", "no-cache")
	hdr.Set("Connection", "keep-alive")
	hdr.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	c.Status(http.StatusOK)
	out := &eventWriter{w: c.Writer, sent: map[string]uint64{}}
	if !out.write("retry: 5000\n\n") {
		return
	}
	// Clusters added since the stream opened join it at the next heartbeat.
	join := func() bool {
		for _, snap := range subs.add() {
			if !out.snapshot(snap) {
				return false
			}
		}
		return true
	}
	if !join() {
		return
	}
	tick := time.NewTicker(h.Heartbeat)
	defer tick.Stop()
	for {
		ok := true
		select {
		case <-c.Request.Context().Done():
			return
		case <-h.done:
			return
		case ev := <-own:
			ok = out.write("event: %s\ndata: %s\n\n", ev.name, ev.data)
		case snap := <-subs.merged:
			ok = out.snapshot(snap)
		case <-tick.C:
			ok = out.write(": heartbeat\n\n") && join()
		}
		if !ok {
			return
		}
	}
}

// subscriptions forward every cluster's new snapshots into merged, one goroutine per cluster, all
// stopped (and waited for) by close. Only the stream's goroutine calls add and close.
type subscriptions struct {
	svc     *service.Service
	merged  chan *collector.Snapshot
	stop    chan struct{}
	wg      sync.WaitGroup
	cancels map[string]func()
}

// add subscribes to the clusters not followed yet and returns their latest snapshots.
func (s *subscriptions) add() []*collector.Snapshot {
	var initial []*collector.Snapshot
	for _, cl := range s.svc.Clusters() {
		if _, ok := s.cancels[cl.Name]; ok {
			continue
		}
		ch, cancel, err := s.svc.Subscribe(cl.Name, 1)
		if err != nil {
			continue // removed meanwhile
		}
		s.cancels[cl.Name] = cancel
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			for snap := range ch {
				select {
				case s.merged <- snap:
				case <-s.stop:
					return
				}
			}
		}()
		if snap, err := s.svc.Snapshot(cl.Name); err == nil && snap != nil {
			initial = append(initial, snap)
		}
	}
	return initial
}

func (s *subscriptions) close() {
	close(s.stop)
	for _, cancel := range s.cancels {
		cancel()
	}
	s.wg.Wait()
}

// eventWriter frames events onto the answer, flushing each.
type eventWriter struct {
	w    gin.ResponseWriter
	sent map[string]uint64 // last sequence sent per cluster: the initial snapshot may arrive twice
}

func (e *eventWriter) write(format string, a ...any) bool {
	if _, err := fmt.Fprintf(e.w, format, a...); err != nil {
		return false
	}
	e.w.Flush()
	return true
}

func (e *eventWriter) snapshot(snap *collector.Snapshot) bool {
	name := snap.Cluster.Name
	if snap.Cluster.Sequence <= e.sent[name] {
		return true
	}
	e.sent[name] = snap.Cluster.Sequence
	b, err := json.Marshal(SnapshotEvent{Cluster: name, Sequence: snap.Cluster.Sequence, LastPoll: snap.Cluster.LastPoll,
		Controller: snap.Cluster.Controller, Partial: snap.Cluster.Partial, Totals: snap.Totals})
	if err != nil {
		return false
	}
	return e.write("event: snapshot\ndata: %s\n\n", b)
}
