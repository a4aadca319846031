package storage

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// plantFullSegment makes the segment file a log in partDir rolls to at
// base a symlink to /dev/full, so that the append which rolls into it gets
// ENOSPC from the kernel, as on a full file system (a small tmpfs needs
// root). It returns the symlink's path.
func plantFullSegment(t *testing.T, partDir string, base int64) string {
	t.Helper()
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skipf("no /dev/full to fail writes with: %v", err)
	}
	path := filepath.Join(partDir, segmentFileName(base, logSuffix))
	if err := os.Symlink("/dev/full", path); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestLogDirGoesOfflineOnWriteFailure: an append that hits ENOSPC answers
// KAFKA_STORAGE_ERROR and takes the whole dir offline (every partition in
// it, reads too, and new partitions), reported once to the handler and in
// an error log line naming the dir. The dir is closed without writing, and
// opened again it holds exactly what was appended before the failure.
func TestLogDirGoesOfflineOnWriteFailure(t *testing.T) {
	clk := newClock()
	dir := t.TempDir()
	logger, lb := newTestLogger(t)
	type failure struct {
		dir   string
		cause error
	}
	failed := make(chan failure, 2)
	m, err := OpenManager(dir, logger, WithClock(clk.now),
		WithLogDirFailureHandler(func(d string, cause error) { failed <- failure{d, cause} }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	// Each batch fills most of a segment, so the second one rolls.
	cfg := testConfig(func(c *Config) { c.SegmentBytes = 1024 })
	l, err := m.GetOrCreate("full", 0, cfg)
	if err != nil {
		t.Fatal(err)
	}
	other, err := m.GetOrCreate("other", 0, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, lg := range []Log{l, other} {
		if _, err := lg.Append(simpleBatch(t, 0, 1, 600, "before"), 0); err != nil {
			t.Fatal(err)
		}
		lg.SetHighWatermark(1)
	}
	if err := m.WriteCheckpoints(); err != nil {
		t.Fatal(err)
	}
	link := plantFullSegment(t, filepath.Join(dir, "full-0"), 1)

	_, err = l.Append(simpleBatch(t, 1, 1, 600, "lost"), 0)
	if !errors.Is(err, syscall.ENOSPC) || KafkaErrorCode(err) != 56 {
		t.Fatalf("append on a full disk: %v (code %d), want ENOSPC answered as KAFKA_STORAGE_ERROR", err, KafkaErrorCode(err))
	}
	select {
	case f := <-failed:
		if f.dir != dir || !errors.Is(f.cause, syscall.ENOSPC) {
			t.Fatalf("handler told dir %q cause %v, want %q and ENOSPC", f.dir, f.cause, dir)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the failure handler was not called")
	}
	if off := m.Offline(); !errors.Is(off, ErrLogDirOffline) || !errors.Is(off, syscall.ENOSPC) {
		t.Fatalf("Offline() = %v, want the offline error with its cause", off)
	}
	for _, lg := range []Log{l, other} {
		if _, err := lg.Append(simpleBatch(t, 2, 1, 10, "after"), 0); !errors.Is(err, ErrLogDirOffline) || KafkaErrorCode(err) != 56 {
			t.Errorf("append after the failure: %v, want ErrLogDirOffline (KAFKA_STORAGE_ERROR)", err)
		}
		if _, err := lg.Read(0, 1<<20, 1, true); !errors.Is(err, ErrLogDirOffline) || KafkaErrorCode(err) != 56 {
			t.Errorf("read after the failure: %v, want ErrLogDirOffline (KAFKA_STORAGE_ERROR)", err)
		}
		if err := lg.Flush(); !errors.Is(err, ErrLogDirOffline) {
			t.Errorf("flush after the failure: %v, want ErrLogDirOffline", err)
		}
	}
	if _, err := m.GetOrCreate("new", 0, cfg); !errors.Is(err, ErrLogDirOffline) {
		t.Errorf("creating a partition in the offline dir: %v, want ErrLogDirOffline", err)
	}
	if err := m.WriteCheckpoints(); !errors.Is(err, ErrLogDirOffline) {
		t.Errorf("checkpoints of the offline dir: %v, want ErrLogDirOffline", err)
	}
	if out := lb.String(); !strings.Contains(out, "level=ERROR") || !strings.Contains(out, "log dir failed") ||
		!strings.Contains(out, dir) || !strings.Contains(out, "no space left on device") {
		t.Errorf("no error line naming the dir and the cause:\n%s", out)
	}
	select {
	case f := <-failed:
		t.Fatalf("the handler was told twice (%v)", f.cause)
	default:
	}
	if err := m.Close(); err != nil {
		t.Fatalf("closing the offline dir: %v", err)
	}

	// The operator frees the space; the dir opens again with what was
	// appended before the failure, and takes appends.
	if err := os.Remove(link); err != nil {
		t.Fatal(err)
	}
	m2, _ := newTestManager(t, dir, clk)
	for _, tp := range []string{"full", "other"} {
		lg, ok := m2.Get(tp, 0)
		if !ok {
			t.Fatalf("%s-0 missing after reopening", tp)
		}
		if end := lg.LogEndOffset(); end != 1 {
			t.Fatalf("%s-0: log end %d after reopening, want 1", tp, end)
		}
		_, recs := decodeBatches(t, readAll(t, lg))
		if len(recs) != 1 || string(recs[0].Key) != "before-0" {
			t.Fatalf("%s-0 holds %+v after reopening, want the one record appended before the failure", tp, recs)
		}
		if _, err := lg.Append(simpleBatch(t, 3, 1, 600, "again"), 0); err != nil {
			t.Fatalf("%s-0: append after reopening: %v", tp, err)
		}
	}
}

// TestLogDirNotOfflineOnOtherErrors: a closed log, a validation error or a
// read past the end are answered as before and do not take the dir
// offline; nor does an I/O error when no failure handler was set.
func TestLogDirNotOfflineOnOtherErrors(t *testing.T) {
	clk := newClock()
	dir := t.TempDir()
	m, err := OpenManager(dir, nil, WithClock(clk.now), WithLogDirFailureHandler(func(string, error) {
		t.Error("the failure handler was called")
	}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	l, err := m.GetOrCreate("t", 0, testConfig(nil))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append([]byte("not a batch"), 0); KafkaErrorCode(err) != 2 {
		t.Fatalf("garbage append: %v, want CORRUPT_MESSAGE", err)
	}
	if _, err := l.Read(5, 100, 5, true); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("read past the end: %v", err)
	}
	if err := m.Delete("t", 0); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(simpleBatch(t, 0, 1, 10, "x"), 0); !errors.Is(err, ErrLogClosed) {
		t.Fatalf("append to a deleted log: %v, want ErrLogClosed", err)
	}
	if err := m.Offline(); err != nil {
		t.Fatalf("dir offline after ordinary errors: %v", err)
	}

	// Without a handler (the KRaft metadata log's Manager) an I/O error is
	// only returned.
	dir2 := t.TempDir()
	m2, err := OpenManager(dir2, nil, WithClock(clk.now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m2.Close() })
	l2, err := m2.GetOrCreate("t", 0, testConfig(func(c *Config) { c.SegmentBytes = 1024 }))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l2.Append(simpleBatch(t, 0, 1, 600, "a"), 0); err != nil {
		t.Fatal(err)
	}
	plantFullSegment(t, filepath.Join(dir2, "t-0"), 1)
	if _, err := l2.Append(simpleBatch(t, 1, 1, 600, "b"), 0); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("append on a full disk: %v, want ENOSPC", err)
	}
	if err := m2.Offline(); err != nil {
		t.Fatalf("a dir without a failure handler went offline: %v", err)
	}
}
