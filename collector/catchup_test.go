package collector

import (
	"math"
	"testing"
	"time"
)

// A fixed history of polls 15 s apart: the estimate is the lag over the window's net rate, the
// range comes from the fastest and slowest interval, and the states follow the rates.
func TestCatchUpEstimateFromFixedHistory(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * 15 * time.Second) }
	// Producers add 150 per interval (10/s); the consumer commits 300, 450, 300 (20, 30, 20/s).
	obs := []catchObs{
		{at(0), 1000, 5000},
		{at(1), 1300, 5150},
		{at(2), 1750, 5300},
		{at(3), 2050, 5450},
	}
	lag := int64(5450 - 2050)
	c := EstimateCatchUp(obs, lag, 0)
	if c.State != CatchUpCatchingUp {
		t.Fatalf("state %q, want catching_up", c.State)
	}
	// consume (2050-1000)/45 = 23.33/s, produce 450/45 = 10/s: net 13.33/s, 3400/13.33 = 255 s.
	if !near(c.ConsumeRate, 1050.0/45) || !near(c.ProduceRate, 10) || !near(c.Seconds, 255) || c.WindowSeconds != 45 {
		t.Fatalf("rates %v/%v seconds %v window %v; want 23.33/10, 255 s over 45 s", c.ConsumeRate, c.ProduceRate, c.Seconds, c.WindowSeconds)
	}
	// Per-interval net rates: 10, 20, 10 per second → 3400/20 = 170 s and 3400/10 = 340 s.
	if !near(c.MinSeconds, 170) || c.MaxSeconds == nil || !near(*c.MaxSeconds, 340) {
		t.Fatalf("range %v..%v, want 170..340", c.MinSeconds, c.MaxSeconds)
	}

	// One interval where the consumer stalled: the upper bound is gone, the estimate stays.
	stalled := append([]catchObs(nil), obs...)
	stalled[2] = catchObs{at(2), 1300, 5300}
	stalled[3] = catchObs{at(3), 2050, 5450}
	if c := EstimateCatchUp(stalled, lag, 0); c.State != CatchUpCatchingUp || c.MaxSeconds != nil || !near(c.Seconds, 255) {
		t.Fatalf("with a stalled interval: %+v, want catching up in 255 s with no upper bound", c)
	}

	// Consuming exactly as fast as producing is not catching up: with a lag above one interval's
	// production (150), a backlog; with one below it, a consumer that keeps up.
	even := []catchObs{{at(0), 0, 200}, {at(1), 150, 350}}
	if c := EstimateCatchUp(even, 200, 0); c.State != CatchUpNotCatchingUp || c.Seconds != 0 {
		t.Fatalf("equal rates, lag 200: %+v, want not_catching_up", c)
	}
	if c := EstimateCatchUp(even, 150, 0); c.State != CatchUpKeepingUp {
		t.Fatalf("equal rates, lag 150: %q, want keeping_up", c.State)
	}
	if c := EstimateCatchUp(even, 0, 0); c.State != CatchUpCaughtUp {
		t.Fatalf("no lag: %q, want caught_up", c.State)
	}
	if c := EstimateCatchUp(obs[:1], lag, 0); c.State != CatchUpUnknown {
		t.Fatalf("one observation: %q, want unknown", c.State)
	}
	if c := EstimateCatchUp(obs, -1, 0); c.State != CatchUpUnknown {
		t.Fatalf("unknown lag: %q, want unknown", c.State)
	}
}

// The track keeps the window (and the newest position before it), starts over after an offset
// reset, and times the lag's growth from the last poll at which it fell.
func TestCatchUpTrackWindowAndLagGrowth(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Minute) }
	var tr catchTrack
	window := 5 * time.Minute
	// Lag: 100, 50 (falls), 80, 80, 120, 200 → growing since minute 1.
	lags := []int64{100, 50, 80, 80, 120, 200}
	for i, l := range lags {
		tr.observe(catchObs{at(i), int64(i) * 10, int64(i)*10 + l}, window)
	}
	c := tr.estimate(200, at(5))
	if c.LagGrowingSeconds != 240 {
		t.Fatalf("growing %v s, want 240 (since minute 1)", c.LagGrowingSeconds)
	}
	if c.State != CatchUpNotCatchingUp {
		t.Fatalf("state %q, want not_catching_up", c.State)
	}
	for i := 6; i < 12; i++ {
		tr.observe(catchObs{at(i), int64(i) * 10, int64(i)*10 + 200}, window)
	}
	// Minutes 6..11 observed: the window (5 min) reaches back to minute 6.
	if first := tr.obs[0].at; !first.Equal(at(6)) || len(tr.obs) != 6 {
		t.Fatalf("track starts at %v with %d points; want minute 6 with 6", first, len(tr.obs))
	}
	// The lag stayed at 200, above the 50 the run started from: still growing.
	if c := tr.estimate(200, at(11)); c.LagGrowingSeconds != 600 {
		t.Fatalf("growing %v s, want 600", c.LagGrowingSeconds)
	}
	// An offset reset backwards starts the track over.
	tr.observe(catchObs{at(12), 5, 300}, window)
	if len(tr.obs) != 1 {
		t.Fatalf("after a reset the track has %d points, want 1", len(tr.obs))
	}
	// The lag fell to zero: not growing.
	tr.observe(catchObs{at(13), 300, 300}, window)
	if c := tr.estimate(0, at(13)); c.LagGrowingSeconds != 0 || c.State != CatchUpCaughtUp {
		t.Fatalf("caught up: %+v", c)
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-6*math.Max(1, math.Abs(b)) }

// Stored positions seed the tracks: the estimate right after a restart comes from the window's
// stored history (older points and unknown lags left out), for the topic and the group as a whole.
func TestSeedCatchUpFromStoredHistory(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 30, 0, 0, time.UTC)
	c := &Collector{cfg: Config{Now: func() time.Time { return now }}.withDefaults(), st: pollState{catchUp: map[catchKey]*catchTrack{}}}
	at := func(min int) time.Time { return now.Add(time.Duration(min) * time.Minute) }
	c.SeedCatchUp([]CatchUpPoint{
		{Group: "g", Topic: "a", At: at(-30), Committed: 0, Lag: 99999}, // older than the window
		{Group: "g", Topic: "a", At: at(-9), Committed: 1000, Lag: 900},
		{Group: "g", Topic: "a", At: at(-6), Committed: 1900, Lag: 600},
		{Group: "g", Topic: "a", At: at(-3), Committed: 2800, Lag: -1}, // unknown
		{Group: "g", Topic: "a", At: at(0), Committed: 3700, Lag: 0},
		{Group: "g", Topic: "b", At: at(-9), Committed: 10, Lag: 0},
		{Group: "g", Topic: "b", At: at(0), Committed: 20, Lag: 0},
	})
	tr := c.st.catchUp[catchKey{"g", "a"}]
	if tr == nil || len(tr.obs) != 3 {
		t.Fatalf("topic a seeded with %v, want 3 positions", tr)
	}
	// Consumed 2700 in 9 min (5/s) while the log end moved 1900 → 3700 (1800, 3.33/s).
	cu := tr.estimate(0, now)
	if cu.State != CatchUpCaughtUp || !near(cu.ConsumeRate, 5) || !near(cu.ProduceRate, 1800.0/540) {
		t.Fatalf("topic a: %+v", cu)
	}
	// The group's own track: minutes -9 and 0, where both topics have a position.
	g := c.st.catchUp[catchKey{"g", ""}]
	if g == nil || len(g.obs) != 2 || g.obs[0].committed != 1010 || g.obs[1].end != 3720 {
		t.Fatalf("group track %+v, want the sums at minutes -9 and 0", g)
	}
}
