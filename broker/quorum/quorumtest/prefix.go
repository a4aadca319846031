package quorumtest

import (
	"testing"

	"github.com/osprey-kafka/osprey/broker/quorum"
)

// checkLogFrom asserts the log holds exactly want, which starts at start.
func checkLogFrom(t *testing.T, l quorum.Log, start int64, want []quorum.Entry) {
	t.Helper()
	if got := l.StartOffset(); got != start {
		t.Fatalf("StartOffset = %d, want %d", got, start)
	}
	if got, wantEnd := l.EndOffset(), start+int64(len(want)); got != wantEnd {
		t.Fatalf("EndOffset = %d, want %d", got, wantEnd)
	}
	if len(want) > 0 {
		if got := l.LastEpoch(); got != want[len(want)-1].Epoch {
			t.Fatalf("LastEpoch = %d, want %d", got, want[len(want)-1].Epoch)
		}
	}
	got, err := l.Read(start, len(want)+10)
	if err != nil {
		t.Fatalf("Read(%d): %v", start, err)
	}
	equalEntries(t, got, want)
	if start > 0 {
		if _, err := l.Read(start-1, 1); err == nil {
			t.Errorf("Read(%d) below the log start %d: no error", start-1, start)
		}
	}
}

// testDeletePrefix: a snapshot lets the entries below an offset go; the rest reads, truncates
// and appends as before, and epochs below the start are no longer the log's.
func testDeletePrefix(t *testing.T, env LogEnv) {
	l := env.Open(t)
	defer env.Close(t, l)
	var all []quorum.Entry
	for len(all) < 300 {
		all = append(all, entries(int64(len(all)), len(all)%50 == 0, int32(1+len(all)/50))...)
	}
	mustAppend(t, l, all)
	if err := l.DeletePrefix(0); err != nil {
		t.Fatalf("DeletePrefix(0): %v", err)
	}
	checkLogFrom(t, l, 0, all)
	// Offset 120 is inside epoch 3 (offsets 100-149).
	if err := l.DeletePrefix(120); err != nil {
		t.Fatalf("DeletePrefix(120): %v", err)
	}
	checkLogFrom(t, l, 120, all[120:])
	if got, want := l.EndOffsetForEpoch(3), (quorum.OffsetAndEpoch{Offset: 150, Epoch: 3}); got != want {
		t.Errorf("EndOffsetForEpoch(3) = %v, want %v", got, want)
	}
	if got := l.EndOffsetForEpoch(2); got != (quorum.OffsetAndEpoch{}) {
		t.Errorf("EndOffsetForEpoch(2), an epoch wholly below the start = %v, want 0@0", got)
	}
	if err := l.DeletePrefix(100); err == nil {
		t.Error("DeletePrefix below the start: no error")
	}
	if err := l.DeletePrefix(301); err == nil {
		t.Error("DeletePrefix past the end: no error")
	}
	if err := l.Truncate(119); err == nil {
		t.Error("Truncate below the start: no error")
	}
	if err := l.Truncate(200); err != nil {
		t.Fatalf("Truncate(200): %v", err)
	}
	checkLogFrom(t, l, 120, all[120:200])
	more := entries(200, true, 9, 9, 9)
	mustAppend(t, l, more)
	checkLogFrom(t, l, 120, append(all[120:200:200], more...))
	// Deleting up to the end leaves an empty log starting there.
	if err := l.DeletePrefix(203); err != nil {
		t.Fatalf("DeletePrefix(end): %v", err)
	}
	checkLogFrom(t, l, 203, nil)
	if got := l.EndOffsetForEpoch(9); got != (quorum.OffsetAndEpoch{}) {
		t.Errorf("EndOffsetForEpoch(9) on an emptied log = %v, want 0@0", got)
	}
	next := entries(203, true, 10, 10)
	mustAppend(t, l, next)
	checkLogFrom(t, l, 203, next)
}

// testReset: a follower that loaded a snapshot restarts its log empty at the snapshot's end,
// past or before its old end.
func testReset(t *testing.T, env LogEnv) {
	l := env.Open(t)
	defer env.Close(t, l)
	mustAppend(t, l, entries(0, true, 1, 1, 2, 2))
	if err := l.Reset(1000); err != nil {
		t.Fatalf("Reset(1000): %v", err)
	}
	checkLogFrom(t, l, 1000, nil)
	if got := l.LastEpoch(); got != 0 {
		t.Errorf("LastEpoch after Reset = %d, want 0", got)
	}
	if got := l.EndOffsetForEpoch(2); got != (quorum.OffsetAndEpoch{}) {
		t.Errorf("EndOffsetForEpoch(2) after Reset = %v, want 0@0", got)
	}
	if err := l.Append(entries(0, false, 3)); err == nil {
		t.Error("Append at 0 after Reset(1000): no error")
	}
	es := entries(1000, true, 4, 4, 5)
	mustAppend(t, l, es)
	checkLogFrom(t, l, 1000, es)
	if err := l.Reset(500); err != nil {
		t.Fatalf("Reset(500): %v", err)
	}
	checkLogFrom(t, l, 500, nil)
}

// testPrefixReopen: the start survives a restart, after DeletePrefix and after Reset.
func testPrefixReopen(t *testing.T, env LogEnv) {
	l := env.Open(t)
	var all []quorum.Entry
	for len(all) < 200 {
		all = append(all, entries(int64(len(all)), false, int32(1+len(all)/40))...)
	}
	mustAppend(t, l, all)
	if err := l.DeletePrefix(130); err != nil {
		t.Fatalf("DeletePrefix(130): %v", err)
	}
	env.Close(t, l)

	l = env.Open(t)
	checkLogFrom(t, l, 130, all[130:])
	if got, want := l.EndOffsetForEpoch(4), (quorum.OffsetAndEpoch{Offset: 160, Epoch: 4}); got != want {
		t.Errorf("EndOffsetForEpoch(4) after reopen = %v, want %v", got, want)
	}
	if err := l.Reset(777); err != nil {
		t.Fatalf("Reset(777): %v", err)
	}
	env.Close(t, l)

	l = env.Open(t)
	defer env.Close(t, l)
	checkLogFrom(t, l, 777, nil)
	es := entries(777, true, 8, 8)
	mustAppend(t, l, es)
	checkLogFrom(t, l, 777, es)
}
