package alert

import (
	"strings"
	"testing"

	"github.com/osprey-kafka/osprey/collector"
)

// catchUp sets the catch-up estimate of every topic of group.
func (b *snapB) catchUp(group string, c collector.CatchUp) *snapB {
	for i := range b.s.Groups {
		if b.s.Groups[i].Name == group {
			for j := range b.s.Groups[i].Topics {
				b.s.Groups[i].Topics[j].CatchUp = c
			}
		}
	}
	return b
}

func TestRuleCatchUpTime(t *testing.T) {
	h := newHarness(t, RuleInput{Name: "catchup", Kind: KindCatchUpTime, Threshold: 600})
	snap := func(c collector.CatchUp) *collector.Snapshot {
		return newSnap("c1", h.now()).topic("t", 1000).group("g", "Stable", 1, "t", [2]int64{500, 1000}).catchUp("g", c).build()
	}
	h.observe(snap(collector.CatchUp{State: collector.CatchUpCatchingUp, Seconds: 300}))
	h.expectFiring(0)
	h.observe(snap(collector.CatchUp{State: collector.CatchUpCatchingUp, Seconds: 900}))
	if a := h.expectFiring(1)[0]; a.Value != 900 || !strings.Contains(a.Summary, "will not catch up within 10.0 min: estimated 15.0 min") {
		t.Fatalf("alert = %+v", a)
	}
	// Too little history after a restart: keep firing, do not resolve.
	h.observe(snap(collector.CatchUp{State: collector.CatchUpUnknown}))
	h.expectFiring(1)
	h.observe(snap(collector.CatchUp{State: collector.CatchUpCatchingUp, Seconds: 60}))
	h.expectFiring(0)
	h.observe(snap(collector.CatchUp{State: collector.CatchUpNotCatchingUp, ConsumeRate: 5, ProduceRate: 8}))
	if a := h.expectFiring(1)[0]; !strings.Contains(a.Summary, "will not catch up: consuming 5.0/s, producing 8.0/s") {
		t.Fatalf("alert = %+v", a)
	}
	// A lag within one poll interval's production while the rates are even: keeping up, resolved.
	h.observe(snap(collector.CatchUp{State: collector.CatchUpKeepingUp, ConsumeRate: 8, ProduceRate: 8}))
	h.expectFiring(0)
}

func TestRuleLagGrowing(t *testing.T) {
	h := newHarness(t, RuleInput{Name: "growing", Kind: KindLagGrowing, Threshold: 300})
	snap := func(growing float64) *collector.Snapshot {
		return newSnap("c1", h.now()).topic("t", 1000).group("g", "Stable", 1, "t", [2]int64{500, 1000}).
			catchUp("g", collector.CatchUp{State: collector.CatchUpNotCatchingUp, LagGrowingSeconds: growing}).build()
	}
	h.observe(snap(240))
	h.expectFiring(0)
	h.observe(snap(300))
	if a := h.expectFiring(1)[0]; a.Value != 300 || !strings.Contains(a.Summary, "lag growing for 5.0 min") {
		t.Fatalf("alert = %+v", a)
	}
	h.observe(snap(0))
	h.expectFiring(0)
}

func TestRuleISRFlapping(t *testing.T) {
	h := newHarness(t, RuleInput{Name: "flap", Kind: KindISRFlapping, Threshold: 4})
	snap := func(changes int) *collector.Snapshot {
		s := newSnap("c1", h.now()).topic("t", 10, 10).build()
		s.Topics[0].Partitions[1].ISRChanges = changes
		return s
	}
	h.observe(snap(3))
	h.expectFiring(0)
	h.observe(snap(4))
	if a := h.expectFiring(1)[0]; a.Labels["partition"] != "1" || !strings.Contains(a.Summary, "changed 4 times") {
		t.Fatalf("alert = %+v", a)
	}
	h.observe(snap(0))
	h.expectFiring(0)
}
