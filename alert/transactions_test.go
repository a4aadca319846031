package alert

import (
	"strings"
	"testing"

	"github.com/osprey-kafka/osprey/collector"
)

// lsoSnap is a snapshot with topic pay (2 partitions, high watermark 100) and others (1 partition);
// partition 0 of pay has its LSO at 40 for stuck seconds with writes records past it since.
func lsoSnap(h *harness, stuck float64, writes int64) *collector.Snapshot {
	s := newSnap("c1", h.now()).broker(1, true).topic("pay", 100, 100).topic("other", 100).build()
	p := &s.Topics[0].Partitions[0]
	p.StableOffset, p.StableStuckSeconds, p.StableStuckWrites = 40, stuck, writes
	if stuck == 0 {
		p.StableOffset = 100
	}
	s.Topics[0].Partitions[1].StableOffset, s.Topics[1].Partitions[0].StableOffset = 100, 100
	return s
}

// lso_stuck_seconds fires for a partition whose LSO has stayed behind the high watermark longer than
// the threshold (whether or not anything was written since), and resolves when it catches up.
func TestRuleLSOStuck(t *testing.T) {
	h := newHarness(t, RuleInput{Name: "lso", Kind: KindLSOStuck, Threshold: 60})
	h.observe(lsoSnap(h, 45, 0))
	h.expectFiring(0)
	h.observe(lsoSnap(h, 60, 0)) // at the threshold, not above
	h.expectFiring(0)
	h.observe(lsoSnap(h, 75, 0))
	a := h.expectFiring(1)[0]
	if a.Value != 75 || a.Labels["topic"] != "pay" || a.Labels["partition"] != "0" ||
		!strings.Contains(a.Summary, "stayed at 40, behind the high watermark 100, for 75 s") {
		t.Fatalf("alert = %+v", a)
	}
	h.observe(lsoSnap(h, 0, 0))
	h.expectFiring(0)
}

// transaction_hanging fires only when records were written past the stuck LSO (the high watermark
// moved while the LSO did not) for longer than the threshold, and honours the topic scope.
func TestRuleTransactionHanging(t *testing.T) {
	h := newHarness(t, RuleInput{Name: "hang", Kind: KindTransactionHanging, Threshold: 900})
	h.observe(lsoSnap(h, 1000, 0)) // stuck, but nothing written past it: an idle open transaction
	h.expectFiring(0)
	h.observe(lsoSnap(h, 899, 7))
	h.expectFiring(0)
	h.observe(lsoSnap(h, 1000, 7))
	a := h.expectFiring(1)[0]
	if a.Value != 1000 || a.Labels["partition"] != "0" || !strings.Contains(a.Summary, "hanging transaction") ||
		!strings.Contains(a.Summary, "while 7 records were written past it") {
		t.Fatalf("alert = %+v", a)
	}
	h.observe(lsoSnap(h, 0, 0))
	h.expectFiring(0)

	scoped := newHarness(t, RuleInput{Name: "hang", Kind: KindTransactionHanging, Threshold: 900, Topic: "other"})
	scoped.observe(lsoSnap(scoped, 1000, 7))
	scoped.expectFiring(0)
}

func TestRuleStableOffsetThresholds(t *testing.T) {
	for _, in := range []RuleInput{
		{Name: "l", Kind: KindLSOStuck},
		{Name: "l", Kind: KindTransactionHanging},
		{Name: "l", Kind: KindTransactionHanging, Threshold: 900, Group: "g"},
	} {
		if _, err := in.normalize(); err == nil {
			t.Fatalf("%+v accepted", in)
		}
	}
	for _, in := range []RuleInput{{Name: "l", Kind: KindLSOStuck, Threshold: 30, Topic: "pay*"}, {Name: "h", Kind: KindTransactionHanging, Threshold: 900}} {
		if _, err := in.normalize(); err != nil {
			t.Fatal(err)
		}
	}
}
