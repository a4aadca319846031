package collector

import (
	"time"

	"github.com/osprey-kafka/osprey/internal/ringbuf"
)

// ring is one partition's recent log-end offset observations, oldest first.
// Owned by the poll goroutine.
type ring struct {
	obs *ringbuf.Ring[observation]
}

// observation is one log-end offset seen at a time (unix nanoseconds).
type observation struct{ ts, end int64 }

func newRing(size int) *ring { return &ring{obs: ringbuf.New[observation](size)} }

// add records an observation; observations must come in time order.
func (r *ring) add(t time.Time, end int64) {
	r.obs.Add(observation{ts: t.UnixNano(), end: end})
}

// at returns the i-th observation's time and offset, 0 = oldest.
func (r *ring) at(i int) (int64, int64) {
	o := r.obs.At(i)
	return o.ts, o.end
}

// newestEnd is the latest observed log-end offset (-1 when empty).
func (r *ring) newestEnd() int64 {
	if r.obs.Len() == 0 {
		return -1
	}
	_, e := r.at(r.obs.Len() - 1)
	return e
}

// lagSeconds estimates how long ago the log end was at committed, as of now.
// See the package documentation for the method.
func (r *ring) lagSeconds(committed int64, now time.Time) float64 {
	if r == nil || r.obs.Len() == 0 {
		return 0
	}
	n := r.obs.Len()
	nowNs := now.UnixNano()
	_, newestEnd := r.at(n - 1)
	if committed >= newestEnd {
		return 0
	}
	// Times are handled relative to now: unix nanoseconds do not fit a float64 exactly.
	rel := func(t int64) float64 { return float64(t - nowNs) }
	// Walk back to the newest observation at or below committed.
	for i := n - 1; i >= 0; i-- {
		t, e := r.at(i)
		if e > committed {
			continue
		}
		if i == n-1 {
			return secs(-rel(t))
		}
		t2, e2 := r.at(i + 1)
		at := rel(t) + float64(committed-e)/float64(e2-e)*float64(t2-t)
		return secs(-at)
	}
	// Committed is older than the window: extrapolate at the window's rate.
	oldT, oldE := r.at(0)
	newT, newE := r.at(n - 1)
	at := rel(oldT)
	if newT > oldT && newE > oldE {
		rate := float64(newE-oldE) / float64(newT-oldT) // offsets per ns
		at -= float64(oldE-committed) / rate
	}
	return secs(-at)
}

func secs(ns float64) float64 {
	if ns <= 0 {
		return 0
	}
	return ns / 1e9
}
