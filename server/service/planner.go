package service

import (
	"fmt"
	"slices"
	"sort"
)

// This file is the reassignment planner: a pure function from the current layout of some topics and a
// set of target brokers to a balanced target layout. It does no I/O, so it is tested on its own.

// PlanInputTopic is one topic as the planner sees it: each partition's current replica list.
type PlanInputTopic struct {
	Name       string
	Partitions []PlanInputPartition
}

// PlanInputPartition is a partition's current replicas, preferred leader first.
type PlanInputPartition struct {
	Partition int32
	Replicas  []int32
}

// PlanBroker is a target broker; Rack is empty when the broker reports none.
type PlanBroker struct {
	ID   int32
	Rack string
}

// PlannedPartition is one partition of a plan: its replicas before and after.
type PlannedPartition struct {
	Topic     string  `json:"topic"`
	Partition int32   `json:"partition"`
	Before    []int32 `json:"before"`
	After     []int32 `json:"after"`
	// Moved counts the replicas of After that Before does not hold (the copies the move makes).
	Moved int `json:"moved"`
}

// PlanLayout is the planner's result.
type PlanLayout struct {
	Partitions []PlannedPartition `json:"partitions"`
	// MovedReplicas is the number of replicas that must be copied to a broker that lacks them.
	MovedReplicas int `json:"movedReplicas"`
	// ChangedPartitions counts partitions whose replica list (or its order) changes.
	ChangedPartitions int `json:"changedPartitions"`
	// RackAware is true when every target broker has a rack and replicas were spread over racks.
	RackAware bool     `json:"rackAware"`
	Warnings  []string `json:"warnings,omitempty"`
}

// PlanLayoutFor computes a balanced layout of topics over brokers.
//
// Rules, per topic (topics are planned in the given order, and ties between equally loaded brokers go
// to the broker less loaded over the whole plan so far, then the lower id):
//   - every partition gets rf replicas (rf <= 0 keeps each partition's current count), all on distinct
//     target brokers, and on distinct racks when there are at least rf racks (otherwise at most
//     ceil(rf/racks) replicas per rack), as Kafka's rack-aware assignment does;
//   - replica counts per broker differ by at most one (floor or ceil of partitions×rf/brokers), and so
//     do preferred-leader counts (first replicas);
//   - a replica already on a target broker stays where balance and racks allow, and so does the current
//     preferred leader: minimal movement;
//   - the result is deterministic for a given input.
//
// The caller validates names; PlanLayoutFor only checks counts.
func PlanLayoutFor(topics []PlanInputTopic, brokers []PlanBroker, rf int) (PlanLayout, error) {
	var out PlanLayout
	if len(brokers) == 0 {
		return out, fmt.Errorf("no target brokers")
	}
	bs := slices.Clone(brokers)
	sort.Slice(bs, func(i, j int) bool { return bs[i].ID < bs[j].ID })
	for i := 1; i < len(bs); i++ {
		if bs[i].ID == bs[i-1].ID {
			return out, fmt.Errorf("broker %d is listed twice", bs[i].ID)
		}
	}
	rackOf := make(map[int32]string, len(bs))
	racks := map[string]bool{}
	withRack := 0
	for _, b := range bs {
		rackOf[b.ID] = b.Rack
		if b.Rack != "" {
			withRack++
			racks[b.Rack] = true
		}
	}
	out.RackAware = withRack == len(bs) && len(racks) > 1
	if withRack > 0 && withRack < len(bs) {
		out.Warnings = append(out.Warnings, "some target brokers have no rack; the plan ignores racks")
	}
	global := map[int32]int{}        // replicas planned per broker over all topics so far
	globalLeaders := map[int32]int{} // preferred leaders likewise
	for _, t := range topics {
		parts, err := planTopic(t, bs, rackOf, len(racks), out.RackAware, rf, global, globalLeaders)
		if err != nil {
			return PlanLayout{}, err
		}
		for _, p := range parts {
			out.MovedReplicas += p.Moved
			if !slices.Equal(p.Before, p.After) {
				out.ChangedPartitions++
			}
		}
		out.Partitions = append(out.Partitions, parts...)
	}
	return out, nil
}

// balanceCaps gives each broker its allowed count: floor(total/n) for all, plus one for the `total mod n`
// brokers that already hold the most (so keeping existing replicas wins), ties to the broker less
// loaded globally, then the lower id.
func balanceCaps(bs []PlanBroker, total int, kept, global map[int32]int) map[int32]int {
	n := len(bs)
	floor, extra := total/n, total%n
	order := make([]int32, 0, n)
	for _, b := range bs {
		order = append(order, b.ID)
	}
	sort.SliceStable(order, func(i, j int) bool {
		a, b := order[i], order[j]
		if kept[a] != kept[b] {
			return kept[a] > kept[b]
		}
		if global[a] != global[b] {
			return global[a] < global[b]
		}
		return a < b
	})
	out := make(map[int32]int, n)
	for i, id := range order {
		out[id] = floor
		if i < extra {
			out[id]++
		}
	}
	return out
}

// planTopic plans one topic's replica sets and preferred leaders in four steps (keep, fill, balance
// replicas, choose leaders), then adds the result to the cluster-wide counts global and globalLeaders.
func planTopic(t PlanInputTopic, bs []PlanBroker, rackOf map[int32]string, nRacks int, rackAware bool, rf int,
	global, globalLeaders map[int32]int) ([]PlannedPartition, error) {
	parts := slices.Clone(t.Partitions)
	sort.Slice(parts, func(i, j int) bool { return parts[i].Partition < parts[j].Partition })
	want, total, err := replicaCounts(t.Name, parts, rf, len(bs))
	if err != nil {
		return nil, err
	}
	// perRack bounds the replicas of one partition on one rack.
	perRack := func(n int) int {
		if !rackAware {
			return n
		}
		return (n + nRacks - 1) / nRacks
	}
	// 1. Keep current replicas that are on target brokers.
	sets, kept := keepReplicas(bs, parts, want, rackOf, perRack)
	// 2. Fill each partition up to its count.
	capOf := balanceCaps(bs, total, kept, global)
	load := fillReplicas(bs, sets, want, capOf, rackOf, perRack, global)
	// 3. Kept replicas may leave brokers above their cap and others below: move replicas from an
	//    over-cap broker to an under-cap one, directly (one copy) where a partition lacks the latter and
	//    racks allow, else along the shortest chain of such moves (rack constraints can demand it).
	//    Partitions whose preferred leader would move are used last.
	balanceReplicas(bs, parts, sets, want, load, total, rackOf, perRack)
	// 4. Choose each partition's preferred leader.
	leaderOf := chooseLeaders(bs, parts, sets, globalLeaders)
	return plannedPartitions(t.Name, parts, sets, leaderOf, global, globalLeaders), nil
}

// replicaCounts returns each partition's wanted replica count (rf, or its current count when rf <= 0)
// and their sum, refusing a count of zero or one above the number of target brokers.
func replicaCounts(topic string, parts []PlanInputPartition, rf, brokers int) ([]int, int, error) {
	want := make([]int, len(parts))
	total := 0
	for i, p := range parts {
		want[i] = rf
		if rf <= 0 {
			want[i] = len(p.Replicas)
		}
		if want[i] <= 0 {
			return nil, 0, fmt.Errorf("topic %q partition %d has no replicas; give a replication factor", topic, p.Partition)
		}
		if want[i] > brokers {
			return nil, 0, fmt.Errorf("topic %q needs replication factor %d but only %d target brokers were chosen", topic, want[i], brokers)
		}
		total += want[i]
	}
	return want, total, nil
}

// keepReplicas keeps each partition's current replicas that are on target brokers, without duplicates,
// within the rack bound and the replica count; kept counts them per broker.
func keepReplicas(bs []PlanBroker, parts []PlanInputPartition, want []int, rackOf map[int32]string,
	perRack func(int) int) (sets [][]int32, kept map[int32]int) {
	target := make(map[int32]bool, len(bs))
	for _, b := range bs {
		target[b.ID] = true
	}
	sets = make([][]int32, len(parts))
	kept = map[int32]int{}
	for i, p := range parts {
		rackUse := map[string]int{}
		for _, r := range p.Replicas {
			if !target[r] || slices.Contains(sets[i], r) || len(sets[i]) >= want[i] {
				continue
			}
			if rackUse[rackOf[r]] >= perRack(want[i]) {
				continue
			}
			rackUse[rackOf[r]]++
			sets[i] = append(sets[i], r)
			kept[r]++
		}
	}
	return sets, kept
}

// fillReplicas fills each partition up to its count with the least loaded eligible broker and returns
// the replicas per broker. Eligibility is relaxed step by step only when nothing fits (caps first, then
// racks), so a plan always exists.
func fillReplicas(bs []PlanBroker, sets [][]int32, want []int, capOf map[int32]int, rackOf map[int32]string,
	perRack func(int) int, global map[int32]int) map[int32]int {
	load := map[int32]int{}
	for i := range sets {
		for _, r := range sets[i] {
			load[r]++
		}
	}
	rackUse := func(set []int32, skip int32) map[string]int {
		m := map[string]int{}
		for _, r := range set {
			if r != skip {
				m[rackOf[r]]++
			}
		}
		return m
	}
	for i := range sets {
		for len(sets[i]) < want[i] {
			use := rackUse(sets[i], -1)
			pick := int32(-1)
			for relax := 0; relax < 3 && pick < 0; relax++ {
				for _, b := range bs {
					id := b.ID
					if slices.Contains(sets[i], id) {
						continue
					}
					if relax < 1 && load[id] >= capOf[id] {
						continue
					}
					if relax < 2 && use[rackOf[id]] >= perRack(want[i]) {
						continue
					}
					if pick < 0 || lessLoaded(id, pick, load, global) {
						pick = id
					}
				}
			}
			sets[i] = append(sets[i], pick)
			load[pick]++
		}
	}
	return load
}

// chooseLeaders picks each partition's preferred leader: keep the current one where its broker stays
// under the leader cap, give the rest to the replica leading the fewest, then shift leadership along
// chains (A leads a partition that B also holds, ...) until counts are within the caps.
func chooseLeaders(bs []PlanBroker, parts []PlanInputPartition, sets [][]int32, globalLeaders map[int32]int) []int32 {
	keptLeaders := map[int32]int{}
	for i, p := range parts {
		if len(p.Replicas) > 0 && slices.Contains(sets[i], p.Replicas[0]) {
			keptLeaders[p.Replicas[0]]++
		}
	}
	leaderCap := balanceCaps(bs, len(parts), keptLeaders, globalLeaders)
	leaders := map[int32]int{}
	leaderOf := make([]int32, len(parts))
	for i, p := range parts {
		leaderOf[i] = -1
		if len(p.Replicas) > 0 && slices.Contains(sets[i], p.Replicas[0]) && leaders[p.Replicas[0]] < leaderCap[p.Replicas[0]] {
			leaderOf[i] = p.Replicas[0]
			leaders[p.Replicas[0]]++
		}
	}
	for i := range parts {
		if leaderOf[i] >= 0 {
			continue
		}
		pick := int32(-1)
		for relax := 0; relax < 2 && pick < 0; relax++ {
			for _, r := range sets[i] {
				if relax == 0 && leaders[r] >= leaderCap[r] {
					continue
				}
				if pick < 0 || lessLoaded(r, pick, leaders, globalLeaders) {
					pick = r
				}
			}
		}
		leaderOf[i] = pick
		leaders[pick]++
	}
	balanceLeaders(bs, sets, leaderOf, leaders)
	return leaderOf
}

// plannedPartitions orders each partition's replicas (leader first, then followers in their current
// order, then new ones), counts the moved replicas, and adds the plan to global and globalLeaders.
func plannedPartitions(topic string, parts []PlanInputPartition, sets [][]int32, leaderOf []int32,
	global, globalLeaders map[int32]int) []PlannedPartition {
	out := make([]PlannedPartition, 0, len(parts))
	for i, p := range parts {
		after := make([]int32, 0, len(sets[i]))
		after = append(after, leaderOf[i])
		// Followers keep their current relative order; new ones follow.
		for _, r := range p.Replicas {
			if r != leaderOf[i] && slices.Contains(sets[i], r) && !slices.Contains(after, r) {
				after = append(after, r)
			}
		}
		for _, r := range sets[i] {
			if !slices.Contains(after, r) {
				after = append(after, r)
			}
		}
		moved := 0
		for _, r := range after {
			if !slices.Contains(p.Replicas, r) {
				moved++
			}
		}
		for _, r := range after {
			global[r]++
		}
		globalLeaders[after[0]]++
		out = append(out, PlannedPartition{Topic: topic, Partition: p.Partition,
			Before: slices.Clone(p.Replicas), After: after, Moved: moved})
	}
	return out
}

// pathStep is one edge of an augmenting path: a unit moves from broker `from` to the broker it leads to,
// in partition `partition`.
type pathStep struct {
	from      int32
	partition int
}

// augmentCounts evens out counts: every broker must end within [floor, ceil] of total/brokers. While some
// broker is above ceil (then: some broker below floor), it asks find for the shortest chain of moves
// from a donor to a receiver and applies it. find returns the path (receiver → … → donor through
// prev) or -1. It stops when counts are even or no chain exists (the constraints allow no better).
func augmentCounts(bs []PlanBroker, count map[int32]int, total int,
	find func(src int32, isDst func(int32) bool) (map[int32]pathStep, int32), apply func(prev map[int32]pathStep, src, dst int32)) {
	floor := total / len(bs)
	ceil := floor
	if total%len(bs) != 0 {
		ceil++
	}
	phases := []struct {
		donor    func(int32) bool
		receiver func(int32) bool
	}{
		{func(b int32) bool { return count[b] > ceil }, func(b int32) bool { return count[b] < ceil }},
		{func(b int32) bool { return count[b] > floor }, func(b int32) bool { return count[b] < floor }},
	}
	for _, ph := range phases {
		for iter := 0; iter < total*len(bs)+1; iter++ {
			applied := false
			for _, b := range bs {
				if !ph.donor(b.ID) {
					continue
				}
				// Nothing to do while no broker can receive (phase 1 may leave none below floor).
				anyReceiver := false
				for _, r := range bs {
					if ph.receiver(r.ID) {
						anyReceiver = true
						break
					}
				}
				if !anyReceiver {
					break
				}
				prev, dst := find(b.ID, ph.receiver)
				if dst < 0 {
					continue // this broker cannot give a unit away; another may
				}
				apply(prev, b.ID, dst)
				count[b.ID]--
				count[dst]++
				applied = true
				break
			}
			if !applied {
				break
			}
		}
	}
}

// pathUses reports whether the path to `at` already uses partition.
func pathUses(prev map[int32]pathStep, at int32, partition int) bool {
	for c := at; ; {
		st := prev[c]
		if st.partition < 0 {
			return false
		}
		if st.partition == partition {
			return true
		}
		c = st.from
	}
}

// balanceReplicas moves replicas along augmenting paths. An edge A→C is a partition holding A but not
// C where C may replace A under the rack bound; a path uses each partition at most once, so its moves
// do not interfere. Partitions whose current preferred leader is A are used last.
func balanceReplicas(bs []PlanBroker, parts []PlanInputPartition, sets [][]int32, want []int,
	load map[int32]int, total int, rackOf map[int32]string, perRack func(int) int) {
	fits := func(i int, out, in int32) bool {
		if slices.Contains(sets[i], in) {
			return false
		}
		n := 0
		for _, r := range sets[i] {
			if r != out && rackOf[r] == rackOf[in] {
				n++
			}
		}
		return n < perRack(want[i])
	}
	find := func(src int32, isDst func(int32) bool) (map[int32]pathStep, int32) {
		prev := map[int32]pathStep{src: {from: -1, partition: -1}}
		queue := []int32{src}
		for len(queue) > 0 {
			a := queue[0]
			queue = queue[1:]
			for pass := 0; pass < 2; pass++ {
				for i := len(sets) - 1; i >= 0; i-- {
					leads := len(parts[i].Replicas) > 0 && parts[i].Replicas[0] == a
					if (pass == 0) == leads || !slices.Contains(sets[i], a) || pathUses(prev, a, i) {
						continue
					}
					for _, b := range bs {
						c := b.ID
						if _, seen := prev[c]; seen || !fits(i, a, c) {
							continue
						}
						prev[c] = pathStep{from: a, partition: i}
						if isDst(c) {
							return prev, c
						}
						queue = append(queue, c)
					}
				}
			}
		}
		return nil, -1
	}
	augmentCounts(bs, load, total, find, func(prev map[int32]pathStep, src, dst int32) {
		for c := dst; c != src; {
			st := prev[c]
			sets[st.partition][slices.Index(sets[st.partition], st.from)] = c
			c = st.from
		}
	})
}

// balanceLeaders moves leadership along augmenting paths: from a broker leading too many, through
// partitions it leads that another of their replicas could lead, to a broker leading too few.
func balanceLeaders(bs []PlanBroker, sets [][]int32, leaderOf []int32, leaders map[int32]int) {
	find := func(src int32, isDst func(int32) bool) (map[int32]pathStep, int32) {
		prev := map[int32]pathStep{src: {from: -1, partition: -1}}
		queue := []int32{src}
		for len(queue) > 0 {
			a := queue[0]
			queue = queue[1:]
			for i := range sets {
				if leaderOf[i] != a {
					continue
				}
				for _, c := range sets[i] {
					if _, seen := prev[c]; seen {
						continue
					}
					prev[c] = pathStep{from: a, partition: i}
					if isDst(c) {
						return prev, c
					}
					queue = append(queue, c)
				}
			}
		}
		return nil, -1
	}
	augmentCounts(bs, leaders, len(sets), find, func(prev map[int32]pathStep, src, dst int32) {
		for c := dst; c != src; {
			st := prev[c]
			leaderOf[st.partition] = c
			c = st.from
		}
	})
}

// lessLoaded orders candidate brokers: fewer in this topic, then fewer over the plan, then lower id.
func lessLoaded(a, b int32, local, global map[int32]int) bool {
	if local[a] != local[b] {
		return local[a] < local[b]
	}
	if global[a] != global[b] {
		return global[a] < global[b]
	}
	return a < b
}
