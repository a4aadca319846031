package alert

import (
	"strings"
	"testing"

	"github.com/osprey-kafka/osprey/collector"
)

// reconcilingSnap has consumer group cg at assignment epoch 5 with members m1 (at epoch 5) and m2
// (at m2Epoch), and classic group old whose members report no epoch at all.
func reconcilingSnap(h *harness, m2Epoch int32) *collector.Snapshot {
	s := newSnap("c1", h.now()).broker(1, true).topic("orders", 10).build()
	s.Groups = []collector.Group{
		{Name: "cg", Type: "consumer", State: "Reconciling", GroupEpoch: 5, AssignmentEpoch: 5, Members: []collector.Member{
			{ID: "m1", ClientID: "c-1", Epoch: 5}, {ID: "m2", ClientID: "c-2", Epoch: m2Epoch}}},
		{Name: "old", Type: "classic", State: "Stable", Members: []collector.Member{{ID: "x"}}},
	}
	return s
}

// group_reconciling_stuck fires once a member has stayed behind the assignment epoch for longer
// than the threshold over successive snapshots (15 s apart), resolves when it catches up, and
// counts again from the next time it falls behind.
func TestRuleReconcilingStuck(t *testing.T) {
	h := newHarness(t, RuleInput{Name: "stuck", Kind: KindReconcilingStuck, Threshold: 40})
	h.observe(reconcilingSnap(h, 4)) // first seen behind: 0 s
	h.observe(reconcilingSnap(h, 4)) // 15 s
	h.observe(reconcilingSnap(h, 3)) // 30 s: a lower epoch is still the same reconciliation
	h.expectFiring(0)
	h.observe(reconcilingSnap(h, 4)) // 45 s
	a := h.expectFiring(1)[0]
	if a.Value != 45 || a.Labels["group"] != "cg" || !strings.Contains(a.Summary, "member m2 (client c-2) has been at epoch 4, behind the assignment epoch 5, for 45.0 s") {
		t.Fatalf("alert = %+v", a)
	}
	h.observe(reconcilingSnap(h, 5))
	h.expectFiring(0)
	h.observe(reconcilingSnap(h, 4))
	h.observe(reconcilingSnap(h, 4))
	h.expectFiring(0) // 15 s behind since it fell behind again

	other := newHarness(t, RuleInput{Name: "stuck", Kind: KindReconcilingStuck, Threshold: 10, Group: "other*"})
	for range 4 {
		other.observe(reconcilingSnap(other, 4))
	}
	other.expectFiring(0)
}

// shareSnap has share group sg with archived records archived so far, reported when reported is
// true, and a consumer group beside it.
func shareSnap(h *harness, archived int64, reported bool) *collector.Snapshot {
	s := newSnap("c1", h.now()).broker(1, true).topic("jobs", 100).build()
	fig := &collector.ShareGroupFigures{Reported: reported}
	if reported {
		fig.ArchivedTotal, fig.Archived = archived, int(archived)
	}
	s.Groups = []collector.Group{{Name: "sg", Type: "share", State: "Stable", Share: fig}, {Name: "cg", Type: "consumer"}}
	return s
}

// share_archived_growing fires when the archived count grew by more than the threshold over the
// window, resolves once the window holds no growth, and never fires on a cluster that does not
// report the count.
func TestRuleShareArchivedGrowing(t *testing.T) {
	h := newHarness(t, RuleInput{Name: "arch", Kind: KindShareArchivedGrowing, Threshold: 1, WindowSamples: 3})
	for _, n := range []int64{0, 0, 0, 1} { // growth of 1 is not more than 1
		h.observe(shareSnap(h, n, true))
	}
	h.expectFiring(0)
	h.observe(shareSnap(h, 4, true))
	a := h.expectFiring(1)[0]
	if a.Value != 4 || a.Labels["group"] != "sg" || !strings.Contains(a.Summary, "Share group sg archived 4 more records over the last 3 samples") {
		t.Fatalf("alert = %+v", a)
	}
	h.observe(shareSnap(h, 4, false)) // not reported this cycle: the alert stays as it is
	h.expectFiring(1)
	for range 3 {
		h.observe(shareSnap(h, 4, true))
	}
	h.expectFiring(0)
	h.observe(shareSnap(h, 1, true)) // a leader restarted: 1 archived since
	h.observe(shareSnap(h, 3, true))
	if a := h.expectFiring(1)[0]; a.Value != 3 {
		t.Fatalf("after a restart: %+v", a)
	}

	unreported := newHarness(t, RuleInput{Name: "arch", Kind: KindShareArchivedGrowing, WindowSamples: 2})
	for range 4 {
		unreported.observe(shareSnap(unreported, 0, false))
	}
	unreported.expectFiring(0)
}

func TestRuleModernGroupThresholds(t *testing.T) {
	for _, in := range []RuleInput{
		{Name: "r", Kind: KindReconcilingStuck},                            // seconds above 0 needed
		{Name: "r", Kind: KindReconcilingStuck, Threshold: 30, Topic: "t"}, // no topic scope
		{Name: "a", Kind: KindShareArchivedGrowing, Threshold: -1},
		{Name: "a", Kind: KindShareArchivedGrowing, WindowSamples: 101},
	} {
		if _, err := in.normalize(); err == nil {
			t.Errorf("%+v accepted", in)
		}
	}
	r, err := RuleInput{Name: "a", Kind: KindShareArchivedGrowing, Group: "orders-*"}.normalize()
	if err != nil || r.WindowSamples != DefaultWindowSamples {
		t.Fatalf("%+v %v", r, err)
	}
}

// Lag rules read a share group's lag (collector's share-partition lag) as any group's.
func TestLagRuleOnShareGroup(t *testing.T) {
	h := newHarness(t, RuleInput{Name: "lag", Kind: KindLagMessages, Threshold: 40})
	snap := func(lag int64) *collector.Snapshot {
		s := newSnap("c1", h.now()).broker(1, true).topic("jobs", 60).build()
		s.Groups = []collector.Group{{Name: "sg", Type: "share", State: "Stable", TotalLag: lag, Topics: []collector.GroupTopic{{
			Topic: "jobs", Lag: lag, CommittedSum: 60 - lag, Partitions: []collector.GroupPartition{{Partition: 0, Committed: 60 - lag, End: 60, Lag: lag,
				Share: &collector.SharePartition{StartOffset: 60 - lag, LagSource: collector.ShareLagReported}}}}}}}
		return s
	}
	h.observe(snap(30))
	h.expectFiring(0)
	h.observe(snap(50))
	if a := h.expectFiring(1)[0]; a.Labels["group"] != "sg" || a.Value != 50 {
		t.Fatalf("alert = %+v", a)
	}
}
