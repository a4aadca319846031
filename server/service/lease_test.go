package service

import (
	"context"
	"sync"
	"testing"
	"time"
)

// fakeClock is one clock read as both the database's and the consoles' local clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// clockedStore is a real store whose database clock is the fake clock.
type clockedStore struct {
	leaseStore
	clock *fakeClock
}

func (s clockedStore) DBNow(context.Context) (time.Time, error) { return s.clock.Now(), nil }

// TestLeaseStateMachine walks two consoles through one cluster's lease on a fake clock: the first
// takes it and renews it, the second cannot take it while it is renewed, takes it over once two
// renewals were missed (epoch 2), and the first's late renewal and snapshot write are refused.
func TestLeaseStateMachine(t *testing.T) {
	ctx := context.Background()
	st := newOpsTestStore(t)
	clock := &fakeClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	cs := clockedStore{leaseStore: st, clock: clock}
	const interval = 10 * time.Second
	a := newLeaseKeeper(cs, "prod", "a", 2*interval, clock.Now)
	b := newLeaseKeeper(cs, "prod", "b", 2*interval, clock.Now)

	tick := func(k *leaseKeeper, want bool) {
		t.Helper()
		got, err := k.Tick(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("at %s, %s ticks and holds=%v, want %v", clock.Now().Format(time.TimeOnly), k.holder, got, want)
		}
	}
	tick(a, true)
	tick(b, false)
	if a.Epoch() != 1 || b.Epoch() != 0 {
		t.Fatalf("epochs a=%d b=%d, want 1 and 0", a.Epoch(), b.Epoch())
	}
	// a renews every interval: b never gets it.
	for range 5 {
		clock.Advance(interval)
		tick(a, true)
		tick(b, false)
	}
	// a stops renewing (paused). One missed renewal is not enough.
	clock.Advance(interval)
	tick(b, false)
	if !a.Held() {
		t.Fatal("a lost its lease one interval after its last renewal")
	}
	// Two missed renewals: a's own view has ended, and b takes over with the next epoch.
	clock.Advance(interval)
	if a.Held() {
		t.Fatal("a still counts its lease as held two intervals after its last renewal")
	}
	tick(b, true)
	if b.Epoch() != 2 {
		t.Fatalf("b's epoch = %d, want 2", b.Epoch())
	}
	// a wakes up: its write with its old epoch is refused, and its renewal fails.
	if ok, err := st.SaveSnapshot(ctx, "prod", "a", 1, clock.Now(), []byte("stale")); err != nil || ok {
		t.Fatalf("stale holder's snapshot write: ok=%v err=%v, want refused", ok, err)
	}
	if ok, err := st.SaveSnapshot(ctx, "prod", "b", 2, clock.Now(), []byte("fresh")); err != nil || !ok {
		t.Fatalf("holder's snapshot write: ok=%v err=%v, want accepted", ok, err)
	}
	tick(a, false)
	tick(b, true)
	if body, _, ok, err := st.LoadSnapshot(ctx, "prod", time.Time{}); err != nil || !ok || string(body) != "fresh" {
		t.Fatalf("stored snapshot %q ok=%v err=%v, want the holder's", body, ok, err)
	}
	// A clean stop releases the lease: the other takes it at once.
	if err := b.Release(ctx); err != nil {
		t.Fatal(err)
	}
	tick(a, true)
	if a.Epoch() != 3 {
		t.Fatalf("a's epoch after b released = %d, want 3", a.Epoch())
	}
}
