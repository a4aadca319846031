package testenv

import (
	"sync"
	"time"
)

// FakeClock is a clock that moves only when a test advances it; pass its Now where a package
// takes an injectable clock (collector.Config.Now, alert.Options.Now, service.Options.Now).
type FakeClock struct {
	mu  sync.Mutex
	now time.Time
}

// NewFakeClock starts the clock at start.
func NewFakeClock(start time.Time) *FakeClock { return &FakeClock{now: start} }

// Now is the clock's time.
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock by d and returns the new time.
func (c *FakeClock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return c.now
}
