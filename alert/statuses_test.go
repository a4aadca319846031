package alert

import "testing"

// GroupStatuses agrees with GroupStatus group by group, and is recomputed after the next snapshot.
func TestGroupStatusesAgreesWithGroupStatus(t *testing.T) {
	h := newHarness(t)
	// "steady" commits the log end every cycle; "falling" stands still while the log grows.
	for i := int64(0); i < 12; i++ {
		end := 1000 + 100*i
		h.observe(newSnap("c1", h.now()).topic("orders", end).
			group("steady", "Stable", 1, "orders", [2]int64{end, end}).
			group("falling", "Stable", 1, "orders", [2]int64{1000, end}).build())
	}
	all := h.ev.GroupStatuses("c1")
	for _, g := range []string{"steady", "falling"} {
		one, ok := h.ev.GroupStatus("c1", g, 0)
		if !ok || all[g] != one.Status {
			t.Fatalf("group %s: GroupStatuses says %q, GroupStatus says %+v", g, all[g], one)
		}
	}
	if all["steady"] != "OK" || all["falling"] != "ERR" {
		t.Fatalf("statuses = %v", all)
	}
	// The falling group catches up: the next snapshot's answer changes.
	for i := 0; i < 12; i++ {
		h.observe(newSnap("c1", h.now()).topic("orders", 3000).
			group("steady", "Stable", 1, "orders", [2]int64{3000, 3000}).
			group("falling", "Stable", 1, "orders", [2]int64{3000, 3000}).build())
	}
	if got := h.ev.GroupStatuses("c1")["falling"]; got != "OK" {
		t.Fatalf("after catching up: %q", got)
	}
	if h.ev.GroupStatuses("other") != nil {
		t.Fatal("an unknown cluster has statuses")
	}
}
