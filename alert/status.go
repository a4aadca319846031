package alert

import "sort"

// PartitionWindow is one partition's window status for a group.
type PartitionWindow struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	Status    string `json:"status"` // OK, WARN, STALL, STOP, REWIND
	Lag       int64  `json:"lag"`
	Samples   int    `json:"samples"` // samples in the window (complete when = window)
}

// GroupStatus is a group's Burrow-style status from the evaluator's history.
type GroupStatus struct {
	Cluster    string            `json:"cluster"`
	Group      string            `json:"group"`
	Status     string            `json:"status"` // OK, WARN or ERR
	Worst      string            `json:"worst"`  // the worst partition status
	Window     int               `json:"window"`
	Complete   bool              `json:"complete"` // every partition has a full window
	Partitions []PartitionWindow `json:"partitions"`
}

// GroupStatus evaluates group's window status on cluster over the last
// window samples (10 when window <= 0), from memory. ok is false when the
// evaluator has no history for the group (not observed yet).
func (e *Evaluator) GroupStatus(cluster, group string, window int) (GroupStatus, bool) {
	if window <= 0 {
		window = DefaultWindowSamples
	}
	window = min(window, MaxWindowSamples)
	e.mu.Lock()
	defer e.mu.Unlock()
	h := e.clusters[cluster]
	if h == nil {
		return GroupStatus{}, false
	}
	out := GroupStatus{Cluster: cluster, Group: group, Window: window, Complete: true}
	worst := StatusOK
	for k, r := range h.parts {
		if k.group != group {
			continue
		}
		samples := r.Last(window)
		st := PartitionStatus(samples, window)
		worst = max(worst, st)
		pw := PartitionWindow{Topic: k.topic, Partition: k.partition, Status: st.String(), Samples: len(samples)}
		if n := len(samples); n > 0 {
			pw.Lag = samples[n-1].Lag
		}
		if len(samples) < window {
			out.Complete = false
		}
		out.Partitions = append(out.Partitions, pw)
	}
	if len(out.Partitions) == 0 {
		return GroupStatus{}, false
	}
	sort.Slice(out.Partitions, func(i, j int) bool {
		a, b := out.Partitions[i], out.Partitions[j]
		if a.Topic != b.Topic {
			return a.Topic < b.Topic
		}
		return a.Partition < b.Partition
	})
	out.Status, out.Worst = GroupStatusName(worst), worst.String()
	return out, true
}

// GroupStatuses gives every group's window status (OK, WARN or ERR) on cluster over the default
// window, for list pages. It walks the history once and keeps the answer until the next snapshot, so
// a page of groups costs a map lookup, not a walk per group. Groups without history are absent.
func (e *Evaluator) GroupStatuses(cluster string) map[string]string {
	e.mu.Lock()
	defer e.mu.Unlock()
	h := e.clusters[cluster]
	if h == nil {
		return nil
	}
	if h.statuses != nil && h.statusSeq == h.seq {
		return h.statuses
	}
	worst := map[string]Status{}
	for k, r := range h.parts {
		st := PartitionStatus(r.Last(DefaultWindowSamples), DefaultWindowSamples)
		if cur, ok := worst[k.group]; !ok || st > cur {
			worst[k.group] = st
		}
	}
	out := make(map[string]string, len(worst))
	for g, st := range worst {
		out[g] = GroupStatusName(st)
	}
	h.statuses, h.statusSeq = out, h.seq
	return out
}
