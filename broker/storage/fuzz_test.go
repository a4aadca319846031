package storage

import (
	"bytes"
	"hash/crc32"
	"log/slog"
	"os"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// FuzzParseBatches checks that batch parsing and producer validation never
// panic, that what they accept is exactly a run of CRC-valid batches that
// franz-go decodes to the same header, and that offset assignment yields
// contiguous offsets with valid CRCs.
func FuzzParseBatches(f *testing.F) {
	one := simpleBatch(f, 1000, 3, 20, "f")
	f.Add(one)
	f.Add(append(append([]byte(nil), one...), one...))
	f.Add(makeBatch(f, batchOpts{firstTs: 5, records: []testRecord{{Value: []byte("zz")}}, codec: 4}))
	f.Add(makeBatch(f, batchOpts{firstTs: 5, records: []testRecord{{Value: []byte("gz")}, {TsDelta: 3}}, codec: 1}))
	f.Add(one[:30])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		hs, err := ParseBatchHeaders(b)
		if err != nil {
			return
		}
		total := 0
		for _, h := range hs {
			batch := b[total : total+h.Size()]
			if crc32.Checksum(batch[offAttributes:], crc32c) != h.CRC || h.Magic != 2 {
				t.Fatalf("accepted a batch with a bad CRC or magic: %+v", h)
			}
			var rb kmsg.RecordBatch
			if err := rb.ReadFrom(batch); err != nil {
				t.Fatalf("franz-go cannot read an accepted batch: %v", err)
			}
			if rb.FirstOffset != h.BaseOffset || rb.NumRecords != h.RecordCount || rb.MaxTimestamp != h.MaxTimestamp ||
				rb.ProducerID != h.ProducerID || rb.FirstSequence != h.BaseSequence || int(rb.Length) != int(h.BatchLength) {
				t.Fatalf("header %+v differs from franz-go's %+v", h, rb)
			}
			total += h.Size()
			// Must not panic on whatever the records are.
			_, _, _, _ = findRecordByTimestamp(batch, h, h.MaxTimestamp)
		}
		if total != len(b) {
			t.Fatalf("batches cover %d of %d bytes", total, len(b))
		}
		c := bytes.Clone(b)
		p, err := prepareAppend(c, 100, 3, DefaultConfig(), 42)
		if err != nil {
			return
		}
		hs2, err := ParseBatchHeaders(c)
		if err != nil {
			t.Fatalf("stamped batches do not parse: %v", err)
		}
		next := int64(100)
		for _, h := range hs2 {
			if h.BaseOffset != next || h.PartitionLeaderEpoch != 3 {
				t.Fatalf("offset %d epoch %d, want %d 3", h.BaseOffset, h.PartitionLeaderEpoch, next)
			}
			next = h.LastOffset() + 1
		}
		if p.info.LastOffset != next-1 {
			t.Fatalf("info last %d, want %d", p.info.LastOffset, next-1)
		}
	})
}

// FuzzRecoverSegment opens a log whose only segment holds arbitrary bytes:
// recovery must never panic, must keep exactly a valid prefix, and the log
// must then read back and take appends.
func FuzzRecoverSegment(f *testing.F) {
	var seg []byte
	for i := 0; i < 3; i++ {
		b := simpleBatch(f, int64(i), 2, 10, "s")
		setBaseOffset(b, int64(i*2))
		seg = append(seg, b...)
	}
	f.Add(seg)
	f.Add(seg[:len(seg)-7])
	f.Add(append(bytes.Clone(seg), 0, 0, 0, 0, 0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir() + "/f-0"
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dir+"/"+segmentFileName(0, logSuffix), data, 0o644); err != nil {
			t.Fatal(err)
		}
		l, err := openFileLog(dir, DefaultConfig(), logState{-1, -1, -1}, slog.New(slog.DiscardHandler), newClock().now)
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		got := readAll(t, l)
		if !bytes.HasPrefix(data, got) {
			t.Fatal("recovered bytes are not a prefix of the segment")
		}
		end := l.LogEndOffset()
		if info, err := l.Append(simpleBatch(t, 0, 1, 1, "a"), 0); err != nil || info.FirstOffset != end {
			t.Fatalf("append after recovery: %+v %v", info, err)
		}
	})
}
