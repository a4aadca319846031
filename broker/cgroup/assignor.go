package cgroup

import (
	"cmp"
	"slices"
)

// Assignors are the server-side assignors a group may use, by the names
// clients send in ServerAssignor (group.consumer.assignors).
var Assignors = map[string]Assignor{"uniform": assignUniform, "range": assignRange}

// AssignmentSpec is the input of an assignor: each member's subscribed
// topics (resolved to ids), the partition counts of those topics, and the
// previous target assignment (for stickiness).
type AssignmentSpec struct {
	Subscriptions map[string][]TopicID // member id → topics, sorted by id
	Partitions    map[TopicID]int32
	Previous      map[string]Set
}

// Assignor computes a target assignment: every partition of a subscribed
// topic goes to exactly one member subscribed to that topic.
type Assignor func(spec AssignmentSpec) map[string]Set

// assignUniform spreads partitions as evenly as the subscriptions allow
// while moving as few as possible: members keep their previous partitions
// they are still subscribed to, free partitions go to the least loaded
// eligible member, then partitions move from a member to an eligible one
// holding at least two fewer until none can.
func assignUniform(spec AssignmentSpec) map[string]Set {
	ids := sortedKeys(spec.Subscriptions)
	out := make(map[string]Set, len(ids))
	eligible := map[TopicID][]string{} // topic → subscribed members, sorted
	for _, id := range ids {
		out[id] = Set{}
		for _, t := range spec.Subscriptions[id] {
			eligible[t] = append(eligible[t], id)
		}
	}
	owner := map[TP]string{}
	for _, id := range ids {
		for tp := range spec.Previous[id] {
			if tp.Partition < spec.Partitions[tp.Topic] && slices.Contains(spec.Subscriptions[id], tp.Topic) {
				if _, taken := owner[tp]; !taken {
					owner[tp] = id
					out[id][tp] = struct{}{}
				}
			}
		}
	}
	// Free partitions go to the least loaded eligible member; balance
	// then evens out what stickiness left uneven.
	all := allPartitions(spec.Partitions, eligible)
	for _, tp := range all {
		if _, ok := owner[tp]; ok {
			continue
		}
		best := leastLoaded(eligible[tp.Topic], out)
		owner[tp] = best
		out[best][tp] = struct{}{}
	}
	balance(all, eligible, owner, out)
	return out
}

// balance moves partitions from the most loaded members to eligible
// members holding at least two fewer, until no such move exists.
func balance(all []TP, eligible map[TopicID][]string, owner map[TP]string, out map[string]Set) {
	for moved := true; moved; {
		moved = false
		for _, tp := range all {
			from := owner[tp]
			to := leastLoaded(eligible[tp.Topic], out)
			if len(out[from]) > len(out[to])+1 {
				delete(out[from], tp)
				out[to][tp] = struct{}{}
				owner[tp] = to
				moved = true
			}
		}
	}
}

// leastLoaded returns the member with the fewest partitions (ties: the
// smallest id; ids are sorted).
func leastLoaded(ids []string, out map[string]Set) string {
	best := ids[0]
	for _, id := range ids[1:] {
		if len(out[id]) < len(out[best]) {
			best = id
		}
	}
	return best
}

// allPartitions lists every partition of the subscribed topics, in topic id
// then partition order.
func allPartitions(parts map[TopicID]int32, eligible map[TopicID][]string) []TP {
	topics := make([]TopicID, 0, len(eligible))
	for t := range eligible {
		topics = append(topics, t)
	}
	slices.SortFunc(topics, compareIDs)
	var all []TP
	for _, t := range topics {
		for p := range parts[t] {
			all = append(all, TP{t, p})
		}
	}
	return all
}

// assignRange gives each topic's subscribers, sorted by member id,
// consecutive ranges of its partitions; the first members get one more when
// the count does not divide (the classic range assignor's layout, so that
// co-partitioned topics line up).
func assignRange(spec AssignmentSpec) map[string]Set {
	ids := sortedKeys(spec.Subscriptions)
	out := make(map[string]Set, len(ids))
	subs := map[TopicID][]string{}
	for _, id := range ids {
		out[id] = Set{}
		for _, t := range spec.Subscriptions[id] {
			subs[t] = append(subs[t], id)
		}
	}
	for t, members := range subs {
		n, m := spec.Partitions[t], int32(len(members))
		per, extra := n/m, n%m
		next := int32(0)
		for i, id := range members {
			count := per
			if int32(i) < extra {
				count++
			}
			for p := next; p < next+count; p++ {
				out[id][TP{t, p}] = struct{}{}
			}
			next += count
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.SortFunc(out, cmp.Compare[string])
	return out
}
