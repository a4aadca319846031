// Package forecast computes the storage figures Osprey shows and alerts on: how fast a log
// directory grows (least squares over its recorded history), how many days are left until it is
// full at that rate, and the size a topic settles at under its retention settings. It is pure:
// every figure is a function of the points and settings passed in.
package forecast

import (
	"math"
	"time"
)

// Day is the unit of the growth rate.
const Day = 24 * time.Hour

// Point is one recorded size: the bytes a log directory's partitions used at a time.
type Point struct {
	At   time.Time
	Used int64
}

// Growth is the slope of the least-squares line through the points, in bytes per day. ok is false
// when fewer than two points are given or they all share one time: there is no rate to tell. The
// points may come in any order; times are taken relative to the first point's so that the sums
// stay well inside float64 precision.
func Growth(points []Point) (bytesPerDay float64, ok bool) {
	if len(points) < 2 {
		return 0, false
	}
	t0 := points[0].At
	n := float64(len(points))
	var sx, sy float64
	for _, p := range points {
		sx += p.At.Sub(t0).Seconds()
		sy += float64(p.Used)
	}
	mx, my := sx/n, sy/n
	var sxx, sxy float64
	for _, p := range points {
		dx := p.At.Sub(t0).Seconds() - mx
		sxx += dx * dx
		sxy += dx * (float64(p.Used) - my)
	}
	if sxx == 0 {
		return 0, false
	}
	return sxy / sxx * Day.Seconds(), true
}

// DaysUntilFull is how many days the usable bytes last at bytesPerDay. ok is false when the
// directory is not growing (a rate of zero or less) or its usable bytes are unknown (negative).
func DaysUntilFull(usable int64, bytesPerDay float64) (days float64, ok bool) {
	if usable < 0 || bytesPerDay <= 0 || math.IsNaN(bytesPerDay) {
		return 0, false
	}
	return float64(usable) / bytesPerDay, true
}

// Retention is a topic's retention settings as described: -1 means no limit.
type Retention struct {
	// Ms is retention.ms; Bytes is retention.bytes (a limit per partition).
	Ms, Bytes int64
	// Delete and Compact are the cleanup.policy's parts (it may name both).
	Delete, Compact bool
}

// Basis names how a settle size was reached.
type Basis string

// The bases of a settle size.
const (
	// BasisBytes: retention.bytes × partitions × replication factor (the time bound is larger or unknown).
	BasisBytes Basis = "retention_bytes"
	// BasisTime: produce byte rate × retention.ms × replication factor (below the bytes bound, or none set).
	BasisTime Basis = "retention_time"
	// BasisUnbounded: delete policy with retention.ms and retention.bytes both -1: it grows for ever.
	BasisUnbounded Basis = "unbounded"
	// BasisCompacted: compact-only policy: the size follows the number of distinct keys, which
	// the console does not know.
	BasisCompacted Basis = "compacted"
	// BasisUnknown: only a time limit and no produce rate to multiply it by.
	BasisUnknown Basis = "unknown"
)

// Settle is the size a topic settles at across all its replicas. Bytes is -1 unless Basis is
// BasisBytes or BasisTime. Compacted notes a policy that also compacts (delete,compact): the
// figure is then an upper bound.
type Settle struct {
	Bytes     int64 `json:"bytes"`
	Basis     Basis `json:"basis"`
	Compacted bool  `json:"compacted"`
}

// SettleSize is the size a topic settles at under its retention, over all replicas: with a delete
// policy, the smaller of retention.bytes × partitions × replicationFactor (when retention.bytes is
// set) and bytesPerSec × retention.ms × replicationFactor (when retention.ms is set and the rate
// is known, bytesPerSec ≥ 0 being the produce rate into one copy). Kafka deletes whole segments,
// so a partition can hold up to one segment more than either bound; that is not added.
func SettleSize(r Retention, partitions, replicationFactor int, bytesPerSec float64) Settle {
	s := Settle{Bytes: -1, Compacted: r.Compact}
	if !r.Delete {
		s.Basis = BasisCompacted
		return s
	}
	rf := float64(replicationFactor)
	byBytes, byTime := -1.0, -1.0
	if r.Bytes >= 0 {
		byBytes = float64(r.Bytes) * float64(partitions) * rf
	}
	if r.Ms >= 0 && bytesPerSec >= 0 && !math.IsNaN(bytesPerSec) {
		byTime = bytesPerSec * float64(r.Ms) / 1000 * rf
	}
	switch {
	case byBytes >= 0 && (byTime < 0 || byBytes <= byTime):
		s.Bytes, s.Basis = clampInt64(byBytes), BasisBytes
	case byTime >= 0:
		s.Bytes, s.Basis = clampInt64(byTime), BasisTime
	case r.Ms < 0:
		s.Basis = BasisUnbounded
	default:
		s.Basis = BasisUnknown
	}
	return s
}

func clampInt64(f float64) int64 {
	if f >= math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(math.Round(f))
}
