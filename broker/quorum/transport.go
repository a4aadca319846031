package quorum

import (
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Message is one request or response between two nodes. Exactly one of Request and Response is
// set. A response carries its request's Correlation, so that a node can tell the answer to the
// request it is waiting for from a late or duplicated one.
type Message struct {
	From, To    int32
	Correlation int32
	Request     kmsg.Request
	Response    kmsg.Response
}

// Transport carries a Node's messages. Send must not block and must not call back into the node:
// the node is in the middle of a state change when it sends. Delivery is unreliable — a message may
// be lost, delayed, duplicated or reordered — and the node is correct under all of these. Delivered
// messages are handed to the receiving node's Step by its owner.
type Transport interface {
	Send(m Message)
}

// Clock tells a Node the time. The node reads it in Step, Tick and the client calls, and never
// waits on it; timers are deadlines compared on each Tick.
type Clock interface {
	Now() time.Time
}

// ManualClock is a Clock that moves only when told; the simulator owns it.
type ManualClock struct{ t time.Time }

// NewManualClock returns a clock at start.
func NewManualClock(start time.Time) *ManualClock { return &ManualClock{t: start} }

func (c *ManualClock) Now() time.Time          { return c.t }
func (c *ManualClock) Advance(d time.Duration) { c.t = c.t.Add(d) }
