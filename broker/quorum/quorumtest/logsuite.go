// Package quorumtest is the conformance suite every quorum.Log must pass: the same tests run
// against the in-memory log and the broker/storage one, so the two cannot drift apart.
// Implementations call RunLog from their own tests with a factory.
package quorumtest

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/osprey-kafka/osprey/broker/quorum"
)

// LogEnv is one fresh, empty log's storage for one test.
type LogEnv struct {
	// Open opens the log. Calls after the first reopen the same storage (after Close): a log
	// that keeps its entries across a restart must show them again.
	Open func(t *testing.T) quorum.Log
	// Close closes a log Open returned (a no-op for a log with nothing to release).
	Close func(t *testing.T, l quorum.Log)
}

// LogFactory creates a LogEnv for one test.
type LogFactory func(t *testing.T) LogEnv

// RunLog runs every conformance test against logs made by f.
func RunLog(t *testing.T, f LogFactory) {
	tests := []struct {
		name string
		fn   func(t *testing.T, env LogEnv)
	}{
		{"Empty", testEmpty},
		{"AppendRead", testAppendRead},
		{"AppendRefused", testAppendRefused},
		{"EndOffsetForEpoch", testEndOffsetForEpoch},
		{"Truncate", testTruncate},
		{"Reopen", testReopen},
		{"ManyEntries", testManyEntries},
		{"DeletePrefix", testDeletePrefix},
		{"Reset", testReset},
		{"PrefixReopen", testPrefixReopen},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, f(t)) })
	}
}

// entries makes consecutive entries from offset from, one per epoch given; the first is a
// control entry when control is set.
func entries(from int64, control bool, epochs ...int32) []quorum.Entry {
	var out []quorum.Entry
	for i, ep := range epochs {
		off := from + int64(i)
		e := quorum.Entry{Offset: off, Epoch: ep, Data: fmt.Appendf(nil, "entry %d epoch %d", off, ep)}
		if i == 0 && control {
			e.Control = true
		}
		out = append(out, e)
	}
	return out
}

func mustAppend(t *testing.T, l quorum.Log, es []quorum.Entry) {
	t.Helper()
	if err := l.Append(es); err != nil {
		t.Fatalf("Append(%d entries at %d): %v", len(es), es[0].Offset, err)
	}
}

// checkLog asserts the log holds exactly want.
func checkLog(t *testing.T, l quorum.Log, want []quorum.Entry) {
	t.Helper()
	if got := l.EndOffset(); got != int64(len(want)) {
		t.Fatalf("EndOffset = %d, want %d", got, len(want))
	}
	wantEpoch := int32(0)
	if len(want) > 0 {
		wantEpoch = want[len(want)-1].Epoch
	}
	if got := l.LastEpoch(); got != wantEpoch {
		t.Fatalf("LastEpoch = %d, want %d", got, wantEpoch)
	}
	got, err := l.Read(0, len(want)+10)
	if err != nil {
		t.Fatalf("Read(0): %v", err)
	}
	equalEntries(t, got, want)
}

func equalEntries(t *testing.T, got, want []quorum.Entry) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("read %d entries, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Offset != w.Offset || g.Epoch != w.Epoch || g.Control != w.Control || !bytes.Equal(g.Data, w.Data) {
			t.Fatalf("entry %d = {%d %d %v %q}, want {%d %d %v %q}", i, g.Offset, g.Epoch, g.Control, g.Data, w.Offset, w.Epoch, w.Control, w.Data)
		}
	}
}

func testEmpty(t *testing.T, env LogEnv) {
	l := env.Open(t)
	defer env.Close(t, l)
	checkLog(t, l, nil)
	if got := l.EndOffsetForEpoch(5); got != (quorum.OffsetAndEpoch{}) {
		t.Errorf("EndOffsetForEpoch(5) on an empty log = %v, want 0@0", got)
	}
	if _, err := l.Read(1, 10); err == nil {
		t.Error("Read(1) past the end of an empty log: no error")
	}
	if err := l.Truncate(0); err != nil {
		t.Errorf("Truncate(0) on an empty log: %v", err)
	}
}

func testAppendRead(t *testing.T, env LogEnv) {
	l := env.Open(t)
	defer env.Close(t, l)
	all := entries(0, true, 1, 1, 2, 2, 2, 4)
	mustAppend(t, l, all[:1])
	mustAppend(t, l, all[1:])
	checkLog(t, l, all)
	got, err := l.Read(2, 2)
	if err != nil {
		t.Fatalf("Read(2, 2): %v", err)
	}
	equalEntries(t, got, all[2:4])
	got, err = l.Read(6, 10)
	if err != nil || len(got) != 0 {
		t.Fatalf("Read(EndOffset) = %d entries, %v; want none, no error", len(got), err)
	}
	if _, err := l.Read(7, 10); err == nil {
		t.Error("Read past EndOffset: no error")
	}
	if _, err := l.Read(-1, 10); err == nil {
		t.Error("Read(-1): no error")
	}
}

func testAppendRefused(t *testing.T, env LogEnv) {
	l := env.Open(t)
	defer env.Close(t, l)
	all := entries(0, false, 1, 2, 3)
	mustAppend(t, l, all)
	if err := l.Append(entries(4, false, 3)); err == nil {
		t.Error("Append leaving a gap: no error")
	}
	if err := l.Append(entries(2, false, 3)); err == nil {
		t.Error("Append over existing entries: no error")
	}
	if err := l.Append(entries(3, false, 2)); err == nil {
		t.Error("Append with a lower epoch than the last: no error")
	}
	checkLog(t, l, all)
}

func testEndOffsetForEpoch(t *testing.T, env LogEnv) {
	l := env.Open(t)
	defer env.Close(t, l)
	mustAppend(t, l, entries(0, true, 2, 2, 3, 3, 3, 5))
	for _, c := range []struct {
		epoch int32
		want  quorum.OffsetAndEpoch
	}{
		{0, quorum.OffsetAndEpoch{}},
		{1, quorum.OffsetAndEpoch{}},
		{2, quorum.OffsetAndEpoch{Offset: 2, Epoch: 2}},
		{3, quorum.OffsetAndEpoch{Offset: 5, Epoch: 3}},
		{4, quorum.OffsetAndEpoch{Offset: 5, Epoch: 3}},
		{5, quorum.OffsetAndEpoch{Offset: 6, Epoch: 5}},
		{9, quorum.OffsetAndEpoch{Offset: 6, Epoch: 5}},
	} {
		if got := l.EndOffsetForEpoch(c.epoch); got != c.want {
			t.Errorf("EndOffsetForEpoch(%d) = %v, want %v", c.epoch, got, c.want)
		}
	}
}

func testTruncate(t *testing.T, env LogEnv) {
	l := env.Open(t)
	defer env.Close(t, l)
	all := entries(0, true, 1, 1, 2, 2, 2, 4)
	mustAppend(t, l, all)
	if err := l.Truncate(10); err != nil {
		t.Fatalf("Truncate past the end: %v", err)
	}
	checkLog(t, l, all)
	// A follower cut at a divergence: the epoch-4 entry and part of epoch 2 go.
	if err := l.Truncate(3); err != nil {
		t.Fatalf("Truncate(3): %v", err)
	}
	checkLog(t, l, all[:3])
	if got, want := l.EndOffsetForEpoch(4), (quorum.OffsetAndEpoch{Offset: 3, Epoch: 2}); got != want {
		t.Errorf("EndOffsetForEpoch(4) after Truncate(3) = %v, want %v", got, want)
	}
	// The new leader's entries replace the cut ones.
	next := append(all[:3:3], entries(3, true, 5, 5)...)
	mustAppend(t, l, next[3:])
	checkLog(t, l, next)
	if got, want := l.EndOffsetForEpoch(4), (quorum.OffsetAndEpoch{Offset: 3, Epoch: 2}); got != want {
		t.Errorf("EndOffsetForEpoch(4) after the new epoch = %v, want %v", got, want)
	}
	if err := l.Truncate(-1); err == nil {
		t.Error("Truncate(-1): no error")
	}
	if err := l.Truncate(0); err != nil {
		t.Fatalf("Truncate(0): %v", err)
	}
	checkLog(t, l, nil)
	if got := l.EndOffsetForEpoch(5); got != (quorum.OffsetAndEpoch{}) {
		t.Errorf("EndOffsetForEpoch(5) after Truncate(0) = %v, want 0@0", got)
	}
	fresh := entries(0, true, 6, 6)
	mustAppend(t, l, fresh)
	checkLog(t, l, fresh)
}

func testReopen(t *testing.T, env LogEnv) {
	l := env.Open(t)
	all := entries(0, true, 1, 1, 2, 3, 3)
	mustAppend(t, l, all)
	env.Close(t, l)

	l = env.Open(t)
	checkLog(t, l, all)
	if got, want := l.EndOffsetForEpoch(2), (quorum.OffsetAndEpoch{Offset: 3, Epoch: 2}); got != want {
		t.Errorf("EndOffsetForEpoch(2) after reopen = %v, want %v", got, want)
	}
	if err := l.Truncate(2); err != nil {
		t.Fatalf("Truncate(2): %v", err)
	}
	env.Close(t, l)

	l = env.Open(t)
	defer env.Close(t, l)
	checkLog(t, l, all[:2])
	if got, want := l.EndOffsetForEpoch(3), (quorum.OffsetAndEpoch{Offset: 2, Epoch: 1}); got != want {
		t.Errorf("EndOffsetForEpoch(3) after truncate and reopen = %v, want %v", got, want)
	}
	more := append(all[:2:2], entries(2, true, 4, 4)...)
	mustAppend(t, l, more[2:])
	checkLog(t, l, more)
}

// testManyEntries appends more than a small segment holds, in uneven runs, and reads it back
// in runs of different sizes.
func testManyEntries(t *testing.T, env LogEnv) {
	l := env.Open(t)
	defer env.Close(t, l)
	var all []quorum.Entry
	for len(all) < 600 {
		ep := int32(1 + len(all)/100)
		n := 1 + len(all)%7
		run := make([]int32, n)
		for i := range run {
			run[i] = ep
		}
		es := entries(int64(len(all)), false, run...)
		mustAppend(t, l, es)
		all = append(all, es...)
	}
	checkLog(t, l, all)
	for _, max := range []int{1, 13, 250} {
		var got []quorum.Entry
		for from := int64(0); from < int64(len(all)); {
			es, err := l.Read(from, max)
			if err != nil {
				t.Fatalf("Read(%d, %d): %v", from, max, err)
			}
			if len(es) == 0 || len(es) > max {
				t.Fatalf("Read(%d, %d) = %d entries", from, max, len(es))
			}
			got = append(got, es...)
			from += int64(len(es))
		}
		equalEntries(t, got, all)
	}
	if got, want := l.EndOffsetForEpoch(3), (quorum.OffsetAndEpoch{Offset: all[len(all)-1].Offset + 1, Epoch: 3}); all[len(all)-1].Epoch == 3 && got != want {
		t.Errorf("EndOffsetForEpoch(3) = %v, want %v", got, want)
	}
	for ep := int32(1); ep < all[len(all)-1].Epoch; ep++ {
		var end int64
		for _, e := range all {
			if e.Epoch <= ep {
				end = e.Offset + 1
			}
		}
		if got, want := l.EndOffsetForEpoch(ep), (quorum.OffsetAndEpoch{Offset: end, Epoch: ep}); got != want {
			t.Errorf("EndOffsetForEpoch(%d) = %v, want %v", ep, got, want)
		}
	}
}
