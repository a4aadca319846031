package service

import (
	"context"
	"sync"
	"testing"
)

// TestReassignmentEventsFollowTheRecord checks that each reassignment change is published when the
// store records it (not before): started on execute, progress while partitions move, completed in the
// same step that marks the row completed, cancelled on cancel.
func TestReassignmentEventsFollowTheRecord(t *testing.T) {
	ctx := context.Background()
	st := newOpsTestStore(t)
	fa := &fakeOpsAdmin{}
	o := newTestOps(fa, st)
	o.progress = &progressMemo{}
	var mu sync.Mutex
	var events []ReassignmentEvent
	var recordedAtEvent []string // the row's state in the store when each event was published
	o.notify = func(ev ReassignmentEvent) {
		state := "none"
		if rows, err := st.Reassignments(ctx, "c", 10); err == nil {
			for _, r := range rows {
				if r.ID == ev.ID {
					state = r.State
				}
			}
		}
		mu.Lock()
		events = append(events, ev)
		recordedAtEvent = append(recordedAtEvent, state)
		mu.Unlock()
	}
	last := func() (ReassignmentEvent, string, int) {
		mu.Lock()
		defer mu.Unlock()
		if len(events) == 0 {
			return ReassignmentEvent{}, "", 0
		}
		return events[len(events)-1], recordedAtEvent[len(events)-1], len(events)
	}
	snap := testSnapshot(4, nil, map[string][][]int32{"orders": {{1, 2}, {2, 3}}}, nil)
	moves := []PartitionMove{{Topic: "orders", Partition: 0, Replicas: []int32{1, 4}}, {Topic: "orders", Partition: 1, Replicas: []int32{4, 3}}}
	res, err := o.execute(ctx, Caller{Identity: Identity{Name: "alice"}}, snap, moves, 0)
	if err != nil {
		t.Fatal(err)
	}
	ev, recorded, n := last()
	if n != 1 || ev.Kind != ReassignEventStarted || ev.ID != res.ID || ev.Cluster != "c" || ev.State != ReassignRunning || ev.Total != 2 || recorded != ReassignRunning {
		t.Fatalf("after execute: %d events, last %+v (row %s)", n, ev, recorded)
	}

	// Kafka lists one partition as moving, the snapshot shows neither on target: progress, 2 of 2 left.
	fa.ongoing = nil
	if _, err := o.view(ctx, snap); err != nil {
		t.Fatal(err)
	}
	ev, recorded, n = last()
	if n != 2 || ev.Kind != ReassignEventProgress || ev.Remaining != 2 || ev.Total != 2 || recorded != ReassignRunning {
		t.Fatalf("while moving: %d events, last %+v (row %s)", n, ev, recorded)
	}
	// Reading the list again changes nothing: no event (a page refreshing on each event must not feed
	// itself).
	if _, err := o.view(ctx, snap); err != nil {
		t.Fatal(err)
	}
	if _, _, again := last(); again != n {
		t.Fatalf("%d events after reading unchanged progress, want %d", again, n)
	}
	// One partition on target.
	half := testSnapshot(4, nil, map[string][][]int32{"orders": {{1, 4}, {2, 3}}}, nil)
	if _, err := o.view(ctx, half); err != nil {
		t.Fatal(err)
	}
	if ev, _, _ = last(); ev.Kind != ReassignEventProgress || ev.Remaining != 1 {
		t.Fatalf("half moved: %+v", ev)
	}
	// Both on target: completed, published once the row says so.
	done := testSnapshot(4, nil, map[string][][]int32{"orders": {{1, 4}, {4, 3}}}, nil)
	if _, err := o.view(ctx, done); err != nil {
		t.Fatal(err)
	}
	ev, recorded, n = last()
	if ev.Kind != ReassignEventCompleted || ev.ID != res.ID || ev.State != ReassignCompleted || recorded != ReassignCompleted || ev.At.IsZero() {
		t.Fatalf("on completion: last %+v (row %s)", ev, recorded)
	}
	// A completed reassignment is not announced again.
	if _, err := o.view(ctx, done); err != nil {
		t.Fatal(err)
	}
	if _, _, again := last(); again != n {
		t.Fatalf("%d events after another look at a completed reassignment, want %d", again, n)
	}

	// Cancelling a running one publishes cancelled for its record.
	res, err = o.execute(ctx, Caller{}, done, []PartitionMove{{Topic: "orders", Partition: 0, Replicas: []int32{1, 2}}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.cancel(ctx, done); err != nil {
		t.Fatal(err)
	}
	ev, recorded, _ = last()
	if ev.Kind != ReassignEventCancelled || ev.ID != res.ID || recorded != ReassignCancelled {
		t.Fatalf("on cancel: last %+v (row %s)", ev, recorded)
	}
}
