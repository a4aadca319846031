package alert

import (
	"time"

	"github.com/osprey-kafka/osprey/collector"
	"github.com/osprey-kafka/osprey/internal/ringbuf"
)

// push adds v to r as its newest value, first resizing r to capacity (at
// least 1): a rule's window can change between polls.
func push[T any](r *ringbuf.Ring[T], v T, capacity int) {
	r.Resize(capacity)
	r.Add(v)
}

type gtKey struct{ group, topic string }

type gtpKey struct {
	group, topic string
	partition    int32
}

type topicPoint struct {
	At     time.Time
	EndSum int64
	Known  bool // every partition's end offset was known
}

// clusterHistory is what the evaluator remembers about one cluster between
// snapshots, bounded by capacity samples per series. Series of groups,
// topics and partitions that leave the snapshot are dropped. Owned by the
// Evaluator, guarded by its mu.
type clusterHistory struct {
	seq         uint64
	parts       map[gtpKey]*ringbuf.Ring[LagSample]
	groupTopics map[gtKey]*ringbuf.Ring[LagSample] // Committed = sum, End unused, Lag = topic lag
	topics      map[string]*ringbuf.Ring[topicPoint]
	produced    map[string]bool     // topic has been seen receiving messages
	controllers ringbuf.Ring[int32] // known controller ids, one per snapshot that had one
	last        *collector.Snapshot
	quorum      *collector.QuorumInfo // the last KRaft quorum seen, for a cycle that did not read it
	// reconciling is when each consumer-group member behind its group's assignment epoch was
	// first seen so, archived each share group's archived totals (modern_groups.go), and lastAt
	// the time of the last snapshot recorded.
	reconciling map[memberKey]time.Time
	archived    map[string]*ringbuf.Ring[archivedPoint]
	lastAt      time.Time
	// statuses caches GroupStatuses for the history at statusSeq.
	statuses  map[string]string
	statusSeq uint64
}

func newClusterHistory() *clusterHistory {
	return &clusterHistory{
		parts: map[gtpKey]*ringbuf.Ring[LagSample]{}, groupTopics: map[gtKey]*ringbuf.Ring[LagSample]{},
		topics: map[string]*ringbuf.Ring[topicPoint]{}, produced: map[string]bool{},
		reconciling: map[memberKey]time.Time{}, archived: map[string]*ringbuf.Ring[archivedPoint]{},
	}
}

// record adds one snapshot to the history.
func (h *clusterHistory) record(s *collector.Snapshot, at time.Time, capacity int) {
	h.seq++
	h.last = s
	h.recordModernGroups(s, at, capacity)
	seenP := make(map[gtpKey]bool, len(h.parts))
	seenGT := make(map[gtKey]bool, len(h.groupTopics))
	for _, g := range s.Groups {
		for _, gt := range g.Topics {
			k := gtKey{g.Name, gt.Topic}
			seenGT[k] = true
			known := true
			for _, p := range gt.Partitions {
				pk := gtpKey{g.Name, gt.Topic, p.Partition}
				seenP[pk] = true
				if p.End < 0 || p.Committed < 0 {
					known = false
					continue // unknown this cycle: keep the history, add nothing
				}
				r := h.parts[pk]
				if r == nil {
					r = &ringbuf.Ring[LagSample]{}
					h.parts[pk] = r
				}
				push(r, LagSample{At: at, Committed: p.Committed, End: p.End, Lag: p.Lag}, capacity)
			}
			if known {
				r := h.groupTopics[k]
				if r == nil {
					r = &ringbuf.Ring[LagSample]{}
					h.groupTopics[k] = r
				}
				push(r, LagSample{At: at, Committed: gt.CommittedSum, End: -1, Lag: gt.Lag}, capacity)
			}
		}
	}
	for k := range h.parts {
		if !seenP[k] {
			delete(h.parts, k)
		}
	}
	for k := range h.groupTopics {
		if !seenGT[k] {
			delete(h.groupTopics, k)
		}
	}
	seenT := make(map[string]bool, len(s.Topics))
	for _, t := range s.Topics {
		seenT[t.Name] = true
		known := len(t.Partitions) > 0
		for _, p := range t.Partitions {
			if p.EndOffset < 0 {
				known = false
			}
		}
		r := h.topics[t.Name]
		if r == nil {
			r = &ringbuf.Ring[topicPoint]{}
			h.topics[t.Name] = r
		}
		if known {
			if prev := r.Last(1); len(prev) == 1 && prev[0].Known && t.EndOffsetSum > prev[0].EndSum {
				h.produced[t.Name] = true
			}
		}
		push(r, topicPoint{At: at, EndSum: t.EndOffsetSum, Known: known}, capacity)
	}
	for name := range h.topics {
		if !seenT[name] {
			delete(h.topics, name)
			delete(h.produced, name)
		}
	}
	if s.Cluster.Quorum != nil {
		h.quorum = s.Cluster.Quorum
	}
	if s.Cluster.Controller >= 0 { // unknown for a cycle is not a change
		push(&h.controllers, s.Cluster.Controller, capacity+1)
	}
}
