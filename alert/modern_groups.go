package alert

import (
	"fmt"
	"sort"
	"time"

	"github.com/osprey-kafka/osprey/collector"
	"github.com/osprey-kafka/osprey/internal/ringbuf"
)

// Kinds for the groups of the new protocols. Both fire per group and honour the group scope.
//
//	group_reconciling_stuck  fires per consumer group (KIP-848) with a member whose epoch has been
//	                         behind the group's assignment epoch (the epoch of the target
//	                         assignment) for longer than Threshold seconds, over successive
//	                         snapshots: the member has not taken its new assignment, usually
//	                         because it does not give up a partition it must revoke.
//	share_archived_growing   fires per share group (KIP-932) whose archived records (rejected, or
//	                         released or expired at group.share.delivery.count.limit: records
//	                         nobody will receive again) grew by more than Threshold over the last
//	                         WindowSamples samples. Only clusters that report the share-partitions'
//	                         in-flight state are evaluated (collector.ShareGroupFigures.Reported);
//	                         a count that drops (a leader restarted) counts its growth from there.
const (
	KindReconcilingStuck     Kind = "group_reconciling_stuck"
	KindShareArchivedGrowing Kind = "share_archived_growing"
)

type memberKey struct{ group, member string }

// archivedPoint is a share group's archived total at one snapshot.
type archivedPoint struct {
	At       time.Time `json:"at"`
	Archived int64     `json:"archived"`
}

// recordModernGroups adds the snapshot's consumer-group members behind their assignment epoch
// and share groups' archived totals to the history.
func (h *clusterHistory) recordModernGroups(s *collector.Snapshot, at time.Time, capacity int) {
	h.lastAt = at
	behind := map[memberKey]bool{}
	seenShare := map[string]bool{}
	for _, g := range s.Groups {
		switch g.Type {
		case "consumer":
			for _, m := range g.Members {
				if m.Epoch < g.AssignmentEpoch {
					k := memberKey{g.Name, m.ID}
					behind[k] = true
					if _, ok := h.reconciling[k]; !ok {
						h.reconciling[k] = at
					}
				}
			}
		case "share":
			if g.Share == nil || !g.Share.Reported {
				continue // not reported this cycle: keep the series, add nothing
			}
			seenShare[g.Name] = true
			r := h.archived[g.Name]
			if r == nil {
				r = &ringbuf.Ring[archivedPoint]{}
				h.archived[g.Name] = r
			}
			push(r, archivedPoint{At: at, Archived: g.Share.ArchivedTotal}, capacity+1)
		}
	}
	for k := range h.reconciling {
		if !behind[k] {
			delete(h.reconciling, k)
		}
	}
	present := map[string]bool{}
	for _, g := range s.Groups {
		present[g.Name] = true
	}
	for name := range h.archived {
		if !present[name] {
			delete(h.archived, name)
		}
	}
}

type reconcilingSample struct {
	Member          string  `json:"member"`
	ClientID        string  `json:"clientId"`
	Epoch           int32   `json:"epoch"`
	AssignmentEpoch int32   `json:"assignmentEpoch"`
	Seconds         float64 `json:"seconds"`
}

// evalReconcilingStuck fires per consumer group with a member behind the assignment epoch for
// longer than the threshold; the value is the longest such member's time.
func evalReconcilingStuck(r Rule, c evalContext) []finding {
	var out []finding
	for _, g := range c.snap.Groups {
		if g.Type != "consumer" || !match(r.Group, g.Name) {
			continue
		}
		var stuck []reconcilingSample
		for _, m := range g.Members {
			since, ok := c.hist.reconciling[memberKey{g.Name, m.ID}]
			if !ok {
				continue
			}
			if secs := c.hist.lastAt.Sub(since).Seconds(); secs > r.Threshold {
				stuck = append(stuck, reconcilingSample{Member: m.ID, ClientID: m.ClientID, Epoch: m.Epoch,
					AssignmentEpoch: g.AssignmentEpoch, Seconds: secs})
			}
		}
		if len(stuck) == 0 {
			continue
		}
		sort.Slice(stuck, func(i, j int) bool { return stuck[i].Seconds > stuck[j].Seconds })
		if len(stuck) > maxListed {
			stuck = stuck[:maxListed]
		}
		m := stuck[0]
		out = append(out, finding{
			labels:  map[string]string{"group": g.Name},
			subject: "group " + g.Name,
			value:   m.Seconds,
			summary: fmt.Sprintf("Consumer group %s: %d member(s) stuck reconciling; member %s (client %s) has been at epoch %d, behind the assignment epoch %d, for %s (threshold %s)",
				g.Name, len(stuck), m.Member, m.ClientID, m.Epoch, g.AssignmentEpoch, fmtSeconds(m.Seconds), fmtSeconds(r.Threshold)),
			samples: stuck,
		})
	}
	return out
}

type archivedSamples struct {
	Growth int64           `json:"growth"`
	Points []archivedPoint `json:"points"`
}

// evalShareArchived fires per share group whose archived records grew by more than the threshold
// over the rule's window. A group without enough reported samples keeps its alert as it is.
func evalShareArchived(r Rule, c evalContext) []finding {
	var out []finding
	for _, g := range c.snap.Groups {
		if g.Type != "share" || !match(r.Group, g.Name) {
			continue
		}
		labels := map[string]string{"group": g.Name}
		var pts []archivedPoint
		if h := c.hist.archived[g.Name]; h != nil {
			pts = h.Last(r.WindowSamples + 1) // growth over WindowSamples intervals
		}
		if len(pts) < 2 || g.Share == nil || !g.Share.Reported {
			if c.firing(labels) {
				out = append(out, finding{labels: labels, unknown: true})
			}
			continue
		}
		var growth int64
		for i := 1; i < len(pts); i++ {
			if d := pts[i].Archived - pts[i-1].Archived; d > 0 {
				growth += d
			} else if d < 0 { // the count restarted (a leader restarted): it counts again from 0
				growth += pts[i].Archived
			}
		}
		if float64(growth) <= r.Threshold {
			continue
		}
		out = append(out, finding{
			labels:  labels,
			subject: "share group " + g.Name,
			value:   float64(growth),
			summary: fmt.Sprintf("Share group %s archived %d more records over the last %d samples (since %s; threshold %s): records were rejected or reached the delivery count limit and will not be delivered again",
				g.Name, growth, len(pts)-1, pts[0].At.UTC().Format("2006-01-02 15:04:05 MST"), fmtNum(r.Threshold)),
			samples: archivedSamples{Growth: growth, Points: pts},
		})
	}
	return out
}
