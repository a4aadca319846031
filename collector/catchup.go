package collector

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"time"
)

// Catch-up states.
const (
	CatchUpCaughtUp      = "caught_up"       // no lag
	CatchUpCatchingUp    = "catching_up"     // consuming faster than producing; Seconds is the estimate
	CatchUpNotCatchingUp = "not_catching_up" // consuming no faster than producing
	// CatchUpKeepingUp is a lag no larger than what producers write in one poll interval while
	// consuming no faster than producing: the consumer follows the log end, and the lag left is the
	// granularity of commits and polls rather than a backlog.
	CatchUpKeepingUp = "keeping_up"
	CatchUpUnknown   = "unknown" // lag unknown, or fewer than two observations in the window
)

// CatchUp estimates when a group reaches the log end on a topic (or on all its topics), from the
// committed and log-end offsets the collector saw over the last Config.CatchUpWindow:
//
//	consume rate = (committed now − committed at the window's start) / elapsed
//	produce rate = (log end now − log end at the window's start) / elapsed
//	Seconds      = lag / (consume rate − produce rate), when consume rate > produce rate
//
// When the consume rate does not exceed the produce rate the group is not catching up, unless its
// lag is at most what producers write in one poll interval (keeping_up: it follows the log end).
//
// The range comes from the spread of the per-interval net rates (consume − produce between two
// successive polls): MinSeconds = lag / the fastest interval's net rate, MaxSeconds = lag / the
// slowest one's, or nil (no bound) when the slowest interval did not gain on the producers.
type CatchUp struct {
	State       string   `json:"state" enum:"caught_up,keeping_up,catching_up,not_catching_up,unknown"`
	Seconds     float64  `json:"seconds"`
	MinSeconds  float64  `json:"minSeconds"`
	MaxSeconds  *float64 `json:"maxSeconds" description:"null when the slowest interval did not gain on the producers (no upper bound)"`
	ConsumeRate float64  `json:"consumeRate" description:"Committed offsets per second over the window"`
	ProduceRate float64  `json:"produceRate" description:"Log-end offsets per second over the window"`
	// WindowSeconds is the span of the observations the rates come from (up to Config.CatchUpWindow).
	WindowSeconds float64 `json:"windowSeconds"`
	// LagGrowingSeconds is how long the lag has not gone down and is above what it was then (0 when
	// it is not growing): the time since the last poll at which it fell, or since it was last zero.
	LagGrowingSeconds float64 `json:"lagGrowingSeconds"`
}

// Sort is the figure the group list sorts the estimate by: seconds to catch up, with caught-up
// groups first and groups that are not catching up (or unknown) last.
func (c CatchUp) Sort() float64 {
	switch c.State {
	case CatchUpCaughtUp, CatchUpKeepingUp:
		return 0
	case CatchUpCatchingUp:
		return c.Seconds
	case CatchUpNotCatchingUp:
		return math.MaxFloat64 / 2
	}
	return math.MaxFloat64
}

// catchObs is one poll's position: the sums of the committed and the log-end offsets of the
// partitions whose end offset was known.
type catchObs struct {
	at             time.Time
	committed, end int64
}

// catchTrack is one group×topic's (or one group's) recent positions, oldest first, and the
// lag-growth run. Owned by the poll goroutine (pollMu).
type catchTrack struct {
	obs []catchObs
	// growFrom is the poll since which the lag has not gone down; growLag its lag then.
	growFrom time.Time
	growLag  int64
}

// maxCatchObs bounds a track whatever the window and poll interval.
const maxCatchObs = 256

// observe adds a position at `at` and drops the ones older than window (keeping the newest one
// before it, so the window is covered). A committed sum that went backwards (an offset reset)
// starts the track over: the rates across a reset mean nothing.
func (t *catchTrack) observe(o catchObs, window time.Duration) {
	if n := len(t.obs); n > 0 && (o.committed < t.obs[n-1].committed || !o.at.After(t.obs[n-1].at)) {
		if o.committed < t.obs[n-1].committed {
			t.obs = t.obs[:0]
		} else {
			return // same poll seen twice
		}
	}
	t.obs = append(t.obs, o)
	cut := 0
	for cut < len(t.obs)-2 && !t.obs[cut+1].at.After(o.at.Add(-window)) {
		cut++
	}
	if len(t.obs)-cut > maxCatchObs {
		cut = len(t.obs) - maxCatchObs
	}
	if cut > 0 {
		t.obs = append(t.obs[:0], t.obs[cut:]...)
	}
	lag := o.end - o.committed
	switch {
	case t.growFrom.IsZero() || lag <= 0:
		t.growFrom, t.growLag = o.at, max(lag, 0)
	case len(t.obs) >= 2 && lag < t.obs[len(t.obs)-2].end-t.obs[len(t.obs)-2].committed:
		t.growFrom, t.growLag = o.at, lag
	}
}

// estimate computes the figures from the track for the current lag (-1 unknown).
func (t *catchTrack) estimate(lag int64, now time.Time) CatchUp {
	c := CatchUp{State: CatchUpUnknown}
	if t != nil && len(t.obs) > 0 {
		if last := t.obs[len(t.obs)-1]; lag > t.growLag && last.end-last.committed == lag {
			c.LagGrowingSeconds = now.Sub(t.growFrom).Seconds()
		}
	}
	return EstimateCatchUp(t.points(), lag, c.LagGrowingSeconds)
}

func (t *catchTrack) points() []catchObs {
	if t == nil {
		return nil
	}
	return t.obs
}

// EstimateCatchUp computes a CatchUp from positions (oldest first) and the current lag; see CatchUp
// for the method. growing is carried into LagGrowingSeconds.
func EstimateCatchUp(obs []catchObs, lag int64, growing float64) CatchUp {
	c := CatchUp{State: CatchUpUnknown, LagGrowingSeconds: growing}
	if lag == 0 {
		c.State = CatchUpCaughtUp
	}
	if len(obs) < 2 {
		return c
	}
	first, last := obs[0], obs[len(obs)-1]
	span := last.at.Sub(first.at).Seconds()
	if span <= 0 {
		return c
	}
	c.WindowSeconds = span
	c.ConsumeRate = float64(last.committed-first.committed) / span
	c.ProduceRate = float64(last.end-first.end) / span
	if lag <= 0 {
		return c
	}
	net := c.ConsumeRate - c.ProduceRate
	if net <= 0 {
		c.State = CatchUpNotCatchingUp
		if interval := span / float64(len(obs)-1); float64(lag) <= c.ProduceRate*interval {
			c.State = CatchUpKeepingUp
		}
		return c
	}
	c.State = CatchUpCatchingUp
	c.Seconds = float64(lag) / net
	lo, hi := math.Inf(1), math.Inf(-1)
	for i := 1; i < len(obs); i++ {
		dt := obs[i].at.Sub(obs[i-1].at).Seconds()
		if dt <= 0 {
			continue
		}
		n := float64((obs[i].committed-obs[i-1].committed)-(obs[i].end-obs[i-1].end)) / dt
		lo, hi = min(lo, n), max(hi, n)
	}
	c.MinSeconds = float64(lag) / hi // hi ≥ net > 0: the mean lies between the extremes
	if lo > 0 {
		maxS := float64(lag) / lo
		c.MaxSeconds = &maxS
	}
	return c
}

// CatchUpPoint is one stored position of a group on a topic: its committed offsets' sum and its lag
// (-1 unknown) at a time.
type CatchUpPoint struct {
	Group, Topic   string
	At             time.Time
	Committed, Lag int64
}

// SeedCatchUp starts the catch-up tracks from stored positions (each group×topic's in time order),
// so that after a restart the estimate reaches back over Config.CatchUpWindow at once instead of
// waiting for two polls. Positions older than the window, or with an unknown lag, are skipped; a
// group's own track gets the times at which every one of its topics has a position. Call before
// Start.
func (c *Collector) SeedCatchUp(points []CatchUpPoint) {
	c.pollMu.Lock()
	defer c.pollMu.Unlock()
	window := c.cfg.CatchUpWindow
	since := c.cfg.Now().Add(-window)
	type groupAt struct {
		group string
		at    int64
	}
	sums := map[groupAt]*catchObs{}
	count := map[groupAt]int{}
	topics := map[string]map[string]bool{}
	for _, p := range points {
		if p.Lag < 0 || p.At.Before(since) {
			continue
		}
		k := catchKey{p.Group, p.Topic}
		t := c.st.catchUp[k]
		if t == nil {
			t = &catchTrack{}
			c.st.catchUp[k] = t
		}
		o := catchObs{at: p.At, committed: p.Committed, end: p.Committed + p.Lag}
		t.observe(o, window)
		ga := groupAt{p.Group, p.At.UnixNano()}
		if sums[ga] == nil {
			sums[ga] = &catchObs{at: p.At}
		}
		sums[ga].committed += o.committed
		sums[ga].end += o.end
		count[ga]++
		if topics[p.Group] == nil {
			topics[p.Group] = map[string]bool{}
		}
		topics[p.Group][p.Topic] = true
	}
	keys := make([]groupAt, 0, len(sums))
	for ga := range sums {
		if count[ga] == len(topics[ga.group]) {
			keys = append(keys, ga)
		}
	}
	slices.SortFunc(keys, func(a, b groupAt) int { return cmp.Or(strings.Compare(a.group, b.group), cmp.Compare(a.at, b.at)) })
	for _, ga := range keys {
		k := catchKey{ga.group, ""}
		t := c.st.catchUp[k]
		if t == nil {
			t = &catchTrack{}
			c.st.catchUp[k] = t
		}
		t.observe(*sums[ga], window)
	}
}
