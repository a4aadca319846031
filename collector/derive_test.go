package collector

import (
	"math"
	"slices"
	"testing"
	"time"
)

func TestComputeTopicFigures(t *testing.T) {
	l := func(leader int32, replicas ...int32) Layout {
		return Layout{Leader: leader, Replicas: replicas, ISR: replicas}
	}
	cases := []struct {
		name                                   string
		parts                                  []Layout
		clusterBrokers                         int
		spread, brokerSkew, leaderSkew, prefer float64
		brokers                                []int32
		under                                  int
	}{
		{"balanced 3x3 rf2", []Layout{l(1, 1, 2), l(2, 2, 3), l(3, 3, 1)}, 3, 100, 0, 0, 100, []int32{1, 2, 3}, 0},
		// 4 partitions RF1 on 2 of 3 brokers: 3 on b0, 1 on b1. avg = ceil(4/2) = 2;
		// b0 (3 > 2) skewed → 50 %; same for leaders.
		{"skewed rf1", []Layout{l(0, 0), l(0, 0), l(0, 0), l(1, 1)}, 3, 100 * 2.0 / 3, 50, 50, 100, []int32{0, 1}, 0},
		// Replicas even (2 each on 3 brokers) but every leader on broker 1:
		// leader avg = ceil(3/3) = 1, broker 1 leads 3 → 1/3 skewed; 1 of 3 leaders preferred.
		{"leaders piled", []Layout{l(1, 1, 2), l(1, 2, 1), l(1, 3, 1)}, 3, 100, 100.0 / 3, 100.0 / 3, 100.0 / 3, []int32{1, 2, 3}, 0},
		{"spread over 6", []Layout{l(0, 0, 1), l(2, 2, 3)}, 6, 100 * 4.0 / 6, 0, 0, 100, []int32{0, 1, 2, 3}, 0},
		{"offline and under-replicated", []Layout{{Leader: -1, Replicas: []int32{0, 1}, ISR: nil}, {Leader: 1, Replicas: []int32{1, 0}, ISR: []int32{1}}}, 2, 100, 0, 0, 50, []int32{0, 1}, 2},
		{"empty", nil, 3, 0, 0, 0, 0, nil, 0},
		// A caller counting only the two live brokers while a replica sits on a third (down) one:
		// that broker is a member of the cluster too, so the spread is 3 of 3, not 150 %.
		{"replica on an uncounted broker", []Layout{l(0, 0, 2), l(1, 1, 2)}, 2, 100, 0, 0, 100, []int32{0, 1, 2}, 0},
	}
	for _, tc := range cases {
		f := ComputeTopicFigures(tc.parts, tc.clusterBrokers)
		near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
		if !near(f.BrokerSpread, tc.spread) || !near(f.BrokerSkew, tc.brokerSkew) || !near(f.LeaderSkew, tc.leaderSkew) || !near(f.PreferredLeader, tc.prefer) {
			t.Errorf("%s: spread %.2f skew %.2f leaderSkew %.2f preferred %.2f; want %.2f %.2f %.2f %.2f",
				tc.name, f.BrokerSpread, f.BrokerSkew, f.LeaderSkew, f.PreferredLeader, tc.spread, tc.brokerSkew, tc.leaderSkew, tc.prefer)
		}
		if !slices.Equal(f.Brokers, tc.brokers) || f.UnderReplicated != tc.under {
			t.Errorf("%s: brokers %v under %d; want %v %d", tc.name, f.Brokers, f.UnderReplicated, tc.brokers, tc.under)
		}
	}
}

func TestRingLagSeconds(t *testing.T) {
	t0 := time.Unix(1_000_000, 0)
	sec := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	// End offset 100 at t0, 200 at t0+10s, 300 at t0+20s.
	r := newRing(8)
	r.add(sec(0), 100)
	r.add(sec(10), 200)
	r.add(sec(20), 300)
	now := sec(20)
	cases := []struct {
		committed int64
		want      float64
	}{
		{300, 0},  // caught up
		{350, 0},  // ahead (end raced) counts as caught up
		{200, 10}, // end was 200 at t0+10
		{250, 5},  // halfway between t0+10 and t0+20
		{150, 15}, // halfway between t0 and t0+10
		{100, 20}, // exactly the oldest observation
		{50, 25},  // before the window: 50 offsets at 10/s before t0
	}
	for _, tc := range cases {
		if got := r.lagSeconds(tc.committed, now); math.Abs(got-tc.want) > 1e-6 {
			t.Errorf("committed %d: lag seconds %.3f, want %.3f", tc.committed, got, tc.want)
		}
	}
	// Idle topic: committed behind an end that has not moved in the window.
	idle := newRing(4)
	idle.add(sec(0), 10)
	idle.add(sec(30), 10)
	if got := idle.lagSeconds(5, sec(30)); got != 30 {
		t.Errorf("idle topic: %.3f, want 30 (time since the oldest observation)", got)
	}
	// Wrap-around keeps only the newest points.
	w := newRing(2)
	w.add(sec(0), 0)
	w.add(sec(10), 100)
	w.add(sec(20), 200)
	if _, e := w.at(0); e != 100 {
		t.Errorf("oldest after wrap = %d, want 100", e)
	}
	if got := w.lagSeconds(150, sec(20)); math.Abs(got-5) > 1e-6 {
		t.Errorf("after wrap: %.3f, want 5", got)
	}
}
