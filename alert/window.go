package alert

import "sort"

// PartitionHistory is one group×partition's samples over a window, oldest first, with the status
// PartitionStatus gives them.
type PartitionHistory struct {
	Topic     string
	Partition int32
	Status    Status
	Samples   []LagSample
}

// GroupHistory gives group's per-partition samples on cluster over the last window samples (at most
// the history the evaluator keeps: DefaultWindowSamples, more when a rule's window is larger), sorted
// by topic and partition, for readers that show the window itself (the Burrow-compatible API). ok is
// false when the evaluator has no history for the group.
func (e *Evaluator) GroupHistory(cluster, group string, window int) (parts []PartitionHistory, ok bool) {
	if window <= 0 {
		window = DefaultWindowSamples
	}
	window = min(window, MaxWindowSamples)
	e.mu.Lock()
	defer e.mu.Unlock()
	h := e.clusters[cluster]
	if h == nil {
		return nil, false
	}
	for k, r := range h.parts {
		if k.group != group {
			continue
		}
		samples := r.Last(window)
		parts = append(parts, PartitionHistory{Topic: k.topic, Partition: k.partition,
			Status: PartitionStatus(samples, window), Samples: samples})
	}
	sort.Slice(parts, func(i, j int) bool {
		if parts[i].Topic != parts[j].Topic {
			return parts[i].Topic < parts[j].Topic
		}
		return parts[i].Partition < parts[j].Partition
	})
	return parts, len(parts) > 0
}

// GroupHistory is the evaluator's GroupHistory.
func (s *Service) GroupHistory(cluster, group string, window int) ([]PartitionHistory, bool) {
	return s.ev.GroupHistory(cluster, group, window)
}
