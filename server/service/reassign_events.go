package service

import "time"

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
	Kind  string `json:"kind"`
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
