package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// kv is one record of a keyed test batch; a nil value is a tombstone.
type kv struct {
	key   string
	value []byte
}

func keyedBatch(t testing.TB, ts int64, codec int8, kvs ...kv) []byte {
	t.Helper()
	recs := make([]testRecord, len(kvs))
	for i, r := range kvs {
		recs[i] = testRecord{Key: []byte(r.key), Value: r.value}
		if r.key == "" {
			recs[i].Key = nil
		}
	}
	return makeBatch(t, batchOpts{firstTs: ts, records: recs, codec: codec})
}

func compactConfig(mod func(*Config)) Config {
	return testConfig(func(c *Config) {
		c.CleanupPolicy = CleanupCompact
		c.SegmentBytes = 2048
		c.MinCleanableDirtyRatio = 0.01
		c.IndexIntervalBytes = 256
		if mod != nil {
			mod(c)
		}
	})
}

// cleanerFixture is a Manager on a temp dir with one compacted log and a
// Cleaner over it, all on a test clock.
type cleanerFixture struct {
	t   *testing.T
	dir string
	clk *clock
	m   *Manager
	l   Log
	c   *Cleaner
	cfg Config
	ccf CleanerConfig
	opt []CleanerOption
}

func newCleanerFixture(t *testing.T, cfg Config, ccf CleanerConfig, opts ...CleanerOption) *cleanerFixture {
	f := &cleanerFixture{t: t, dir: t.TempDir(), clk: newClock(), cfg: cfg, ccf: ccf, opt: opts}
	f.open()
	return f
}

func (f *cleanerFixture) open() {
	f.t.Helper()
	m, err := OpenManager(f.dir, nil, WithClock(f.clk.now))
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { m.Close() })
	f.m = m
	if f.l, err = m.GetOrCreate("compacted", 0, f.cfg); err != nil {
		f.t.Fatal(err)
	}
	opts := append([]CleanerOption{WithCleanerClock(f.clk.now)}, f.opt...)
	if f.c, err = NewCleaner(f.ccf, []*Manager{m}, nil, opts...); err != nil {
		f.t.Fatal(err)
	}
}

// crash drops the Manager as a killed process would: no flush, no
// checkpoint, files closed, lock released.
func (f *cleanerFixture) crash() {
	for _, pl := range f.m.Logs() {
		pl.Log.(*fileLog).closeForDelete()
	}
	f.m.mu.Lock()
	f.m.closed = true
	f.m.mu.Unlock()
	f.m.closeLock()
}

func (f *cleanerFixture) append(b []byte) {
	f.t.Helper()
	if _, err := f.l.Append(b, 0); err != nil {
		f.t.Fatal(err)
	}
	f.l.SetHighWatermark(f.l.LogEndOffset())
}

// roll makes the active segment old by appending a batch that does not fit
// (keys that are never reused), so what came before becomes cleanable.
func (f *cleanerFixture) roll() {
	f.t.Helper()
	fl := f.l.(*fileLog)
	fl.mu.Lock()
	err := fl.roll(fl.end(), f.clk.now().UnixMilli())
	fl.mu.Unlock()
	if err != nil {
		f.t.Fatal(err)
	}
}

// cleanAll runs CleanOnce until nothing needs cleaning; it returns the
// number of cleans.
func (f *cleanerFixture) cleanAll() int {
	f.t.Helper()
	n := 0
	for {
		ok, err := f.c.CleanOnce()
		if err != nil {
			f.t.Fatal(err)
		}
		if !ok {
			return n
		}
		if n++; n > 100 {
			f.t.Fatal("the cleaner never settles")
		}
	}
}

func (f *cleanerFixture) records() ([]BatchHeader, []testRecord) {
	f.t.Helper()
	return decodeBatches(f.t, readAll(f.t, f.l))
}

func (f *cleanerFixture) activeBase() int64 {
	fl := f.l.(*fileLog)
	fl.mu.RLock()
	defer fl.mu.RUnlock()
	return fl.active().base
}

// writeKeyed appends rounds of values for keys, one batch per step of
// batchSize records, codecs cycling, and returns what was written.
func (f *cleanerFixture) writeKeyed(keys, rounds, batchSize int, codecs ...int8) []testRecord {
	f.t.Helper()
	var kvs []kv
	for r := 0; r < rounds; r++ {
		for k := 0; k < keys; k++ {
			kvs = append(kvs, kv{fmt.Sprintf("key-%03d", k), fmt.Appendf(nil, "v%d-of-key-%03d", r, k)})
		}
	}
	start := f.l.LogEndOffset()
	var written []testRecord
	for i := 0; i < len(kvs); i += batchSize {
		part := kvs[i:min(i+batchSize, len(kvs))]
		codec := int8(0)
		if len(codecs) > 0 {
			codec = codecs[(i/batchSize)%len(codecs)]
		}
		f.append(keyedBatch(f.t, f.clk.now().UnixMilli(), codec, part...))
		for j, r := range part {
			written = append(written, testRecord{Offset: start + int64(i+j), Key: []byte(r.key), Value: r.value})
		}
	}
	return written
}

// checkCompacted checks what a clean must leave: every record still there
// is one that was written, at its offset; below the active segment each key
// appears once; the latest value of every key is there.
func checkCompacted(t *testing.T, got, written []testRecord, activeBase int64) {
	t.Helper()
	byOffset := map[int64]testRecord{}
	latest := map[string]int64{}
	for _, r := range written {
		byOffset[r.Offset] = r
		latest[string(r.Key)] = r.Offset
	}
	seen := map[string]bool{}
	have := map[int64]bool{}
	prev := int64(-1)
	for _, r := range got {
		w, ok := byOffset[r.Offset]
		if !ok || string(w.Key) != string(r.Key) || string(w.Value) != string(r.Value) {
			t.Fatalf("record at offset %d is %q=%q, written %q=%q", r.Offset, r.Key, r.Value, w.Key, w.Value)
		}
		if r.Offset <= prev {
			t.Fatalf("offsets out of order: %d after %d", r.Offset, prev)
		}
		prev = r.Offset
		have[r.Offset] = true
		if r.Offset < activeBase {
			if seen[string(r.Key)] {
				t.Fatalf("key %s appears twice outside the active segment (again at %d)", r.Key, r.Offset)
			}
			seen[string(r.Key)] = true
		}
	}
	for k, off := range latest {
		if !have[off] {
			t.Fatalf("the latest value of %s (offset %d) is gone", k, off)
		}
	}
}

func TestCleanKeepsLatestValuePerKey(t *testing.T) {
	f := newCleanerFixture(t, compactConfig(nil), DefaultCleanerConfig())
	written := f.writeKeyed(40, 6, 4, 0, 1, 4, 0, 3, 2)
	f.roll()
	hsBefore, _ := f.records()
	sizeBefore := f.l.Size()
	if n := f.cleanAll(); n == 0 {
		t.Fatal("nothing was cleaned")
	}
	hs, got := f.records()
	checkCompacted(t, got, written, f.activeBase())
	if len(got) != 40 {
		t.Fatalf("%d records left, want one per key (40)", len(got))
	}
	// Batches keep their base and last offsets.
	orig := map[int64]int64{}
	for _, h := range hsBefore {
		orig[h.BaseOffset] = h.LastOffset()
	}
	for _, h := range hs {
		if last, ok := orig[h.BaseOffset]; !ok || last != h.LastOffset() {
			t.Fatalf("batch %d..%d was not a batch before the clean", h.BaseOffset, h.LastOffset())
		}
	}
	if f.l.Size() >= sizeBefore/2 {
		t.Fatalf("log is %d bytes after cleaning, %d before", f.l.Size(), sizeBefore)
	}
	if cp := f.m.cleanerCheckpoint(TopicPartition{"compacted", 0}); cp != f.activeBase() {
		t.Fatalf("cleaner checkpoint %d, want the active segment's base %d", cp, f.activeBase())
	}
	b, err := os.ReadFile(filepath.Join(f.dir, CleanerOffsetCheckpointFile))
	if err != nil || !strings.Contains(string(b), fmt.Sprintf("compacted 0 %d\n", f.activeBase())) {
		t.Fatalf("cleaner-offset-checkpoint: %q %v", b, err)
	}
	st := f.c.States()
	if len(st) != 1 || st[0].DirtyRatio != 0 || st[0].BytesCleaned == 0 || st[0].BytesFreed == 0 || st[0].LastCleanedMs == 0 {
		t.Fatalf("states %+v", st)
	}
	checkIndexFiles(t, filepath.Join(f.dir, "compacted-0"))
	// The cleaned log reopens as it was (indexes, offsets, checkpoint).
	if err := f.m.Close(); err != nil {
		t.Fatal(err)
	}
	f.open()
	_, again := f.records()
	checkCompacted(t, again, written, f.activeBase())
	if cp := f.m.cleanerCheckpoint(TopicPartition{"compacted", 0}); cp != f.activeBase() {
		t.Fatalf("cleaner checkpoint after reopen %d", cp)
	}
}

func TestCleanNeverTouchesActiveSegmentOrHighWatermark(t *testing.T) {
	f := newCleanerFixture(t, compactConfig(func(c *Config) { c.SegmentBytes = 1 << 20 }), DefaultCleanerConfig())
	f.writeKeyed(10, 5, 1)
	if n := f.cleanAll(); n != 0 {
		t.Fatalf("%d cleans of a log with only an active segment", n)
	}
	f.roll()
	f.l.SetHighWatermark(f.l.LogStartOffset() + 3)
	if n := f.cleanAll(); n != 0 {
		t.Fatalf("%d cleans of a segment above the high watermark", n)
	}
	f.l.SetHighWatermark(f.l.LogEndOffset())
	if n := f.cleanAll(); n != 1 {
		t.Fatalf("%d cleans, want 1", n)
	}
}

func TestCleanTombstonesExpireAfterDeleteRetention(t *testing.T) {
	f := newCleanerFixture(t, compactConfig(func(c *Config) { c.DeleteRetentionMs = 3_600_000 }), DefaultCleanerConfig())
	now := f.clk.now().UnixMilli()
	f.append(keyedBatch(t, now, 0, kv{"a", []byte("1")}, kv{"b", []byte("1")}))
	f.append(keyedBatch(t, now+10, 0, kv{"a", nil}, kv{"c", []byte("1")}))
	f.append(keyedBatch(t, now+20, 4, kv{"b", nil}, kv{"d", []byte("1")}))
	f.roll()
	if f.cleanAll() == 0 {
		t.Fatal("not cleaned")
	}
	hs, recs := f.records()
	keys := func(rs []testRecord) string {
		var s []string
		for _, r := range rs {
			v := string(r.Value)
			if r.Value == nil {
				v = "<nil>"
			}
			s = append(s, fmt.Sprintf("%d:%s=%s@%d", r.Offset, r.Key, v, r.TsDelta))
		}
		return strings.Join(s, " ")
	}
	want := fmt.Sprintf("2:a=<nil>@%d 3:c=1@%d 4:b=<nil>@%d 5:d=1@%d", now+10, now+10, now+20, now+20)
	if got := keys(recs); got != want {
		t.Fatalf("after the first clean:\n got %s\nwant %s", got, want)
	}
	for _, h := range hs {
		if hz, ok := h.deleteHorizon(); !ok || hz != now+3_600_000 {
			t.Fatalf("batch %d: delete horizon %d %v, want %d", h.BaseOffset, hz, ok, now+3_600_000)
		}
	}
	f.clk.advance(59 * time.Minute)
	if n := f.cleanAll(); n != 0 {
		t.Fatalf("cleaned %d times before the delete horizon", n)
	}
	f.clk.advance(2 * time.Minute)
	if n := f.cleanAll(); n == 0 {
		t.Fatal("not cleaned once the delete horizon passed")
	}
	_, recs = f.records()
	if got, want := keys(recs), fmt.Sprintf("3:c=1@%d 5:d=1@%d", now+10, now+20); got != want {
		t.Fatalf("after the delete horizon:\n got %s\nwant %s", got, want)
	}
}

func TestCompactedLogRefusesRecordsWithoutKey(t *testing.T) {
	f := newCleanerFixture(t, compactConfig(nil), DefaultCleanerConfig())
	for _, codec := range []int8{0, 4} {
		if _, err := f.l.Append(keyedBatch(t, 1, codec, kv{"a", []byte("1")}, kv{"", []byte("x")}), 0); !errors.Is(err, ErrInvalidRecord) {
			t.Fatalf("codec %d: keyless record accepted: %v", codec, err)
		}
	}
	if f.l.LogEndOffset() != 0 {
		t.Fatal("something was appended")
	}
}

func TestCleanRemovesRecordsWithoutKey(t *testing.T) {
	// Written while the topic was cleanup.policy=delete.
	f := newCleanerFixture(t, compactConfig(func(c *Config) { c.CleanupPolicy = CleanupDelete }), DefaultCleanerConfig())
	f.append(keyedBatch(t, 1, 0, kv{"", []byte("x")}, kv{"a", []byte("1")}))
	if err := f.l.SetConfig(compactConfig(nil)); err != nil {
		t.Fatal(err)
	}
	f.roll()
	f.cleanAll()
	if _, recs := f.records(); len(recs) != 1 || string(recs[0].Key) != "a" || recs[0].Offset != 1 {
		t.Fatalf("%+v", recs)
	}
}

func TestCleanCompactionLags(t *testing.T) {
	f := newCleanerFixture(t, compactConfig(func(c *Config) { c.MinCompactionLagMs = 3_600_000 }), DefaultCleanerConfig())
	f.writeKeyed(10, 3, 2)
	f.roll()
	if n := f.cleanAll(); n != 0 {
		t.Fatalf("cleaned %d times within min.compaction.lag.ms", n)
	}
	f.clk.advance(61 * time.Minute)
	if n := f.cleanAll(); n != 1 {
		t.Fatalf("%d cleans after min.compaction.lag.ms, want 1", n)
	}

	// A little new dirt is below min.cleanable.dirty.ratio until
	// max.compaction.lag.ms has passed for it.
	cfg := compactConfig(func(c *Config) { c.MinCleanableDirtyRatio = 0.9; c.MaxCompactionLagMs = 3_600_000 })
	if err := f.l.SetConfig(cfg); err != nil {
		t.Fatal(err)
	}
	f.writeKeyed(1, 1, 1)
	f.roll()
	if n := f.cleanAll(); n != 0 {
		t.Fatalf("cleaned %d times below the dirty ratio", n)
	}
	f.clk.advance(61 * time.Minute)
	if n := f.cleanAll(); n != 1 {
		t.Fatalf("%d cleans after max.compaction.lag.ms, want 1", n)
	}
}

func TestCleanWithSmallDedupeBufferTakesSeveralPasses(t *testing.T) {
	ccf := DefaultCleanerConfig()
	ccf.DedupeBufferSize = 40 * offsetMapSlot // 40 slots, 36 keys at the 0.9 load factor
	f := newCleanerFixture(t, compactConfig(nil), ccf)
	written := f.writeKeyed(200, 3, 1)
	f.roll()
	n := f.cleanAll()
	if n < 3 {
		t.Fatalf("%d cleans for 200 keys with room for 36", n)
	}
	_, got := f.records()
	checkCompacted(t, got, written, f.activeBase())
	if len(got) != 200 {
		t.Fatalf("%d records left, want 200", len(got))
	}
	if tot := f.c.Totals(); tot.MaxBufferUtilization > 0.9 || tot.Cleans != int64(n) {
		t.Fatalf("totals %+v", tot)
	}
}

func TestCleanBatchLargerThanDedupeBufferMarksLogUncleanable(t *testing.T) {
	ccf := DefaultCleanerConfig()
	ccf.DedupeBufferSize = 4 * offsetMapSlot
	f := newCleanerFixture(t, compactConfig(nil), ccf)
	f.writeKeyed(10, 1, 10)
	f.roll()
	if _, err := f.c.CleanOnce(); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("err %v", err)
	}
	if st := f.c.States(); len(st) != 1 || !strings.Contains(st[0].Uncleanable, "dedupe.buffer.size") || f.c.Totals().UncleanablePartitions != 1 {
		t.Fatalf("states %+v", st)
	}
	if ok, err := f.c.CleanOnce(); ok || err != nil {
		t.Fatalf("an uncleanable log was tried again: %v %v", ok, err)
	}
}

// TestCleanKeepsLastBatchOfProducer: batches emptied by the clean go,
// except each producer's last, kept empty; committed transactional data is
// compacted like any other (transactions: clean_txn_test.go).
func TestCleanKeepsLastBatchOfProducer(t *testing.T) {
	f := newCleanerFixture(t, compactConfig(nil), DefaultCleanerConfig())
	withProducer := func(b []byte, pid int64, attrs int16) []byte {
		setProducer(b, pid, attrs)
		return b
	}
	f.append(withProducer(keyedBatch(t, 1, 0, kv{"a", []byte("1")}), 7, 0))
	f.append(withProducer(keyedBatch(t, 1, 0, kv{"t", []byte("txn")}), 8, attrTransactional))
	f.append(withProducer(keyedBatch(t, 1, 0, kv{"a", []byte("2")}, kv{"t", []byte("plain")}), 9, 0))
	f.roll()
	f.cleanAll()
	hs, recs := f.records()
	if len(hs) != 3 || hs[0].RecordCount != 0 || hs[0].BaseOffset != 0 || hs[0].ProducerID != 7 ||
		hs[1].RecordCount != 0 || hs[1].ProducerID != 8 || !hs[1].Transactional() {
		t.Fatalf("headers %+v", hs)
	}
	if len(recs) != 2 || string(recs[0].Value) != "2" || string(recs[1].Value) != "plain" {
		t.Fatalf("records %+v", recs)
	}
}

// TestCleanCrashAtEveryStep stops a clean at each step of its segment swap
// as a crash would, reopens the log dir, and checks that recovery leaves
// either the old segments (before the commit point) or the new ones, with
// nothing lost and no file of the swap left behind.
func TestCleanCrashAtEveryStep(t *testing.T) {
	scenario := func(f *cleanerFixture) []testRecord {
		w := f.writeKeyed(30, 4, 3, 0, 2)
		f.roll()
		// Larger segments from now on: the clean merges the small ones into
		// one, so a swap replaces several segments.
		if err := f.l.SetConfig(compactConfig(func(c *Config) { c.SegmentBytes = 1 << 20 })); err != nil {
			t.Fatal(err)
		}
		if err := f.m.WriteCheckpoints(); err != nil { // recovery then trusts the old segments
			t.Fatal(err)
		}
		return w
	}
	var steps []string
	ref := newCleanerFixture(t, compactConfig(nil), DefaultCleanerConfig(), WithCleanHook(func(s string) error {
		steps = append(steps, s)
		return nil
	}))
	written := scenario(ref)
	_, before := ref.records()
	ref.cleanAll()
	_, after := ref.records()
	if n := len(slices.DeleteFunc(slices.Clone(steps), func(s string) bool { return s != StepOldRemoved })); n < 3 {
		t.Fatalf("steps %v: want a swap of several segments", steps)
	}
	// The steps of the first two swaps (the first of several segments).
	if i := slices.Index(steps, StepSwapDone); i >= 0 && len(steps) > 2*(i+1) {
		steps = steps[:2*(i+1)]
	}
	errCrash := errors.New("crash")
	committed := false
	for i, step := range steps {
		if step == StepSwapCommitted {
			committed = true
		}
		committed := committed
		t.Run(fmt.Sprintf("%02d-%s", i, step), func(t *testing.T) {
			n := 0
			f := newCleanerFixture(t, compactConfig(nil), DefaultCleanerConfig(), WithCleanHook(func(string) error {
				if n++; n == i+1 {
					return errCrash
				}
				return nil
			}))
			scenario(f)
			for {
				ok, err := f.c.CleanOnce()
				if errors.Is(err, errCrash) {
					break
				}
				if err != nil || !ok {
					t.Fatalf("clean ended without reaching the crash point: %v %v", ok, err)
				}
			}
			f.crash()
			f.opt = nil
			f.open()
			_, got := f.records()
			checkCompacted(t, got, written, -1) // offsets and values preserved, latest values there
			if !committed && len(got) != len(before) {
				t.Fatalf("crash before the first commit point: %d records, %d before the clean", len(got), len(before))
			}
			if committed && len(got) == len(before) {
				t.Fatalf("crash after the commit point: the swap was not completed (%d records)", len(got))
			}
			ents, _ := os.ReadDir(filepath.Join(f.dir, "compacted-0"))
			for _, e := range ents {
				if strings.HasSuffix(e.Name(), cleanedSuffix) || strings.HasSuffix(e.Name(), swapSuffix) || strings.HasSuffix(e.Name(), swapEndSuffix) {
					t.Fatalf("%s left after recovery", e.Name())
				}
			}
			checkIndexFiles(t, filepath.Join(f.dir, "compacted-0"))
			f.cleanAll()
			_, final := f.records()
			if len(final) != len(after) {
				t.Fatalf("after recovery and a new clean: %d records, a clean without crash leaves %d", len(final), len(after))
			}
			checkCompacted(t, final, written, f.activeBase())
		})
	}
}

func TestOffsetMap(t *testing.T) {
	m := newOffsetMap(100*offsetMapSlot, 0.5)
	if m.maxEntries != 50 {
		t.Fatalf("max entries %d", m.maxEntries)
	}
	for i := 0; i < 50; i++ {
		m.put(fmt.Appendf(nil, "k%d", i), int64(i))
		m.put(fmt.Appendf(nil, "k%d", i), int64(i+1000))
	}
	if m.size() != 50 || m.room(1) || m.latest != 1049 {
		t.Fatalf("size %d room %v latest %d", m.size(), m.room(1), m.latest)
	}
	for i := 0; i < 50; i++ {
		if got := m.get(fmt.Appendf(nil, "k%d", i)); got != int64(i+1000) {
			t.Fatalf("k%d: %d", i, got)
		}
	}
	if m.get([]byte("absent")) != -1 {
		t.Fatal("absent key found")
	}
	m.clear()
	if m.size() != 0 || m.get([]byte("k1")) != -1 {
		t.Fatal("not cleared")
	}
}

func TestThrottler(t *testing.T) {
	clk := newClock()
	var slept time.Duration
	th := newThrottler(1000, clk.now, func(d time.Duration) { slept += d; clk.advance(d) })
	for i := 0; i < 10; i++ {
		clk.advance(100 * time.Millisecond)
		th.throttle(1000) // 10,000 bytes/s offered
	}
	// 10,000 bytes at 1,000 bytes/s take 10 s; 1 s passed without sleeping.
	if slept < 8*time.Second || slept > 10*time.Second {
		t.Fatalf("slept %v", slept)
	}
}

// setProducer sets a batch's producer id and extra attribute bits and
// recomputes its CRC.
func setProducer(b []byte, pid int64, attrs int16) {
	be := binary.BigEndian
	be.PutUint64(b[offProducerID:], uint64(pid))
	be.PutUint16(b[offProducerEpoch:], 0)
	be.PutUint32(b[offBaseSequence:], 0)
	be.PutUint16(b[offAttributes:], be.Uint16(b[offAttributes:])|uint16(attrs))
	be.PutUint32(b[offCRC:], crc32.Checksum(b[offAttributes:], crc32c))
}

func TestCleanDroppedWhenSegmentsChangeMeanwhile(t *testing.T) {
	var f *cleanerFixture
	f = newCleanerFixture(t, compactConfig(nil), DefaultCleanerConfig(), WithCleanHook(func(step string) error {
		if step == StepCleanedWritten {
			// Retention or DeleteRecords removes the first segment while
			// the clean is writing its replacement.
			fl := f.l.(*fileLog)
			fl.mu.RLock()
			next := fl.segs[1].base
			fl.mu.RUnlock()
			if _, err := f.l.DeleteRecordsBefore(next); err != nil {
				return err
			}
		}
		return nil
	}))
	f.writeKeyed(30, 3, 3)
	f.roll()
	start := f.l.LogStartOffset()
	_, before := f.records()
	if ok, err := f.c.CleanOnce(); !ok || err != nil {
		t.Fatalf("%v %v", ok, err)
	}
	if f.l.LogStartOffset() == start {
		t.Fatal("the hook did not delete a segment")
	}
	_, got := f.records()
	if want := slices.DeleteFunc(before, func(r testRecord) bool { return r.Offset < f.l.LogStartOffset() }); len(got) != len(want) {
		t.Fatalf("%d records after a dropped clean, want %d", len(got), len(want))
	}
	ents, _ := os.ReadDir(filepath.Join(f.dir, "compacted-0"))
	for _, e := range ents {
		if strings.Contains(e.Name(), cleanedSuffix) || strings.Contains(e.Name(), swapSuffix) {
			t.Fatalf("%s left by a dropped clean", e.Name())
		}
	}
}

// TestCleanerRunsWithAppendsAndReads runs the cleaner's threads while a
// producer appends and a reader reads (run with -race).
func TestCleanerRunsWithAppendsAndReads(t *testing.T) {
	ccf := DefaultCleanerConfig()
	ccf.Threads = 2
	ccf.Backoff = time.Millisecond
	f := newCleanerFixture(t, compactConfig(nil), ccf)
	ctx, cancel := contextWithCancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.c.Run(ctx)
	}()
	var written []testRecord
	for r := 0; r < 20; r++ {
		written = append(written, f.writeKeyed(25, 1, 5)...)
		if err := ScanBatches(f.l, 0, f.l.LogEndOffset(), func(BatchHeader, []byte) error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	// Wait for the threads to have cleaned while the appends went on.
	deadline := time.Now().Add(20 * time.Second)
	for f.c.Totals().Cleans == 0 && time.Now().Before(deadline) {
		runtime.Gosched()
	}
	cancel()
	<-done
	if f.c.Totals().Cleans == 0 {
		t.Fatal("the cleaner threads never cleaned")
	}
	f.roll()
	f.cleanAll()
	_, got := f.records()
	checkCompacted(t, got, written, f.activeBase())
	if len(got) != 25 {
		t.Fatalf("%d records, want 25", len(got))
	}
}

func TestCleanerFilterSkipsLogs(t *testing.T) {
	f := newCleanerFixture(t, compactConfig(nil), DefaultCleanerConfig(),
		WithCleanerFilter(func(tp TopicPartition) bool { return tp.Topic == "compacted" }))
	f.writeKeyed(10, 3, 1)
	f.roll()
	if n := f.cleanAll(); n != 0 || len(f.c.States()) != 0 {
		t.Fatalf("a filtered log was cleaned %d times", n)
	}
}
