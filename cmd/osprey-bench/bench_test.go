package main

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// batch encodes a v2 record batch of n records at base offset base (the
// payload is not parsed by walkBatches, only the header fields).
func batch(base int64, n int32, payload int) []byte {
	b := kmsg.RecordBatch{FirstOffset: base, Magic: 2, LastOffsetDelta: n - 1, NumRecords: n, Records: make([]byte, payload)}
	// Length counts the bytes after the length field: 49 header bytes after it plus the records.
	b.Length = int32(49 + payload)
	return b.AppendTo(nil)
}

func TestWalkBatches(t *testing.T) {
	b1 := batch(0, 10, 300)
	b2 := batch(10, 5, 120)
	partial := batch(15, 3, 200)[:90] // a fetch response may end inside a batch
	buf := append(append(append([]byte{}, b1...), b2...), partial...)

	n, last, recs := walkBatches(buf)
	if want := int64(len(b1) + len(b2)); n != want {
		t.Errorf("bytes = %d, want %d (complete batches only)", n, want)
	}
	if last != 14 {
		t.Errorf("last offset = %d, want 14", last)
	}
	if recs != 15 {
		t.Errorf("records = %d, want 15", recs)
	}
	if n, last, recs := walkBatches(partial); n != 0 || last != -1 || recs != 0 {
		t.Errorf("partial only: got %d, %d, %d; want 0, -1, 0", n, last, recs)
	}
}

func TestPercentileAndMedian(t *testing.T) {
	var d []time.Duration
	for i := 100; i >= 1; i-- {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	sortDurations(d)
	if got := percentile(d, 0.5); got != 50*time.Millisecond {
		t.Errorf("p50 = %v, want 50ms", got)
	}
	if got := percentile(d, 0.99); got != 99*time.Millisecond {
		t.Errorf("p99 = %v, want 99ms", got)
	}
	if got := percentile(nil, 0.99); got != 0 {
		t.Errorf("p99 of nothing = %v, want 0", got)
	}
	if got := medianOf([]float64{5, 1, 3}); got != 3 {
		t.Errorf("median = %v, want 3", got)
	}
	if !math.IsNaN(medianOf(nil)) {
		t.Error("median of nothing should be NaN")
	}
}

func TestTargets(t *testing.T) {
	cases := []struct {
		got  status
		want status
	}{
		{atLeast(0.8, 0.8), statusMet},
		{atLeast(0.79, 0.8), statusMissed},
		{atLeast(math.NaN(), 0.8), statusNotRun},
		{atMost(5, 5), statusMet},
		{atMost(5.1, 5), statusMissed},
	}
	for i, c := range cases {
		if c.got != c.want {
			t.Errorf("case %d: %s, want %s", i, c.got, c.want)
		}
	}
}

// The report lists every row, and explains exactly the rows that missed or
// were not measured.
func TestWriteMarkdown(t *testing.T) {
	r := &report{began: time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC), command: "make bench", machine: describeMachine(t.TempDir()), loadStart: "1.00"}
	r.add(row{Section: "broker", Name: "fast", Value: "10 MB/s", Target: "≥ 1", Status: statusMet, Why: "not shown"})
	r.add(row{Section: "broker", Name: "slow", Value: "1 MB/s", Target: "≥ 2", Status: statusMissed, Why: "CPU-bound"})
	r.add(row{Section: "cluster", Name: "absent", Value: "-", Status: statusNotRun, Why: notReady})
	r.note("method %d", 1)
	path := filepath.Join(t.TempDir(), "docs", "BENCHMARKS.md")
	if err := r.writeMarkdown(path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, want := range []string{"`make bench`", "2026-01-02 03:04 UTC", "| broker | fast | 10 MB/s |", "| broker | slow | 1 MB/s |",
		"**broker / slow** (MISSED): CPU-bound", "**cluster / absent** (not measured): " + notReady, "- method 1"} {
		if !strings.Contains(doc, want) {
			t.Errorf("report lacks %q:\n%s", want, doc)
		}
	}
	if strings.Contains(doc, "not shown") {
		t.Error("a met figure's note appears among the misses")
	}
}

func TestReadCPUStat(t *testing.T) {
	a := readCPUStat()
	if a.busy <= 0 {
		t.Fatalf("machine busy time %v, want > 0 (is /proc mounted?)", a.busy)
	}
	m := startMeter()
	for x := 0; time.Since(m.wall0) < 50*time.Millisecond; x++ {
		_ = x * x // burn CPU so the process's own time grows
	}
	m.stop()
	if m.cpu <= 0 || m.cores() <= 0 {
		t.Errorf("process CPU %v over %v, want > 0", m.cpu, m.wall)
	}
}
