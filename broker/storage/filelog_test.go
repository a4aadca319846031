package storage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/osprey-kafka/osprey/internal/testenv"
)

// crash releases a Manager's files the way a killed process would: no
// flush, no checkpoint, no final index entries.
func crash(m *Manager) {
	m.mu.Lock()
	logs := m.logs
	m.logs = map[TopicPartition]Log{}
	m.closed = true
	m.mu.Unlock()
	for _, l := range logs {
		fl := l.(*fileLog)
		fl.mu.Lock()
		fl.closeSegments()
		fl.closed = true
		fl.mu.Unlock()
	}
	m.closeLock()
}

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	sort.Strings(out)
	return out
}

// checkIndexFiles verifies every segment's .index and .timeindex against
// the .log the way Kafka's DumpLogSegments --verify-index-only does: each
// offset index entry points at a batch whose last offset is the entry's.
func checkIndexFiles(t *testing.T, dir string) int {
	t.Helper()
	entries := 0
	for _, n := range listDir(t, dir) {
		if !strings.HasSuffix(n, logSuffix) {
			continue
		}
		var base int64
		fmt.Sscanf(n, "%020d.log", &base)
		logb, _ := os.ReadFile(filepath.Join(dir, n))
		idx, err := os.ReadFile(filepath.Join(dir, segmentFileName(base, indexSuffix)))
		if err != nil {
			t.Fatal(err)
		}
		tidx, err := os.ReadFile(filepath.Join(dir, segmentFileName(base, timeIndexSuffix)))
		if err != nil {
			t.Fatal(err)
		}
		if len(idx)%8 != 0 || len(tidx)%12 != 0 {
			t.Fatalf("%s: index sizes %d, %d", n, len(idx), len(tidx))
		}
		for i := 0; i < len(idx); i += 8 {
			rel := binary.BigEndian.Uint32(idx[i:])
			pos := binary.BigEndian.Uint32(idx[i+4:])
			h := parseHeader(logb[pos:])
			if h.LastOffset() != base+int64(rel) {
				t.Fatalf("%s: index entry %d (%d, %d) points at batch %d..%d", n, i/8, rel, pos, h.BaseOffset, h.LastOffset())
			}
			entries++
		}
		for i := 0; i < len(tidx); i += 12 {
			ts := int64(binary.BigEndian.Uint64(tidx[i:]))
			rel := int64(binary.BigEndian.Uint32(tidx[i+8:]))
			// Every batch up to that offset has maxTimestamp <= ts.
			hs, _ := ParseBatchHeaders(logb)
			for _, h := range hs {
				if h.LastOffset() <= base+rel && h.MaxTimestamp > ts {
					t.Fatalf("%s: time index entry (%d, %d) but batch %d has timestamp %d", n, ts, rel, h.BaseOffset, h.MaxTimestamp)
				}
			}
		}
	}
	return entries
}

func TestRollBySizeAndKafkaNames(t *testing.T) {
	clk := newClock()
	m, _ := newTestManager(t, "", clk)
	l, err := m.GetOrCreate("orders.v1", 2, testConfig(func(c *Config) { c.SegmentBytes = 1000; c.IndexIntervalBytes = 100 }))
	if err != nil {
		t.Fatal(err)
	}
	var firsts []int64
	var sizes []int
	for i := 0; i < 40; i++ {
		b := simpleBatch(t, int64(i), 1+i%3, 60, "r")
		info, err := l.Append(b, 0)
		if err != nil {
			t.Fatal(err)
		}
		firsts = append(firsts, info.FirstOffset)
		sizes = append(sizes, len(b))
	}
	// Expected segment bases: a new segment whenever the batch would not fit.
	var want []string
	size := 0
	for i, s := range sizes {
		if i == 0 || size+s > 1000 {
			want = append(want, segmentFileName(firsts[i], ".index"), segmentFileName(firsts[i], ".log"), segmentFileName(firsts[i], ".timeindex"))
			size = 0
		}
		size += s
	}
	pdir := filepath.Join(m.Dir(), "orders.v1-2")
	want = append(want, LeaderEpochCheckpointFile)
	sort.Strings(want)
	if got := listDir(t, pdir); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("partition dir:\n got %v\nwant %v", got, want)
	}
	if !strings.HasPrefix(want[0], "00000000000000000000.") {
		t.Fatalf("first segment is %s", want[0])
	}
	for _, n := range listDir(t, pdir) {
		if fi, _ := os.Stat(filepath.Join(pdir, n)); strings.HasSuffix(n, ".log") && fi.Size() > 1000 {
			t.Fatalf("%s is %d bytes, over segment.bytes", n, fi.Size())
		}
	}
	if checkIndexFiles(t, pdir) == 0 {
		t.Fatal("no index entries written")
	}
	before := readAll(t, l)
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	m2, _ := newTestManager(t, m.Dir(), clk)
	l2, _ := m2.Get("orders.v1", 2)
	if !bytes.Equal(readAll(t, l2), before) {
		t.Fatal("data differs after reopen")
	}
	if _, err := l2.Append(simpleBatch(t, 0, 1, 1, "after"), 1); err != nil {
		t.Fatal(err)
	}
	checkIndexFiles(t, pdir)
}

func TestRollByTime(t *testing.T) {
	clk := newClock()
	m, _ := newTestManager(t, "", clk)
	l, _ := m.GetOrCreate("t", 0, testConfig(func(c *Config) { c.SegmentMs = 1000 }))
	ts := clk.now().UnixMilli()
	appendAt := func(ts int64) int64 {
		info, err := l.Append(simpleBatch(t, ts, 1, 5, "x"), 0)
		if err != nil {
			t.Fatal(err)
		}
		return info.FirstOffset
	}
	appendAt(ts)
	appendAt(ts + 1000) // exactly segment.ms later: no roll yet
	third := appendAt(ts + 1001)
	appendAt(ts + 1500)
	fifth := appendAt(ts + 2002)
	var logs []string
	for _, n := range listDir(t, filepath.Join(m.Dir(), "t-0")) {
		if strings.HasSuffix(n, ".log") {
			logs = append(logs, n)
		}
	}
	want := []string{segmentFileName(0, ".log"), segmentFileName(third, ".log"), segmentFileName(fifth, ".log")}
	if strings.Join(logs, " ") != strings.Join(want, " ") {
		t.Fatalf("segments %v, want %v", logs, want)
	}
	// Batches without timestamps roll by wall clock since creation.
	l2, _ := m.GetOrCreate("notime", 0, testConfig(func(c *Config) { c.SegmentMs = 1000 }))
	for i := 0; i < 3; i++ {
		if _, err := l2.Append(simpleBatch(t, -1, 1, 5, "x"), 0); err != nil {
			t.Fatal(err)
		}
		clk.advance(600 * time.Millisecond)
	}
	if n := len(l2.(*fileLog).segs); n != 2 {
		t.Fatalf("%d segments after 1.2s of wall clock, want 2", n)
	}
}

func TestIndexLookupAcrossSegments(t *testing.T) {
	clk := newClock()
	m, _ := newTestManager(t, "", clk)
	l, _ := m.GetOrCreate("idx", 0, testConfig(func(c *Config) { c.SegmentBytes = 4000; c.IndexIntervalBytes = 150 }))
	rng := rand.New(rand.NewPCG(1, 2))
	type span struct{ base, last int64 }
	var spans []span
	for i := 0; i < 300; i++ {
		n := 1 + rng.IntN(5)
		info, err := l.Append(simpleBatch(t, int64(i), n, rng.IntN(80), "i"), 0)
		if err != nil {
			t.Fatal(err)
		}
		spans = append(spans, span{info.FirstOffset, info.LastOffset})
	}
	fl := l.(*fileLog)
	if len(fl.segs) < 10 {
		t.Fatalf("only %d segments", len(fl.segs))
	}
	check := func(l Log) {
		for _, s := range spans {
			for off := s.base; off <= s.last; off++ {
				r, err := l.Read(off, 1, l.LogEndOffset(), true)
				if err != nil {
					t.Fatal(err)
				}
				if r.FirstOffset() != s.base {
					t.Fatalf("read at %d starts at %d, want %d", off, r.FirstOffset(), s.base)
				}
				r.Close()
			}
		}
	}
	check(l)
	if checkIndexFiles(t, filepath.Join(m.Dir(), "idx-0")) < 50 {
		t.Fatal("too few index entries")
	}
	// Remove and damage index files: they are rebuilt on open.
	m.Close()
	pdir := filepath.Join(m.Dir(), "idx-0")
	segs := listDir(t, pdir)
	os.Remove(filepath.Join(pdir, segs[0]))                                                 // an .index
	os.WriteFile(filepath.Join(pdir, segs[3]), []byte{0, 0, 0, 9, 0, 0, 0, 1, 0, 0}, 0o644) // a torn .index
	m2, _ := newTestManager(t, m.Dir(), clk)
	l2, _ := m2.Get("idx", 0)
	check(l2)
	checkIndexFiles(t, pdir)
}

func TestRetention(t *testing.T) {
	cases := []struct {
		name       string
		mod        func(*Config)
		advance    time.Duration
		hw         int64 // -1: log end
		wantSegs   int   // segments left
		wantDelete int
	}{
		{"time, nothing old", func(c *Config) { c.RetentionMs = 60_000 }, 30 * time.Second, -1, 5, 0},
		{"time, all old rolls a new active", func(c *Config) { c.RetentionMs = 60_000 }, 2 * time.Minute, -1, 1, 5},
		{"time, held by high watermark", func(c *Config) { c.RetentionMs = 60_000 }, 2 * time.Minute, 25, 3, 2},
		{"size", func(c *Config) { c.RetentionBytes = 1500; c.RetentionMs = -1 }, 0, -1, 2, 3},
		{"compact keeps all", func(c *Config) { c.RetentionMs = 1; c.CleanupPolicy = CleanupCompact }, time.Hour, -1, 5, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock()
			m, lb := newTestManager(t, "", clk)
			l, _ := m.GetOrCreate("ret", 0, testConfig(func(c *Config) { c.SegmentBytes = 1000; tc.mod(c) }))
			// 5 segments of 2 batches (~ 460 bytes each), batch timestamps = now.
			for i := 0; i < 10; i++ {
				if _, err := l.Append(simpleBatch(t, clk.now().UnixMilli(), 5, 60, "r"), 0); err != nil {
					t.Fatal(err)
				}
			}
			if n := len(l.(*fileLog).segs); n != 5 {
				t.Fatalf("setup: %d segments", n)
			}
			hw := tc.hw
			if hw < 0 {
				hw = l.LogEndOffset()
			}
			l.SetHighWatermark(hw)
			clk.advance(tc.advance)
			end := l.LogEndOffset()
			if got := m.EnforceRetention(); got != tc.wantDelete {
				t.Fatalf("deleted %d segments, want %d", got, tc.wantDelete)
			}
			fl := l.(*fileLog)
			if len(fl.segs) != tc.wantSegs || l.LogStartOffset() != fl.segs[0].base || l.LogEndOffset() != end {
				t.Fatalf("segments %d start %d end %d (was %d)", len(fl.segs), l.LogStartOffset(), l.LogEndOffset(), end)
			}
			var logs int
			for _, n := range listDir(t, filepath.Join(m.Dir(), "ret-0")) {
				if strings.HasSuffix(n, ".log") {
					logs++
				}
			}
			if logs != tc.wantSegs {
				t.Fatalf("%d .log files on disk, want %d", logs, tc.wantSegs)
			}
			if tc.wantDelete > 0 && !strings.Contains(lb.String(), "deleted segments by retention") {
				t.Fatal("retention not logged")
			}
			// The log still takes appends at the same offsets.
			if info, err := l.Append(simpleBatch(t, 0, 1, 1, "n"), 0); err != nil || info.FirstOffset != end {
				t.Fatalf("%+v %v", info, err)
			}
		})
	}
}

func TestRunRetentionLoop(t *testing.T) {
	clk := newClock()
	m, _ := newTestManager(t, "", clk)
	l, _ := m.GetOrCreate("loop", 0, testConfig(func(c *Config) { c.SegmentBytes = 500; c.RetentionMs = 10 }))
	for i := 0; i < 6; i++ {
		l.Append(simpleBatch(t, clk.now().UnixMilli(), 5, 60, "r"), 0)
	}
	l.SetHighWatermark(l.LogEndOffset())
	clk.advance(time.Second)
	ctx, cancel := contextWithCancel()
	done := make(chan struct{})
	go func() { m.RunRetention(ctx, 5*time.Millisecond); close(done) }()
	testenv.WaitFor(t, 5*time.Second, func() error {
		if start, end := l.LogStartOffset(), l.LogEndOffset(); start != end {
			return fmt.Errorf("retention loop did not delete the expired segments: log start %d, end %d", start, end)
		}
		return nil
	})
	cancel()
	<-done
	b, _ := os.ReadFile(filepath.Join(m.Dir(), LogStartOffsetCheckpointFile))
	if want := fmt.Sprintf("loop 0 %d\n", l.LogEndOffset()); !strings.Contains(string(b), want) {
		t.Fatalf("log-start-offset-checkpoint %q lacks %q", b, want)
	}
}

func TestRecovery(t *testing.T) {
	cases := []struct {
		name    string
		damage  func(t *testing.T, path string, lastBatchPos, size int64)
		lostOne bool // the last batch is lost
	}{
		{"clean", func(*testing.T, string, int64, int64) {}, false},
		{"torn tail mid-batch", func(t *testing.T, p string, last, size int64) { os.Truncate(p, last+30) }, true},
		{"torn tail mid-header", func(t *testing.T, p string, last, size int64) { os.Truncate(p, last+5) }, true},
		{"corrupt byte in last batch", func(t *testing.T, p string, last, size int64) {
			f, _ := os.OpenFile(p, os.O_RDWR, 0)
			defer f.Close()
			b := []byte{0}
			f.ReadAt(b, size-10)
			b[0] ^= 0xff
			f.WriteAt(b, size-10)
		}, true},
		{"garbage appended", func(t *testing.T, p string, last, size int64) {
			f, _ := os.OpenFile(p, os.O_RDWR|os.O_APPEND, 0)
			defer f.Close()
			f.Write(bytes.Repeat([]byte{0x7f}, 100))
		}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock()
			dir := t.TempDir()
			logger, lb := newTestLogger(t)
			m, err := OpenManager(dir, logger, WithClock(clk.now))
			if err != nil {
				t.Fatal(err)
			}
			l, _ := m.GetOrCreate("rec", 0, testConfig(func(c *Config) { c.SegmentBytes = 2000; c.IndexIntervalBytes = 100 }))
			var lastPos int64
			for i := 0; i < 20; i++ {
				fl := l.(*fileLog)
				lastPos = fl.active().size
				if _, err := l.Append(simpleBatch(t, int64(i), 3, 50, "c"), 0); err != nil {
					t.Fatal(err)
				}
			}
			if err := m.WriteCheckpoints(); err != nil { // a checkpoint from before the last appends
				t.Fatal(err)
			}
			end := l.LogEndOffset()
			fl := l.(*fileLog)
			active := fl.active()
			activePath := active.path(logSuffix)
			size := active.size
			data := readAll(t, l)
			crash(m)
			tc.damage(t, activePath, lastPos, size)

			m2, err := OpenManager(dir, logger, WithClock(clk.now))
			if err != nil {
				t.Fatal(err)
			}
			defer m2.Close()
			l2, _ := m2.Get("rec", 0)
			wantEnd := end
			if tc.lostOne {
				wantEnd = end - 3
			}
			if l2.LogEndOffset() != wantEnd {
				t.Fatalf("end after recovery %d, want %d", l2.LogEndOffset(), wantEnd)
			}
			got := readAll(t, l2)
			if !bytes.HasPrefix(data, got) || len(got) != len(data)-int(size-lastPos)*b2i(tc.lostOne) {
				t.Fatalf("recovered %d bytes of %d", len(got), len(data))
			}
			fi, _ := os.Stat(activePath)
			if tc.lostOne && fi.Size() != lastPos || !tc.lostOne && fi.Size() != size {
				t.Fatalf("active segment is %d bytes after recovery", fi.Size())
			}
			logged := lb.String()
			truncated := strings.Contains(logged, "truncating log after an unclean shutdown")
			if truncated != (tc.name != "clean") {
				t.Fatalf("truncation logged = %v:\n%s", truncated, logged)
			}
			if truncated && (!strings.Contains(logged, "level=WARN") || !strings.Contains(logged, fmt.Sprintf("offset=%d", wantEnd)) ||
				!strings.Contains(logged, "bytes_truncated=") || !strings.Contains(logged, "dir=")) {
				t.Fatalf("warning lacks details:\n%s", logged)
			}
			checkIndexFiles(t, filepath.Join(dir, "rec-0"))
			if info, err := l2.Append(simpleBatch(t, 0, 2, 5, "new"), 1); err != nil || info.FirstOffset != wantEnd {
				t.Fatalf("append after recovery: %+v %v", info, err)
			}
		})
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestRecoveryDeletesSegmentsAfterCorruption(t *testing.T) {
	clk := newClock()
	dir := t.TempDir()
	m, _ := newTestManager(t, dir, clk)
	l, _ := m.GetOrCreate("multi", 0, testConfig(func(c *Config) { c.SegmentBytes = 600 }))
	for i := 0; i < 20; i++ {
		l.Append(simpleBatch(t, int64(i), 2, 40, "m"), 0)
	}
	fl := l.(*fileLog)
	if len(fl.segs) < 4 {
		t.Fatalf("%d segments", len(fl.segs))
	}
	victim := fl.segs[1]
	vpath, vbase := victim.path(logSuffix), victim.base
	crash(m)
	os.Remove(filepath.Join(dir, RecoveryPointCheckpointFile)) // recover every segment
	f, _ := os.OpenFile(vpath, os.O_RDWR, 0)
	f.WriteAt([]byte{0xde, 0xad}, 70) // inside the first batch's records
	f.Close()
	m2, lb := newTestManager(t, dir, clk)
	l2, _ := m2.Get("multi", 0)
	if l2.LogEndOffset() != vbase || len(l2.(*fileLog).segs) != 2 {
		t.Fatalf("end %d (want %d), %d segments", l2.LogEndOffset(), vbase, len(l2.(*fileLog).segs))
	}
	if !strings.Contains(lb.String(), "later_segments_deleted=") {
		t.Fatal(lb.String())
	}
}

func TestConcurrentReadersAndWriter(t *testing.T) {
	for _, kind := range logKinds {
		t.Run(kind.name, func(t *testing.T) {
			l := kind.make(t, testConfig(func(c *Config) { c.SegmentBytes = 5000; c.IndexIntervalBytes = 200 }), newClock())
			const batches = 400
			var stop atomic.Bool
			var wg sync.WaitGroup
			errs := make(chan error, 8)
			for r := 0; r < 4; r++ {
				wg.Add(1)
				go func(seed uint64) {
					defer wg.Done()
					rng := rand.New(rand.NewPCG(seed, 9))
					for !stop.Load() {
						end := l.LogEndOffset()
						off := int64(0)
						if end > 0 {
							off = rng.Int64N(end)
						}
						res, err := l.Read(off, int32(rng.IntN(3000)), end, true)
						if err != nil {
							errs <- err
							return
						}
						b, err := res.AppendTo(nil)
						res.Close()
						if err != nil {
							errs <- err
							return
						}
						hs, err := ParseBatchHeaders(b) // whole batches with good CRCs
						if err != nil {
							errs <- fmt.Errorf("read at %d: %w", off, err)
							return
						}
						for i, h := range hs {
							if (i == 0 && (h.BaseOffset > off || h.LastOffset() < off)) || (i > 0 && h.BaseOffset != hs[i-1].LastOffset()+1) || h.LastOffset() >= end {
								errs <- fmt.Errorf("read at %d (end %d): batch %d..%d", off, end, h.BaseOffset, h.LastOffset())
								return
							}
						}
					}
				}(uint64(r))
			}
			wg.Add(1)
			go func() { // flushes run outside the log's lock, concurrently with appends
				defer wg.Done()
				for !stop.Load() {
					if err := l.Flush(); err != nil {
						errs <- err
						return
					}
					time.Sleep(time.Millisecond) // flush often, but leave the appends room
				}
			}()
			for i := 0; i < batches; i++ {
				if _, err := l.Append(simpleBatch(t, int64(i), 1+i%4, i%100, "c"), 0); err != nil {
					t.Fatal(err)
				}
			}
			stop.Store(true)
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
		})
	}
}

// recordingWriter records what io.Copy hands its ReadFrom.
type recordingWriter struct {
	bytes.Buffer
	src io.Reader
}

func (w *recordingWriter) ReadFrom(r io.Reader) (int64, error) {
	w.src = r
	return w.Buffer.ReadFrom(r)
}

func TestFileResultUsesSendfileShape(t *testing.T) {
	m, _ := newTestManager(t, "", newClock())
	l, _ := m.GetOrCreate("sf", 0, DefaultConfig())
	for i := 0; i < 10; i++ {
		l.Append(simpleBatch(t, 0, 2, 100, "s"), 0)
	}
	r, err := l.Read(4, 1<<20, l.LogEndOffset(), true)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var w recordingWriter
	if _, err := r.WriteTo(&w); err != nil {
		t.Fatal(err)
	}
	// This is the shape net.(*TCPConn).ReadFrom turns into sendfile(2).
	lr, ok := w.src.(*io.LimitedReader)
	if !ok {
		t.Fatalf("ReadFrom got %T, want *io.LimitedReader", w.src)
	}
	if _, ok := lr.R.(*os.File); !ok {
		t.Fatalf("LimitedReader wraps %T, want *os.File", lr.R)
	}
	want, _ := r.AppendTo(nil)
	if !bytes.Equal(w.Bytes(), want) {
		t.Fatal("bytes differ")
	}
}

func TestReadOverTCP(t *testing.T) {
	m, _ := newTestManager(t, "", newClock())
	l, _ := m.GetOrCreate("tcp", 0, testConfig(func(c *Config) { c.SegmentBytes = 1 << 22 }))
	for i := 0; i < 200; i++ {
		if _, err := l.Append(simpleBatch(t, int64(i), 10, 1000, "tcp"), 0); err != nil {
			t.Fatal(err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan []byte, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- nil
			return
		}
		defer c.Close()
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		b, _ := io.ReadAll(c)
		got <- b
	}()
	conn, err := net.DialTimeout("tcp", ln.Addr().String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	var want []byte
	// Two reads on the same segment, sent back to back.
	for _, off := range []int64{0, 1000} {
		r, err := l.Read(off, 1<<20, l.LogEndOffset(), true)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := r.(*fileResult); !ok {
			t.Fatalf("read result is %T", r)
		}
		n, err := r.WriteTo(conn.(*net.TCPConn))
		if err != nil || n != int64(r.Len()) {
			t.Fatalf("WriteTo: %d of %d, %v", n, r.Len(), err)
		}
		want, _ = r.AppendTo(want)
		r.Close()
	}
	conn.Close()
	b := <-got
	if len(want) < 1<<20 || !bytes.Equal(b, want) {
		t.Fatalf("received %d bytes, sent %d", len(b), len(want))
	}
}

func TestReadSurvivesSegmentDeletion(t *testing.T) {
	clk := newClock()
	m, _ := newTestManager(t, "", clk)
	l, _ := m.GetOrCreate("del", 0, testConfig(func(c *Config) { c.SegmentBytes = 500; c.RetentionMs = 1 }))
	for i := 0; i < 6; i++ {
		l.Append(simpleBatch(t, clk.now().UnixMilli(), 3, 50, "d"), 0)
	}
	r, err := l.Read(0, 1<<20, l.LogEndOffset(), true)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	want, _ := r.AppendTo(nil)
	l.SetHighWatermark(l.LogEndOffset())
	clk.advance(time.Minute)
	if n := m.EnforceRetention(); n == 0 {
		t.Fatal("nothing deleted")
	}
	var buf bytes.Buffer
	if _, err := r.WriteTo(&buf); err != nil || !bytes.Equal(buf.Bytes(), want) {
		t.Fatalf("read of a deleted segment: %v", err)
	}
	if err := m.Delete("del", 0); err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	if _, err := r.WriteTo(&buf); err != nil || !bytes.Equal(buf.Bytes(), want) {
		t.Fatalf("read after topic deletion: %v", err)
	}
}

func TestFollowerAppendLargerThanSegment(t *testing.T) {
	clk := newClock()
	m, _ := newTestManager(t, "", clk)
	cfg := testConfig(func(c *Config) { c.SegmentBytes = 700 })
	leader, _ := m.GetOrCreate("lead", 0, cfg)
	follower, _ := m.GetOrCreate("follow", 0, cfg)
	for i := 0; i < 20; i++ {
		if _, err := leader.Append(simpleBatch(t, int64(i), 2, 60, "f"), 3); err != nil {
			t.Fatal(err)
		}
	}
	data := readAll(t, leader)
	if len(data) <= 700 {
		t.Fatalf("setup: %d bytes", len(data))
	}
	if _, err := follower.Append(append([]byte(nil), data...), 0); !errors.Is(err, ErrRecordListTooLarge) || KafkaErrorCode(err) != 18 {
		t.Fatalf("producer append larger than a segment: %v", err)
	}
	info, err := follower.AppendAsFollower(append([]byte(nil), data...))
	if err != nil || info.LastOffset != 39 {
		t.Fatalf("%+v %v", info, err)
	}
	if !bytes.Equal(readAll(t, follower), data) {
		t.Fatal("follower data differs")
	}
	if n := len(follower.(*fileLog).segs); n < 3 {
		t.Fatalf("%d segments", n)
	}
	checkIndexFiles(t, filepath.Join(m.Dir(), "follow-0"))
	// Rolls flush the older segments in the background: the recovery
	// point moves past them.
	fl := follower.(*fileLog)
	fl.mu.RLock()
	activeBase := fl.active().base
	fl.mu.RUnlock()
	testenv.WaitFor(t, 5*time.Second, func() error {
		if rp, _, _, _ := fl.checkpointState(); rp < activeBase {
			return fmt.Errorf("recovery point %d still below the active segment %d", rp, activeBase)
		}
		return nil
	})
}

func TestTruncateKeepsIndexesConsistent(t *testing.T) {
	clk := newClock()
	dir := t.TempDir()
	m, _ := newTestManager(t, dir, clk)
	l, _ := m.GetOrCreate("tr", 0, testConfig(func(c *Config) { c.SegmentBytes = 3000; c.IndexIntervalBytes = 100 }))
	for i := 0; i < 60; i++ {
		if _, err := l.Append(simpleBatch(t, int64(1000+i*10), 2, 30, "t"), int32(i/20)); err != nil {
			t.Fatal(err)
		}
	}
	for _, to := range []int64{101, 77, 60, 59, 3} {
		if err := l.TruncateTo(to); err != nil {
			t.Fatal(err)
		}
		want := to - to%2 // batches of two records
		if l.LogEndOffset() != want {
			t.Fatalf("truncate to %d: end %d, want %d", to, l.LogEndOffset(), want)
		}
		checkIndexFiles(t, filepath.Join(dir, "tr-0"))
		// Offsets and timestamps still resolve.
		for off := int64(0); off < want; off++ {
			r, err := l.Read(off, 1, want, true)
			if err != nil || r.FirstOffset() != off-off%2 {
				t.Fatalf("after truncate to %d, read %d: first %d, %v", to, off, r.FirstOffset(), err)
			}
			r.Close()
		}
		if ts, off, ok, _ := l.MaxTimestamp(); !ok || off != want-1 || ts != 1000+(want/2-1)*10+1 {
			t.Fatalf("after truncate to %d: max timestamp %d at %d", to, ts, off)
		}
	}
	if e := l.LatestEpoch(); e != 0 {
		t.Fatalf("epoch %d after truncating to 2", e)
	}
	m.Close()
	m2, _ := newTestManager(t, dir, clk)
	l2, _ := m2.Get("tr", 0)
	if l2.LogEndOffset() != 2 || l2.LatestEpoch() != 0 {
		t.Fatalf("after reopen: end %d epoch %d", l2.LogEndOffset(), l2.LatestEpoch())
	}
}

func TestEpochCheckpointRebuilt(t *testing.T) {
	clk := newClock()
	dir := t.TempDir()
	m, _ := newTestManager(t, dir, clk)
	l, _ := m.GetOrCreate("ep", 0, testConfig(func(c *Config) { c.SegmentBytes = 500 }))
	for i := 0; i < 12; i++ {
		l.Append(simpleBatch(t, 0, 2, 40, "e"), int32(i/4)*2) // epochs 0, 2, 4 starting at 0, 8, 16
	}
	b, err := os.ReadFile(filepath.Join(dir, "ep-0", LeaderEpochCheckpointFile))
	if err != nil || string(b) != "0\n3\n0 0\n2 8\n4 16\n" {
		t.Fatalf("leader-epoch-checkpoint %q, %v", b, err)
	}
	m.Close()
	for _, damage := range []func(p string){
		func(p string) { os.Remove(p) },
		func(p string) { os.WriteFile(p, []byte("0\n7\n1 1\n"), 0o644) },
	} {
		damage(filepath.Join(dir, "ep-0", LeaderEpochCheckpointFile))
		m2, lb := newTestManager(t, dir, clk)
		l2, _ := m2.Get("ep", 0)
		if e, off := l2.EndOffsetForEpoch(3); e != 2 || off != 16 {
			t.Fatalf("EndOffsetForEpoch(3) = %d, %d after rebuild", e, off)
		}
		if !strings.Contains(lb.String(), "leader epoch checkpoint") {
			t.Fatal("rebuild not logged")
		}
		m2.Close()
		b, _ := os.ReadFile(filepath.Join(dir, "ep-0", LeaderEpochCheckpointFile))
		if string(b) != "0\n3\n0 0\n2 8\n4 16\n" {
			t.Fatalf("rebuilt leader-epoch-checkpoint %q", b)
		}
	}
}
