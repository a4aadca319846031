package forecast

import (
	"math"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func hourly(used ...int64) []Point {
	out := make([]Point, len(used))
	for i, u := range used {
		out[i] = Point{At: t0.Add(time.Duration(i) * time.Hour), Used: u}
	}
	return out
}

func TestGrowth(t *testing.T) {
	for _, tc := range []struct {
		name   string
		points []Point
		want   float64
		ok     bool
	}{
		{"none", nil, 0, false},
		{"one", hourly(5), 0, false},
		{"same time", []Point{{t0, 1}, {t0, 9}}, 0, false},
		// 1 MiB an hour is 24 MiB a day.
		{"steady", hourly(0, 1<<20, 2<<20, 3<<20), 24 << 20, true},
		// Noise around a line: least squares recovers its slope (100 bytes/hour).
		{"noisy", hourly(0, 150, 150, 300, 400), 24 * 95, true},
		{"flat", hourly(7, 7, 7), 0, true},
		{"shrinking", hourly(300, 200, 100), -24 * 100, true},
		{"unordered", []Point{{t0.Add(2 * time.Hour), 200}, {t0, 0}, {t0.Add(time.Hour), 100}}, 2400, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := Growth(tc.points)
			if ok != tc.ok || math.Abs(got-tc.want) > 1e-6 {
				t.Fatalf("Growth = %v, %v; want %v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

// Growth keeps its precision with Unix-millisecond-sized times and terabyte-sized values.
func TestGrowthLargeValues(t *testing.T) {
	var pts []Point
	for i := range 2880 { // two days every minute, 1 GiB a day on top of 10 TiB
		at := t0.Add(time.Duration(i) * time.Minute)
		pts = append(pts, Point{At: at, Used: 10<<40 + int64(float64(1<<30)*at.Sub(t0).Hours()/24)})
	}
	got, ok := Growth(pts)
	if !ok || math.Abs(got-(1<<30)) > 1 {
		t.Fatalf("Growth = %v, %v; want 1 GiB/day", got, ok)
	}
}

func TestDaysUntilFull(t *testing.T) {
	for _, tc := range []struct {
		name   string
		usable int64
		rate   float64
		want   float64
		ok     bool
	}{
		{"growing", 10 << 30, 1 << 30, 10, true},
		{"full", 0, 1 << 30, 0, true},
		{"flat", 10 << 30, 0, 0, false},
		{"shrinking", 10 << 30, -5, 0, false},
		{"usable unknown", -1, 1 << 30, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := DaysUntilFull(tc.usable, tc.rate)
			if ok != tc.ok || got != tc.want {
				t.Fatalf("DaysUntilFull = %v, %v; want %v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestSettleSize(t *testing.T) {
	const week = 7 * 24 * 3600 * 1000
	for _, tc := range []struct {
		name      string
		r         Retention
		parts, rf int
		rate      float64
		want      Settle
	}{
		{"bytes only", Retention{Ms: -1, Bytes: 1 << 30, Delete: true}, 6, 3, 0, Settle{18 << 30, BasisBytes, false}},
		// 1 KiB/s for a week into one copy, three copies: 604800 KiB × 3.
		{"time only", Retention{Ms: week, Bytes: -1, Delete: true}, 6, 3, 1024, Settle{604800 * 1024 * 3, BasisTime, false}},
		{"time below bytes", Retention{Ms: week, Bytes: 1 << 40, Delete: true}, 6, 3, 1024, Settle{604800 * 1024 * 3, BasisTime, false}},
		{"bytes cap time", Retention{Ms: week, Bytes: 1 << 20, Delete: true}, 2, 1, 1024, Settle{2 << 20, BasisBytes, false}},
		{"idle topic", Retention{Ms: week, Bytes: -1, Delete: true}, 3, 1, 0, Settle{0, BasisTime, false}},
		{"unbounded", Retention{Ms: -1, Bytes: -1, Delete: true}, 3, 1, 1024, Settle{-1, BasisUnbounded, false}},
		{"rate unknown", Retention{Ms: week, Bytes: -1, Delete: true}, 3, 1, -1, Settle{-1, BasisUnknown, false}},
		{"rate unknown, bytes set", Retention{Ms: week, Bytes: 100, Delete: true}, 3, 1, -1, Settle{300, BasisBytes, false}},
		{"compacted", Retention{Ms: week, Bytes: 100, Compact: true}, 3, 1, 1024, Settle{-1, BasisCompacted, true}},
		{"delete and compact", Retention{Ms: -1, Bytes: 100, Delete: true, Compact: true}, 3, 2, 1024, Settle{600, BasisBytes, true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := SettleSize(tc.r, tc.parts, tc.rf, tc.rate); got != tc.want {
				t.Fatalf("SettleSize = %+v, want %+v", got, tc.want)
			}
		})
	}
}
