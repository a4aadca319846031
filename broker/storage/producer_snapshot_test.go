package storage

import (
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

func snapshotFiles(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), snapshotSuffix) {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out
}

// Snapshot files: an append that starts a segment says so; the latest snapshot within the log is
// returned (also after a reopen); truncation removes the ones past the new end, DeleteRecords the
// ones below the first segment left, and a snapshot outside the log is refused.
func TestProducerSnapshotFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "topic-0")
	clk := newClock()
	cfg := testConfig(func(c *Config) { c.SegmentBytes = 1024 })
	l, err := openFileLog(dir, cfg, logState{-1, -1, -1}, slog.New(slog.DiscardHandler), clk.now)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { l.Close() }()
	var rolls []int64
	for i := range 12 {
		info, err := l.Append(simpleBatch(t, clk.now().UnixMilli(), 4, 40, "k"), 0)
		if err != nil {
			t.Fatal(err)
		}
		if info.Rolled {
			rolls = append(rolls, info.FirstOffset)
		}
		if i == 0 && info.Rolled {
			t.Fatal("the first append into an empty segment is not a roll")
		}
	}
	if len(rolls) < 3 {
		t.Fatalf("rolls at %v, want at least 3 segments", rolls)
	}
	for _, off := range rolls {
		if err := l.WriteProducerSnapshot(off, []byte{byte(off)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.WriteProducerSnapshot(l.LogEndOffset()+1, nil); err == nil {
		t.Fatal("a snapshot past the log end was written")
	}
	if off, data, err := l.ProducerSnapshot(); err != nil || off != rolls[len(rolls)-1] || !slices.Equal(data, []byte{byte(off)}) {
		t.Fatalf("latest snapshot %d %v %v, want %d", off, data, err, rolls[len(rolls)-1])
	}

	// Truncating into the last segment removes its snapshot (the state it holds is past the end).
	last := rolls[len(rolls)-1]
	if err := l.TruncateTo(last - 1); err != nil {
		t.Fatal(err)
	}
	if off, _, _ := l.ProducerSnapshot(); off != rolls[len(rolls)-2] {
		t.Fatalf("after truncation the latest snapshot is at %d, want %d", off, rolls[len(rolls)-2])
	}
	if got := snapshotFiles(t, dir); len(got) != len(rolls)-1 {
		t.Fatalf("files %v after truncation", got)
	}

	// DeleteRecords past the second segment's start deletes the first segment and the snapshots below
	// what is left.
	l.SetHighWatermark(l.LogEndOffset())
	if _, err := l.DeleteRecordsBefore(rolls[1]); err != nil {
		t.Fatal(err)
	}
	if got := snapshotFiles(t, dir); len(got) != len(rolls)-2 || got[0] != snapshotName(rolls[1]) {
		t.Fatalf("files %v after deleting segments below %d", got, rolls[1])
	}

	// The files outlive a reopen.
	l.Close()
	l, err = openFileLog(dir, cfg, logState{-1, -1, -1}, slog.New(slog.DiscardHandler), clk.now)
	if err != nil {
		t.Fatal(err)
	}
	if off, _, err := l.ProducerSnapshot(); err != nil || off != rolls[len(rolls)-2] {
		t.Fatalf("after reopening: %d, %v", off, err)
	}
	if err := l.TruncateFullyAndStartAt(1000); err != nil {
		t.Fatal(err)
	}
	if got := snapshotFiles(t, dir); len(got) != 0 {
		t.Fatalf("files %v after truncating fully", got)
	}
}
