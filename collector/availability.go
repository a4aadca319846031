package collector

import (
	"fmt"
	"slices"
	"time"
)

// Availability event kinds. Intervals (offline, under_replicated, under_min_isr, broker_down) stay
// open (End nil) while the condition holds; the others are instants (End = Start).
const (
	AvailISRShrink       = "isr_shrink"
	AvailISRExpand       = "isr_expand"
	AvailLeaderChange    = "leader_change"
	AvailOffline         = "offline"
	AvailUnderReplicated = "under_replicated"
	AvailUnderMinISR     = "under_min_isr"
	AvailBrokerDown      = "broker_down"
)

// Causes of an under-replicated, under-min-ISR or offline interval, as the snapshot that opened it
// suggests (see probableCause for the order the rules are tried in).
const (
	CauseBrokerDown     = "broker_down"
	CauseLogDirOffline  = "log_dir_offline"
	CauseReassignment   = "reassignment"
	CauseFollowerBehind = "follower_behind"
)

// AvailEvent is one availability event of a partition (Partition -1 and Topic "" for a broker's
// own down interval). Brokers are the brokers involved: the replicas that left or joined the ISR,
// the old and new leader, the replicas missing from the ISR over an interval, the down broker.
// ID is the store's, set by whoever persists the event.
type AvailEvent struct {
	ID        int64
	Kind      string
	Topic     string
	Partition int32
	Start     time.Time
	End       *time.Time
	Brokers   []int32
	Cause     string
	Detail    string
}

// AvailChanges is what one snapshot changed: instants to record, intervals opened, and intervals
// closed (End set, Brokers the union seen while open).
type AvailChanges struct {
	Instants []AvailEvent
	Opened   []*AvailEvent
	Closed   []*AvailEvent
}

// Empty reports whether there is nothing to record.
func (c AvailChanges) Empty() bool {
	return len(c.Instants) == 0 && len(c.Opened) == 0 && len(c.Closed) == 0
}

type availKey struct {
	kind      string
	topic     string
	partition int32
}

// AvailTracker turns successive snapshots of one cluster into availability events. Snapshots may
// be skipped (a slow subscriber gets the newest): each is compared with the last one observed.
// Not safe for concurrent use; one goroutine owns it.
type AvailTracker struct {
	prev *Snapshot
	open map[availKey]*AvailEvent
}

// NewAvailTracker starts from the intervals still open in the store (after a restart): the first
// snapshot closes those that no longer hold and keeps the others.
func NewAvailTracker(open []*AvailEvent) *AvailTracker {
	t := &AvailTracker{open: map[availKey]*AvailEvent{}}
	for _, e := range open {
		t.open[availKey{e.Kind, e.Topic, e.Partition}] = e
	}
	return t
}

// Observe compares s with the previous snapshot. Partitions that are starting (a new topic's
// leaders being elected) open no intervals; instants need the partition in both snapshots.
func (t *AvailTracker) Observe(s *Snapshot) AvailChanges {
	at := s.Cluster.LastPoll
	var ch AvailChanges
	holds := map[availKey]bool{}
	prevParts := t.prevPartitions()
	for ti := range s.Topics {
		tp := &s.Topics[ti]
		for pi := range tp.Partitions {
			p := &tp.Partitions[pi]
			prev, had := prevParts[partKey{tp.Name, p.Partition}]
			if had {
				ch.Instants = append(ch.Instants, instants(tp.Name, prev, p, at)...)
			}
			if p.Starting {
				continue
			}
			for _, c := range []struct {
				kind string
				on   bool
			}{{AvailOffline, p.Offline}, {AvailUnderReplicated, p.UnderReplicated}, {AvailUnderMinISR, p.UnderMinISR}} {
				if !c.on {
					continue
				}
				k := availKey{c.kind, tp.Name, p.Partition}
				holds[k] = true
				missing := outOfISR(p)
				if e := t.open[k]; e != nil {
					e.Brokers = union(e.Brokers, missing)
					continue
				}
				cause, detail := probableCause(s, prev, had, p)
				e := &AvailEvent{Kind: c.kind, Topic: tp.Name, Partition: p.Partition, Start: at, Brokers: missing, Cause: cause, Detail: detail}
				t.open[k] = e
				ch.Opened = append(ch.Opened, e)
			}
		}
	}
	for _, b := range s.Brokers {
		if b.Up || b.Starting {
			continue
		}
		k := availKey{AvailBrokerDown, "", b.ID}
		holds[k] = true
		if t.open[k] == nil {
			e := &AvailEvent{Kind: AvailBrokerDown, Partition: b.ID, Start: at, Brokers: []int32{b.ID}, Detail: b.Error}
			t.open[k] = e
			ch.Opened = append(ch.Opened, e)
		}
	}
	for k, e := range t.open {
		if !holds[k] {
			end := at
			e.End = &end
			ch.Closed = append(ch.Closed, e)
			delete(t.open, k)
		}
	}
	slices.SortFunc(ch.Closed, func(a, b *AvailEvent) int { return a.Start.Compare(b.Start) })
	t.prev = s
	return ch
}

func (t *AvailTracker) prevPartitions() map[partKey]*Partition {
	out := map[partKey]*Partition{}
	if t.prev == nil {
		return out
	}
	for ti := range t.prev.Topics {
		tp := &t.prev.Topics[ti]
		for pi := range tp.Partitions {
			out[partKey{tp.Name, tp.Partitions[pi].Partition}] = &tp.Partitions[pi]
		}
	}
	return out
}

// instants are the ISR shrink and expand and the leader change between two snapshots of a
// partition. A leader lost (-1) or regained is the offline interval's business, not a change.
func instants(topic string, prev, cur *Partition, at time.Time) []AvailEvent {
	var out []AvailEvent
	if gone := minus(prev.ISR, cur.ISR); len(gone) > 0 {
		out = append(out, AvailEvent{Kind: AvailISRShrink, Topic: topic, Partition: cur.Partition, Start: at, End: &at, Brokers: gone,
			Detail: fmt.Sprintf("ISR %v → %v", prev.ISR, cur.ISR)})
	}
	if came := minus(cur.ISR, prev.ISR); len(came) > 0 {
		out = append(out, AvailEvent{Kind: AvailISRExpand, Topic: topic, Partition: cur.Partition, Start: at, End: &at, Brokers: came,
			Detail: fmt.Sprintf("ISR %v → %v", prev.ISR, cur.ISR)})
	}
	if prev.Leader >= 0 && cur.Leader >= 0 && prev.Leader != cur.Leader {
		out = append(out, AvailEvent{Kind: AvailLeaderChange, Topic: topic, Partition: cur.Partition, Start: at, End: &at,
			Brokers: []int32{prev.Leader, cur.Leader}, Detail: fmt.Sprintf("leader %d → %d", prev.Leader, cur.Leader)})
	}
	return out
}

// probableCause names the most likely reason a partition is short of in-sync replicas, from what
// the snapshot (and the one before) saw. The rules, first match wins:
//
//  1. broker_down: a replica missing from the ISR is on a broker that is down (missing from the
//     broker list or its requests failed) — the leader too when the partition is offline.
//  2. log_dir_offline: the leader reports a replica offline while its broker is up: Kafka marks a
//     replica offline when its log directory failed (an I/O error, such as a full disk).
//  3. reassignment: the partition's replica set changed since the previous snapshot, or ZooKeeper
//     has a reassignment pending: new replicas are still copying the log.
//  4. follower_behind: otherwise the follower is up but fell behind the leader for longer than
//     replica.lag.time.max.ms (the collector does not read follower log ends, so not by how much).
func probableCause(s *Snapshot, prev *Partition, had bool, p *Partition) (string, string) {
	missing := outOfISR(p)
	if p.Offline && p.Leader < 0 {
		missing = union(missing, p.Replicas)
	}
	up := make(map[int32]bool, len(s.Brokers))
	for _, b := range s.Brokers {
		up[b.ID] = b.Up
	}
	var down []int32
	for _, id := range missing {
		if !up[id] {
			down = append(down, id)
		}
	}
	if len(down) > 0 {
		return CauseBrokerDown, fmt.Sprintf("broker(s) %v down", down)
	}
	if len(p.OfflineReplicas) > 0 {
		return CauseLogDirOffline, fmt.Sprintf("replica(s) %v offline on an up broker (log directory failed)", p.OfflineReplicas)
	}
	if had && !slices.Equal(prev.Replicas, p.Replicas) {
		return CauseReassignment, fmt.Sprintf("replicas %v → %v", prev.Replicas, p.Replicas)
	}
	if zk := s.Cluster.ZooKeeper; zk != nil && zk.PendingReassignments > 0 {
		return CauseReassignment, fmt.Sprintf("%d reassignment(s) pending", zk.PendingReassignments)
	}
	return CauseFollowerBehind, fmt.Sprintf("replica(s) %v up but out of the ISR", missing)
}

// outOfISR are the replicas not in the ISR, sorted.
func outOfISR(p *Partition) []int32 { return minus(p.Replicas, p.ISR) }

// minus is a − b as a sorted set.
func minus(a, b []int32) []int32 {
	var out []int32
	for _, x := range a {
		if !slices.Contains(b, x) && !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	slices.Sort(out)
	return out
}

// union is a ∪ b as a sorted set.
func union(a, b []int32) []int32 {
	out := slices.Clone(a)
	for _, x := range b {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	slices.Sort(out)
	return out
}
