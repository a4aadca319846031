package service

import (
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"testing"
)

func planTopicLayout(name string, reps ...[]int32) PlanInputTopic {
	t := PlanInputTopic{Name: name}
	for i, r := range reps {
		t.Partitions = append(t.Partitions, PlanInputPartition{Partition: int32(i), Replicas: r})
	}
	return t
}

func planBrokers(ids ...int32) []PlanBroker {
	out := make([]PlanBroker, 0, len(ids))
	for _, id := range ids {
		out = append(out, PlanBroker{ID: id})
	}
	return out
}

// checkBalanced verifies the invariants every plan must hold and returns per-broker replica and leader
// counts of each topic.
func checkBalanced(t *testing.T, plan PlanLayout, bs []PlanBroker, rf int, in []PlanInputTopic) {
	t.Helper()
	target := map[int32]string{}
	racks := map[string]bool{}
	for _, b := range bs {
		target[b.ID] = b.Rack
		racks[b.Rack] = true
	}
	byTopic := map[string][]PlannedPartition{}
	moved := 0
	for _, p := range plan.Partitions {
		byTopic[p.Topic] = append(byTopic[p.Topic], p)
		moved += p.Moved
		seen := map[int32]bool{}
		rackUse := map[string]int{}
		for _, r := range p.After {
			if _, ok := target[r]; !ok {
				t.Fatalf("%s-%d: replica on broker %d, not a target", p.Topic, p.Partition, r)
			}
			if seen[r] {
				t.Fatalf("%s-%d: broker %d twice in %v", p.Topic, p.Partition, r, p.After)
			}
			seen[r] = true
			rackUse[target[r]]++
		}
		if rf > 0 && len(p.After) != rf {
			t.Fatalf("%s-%d: %d replicas, want %d", p.Topic, p.Partition, len(p.After), rf)
		}
		if plan.RackAware {
			limit := (len(p.After) + len(racks) - 1) / len(racks)
			for rk, n := range rackUse {
				if n > limit {
					t.Fatalf("%s-%d: %d replicas on rack %q (limit %d): %v", p.Topic, p.Partition, n, rk, limit, p.After)
				}
			}
		}
	}
	if moved != plan.MovedReplicas {
		t.Fatalf("MovedReplicas = %d, partitions sum to %d", plan.MovedReplicas, moved)
	}
	for _, it := range in {
		parts := byTopic[it.Name]
		if len(parts) != len(it.Partitions) {
			t.Fatalf("topic %s: %d planned partitions, want %d", it.Name, len(parts), len(it.Partitions))
		}
		reps, leads := map[int32]int{}, map[int32]int{}
		for _, p := range parts {
			for _, r := range p.After {
				reps[r]++
			}
			leads[p.After[0]]++
		}
		spread := func(what string, m map[int32]int) {
			lo, hi := 1<<30, -1
			for _, b := range bs {
				lo, hi = min(lo, m[b.ID]), max(hi, m[b.ID])
			}
			if hi-lo > 1 {
				t.Fatalf("topic %s: %s per broker range %d..%d (%v), want within one", it.Name, what, lo, hi, m)
			}
		}
		spread("replicas", reps)
		spread("leaders", leads)
	}
}

func TestPlanAddBrokerMovesOnlyWhatBalanceNeeds(t *testing.T) {
	// 8 partitions × RF 2 on brokers 1..3; broker 4 joins. Balance is 4 replicas each, so exactly 4
	// replicas must move to broker 4 and nothing else changes hands.
	in := []PlanInputTopic{planTopicLayout("orders",
		[]int32{1, 2}, []int32{2, 3}, []int32{3, 1}, []int32{1, 2},
		[]int32{2, 3}, []int32{3, 1}, []int32{1, 2}, []int32{2, 3})}
	bs := planBrokers(1, 2, 3, 4)
	plan, err := PlanLayoutFor(in, bs, 0)
	if err != nil {
		t.Fatal(err)
	}
	checkBalanced(t, plan, bs, 2, in)
	if plan.MovedReplicas != 4 {
		t.Fatalf("moved %d replicas, want the minimum 4: %+v", plan.MovedReplicas, plan.Partitions)
	}
}

func TestPlanBalancedInputIsUnchanged(t *testing.T) {
	in := []PlanInputTopic{planTopicLayout("t", []int32{1, 2}, []int32{2, 3}, []int32{3, 1})}
	bs := planBrokers(3, 2, 1)
	plan, err := PlanLayoutFor(in, bs, 0)
	if err != nil {
		t.Fatal(err)
	}
	if plan.MovedReplicas != 0 || plan.ChangedPartitions != 0 {
		t.Fatalf("a balanced planTopicLayout changed: %+v", plan)
	}
}

func TestPlanRemoveBroker(t *testing.T) {
	in := []PlanInputTopic{planTopicLayout("t", []int32{1, 2}, []int32{2, 3}, []int32{3, 1}, []int32{1, 3})}
	bs := planBrokers(1, 2)
	plan, err := PlanLayoutFor(in, bs, 0)
	if err != nil {
		t.Fatal(err)
	}
	checkBalanced(t, plan, bs, 2, in)
	// Broker 3 held 3 replicas; each must be copied elsewhere, and nothing more.
	if plan.MovedReplicas != 3 {
		t.Fatalf("moved %d, want 3: %+v", plan.MovedReplicas, plan.Partitions)
	}
}

func TestPlanSkewedLeadersAreSpread(t *testing.T) {
	// Same broker set, but broker 1 is the preferred leader everywhere.
	in := []PlanInputTopic{planTopicLayout("t", []int32{1, 2}, []int32{1, 3}, []int32{1, 2}, []int32{1, 3}, []int32{1, 2}, []int32{1, 3})}
	bs := planBrokers(1, 2, 3)
	plan, err := PlanLayoutFor(in, bs, 0)
	if err != nil {
		t.Fatal(err)
	}
	checkBalanced(t, plan, bs, 2, in)
}

func TestPlanRackAware(t *testing.T) {
	bs := []PlanBroker{{1, "a"}, {2, "a"}, {3, "b"}, {4, "b"}, {5, "c"}, {6, "c"}}
	// Start with every replica of a partition on one rack's brokers where possible.
	in := []PlanInputTopic{planTopicLayout("t", []int32{1, 2}, []int32{3, 4}, []int32{5, 6}, []int32{1, 2}, []int32{3, 4}, []int32{5, 6})}
	plan, err := PlanLayoutFor(in, bs, 3)
	if err != nil {
		t.Fatal(err)
	}
	if !plan.RackAware {
		t.Fatal("all brokers have racks; the plan must be rack-aware")
	}
	checkBalanced(t, plan, bs, 3, in) // includes: three racks per partition
	// Two racks, RF 3: at most two replicas per rack.
	bs2 := []PlanBroker{{1, "a"}, {2, "a"}, {3, "b"}, {4, "b"}}
	plan, err = PlanLayoutFor(in, bs2, 3)
	if err != nil {
		t.Fatal(err)
	}
	checkBalanced(t, plan, bs2, 3, in)
}

func TestPlanMissingRackWarns(t *testing.T) {
	bs := []PlanBroker{{1, "a"}, {2, ""}, {3, "b"}}
	plan, err := PlanLayoutFor([]PlanInputTopic{planTopicLayout("t", []int32{1})}, bs, 2)
	if err != nil {
		t.Fatal(err)
	}
	if plan.RackAware || len(plan.Warnings) == 0 {
		t.Fatalf("mixed racks: rackAware=%v warnings=%v", plan.RackAware, plan.Warnings)
	}
}

func TestPlanChangeReplicationFactor(t *testing.T) {
	in := []PlanInputTopic{planTopicLayout("t", []int32{1}, []int32{2}, []int32{3}, []int32{1})}
	bs := planBrokers(1, 2, 3)
	up, err := PlanLayoutFor(in, bs, 3)
	if err != nil {
		t.Fatal(err)
	}
	checkBalanced(t, up, bs, 3, in)
	for _, p := range up.Partitions {
		if p.After[0] != p.Before[0] {
			t.Fatalf("raising RF moved the preferred leader of %d: %v → %v", p.Partition, p.Before, p.After)
		}
	}
	if up.MovedReplicas != 8 {
		t.Fatalf("RF 1→3 over 4 partitions copies 8 replicas, plan says %d", up.MovedReplicas)
	}
	down, err := PlanLayoutFor([]PlanInputTopic{planTopicLayout("t", []int32{1, 2, 3}, []int32{2, 3, 1}, []int32{3, 1, 2})}, bs, 1)
	if err != nil {
		t.Fatal(err)
	}
	if down.MovedReplicas != 0 {
		t.Fatalf("lowering RF must not copy anything: %+v", down)
	}
	for _, p := range down.Partitions {
		if len(p.After) != 1 || p.After[0] != p.Before[0] {
			t.Fatalf("lowering RF should keep the preferred leader: %v → %v", p.Before, p.After)
		}
	}
}

func TestPlanErrors(t *testing.T) {
	in := []PlanInputTopic{planTopicLayout("t", []int32{1, 2})}
	if _, err := PlanLayoutFor(in, planBrokers(1, 2), 3); err == nil || !strings.Contains(err.Error(), "replication factor 3") {
		t.Fatalf("RF > brokers: err = %v", err)
	}
	if _, err := PlanLayoutFor(in, planBrokers(1), 0); err == nil {
		t.Fatal("current RF 2 over one broker must fail")
	}
	if _, err := PlanLayoutFor(in, nil, 1); err == nil {
		t.Fatal("no brokers must fail")
	}
	if _, err := PlanLayoutFor(in, planBrokers(1, 1), 1); err == nil {
		t.Fatal("a duplicated broker must fail")
	}
}

func TestPlanDeterministicAndSpreadsAcrossTopics(t *testing.T) {
	var in []PlanInputTopic
	for i := 0; i < 6; i++ {
		in = append(in, planTopicLayout(fmt.Sprintf("small-%d", i), []int32{9}))
	}
	bs := planBrokers(1, 2, 3, 4, 5, 6)
	a, err := PlanLayoutFor(in, bs, 1)
	if err != nil {
		t.Fatal(err)
	}
	b, err := PlanLayoutFor(in, []PlanBroker{{6, ""}, {5, ""}, {4, ""}, {3, ""}, {2, ""}, {1, ""}}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Fatalf("plans differ with broker order:\n%v\n%v", a, b)
	}
	// Six one-partition topics leaving broker 9: per topic any broker is balanced, but over the plan
	// they must not all land on one broker.
	used := map[int32]bool{}
	for _, p := range a.Partitions {
		used[p.After[0]] = true
	}
	if len(used) != 6 {
		t.Fatalf("one-partition topics should spread over the brokers, used %v", used)
	}
}

func TestPlanRandomLayoutsKeepInvariants(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	for iter := 0; iter < 300; iter++ {
		nb := 1 + rng.Intn(8)
		var bs []PlanBroker
		for i := 0; i < nb; i++ {
			bs = append(bs, PlanBroker{ID: int32(i + 1)})
		}
		all := []int32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
		var in []PlanInputTopic
		for ti := 0; ti < 1+rng.Intn(3); ti++ {
			cur := 1 + rng.Intn(3)
			var reps [][]int32
			for p := 0; p < 1+rng.Intn(12); p++ {
				perm := slices.Clone(all)
				rng.Shuffle(len(perm), func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
				reps = append(reps, perm[:cur])
			}
			in = append(in, planTopicLayout(fmt.Sprintf("t%d", ti), reps...))
		}
		rf := 1 + rng.Intn(nb)
		plan, err := PlanLayoutFor(in, bs, rf)
		if err != nil {
			t.Fatalf("iter %d: %v", iter, err)
		}
		checkBalanced(t, plan, bs, rf, in)
		again, _ := PlanLayoutFor(in, bs, rf)
		if fmt.Sprint(plan) != fmt.Sprint(again) {
			t.Fatalf("iter %d: not deterministic", iter)
		}
	}
}

func TestPlanRandomRackLayoutsKeepInvariants(t *testing.T) {
	rng := rand.New(rand.NewSource(11))
	for iter := 0; iter < 300; iter++ {
		nRacks := 2 + rng.Intn(2)
		perRack := 1 + rng.Intn(3)
		var bs []PlanBroker
		for i := 0; i < nRacks*perRack; i++ {
			bs = append(bs, PlanBroker{ID: int32(i + 1), Rack: fmt.Sprintf("rack-%d", i%nRacks)})
		}
		var reps [][]int32
		for p := 0; p < 1+rng.Intn(16); p++ {
			perm := []int32{1, 2, 3, 4, 5, 6, 7, 8, 9}
			rng.Shuffle(len(perm), func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
			reps = append(reps, perm[:1+rng.Intn(3)])
		}
		in := []PlanInputTopic{planTopicLayout("t", reps...)}
		rf := 1 + rng.Intn(min(3, len(bs)))
		plan, err := PlanLayoutFor(in, bs, rf)
		if err != nil {
			t.Fatalf("iter %d: %v", iter, err)
		}
		if !plan.RackAware {
			t.Fatalf("iter %d: not rack-aware", iter)
		}
		checkBalanced(t, plan, bs, rf, in)
	}
}
