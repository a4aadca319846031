package cgroup

import (
	"fmt"
	"testing"
)

func tid(b byte) TopicID { return TopicID{b} }

func counts(a map[string]Set) map[string]int {
	out := map[string]int{}
	for id, s := range a {
		out[id] = len(s)
	}
	return out
}

// range: each topic's subscribers, by member id, get consecutive ranges,
// the first ones one more.
func TestAssignRange(t *testing.T) {
	a, b := tid(1), tid(2)
	got := assignRange(AssignmentSpec{
		Subscriptions: map[string][]TopicID{"m1": {a, b}, "m2": {a, b}, "m3": {a}},
		Partitions:    map[TopicID]int32{a: 7, b: 3},
	})
	want := map[string]Set{
		"m1": {{a, 0}: {}, {a, 1}: {}, {a, 2}: {}, {b, 0}: {}, {b, 1}: {}},
		"m2": {{a, 3}: {}, {a, 4}: {}, {b, 2}: {}},
		"m3": {{a, 5}: {}, {a, 6}: {}},
	}
	for id, s := range want {
		if !got[id].Equal(s) {
			t.Errorf("%s: got %v, want %v", id, got[id].Grouped(), s.Grouped())
		}
	}
}

// uniform: balanced within one partition, every partition once, and a
// member joining moves only what it must (the others keep the rest).
func TestAssignUniformBalancedAndSticky(t *testing.T) {
	a, b := tid(1), tid(2)
	subs := map[string][]TopicID{"m1": {a, b}, "m2": {a, b}}
	parts := map[TopicID]int32{a: 8, b: 4}
	first := assignUniform(AssignmentSpec{Subscriptions: subs, Partitions: parts})
	if c := counts(first); c["m1"] != 6 || c["m2"] != 6 {
		t.Fatalf("two members: %v", c)
	}
	subs["m3"] = []TopicID{a, b}
	second := assignUniform(AssignmentSpec{Subscriptions: subs, Partitions: parts, Previous: first})
	if c := counts(second); c["m1"] != 4 || c["m2"] != 4 || c["m3"] != 4 {
		t.Fatalf("three members: %v", c)
	}
	seen := Set{}
	kept := 0
	for id, s := range second {
		for tp := range s {
			if seen.Has(tp) {
				t.Fatalf("%v assigned twice", tp)
			}
			seen[tp] = struct{}{}
			if first[id].Has(tp) {
				kept++
			}
		}
	}
	if len(seen) != 12 || kept != 8 {
		t.Fatalf("%d partitions assigned (want 12), %d kept by their owner (want 8: only the newcomer's 4 move)", len(seen), kept)
	}
}

// uniform with different subscriptions: only subscribers get a topic's
// partitions, and loads are as even as the subscriptions allow.
func TestAssignUniformHeterogeneous(t *testing.T) {
	a, b := tid(1), tid(2)
	for _, n := range []int32{1, 5, 9} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			got := assignUniform(AssignmentSpec{
				Subscriptions: map[string][]TopicID{"m1": {a}, "m2": {a, b}, "m3": {b}},
				Partitions:    map[TopicID]int32{a: n, b: n},
			})
			for tp := range got["m1"] {
				if tp.Topic != a {
					t.Fatalf("m1 got %v", tp)
				}
			}
			for tp := range got["m3"] {
				if tp.Topic != b {
					t.Fatalf("m3 got %v", tp)
				}
			}
			c := counts(got)
			lo, hi := c["m1"], c["m1"]
			for _, v := range c {
				lo, hi = min(lo, v), max(hi, v)
			}
			if c["m1"]+c["m2"]+c["m3"] != int(2*n) || hi-lo > 1 {
				t.Fatalf("loads %v for %d partitions per topic", c, n)
			}
		})
	}
}
