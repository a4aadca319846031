package collector

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/osprey-kafka/osprey/internal/testenv"
)

func newFakeClock() *testenv.FakeClock {
	return testenv.NewFakeClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
}

// On the collector's clock the starting grace ends exactly when it says: a partition that never
// became healthy is starting one nanosecond before the grace has passed and degraded at it, and
// message rates and lag seconds are the offsets over the clock's interval, with no sleeping.
func TestStartingGraceAndRatesOnTheCollectorsClock(t *testing.T) {
	const grace = 2 * time.Minute
	clk := newFakeClock()
	e := newTestCollector(t, Config{StartingGrace: grace, Now: clk.Now})
	ctx := testCtx(t)
	var stage atomic.Int32
	stagedMetadata(t, e, &stage)

	first := e.col.PollNow(ctx)
	if first.Totals.Starting != 3 || !first.Cluster.LastPoll.Equal(clk.Now()) {
		t.Fatalf("first poll: %d starting at %v, want 3 at the clock's %v", first.Totals.Starting, first.Cluster.LastPoll, clk.Now())
	}
	clk.Advance(grace - time.Nanosecond)
	if s := e.col.PollNow(ctx); s.Totals.Starting != 3 || s.Totals.Offline != 0 || !s.Cluster.Starting {
		t.Fatalf("just before the grace: %d starting, %d offline, cluster starting %v; want 3 0 true", s.Totals.Starting, s.Totals.Offline, s.Cluster.Starting)
	}
	clk.Advance(time.Nanosecond)
	if s := e.col.PollNow(ctx); s.Totals.Starting != 0 || s.Totals.Offline != 3 || s.Cluster.Starting {
		t.Fatalf("at the grace: %d starting, %d offline, cluster starting %v; want 0 3 false", s.Totals.Starting, s.Totals.Offline, s.Cluster.Starting)
	}

	// Rates: 20 messages produced between two polls 2 s apart on the clock are 10 msgs/s; a group
	// that committed the end seen at the first of three polls 2 s apart is 4 s behind at the third.
	e2 := newTestCollector(t, Config{Now: clk.Now}, kfake.SeedTopics(1, "flow"))
	e2.produce(t, "flow", map[int32]int{0: 10})
	if _, err := e2.ac.CommitOffsets(ctx, "slow", map[string]map[int32]int64{"flow": {0: 10}}); err != nil {
		t.Fatal(err)
	}
	e2.col.PollNow(ctx)
	clk.Advance(2 * time.Second)
	e2.produce(t, "flow", map[int32]int{0: 20})
	s := e2.col.PollNow(ctx)
	if flow, _ := s.Topic("flow"); flow == nil || flow.MsgsPerSec != 10 || s.Totals.MsgsPerSec != 10 {
		t.Fatalf("topic %+v, totals %v msgs/s; want 10 msgs/s", flow, s.Totals.MsgsPerSec)
	}
	clk.Advance(2 * time.Second)
	s = e2.col.PollNow(ctx)
	g, _ := s.Group("slow")
	if g == nil || g.TotalLag != 20 || g.LagSeconds != 4 {
		t.Fatalf("group %+v, want lag 20 and 4 lag seconds", g)
	}
	if s.Cluster.PollDuration != 0 {
		t.Errorf("poll duration %v on a clock that did not move during the poll", s.Cluster.PollDuration)
	}
}
