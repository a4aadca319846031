package storage

import (
	"bufio"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

const crashChildEnv = "OSPREY_STORAGE_CRASH_CHILD_DIR"

// TestMain lets the test binary double as the child process that
// TestKillDuringAppends kills with SIGKILL.
func TestMain(m *testing.M) {
	if dir := os.Getenv(crashChildEnv); dir != "" {
		crashChild(dir)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// crashChild appends batches forever, printing each acknowledged offset.
func crashChild(dir string) {
	m, err := OpenManager(dir, slog.New(slog.DiscardHandler))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	l, err := m.GetOrCreate("crash", 0, testConfig(func(c *Config) { c.SegmentBytes = 32 << 10; c.IndexIntervalBytes = 512 }))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	w := bufio.NewWriter(os.Stdout)
	for i := 0; ; i++ {
		// A checkpoint now and then, as the retention loop would write.
		if i%500 == 0 {
			_ = m.WriteCheckpoints()
		}
		next := l.LogEndOffset()
		b := makeBatch(nopTB{}, batchOpts{firstTs: next, records: []testRecord{{Key: []byte(strconv.FormatInt(next, 10)), Value: make([]byte, 100+int(next%300))}}})
		info, err := l.Append(b, 0)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		fmt.Fprintln(w, info.LastOffset)
		w.Flush()
	}
}

// nopTB lets makeBatch run outside a test; it has no failure paths for
// codec 0.
type nopTB struct{ testing.TB }

func (nopTB) Helper() {}

func TestKillDuringAppends(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acked := int64(-1)
	sc := bufio.NewScanner(out)
	deadline := time.Now().Add(30 * time.Second)
	for acked < 3000 && sc.Scan() {
		if time.Now().After(deadline) {
			break
		}
		acked, _ = strconv.ParseInt(sc.Text(), 10, 64)
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL mid-append
		t.Fatal(err)
	}
	for sc.Scan() { // acknowledgements already in the pipe
		acked, _ = strconv.ParseInt(sc.Text(), 10, 64)
	}
	_ = cmd.Wait()
	if acked < 3000 {
		t.Fatalf("child acknowledged only %d appends", acked)
	}

	m, lb := newTestManager(t, dir, newClock())
	l, ok := m.Get("crash", 0)
	if !ok {
		t.Fatal("partition not found after the crash")
	}
	if l.LogEndOffset() <= acked {
		t.Fatalf("log end %d, but offset %d was acknowledged", l.LogEndOffset(), acked)
	}
	_, recs := decodeBatches(t, readAll(t, l))
	for i, r := range recs {
		if r.Offset != int64(i) || string(r.Key) != strconv.Itoa(i) || len(r.Value) != 100+i%300 {
			t.Fatalf("record %d: offset %d key %q value %d bytes", i, r.Offset, r.Key, len(r.Value))
		}
	}
	checkIndexFiles(t, filepath.Join(dir, "crash-0"))
	t.Logf("acknowledged %d, recovered %d records; log:\n%s", acked+1, len(recs), lb.String())
}
