package collector

import (
	"slices"
	"testing"
	"time"
)

// availSnap is a snapshot at minute m of one topic "t" with one partition of replicas 1,2,3.
func availSnap(m int, leader int32, isr []int32, brokersUp ...int32) *Snapshot {
	t0 := time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)
	p := Partition{Partition: 0, Leader: leader, Replicas: []int32{1, 2, 3}, ISR: isr}
	p.Offline = leader < 0
	p.UnderReplicated = len(isr) < 3
	p.UnderMinISR = len(isr) < 2
	s := &Snapshot{Cluster: ClusterInfo{LastPoll: t0.Add(time.Duration(m) * time.Minute)},
		Topics: []Topic{{Name: "t", MinISR: 2, Partitions: []Partition{p}}}}
	for id := int32(1); id <= 3; id++ {
		s.Brokers = append(s.Brokers, Broker{ID: id, Up: slices.Contains(brokersUp, id)})
	}
	return s
}

func kinds(evs []AvailEvent) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Kind)
	}
	return out
}

// Broker 3 goes down and comes back: its replica leaves and rejoins the ISR, the under-replicated
// interval opens with the cause broker_down and closes when the ISR is full again, and the broker's
// own down interval spans the same polls.
func TestAvailTrackerBrokerDownAndBack(t *testing.T) {
	tr := NewAvailTracker(nil)
	if ch := tr.Observe(availSnap(0, 1, []int32{1, 2, 3}, 1, 2, 3)); !ch.Empty() {
		t.Fatalf("healthy first snapshot: %+v", ch)
	}
	ch := tr.Observe(availSnap(1, 1, []int32{1, 2}, 1, 2))
	if got := kinds(ch.Instants); !slices.Equal(got, []string{AvailISRShrink}) || !slices.Equal(ch.Instants[0].Brokers, []int32{3}) {
		t.Fatalf("instants %v (%+v), want one shrink of broker 3", got, ch.Instants)
	}
	if len(ch.Opened) != 2 {
		t.Fatalf("opened %d intervals, want under_replicated and broker_down", len(ch.Opened))
	}
	var ur, bd *AvailEvent
	for _, e := range ch.Opened {
		switch e.Kind {
		case AvailUnderReplicated:
			ur = e
		case AvailBrokerDown:
			bd = e
		}
	}
	if ur == nil || ur.Cause != CauseBrokerDown || !slices.Equal(ur.Brokers, []int32{3}) || ur.End != nil {
		t.Fatalf("under-replicated interval %+v, want open, broker 3, cause broker_down", ur)
	}
	if bd == nil || bd.Partition != 3 {
		t.Fatalf("broker-down interval %+v, want broker 3", bd)
	}
	// Still down a minute later: nothing new.
	if ch := tr.Observe(availSnap(2, 1, []int32{1, 2}, 1, 2)); !ch.Empty() {
		t.Fatalf("unchanged: %+v", ch)
	}
	// Back: the broker first, then the replica catches up.
	ch = tr.Observe(availSnap(3, 1, []int32{1, 2}, 1, 2, 3))
	if len(ch.Closed) != 1 || ch.Closed[0] != bd || !ch.Closed[0].End.Equal(availSnap(3, 1, nil).Cluster.LastPoll) {
		t.Fatalf("closed %+v, want the broker-down interval at minute 3", ch.Closed)
	}
	ch = tr.Observe(availSnap(4, 1, []int32{1, 2, 3}, 1, 2, 3))
	if got := kinds(ch.Instants); !slices.Equal(got, []string{AvailISRExpand}) || len(ch.Closed) != 1 || ch.Closed[0] != ur {
		t.Fatalf("instants %v closed %+v, want an expand and the under-replicated interval closed", got, ch.Closed)
	}
	if d := ur.End.Sub(ur.Start); d != 3*time.Minute {
		t.Fatalf("under-replicated for %v, want 3m", d)
	}
}

// The leader's broker dies: a leader change to a surviving replica; with all ISR gone, the
// partition goes offline, and the offline and under-min-ISR intervals carry broker_down.
func TestAvailTrackerLeaderChangeAndOffline(t *testing.T) {
	tr := NewAvailTracker(nil)
	tr.Observe(availSnap(0, 1, []int32{1, 2, 3}, 1, 2, 3))
	ch := tr.Observe(availSnap(1, 2, []int32{2, 3}, 2, 3))
	if got := kinds(ch.Instants); !slices.Equal(got, []string{AvailISRShrink, AvailLeaderChange}) || !slices.Equal(ch.Instants[1].Brokers, []int32{1, 2}) {
		t.Fatalf("instants %v %+v, want a shrink and a leader change 1 → 2", got, ch.Instants)
	}
	ch = tr.Observe(availSnap(2, -1, []int32{}))
	var opened []string
	for _, e := range ch.Opened {
		opened = append(opened, e.Kind)
		if e.Kind == AvailOffline && (e.Cause != CauseBrokerDown || !slices.Equal(e.Brokers, []int32{1, 2, 3})) {
			t.Fatalf("offline interval %+v, want cause broker_down with every replica missing", e)
		}
	}
	slices.Sort(opened)
	if !slices.Contains(opened, AvailOffline) || !slices.Contains(opened, AvailUnderMinISR) {
		t.Fatalf("opened %v, want offline and under_min_isr", opened)
	}
}

// Causes other than a down broker: a replica set that changed (reassignment), an offline replica
// on an up broker (log dir), and a follower out of the ISR on an up broker.
func TestAvailTrackerCauses(t *testing.T) {
	base := availSnap(0, 1, []int32{1, 2, 3}, 1, 2, 3)
	cases := []struct {
		name string
		edit func(p *Partition)
		want string
	}{
		{"reassignment", func(p *Partition) { p.Replicas = []int32{1, 2, 4}; p.ISR = []int32{1, 2} }, CauseReassignment},
		{"log dir", func(p *Partition) { p.ISR = []int32{1, 2}; p.OfflineReplicas = []int32{3} }, CauseLogDirOffline},
		{"follower", func(p *Partition) { p.ISR = []int32{1, 2} }, CauseFollowerBehind},
	}
	for _, c := range cases {
		tr := NewAvailTracker(nil)
		tr.Observe(base)
		s := availSnap(1, 1, []int32{1, 2, 3}, 1, 2, 3)
		s.Brokers = append(s.Brokers, Broker{ID: 4, Up: true})
		p := &s.Topics[0].Partitions[0]
		c.edit(p)
		p.UnderReplicated = len(p.ISR) < len(p.Replicas)
		ch := tr.Observe(s)
		if len(ch.Opened) != 1 || ch.Opened[0].Cause != c.want {
			t.Errorf("%s: opened %+v, want cause %s", c.name, ch.Opened, c.want)
		}
	}
}

// After a restart the intervals still open in the store continue or close at the first snapshot.
func TestAvailTrackerResumesOpenIntervals(t *testing.T) {
	start := time.Date(2026, 1, 2, 2, 0, 0, 0, time.UTC)
	still := &AvailEvent{ID: 7, Kind: AvailUnderReplicated, Topic: "t", Partition: 0, Start: start, Brokers: []int32{3}}
	gone := &AvailEvent{ID: 8, Kind: AvailBrokerDown, Partition: 5, Start: start, Brokers: []int32{5}}
	tr := NewAvailTracker([]*AvailEvent{still, gone})
	ch := tr.Observe(availSnap(0, 1, []int32{1, 2}, 1, 2, 3))
	if len(ch.Opened) != 0 || len(ch.Closed) != 1 || ch.Closed[0].ID != 8 || still.End != nil {
		t.Fatalf("opened %+v closed %+v, want only event 8 closed", ch.Opened, ch.Closed)
	}
}
