package collector

import "time"

// ring is one partition's recent (time, log-end offset) observations, oldest
// first once full. Owned by the poll goroutine.
type ring struct {
	ts   []int64 // unix nanoseconds
	end  []int64
	next int // slot for the next observation
	n    int // observations held
}

func newRing(size int) *ring { return &ring{ts: make([]int64, size), end: make([]int64, size)} }

// add records an observation; observations must come in time order.
func (r *ring) add(t time.Time, end int64) {
	r.ts[r.next], r.end[r.next] = t.UnixNano(), end
	r.next = (r.next + 1) % len(r.ts)
	if r.n < len(r.ts) {
		r.n++
	}
}

// at returns the i-th observation, 0 = oldest.
func (r *ring) at(i int) (int64, int64) {
	j := (r.next - r.n + i + len(r.ts)) % len(r.ts)
	return r.ts[j], r.end[j]
}

// newestEnd is the latest observed log-end offset (-1 when empty).
func (r *ring) newestEnd() int64 {
	if r.n == 0 {
		return -1
	}
	_, e := r.at(r.n - 1)
	return e
}

// lagSeconds estimates how long ago the log end was at committed, as of now.
// See the package documentation for the method.
func (r *ring) lagSeconds(committed int64, now time.Time) float64 {
	if r == nil || r.n == 0 {
		return 0
	}
	nowNs := now.UnixNano()
	_, newestEnd := r.at(r.n - 1)
	if committed >= newestEnd {
		return 0
	}
	// Times are handled relative to now: unix nanoseconds do not fit a float64 exactly.
	rel := func(t int64) float64 { return float64(t - nowNs) }
	// Walk back to the newest observation at or below committed.
	for i := r.n - 1; i >= 0; i-- {
		t, e := r.at(i)
		if e > committed {
			continue
		}
		if i == r.n-1 {
			return secs(-rel(t))
		}
		t2, e2 := r.at(i + 1)
		at := rel(t) + float64(committed-e)/float64(e2-e)*float64(t2-t)
		return secs(-at)
	}
	// Committed is older than the window: extrapolate at the window's rate.
	oldT, oldE := r.at(0)
	newT, newE := r.at(r.n - 1)
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
