package alert

import (
	"strings"
	"testing"
	"time"

	"github.com/osprey-kafka/osprey/collector"
)

// cleanerSnap is a snapshot with compacted topic changelog (2 partitions; partition 0 at dirty
// ratio dirty, partition 1 at 10%) and a delete topic; reported false makes the cluster one that
// does not report its cleaner.
func cleanerSnap(h *harness, dirty float64, reported bool) *collector.Snapshot {
	s := newSnap("c1", h.now()).broker(1, true).topic("changelog", 100, 100).topic("events", 100).build()
	t := &s.Topics[0]
	t.CleanupPolicy = "compact"
	t.Cleaner = &collector.TopicCleaner{Reported: reported}
	if reported {
		last := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
		t.Partitions[0].Cleaner = &collector.PartitionCleaner{Broker: 1, DirtyRatio: dirty, DirtyBytes: 3 << 20, CleanBytes: 1 << 20, FirstDirtyOffset: 40, LastCleaned: &last}
		t.Partitions[1].Cleaner = &collector.PartitionCleaner{Broker: 1, DirtyRatio: 0.1}
	}
	return s
}

// cleaner_dirty_percent fires for a compacted partition whose dirty ratio stays above the threshold
// for the rule's hold, not for one that dips below in between, and resolves when it is cleaned.
func TestRuleCleanerDirty(t *testing.T) {
	h := newHarness(t, RuleInput{Name: "dirty", Kind: KindCleanerDirty, Threshold: 70, ForSeconds: 60})
	h.observe(cleanerSnap(h, 0.75, true))
	h.observe(cleanerSnap(h, 0.8, true))
	h.observe(cleanerSnap(h, 0.5, true)) // cleaned in between: the hold starts again
	for range 4 {
		h.observe(cleanerSnap(h, 0.75, true))
		h.expectFiring(0)
	}
	h.observe(cleanerSnap(h, 0.75, true)) // above for 60 s
	a := h.expectFiring(1)[0]
	if a.Value != 75 || a.Labels["topic"] != "changelog" || a.Labels["partition"] != "0" ||
		!strings.Contains(a.Summary, "is 75.0% dirty (threshold 70%): 3.0 MiB not cleaned above offset 40; cleaned last at 2026-12-06T12:00:00Z") {
		t.Fatalf("alert = %+v", a)
	}
	h.observe(cleanerSnap(h, 0.2, true))
	h.expectFiring(0)
}

// A cluster that does not report its cleaner never fires, and the topic scope applies.
func TestRuleCleanerDirtyScopeAndUnreported(t *testing.T) {
	h := newHarness(t, RuleInput{Name: "dirty", Kind: KindCleanerDirty, Threshold: 50, ForSeconds: 60, Topic: "other*"},
		RuleInput{Name: "unreported", Kind: KindCleanerDirty, Threshold: 50, ForSeconds: 60})
	for range 8 {
		h.observe(cleanerSnap(h, 0.9, false))
	}
	h.expectFiring(0)
	for range 8 {
		s := cleanerSnap(h, 0.9, true)
		s.Topics[0].Name = "other-changelog"
		h.observe(s)
	}
	if a := h.expectFiring(2); a[0].Labels["topic"] != "other-changelog" {
		t.Fatalf("alerts = %+v", a)
	}
}

func TestRuleCleanerDirtyValidation(t *testing.T) {
	for _, in := range []RuleInput{
		{Name: "d", Kind: KindCleanerDirty, ForSeconds: 300},
		{Name: "d", Kind: KindCleanerDirty, Threshold: 100, ForSeconds: 300},
		{Name: "d", Kind: KindCleanerDirty, Threshold: 80},
		{Name: "d", Kind: KindCleanerDirty, Threshold: 80, ForSeconds: 300, Group: "g"},
	} {
		if _, err := in.normalize(); err == nil {
			t.Fatalf("%+v accepted", in)
		}
	}
	if _, err := (RuleInput{Name: "d", Kind: KindCleanerDirty, Threshold: 80, ForSeconds: 600, Topic: "app-*"}).normalize(); err != nil {
		t.Fatal(err)
	}
}
