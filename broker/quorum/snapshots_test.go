package quorum

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestFileSnapshots: Kafka's file names, a copy written in chunks to .checkpoint.part and
// renamed by Freeze, reads by position, deletion, and a reopen that lists what is complete,
// removes partial copies and leaves the bootstrap snapshot (offset 0) alone.
func TestFileSnapshots(t *testing.T) {
	dir := t.TempDir()
	boot := filepath.Join(dir, "00000000000000000000-0000000000.checkpoint")
	if err := os.WriteFile(boot, []byte("voters"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := OpenFileSnapshots(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.List(); len(got) != 0 {
		t.Fatalf("List = %v on a directory with only the bootstrap snapshot", got)
	}
	a := OffsetAndEpoch{Offset: 1234, Epoch: 7}
	if err := s.Write(a, []byte("whole snapshot")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "00000000000000001234-0000000007.checkpoint")); err != nil {
		t.Fatalf("snapshot file not under Kafka's name: %v", err)
	}
	if id, ok := ParseSnapshotFileName(SnapshotFileName(a)); !ok || id != a {
		t.Fatalf("ParseSnapshotFileName(SnapshotFileName(%s)) = %s, %v", a, id, ok)
	}
	b := OffsetAndEpoch{Offset: 99999, Epoch: 8}
	if err := s.WriteChunk(b, 0, []byte("first ")); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteChunk(b, 3, []byte("gap")); err == nil {
		t.Fatal("a chunk at the wrong position was accepted")
	}
	if err := s.WriteChunk(b, 6, []byte("second")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Read(b, 0, 100); !errors.Is(err, ErrSnapshotNotFound) {
		t.Fatalf("Read of a partial copy: %v, want ErrSnapshotNotFound", err)
	}
	if err := s.Freeze(b); err != nil {
		t.Fatal(err)
	}
	chunk, size, err := s.Read(b, 6, 4)
	if err != nil || size != 12 || string(chunk) != "seco" {
		t.Fatalf("Read(b, 6, 4) = %q, %d, %v; want \"seco\", 12", chunk, size, err)
	}
	if got := s.List(); !slices.Equal(got, []OffsetAndEpoch{a, b}) {
		t.Fatalf("List = %v, want [%s %s]", got, a, b)
	}
	c := OffsetAndEpoch{Offset: 100000, Epoch: 8}
	if err := s.WriteChunk(c, 0, []byte("left by a crash")); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(a); err != nil {
		t.Fatal(err)
	}

	s, err = OpenFileSnapshots(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.List(); !slices.Equal(got, []OffsetAndEpoch{b}) {
		t.Fatalf("List after reopen = %v, want [%s]", got, b)
	}
	if _, err := os.Stat(filepath.Join(dir, "00000000000000100000-0000000008.checkpoint.part")); !os.IsNotExist(err) {
		t.Fatalf("partial copy still there after reopen: %v", err)
	}
	if _, err := os.Stat(boot); err != nil {
		t.Fatalf("the bootstrap snapshot is gone: %v", err)
	}
}
