package service

import (
	"sync"
	"time"
)

// Reassignment event kinds, in the order a reassignment goes through them.
const (
	ReassignEventStarted   = "started"
	ReassignEventProgress  = "progress"
	ReassignEventCompleted = "completed"
	ReassignEventCancelled = "cancelled"
	ReassignEventFailed    = "failed"
)

// ReassignmentEvent is a change of a reassignment started from the console, as the event stream sends
// it: the pages update their lists and the wizard its step from these, when the server records them.
type ReassignmentEvent struct {
	Cluster string `json:"cluster"`
	// ID is the recorded reassignment (0 when the console runs without a database).
	ID    int64  `json:"id"`
	Kind  string `json:"kind" enum:"started,progress,completed,cancelled,failed"`
	State string `json:"state"`
	// Remaining of Total partitions are not yet on their target replicas (progress events).
	Remaining int       `json:"remaining"`
	Total     int       `json:"total"`
	At        time.Time `json:"at"`
	Error     string    `json:"error,omitempty"`
}

// publish hands an event to the service's listener, if any. It never blocks on the listener's behalf:
// the listener (the SSE hub) must not block.
func (o *ops) publish(ev ReassignmentEvent) {
	if o.notify == nil {
		return
	}
	ev.Cluster = o.cluster
	if ev.At.IsZero() {
		ev.At = o.now().UTC()
	}
	o.notify(ev)
}

// progressMemo remembers the last progress published per reassignment. Every read of the reassignment
// list runs the completion check, and a page refreshes the list on each progress event: publishing
// only a change keeps that from feeding itself.
type progressMemo struct {
	mu   sync.Mutex // guards last
	last map[int64]int
}

// changed records remaining for id and reports whether it differs from the last one recorded.
func (m *progressMemo) changed(id int64, remaining int) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if prev, ok := m.last[id]; ok && prev == remaining {
		return false
	}
	if m.last == nil {
		m.last = map[int64]int{}
	}
	m.last[id] = remaining
	return true
}

// forget drops a finished reassignment.
func (m *progressMemo) forget(id int64) {
	m.mu.Lock()
	delete(m.last, id)
	m.mu.Unlock()
}

// publishProgress publishes a running reassignment's progress when it changed since the last one
// published (always, for ops without a memo).
func (o *ops) publishProgress(id int64, remaining, total int) {
	if o.progress != nil && !o.progress.changed(id, remaining) {
		return
	}
	o.publish(ReassignmentEvent{ID: id, Kind: ReassignEventProgress, State: ReassignRunning, Remaining: remaining, Total: total})
}

// finished publishes the end of a reassignment and forgets its progress.
func (o *ops) finished(ev ReassignmentEvent) {
	if o.progress != nil {
		o.progress.forget(ev.ID)
	}
	o.publish(ev)
}
