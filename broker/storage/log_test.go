package storage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestAppendReadRoundTrip(t *testing.T) {
	for _, kind := range logKinds {
		for _, codec := range []int8{0, 1, 2, 3, 4} {
			t.Run(fmt.Sprintf("%s/codec%d", kind.name, codec), func(t *testing.T) {
				clk := newClock()
				l := kind.make(t, testConfig(nil), clk)
				var want []testRecord
				var sent [][]byte
				for b := 0; b < 5; b++ {
					var recs []testRecord
					for i := 0; i < 3+b; i++ {
						r := testRecord{TsDelta: int64(i * 10), Key: fmt.Appendf(nil, "k%d-%d", b, i),
							Value:   bytes.Repeat(fmt.Appendf(nil, "v%d-%d;", b, i), 20),
							Headers: []kmsg.Header{{Key: "h", Value: []byte{byte(b), byte(i)}}}}
						recs = append(recs, r)
					}
					batch := makeBatch(t, batchOpts{firstTs: 1000 * int64(b), records: recs, codec: codec})
					sent = append(sent, append([]byte(nil), batch[BatchHeaderSize:]...))
					next := l.LogEndOffset()
					info, err := l.Append(batch, 7)
					if err != nil {
						t.Fatal(err)
					}
					if info.FirstOffset != next || info.LastOffset != next+int64(len(recs))-1 || info.RecordCount != int64(len(recs)) {
						t.Fatalf("append info %+v after end %d with %d records", info, next, len(recs))
					}
					if info.MaxTimestamp != 1000*int64(b)+int64(10*(len(recs)-1)) || info.LogAppendTime != -1 {
						t.Fatalf("append info timestamps %+v", info)
					}
					for i, r := range recs {
						r.Offset = next + int64(i)
						r.TsDelta += 1000 * int64(b)
						want = append(want, r)
					}
				}
				hs, got := decodeBatches(t, readAll(t, l))
				if len(hs) != 5 {
					t.Fatalf("%d batches read, want 5", len(hs))
				}
				for i, h := range hs {
					if h.PartitionLeaderEpoch != 7 || h.Compression() != codec {
						t.Fatalf("batch %d: epoch %d codec %d", i, h.PartitionLeaderEpoch, h.Compression())
					}
				}
				if len(got) != len(want) {
					t.Fatalf("%d records read, want %d", len(got), len(want))
				}
				for i := range want {
					g, w := got[i], want[i]
					if g.Offset != w.Offset || g.TsDelta != w.TsDelta || !bytes.Equal(g.Key, w.Key) || !bytes.Equal(g.Value, w.Value) ||
						len(g.Headers) != 1 || g.Headers[0].Key != "h" || !bytes.Equal(g.Headers[0].Value, w.Headers[0].Value) {
						t.Fatalf("record %d: got %+v want %+v", i, g, w)
					}
				}
				// Compressed payloads are stored byte for byte as sent.
				all := readAll(t, l)
				for i, h := range hs {
					_ = h
					if !bytes.Contains(all, sent[i]) {
						t.Fatalf("batch %d payload was changed", i)
					}
				}
			})
		}
	}
}

// recrc fixes the CRC after a test edits covered bytes.
func recrc(b []byte) []byte {
	binary.BigEndian.PutUint32(b[offCRC:], crc32.Checksum(b[offAttributes:], crc32c))
	return b
}

func TestAppendRejects(t *testing.T) {
	cases := []struct {
		name string
		mod  func(b []byte) []byte
		want error
		code int16
	}{
		{"bad crc", func(b []byte) []byte { b[len(b)-1] ^= 1; return b }, ErrCorruptMessage, 2},
		{"magic 1", func(b []byte) []byte { b[offMagic] = 1; return b }, ErrUnsupportedForMessageFormat, 43},
		{"length past end", func(b []byte) []byte { binary.BigEndian.PutUint32(b[offBatchLength:], uint32(len(b))); return b }, ErrCorruptMessage, 2},
		{"length below header", func(b []byte) []byte { binary.BigEndian.PutUint32(b[offBatchLength:], 10); return b }, ErrCorruptMessage, 2},
		{"truncated", func(b []byte) []byte { return b[:len(b)-3] }, ErrCorruptMessage, 2},
		{"trailing garbage", func(b []byte) []byte { return append(b, 1, 2, 3) }, ErrCorruptMessage, 2},
		{"count mismatch", func(b []byte) []byte { binary.BigEndian.PutUint32(b[offRecordCount:], 9); return recrc(b) }, ErrInvalidRecord, 87},
		{"unknown codec", func(b []byte) []byte { b[offAttributes+1] |= 7; return recrc(b) }, ErrCorruptMessage, 2},
		{"too large", func(b []byte) []byte { return simpleBatch(t, 0, 4, 400, "big") }, ErrRecordTooLarge, 10},
		{"empty", func(b []byte) []byte { return nil }, ErrInvalidRecord, 87},
		{"second batch bad", func(b []byte) []byte {
			c := append([]byte(nil), b...)
			c[len(c)-1] ^= 1
			return append(b, c...)
		}, ErrCorruptMessage, 2},
	}
	for _, kind := range logKinds {
		for _, tc := range cases {
			t.Run(kind.name+"/"+tc.name, func(t *testing.T) {
				l := kind.make(t, testConfig(func(c *Config) { c.MaxMessageBytes = 1000 }), newClock())
				if _, err := l.Append(simpleBatch(t, 0, 2, 10, "ok"), 0); err != nil {
					t.Fatal(err)
				}
				_, err := l.Append(tc.mod(simpleBatch(t, 0, 2, 10, "x")), 0)
				if !errors.Is(err, tc.want) {
					t.Fatalf("got %v, want %v", err, tc.want)
				}
				if c := KafkaErrorCode(err); c != tc.code {
					t.Fatalf("code %d, want %d", c, tc.code)
				}
				if l.LogEndOffset() != 2 || l.Size() != int64(len(simpleBatch(t, 0, 2, 10, "ok"))) {
					t.Fatalf("failed append changed the log: end %d size %d", l.LogEndOffset(), l.Size())
				}
			})
		}
	}
}

func TestLogAppendTime(t *testing.T) {
	for _, kind := range logKinds {
		t.Run(kind.name, func(t *testing.T) {
			clk := newClock()
			l := kind.make(t, testConfig(func(c *Config) { c.MessageTimestampType = LogAppendTime }), clk)
			info, err := l.Append(simpleBatch(t, 5, 3, 10, "lat"), 2)
			if err != nil {
				t.Fatal(err)
			}
			now := clk.now().UnixMilli()
			if info.LogAppendTime != now || info.MaxTimestamp != now || info.OffsetOfMaxTimestamp != 2 {
				t.Fatalf("info %+v, now %d", info, now)
			}
			hs, _ := decodeBatches(t, readAll(t, l)) // checks the recomputed CRC
			if !hs[0].LogAppendTime() || hs[0].MaxTimestamp != now || hs[0].FirstTimestamp != 5 {
				t.Fatalf("header %+v", hs[0])
			}
			off, ts, ok, err := l.OffsetForTimestamp(now)
			if err != nil || !ok || off != 0 || ts != now {
				t.Fatalf("OffsetForTimestamp = %d %d %v %v", off, ts, ok, err)
			}
		})
	}
}

func TestReadLimits(t *testing.T) {
	for _, kind := range logKinds {
		t.Run(kind.name, func(t *testing.T) {
			l := kind.make(t, testConfig(nil), newClock())
			// Batches: offsets 0-4 (small), 5-9 (big), 10-14 (small).
			sizes := []int{10, 500, 10}
			var bsz []int
			for i, s := range sizes {
				b := simpleBatch(t, 0, 5, s, fmt.Sprint(i))
				bsz = append(bsz, len(b))
				if _, err := l.Append(b, 0); err != nil {
					t.Fatal(err)
				}
			}
			cases := []struct {
				off       int64
				maxBytes  int32
				maxOffset int64
				minOne    bool
				wantFirst int64
				wantLen   int
			}{
				{0, 1 << 20, 15, true, 0, bsz[0] + bsz[1] + bsz[2]},
				{3, 1 << 20, 15, true, 0, bsz[0] + bsz[1] + bsz[2]}, // mid-batch: whole batch
				{0, int32(bsz[0]), 15, true, 0, bsz[0]},
				{0, int32(bsz[0] + bsz[1] - 1), 15, true, 0, bsz[0]},
				{5, 10, 15, true, 5, bsz[1]},               // KIP-74: one batch larger than maxBytes
				{5, 10, 15, false, -1, 0},                  // ... unless minOneMessage is false
				{0, 1 << 20, 10, true, 0, bsz[0] + bsz[1]}, // maxOffset excludes the last batch
				{0, 1 << 20, 9, true, 0, bsz[0]},           // a batch reaching maxOffset is excluded
				{0, 1 << 20, 4, true, -1, 0},
				{15, 1 << 20, 15, true, -1, 0}, // at the end
			}
			for _, c := range cases {
				r, err := l.Read(c.off, c.maxBytes, c.maxOffset, c.minOne)
				if err != nil {
					t.Fatalf("%+v: %v", c, err)
				}
				if r.Len() != c.wantLen || r.FirstOffset() != c.wantFirst {
					t.Fatalf("%+v: got len %d first %d", c, r.Len(), r.FirstOffset())
				}
				b, err := r.AppendTo(nil)
				if err != nil || len(b) != c.wantLen {
					t.Fatalf("%+v: AppendTo %d bytes, %v", c, len(b), err)
				}
				var buf bytes.Buffer
				if n, err := r.WriteTo(&buf); err != nil || n != int64(c.wantLen) || !bytes.Equal(buf.Bytes(), b) {
					t.Fatalf("%+v: WriteTo %d, %v", c, n, err)
				}
				r.Close()
			}
			for _, off := range []int64{-1, 16} {
				if _, err := l.Read(off, 100, 100, true); !errors.Is(err, ErrOffsetOutOfRange) || KafkaErrorCode(err) != 1 {
					t.Fatalf("read at %d: %v", off, err)
				}
			}
		})
	}
}

func TestOffsetForTimestamp(t *testing.T) {
	for _, kind := range logKinds {
		for _, codec := range []int8{0, 3} {
			t.Run(fmt.Sprintf("%s/codec%d", kind.name, codec), func(t *testing.T) {
				l := kind.make(t, testConfig(func(c *Config) { c.IndexIntervalBytes = 50; c.SegmentBytes = 600 }), newClock())
				type pt struct{ off, ts int64 }
				var all []pt
				// Timestamps rise overall but not monotonically inside batches.
				for b := int64(0); b < 30; b++ {
					deltas := []int64{5, 0, 9, 3}
					var recs []testRecord
					for _, d := range deltas {
						recs = append(recs, testRecord{TsDelta: d, Value: []byte("v")})
					}
					info, err := l.Append(makeBatch(t, batchOpts{firstTs: 100 + b*10, records: recs, codec: codec}), 0)
					if err != nil {
						t.Fatal(err)
					}
					for i, d := range deltas {
						all = append(all, pt{info.FirstOffset + int64(i), 100 + b*10 + d})
					}
				}
				for ts := int64(0); ts <= 420; ts += 3 {
					wantOff, wantTs, wantOK := int64(0), int64(0), false
					for _, p := range all {
						if p.ts >= ts {
							wantOff, wantTs, wantOK = p.off, p.ts, true
							break
						}
					}
					off, gotTs, ok, err := l.OffsetForTimestamp(ts)
					if err != nil || ok != wantOK || off != wantOff || gotTs != wantTs {
						t.Fatalf("ts %d: got (%d,%d,%v,%v) want (%d,%d,%v)", ts, off, gotTs, ok, err, wantOff, wantTs, wantOK)
					}
				}
			})
		}
	}
}

func TestDeleteRecordsBefore(t *testing.T) {
	for _, kind := range logKinds {
		t.Run(kind.name, func(t *testing.T) {
			l := kind.make(t, testConfig(func(c *Config) { c.SegmentBytes = 300 }), newClock())
			for i := 0; i < 20; i++ {
				if _, err := l.Append(simpleBatch(t, int64(i), 2, 50, "d"), 0); err != nil {
					t.Fatal(err)
				}
			}
			size := l.Size()
			l.SetHighWatermark(30)
			if _, err := l.DeleteRecordsBefore(31); !errors.Is(err, ErrOffsetOutOfRange) {
				t.Fatalf("delete past the high watermark: %v", err)
			}
			start, err := l.DeleteRecordsBefore(25)
			if err != nil || start != 25 || l.LogStartOffset() != 25 {
				t.Fatalf("start %d err %v", start, err)
			}
			if l.Size() >= size {
				t.Fatalf("size %d did not shrink from %d", l.Size(), size)
			}
			if _, err := l.Read(24, 100, 40, true); !errors.Is(err, ErrOffsetOutOfRange) {
				t.Fatalf("read below start: %v", err)
			}
			r, err := l.Read(25, 1000, 40, true)
			if err != nil || r.FirstOffset() != 24 {
				t.Fatalf("read at new start: first %d, %v", r.FirstOffset(), err)
			}
			r.Close()
			if s, _ := l.DeleteRecordsBefore(10); s != 25 {
				t.Fatalf("start moved back to %d", s)
			}
		})
	}
}

func TestTruncateTo(t *testing.T) {
	for _, kind := range logKinds {
		t.Run(kind.name, func(t *testing.T) {
			l := kind.make(t, testConfig(func(c *Config) { c.SegmentBytes = 400; c.IndexIntervalBytes = 1 }), newClock())
			for i := 0; i < 12; i++ {
				if _, err := l.Append(simpleBatch(t, int64(i), 3, 40, "t"), int32(i/4)); err != nil {
					t.Fatal(err)
				}
			}
			l.SetHighWatermark(36)
			if e, off := l.EndOffsetForEpoch(1); e != 1 || off != 24 {
				t.Fatalf("EndOffsetForEpoch(1) = %d, %d", e, off)
			}
			if err := l.TruncateTo(20); err != nil { // inside batch 18-20: the whole batch goes
				t.Fatal(err)
			}
			if l.LogEndOffset() != 18 || l.HighWatermark() != 18 || l.LatestEpoch() != 1 {
				t.Fatalf("end %d hw %d epoch %d", l.LogEndOffset(), l.HighWatermark(), l.LatestEpoch())
			}
			if e, off := l.EndOffsetForEpoch(2); e != -1 || off != -1 {
				t.Fatalf("epoch 2 survived truncation: %d %d", e, off)
			}
			info, err := l.Append(simpleBatch(t, 100, 2, 40, "after"), 5)
			if err != nil || info.FirstOffset != 18 {
				t.Fatalf("append after truncate: %+v %v", info, err)
			}
			_, recs := decodeBatches(t, readAll(t, l))
			for i, r := range recs {
				if r.Offset != int64(i) {
					t.Fatalf("record %d has offset %d", i, r.Offset)
				}
			}
			if len(recs) != 20 || string(recs[19].Key) != "after-1" {
				t.Fatalf("%d records, last %q", len(recs), recs[len(recs)-1].Key)
			}
			if err := l.TruncateTo(1000); err != nil || l.LogEndOffset() != 20 {
				t.Fatalf("truncate past end: %v, end %d", err, l.LogEndOffset())
			}
			if err := l.TruncateFullyAndStartAt(50); err != nil {
				t.Fatal(err)
			}
			if l.LogStartOffset() != 50 || l.LogEndOffset() != 50 || l.Size() != 0 || l.LatestEpoch() != -1 {
				t.Fatalf("after full truncation: [%d,%d) size %d", l.LogStartOffset(), l.LogEndOffset(), l.Size())
			}
			if info, err := l.Append(simpleBatch(t, 0, 1, 1, "z"), 6); err != nil || info.FirstOffset != 50 {
				t.Fatalf("%+v %v", info, err)
			}
		})
	}
}

func TestAppendAsFollower(t *testing.T) {
	for _, kind := range logKinds {
		t.Run(kind.name, func(t *testing.T) {
			leader := kind.make(t, testConfig(nil), newClock())
			follower := kind.make(t, testConfig(nil), newClock())
			for i := 0; i < 4; i++ {
				if _, err := leader.Append(simpleBatch(t, int64(i), 2, 5, "f"), int32(3+i/2)); err != nil {
					t.Fatal(err)
				}
			}
			data := readAll(t, leader)
			hs, _ := ParseBatchHeaders(data)
			first := data[:hs[0].Size()]
			if _, err := follower.AppendAsFollower(append([]byte(nil), first...)); err != nil {
				t.Fatal(err)
			}
			if _, err := follower.AppendAsFollower(append([]byte(nil), first...)); !errors.Is(err, ErrOffsetNotContiguous) {
				t.Fatalf("batch below the log end accepted: %v", err)
			}
			info, err := follower.AppendAsFollower(append([]byte(nil), data[hs[0].Size():]...))
			if err != nil || info.FirstOffset != 2 || info.LastOffset != 7 {
				t.Fatalf("%+v %v", info, err)
			}
			if !bytes.Equal(readAll(t, follower), data) {
				t.Fatal("follower bytes differ from the leader's")
			}
			if follower.LatestEpoch() != 4 {
				t.Fatalf("follower epoch %d", follower.LatestEpoch())
			}
			if e, off := follower.EndOffsetForEpoch(3); e != 3 || off != 4 {
				t.Fatalf("EndOffsetForEpoch(3) = %d %d", e, off)
			}
		})
	}
}

func TestEpochCache(t *testing.T) {
	var c epochCache
	for _, e := range []epochEntry{{2, 0}, {4, 10}, {4, 12}, {3, 15}, {7, 20}} {
		c.assign(e.Epoch, e.StartOffset)
	}
	cases := []struct {
		req   int32
		epoch int32
		end   int64
	}{
		{-1, -1, -1}, {1, 1, 0}, {2, 2, 10}, {3, 2, 10}, {4, 4, 20}, {6, 4, 20}, {7, 7, 30}, {8, -1, -1},
	}
	for _, tc := range cases {
		e, end := c.endOffsetFor(tc.req, 30)
		if e != tc.epoch || end != tc.end {
			t.Errorf("endOffsetFor(%d) = %d, %d; want %d, %d", tc.req, e, end, tc.epoch, tc.end)
		}
	}
	c.truncateFromStart(12)
	if c.entries[0] != (epochEntry{4, 12}) {
		t.Fatalf("after truncateFromStart: %v", c.entries)
	}
	c.truncateFromEnd(20)
	if c.latest() != 4 {
		t.Fatalf("after truncateFromEnd: %v", c.entries)
	}
}

func TestConfigOverrides(t *testing.T) {
	c, err := DefaultConfig().WithOverrides(map[string]string{"segment.bytes": "1024", "cleanup.policy": "delete, compact", "message.timestamp.type": "LogAppendTime"})
	if err != nil || c.SegmentBytes != 1024 || c.CleanupPolicy != CleanupCompactDelete || c.MessageTimestampType != LogAppendTime {
		t.Fatalf("%+v %v", c, err)
	}
	if c.Entries()["segment.bytes"] != "1024" || len(c.Entries()) != len(ConfigKeys) {
		t.Fatalf("entries %v", c.Entries())
	}
	for _, bad := range []map[string]string{{"segment.bytes": "10"}, {"nope": "1"}, {"retention.ms": "x"}, {"cleanup.policy": "keep"}, {"message.timestamp.type": "Now"}} {
		if _, err := DefaultConfig().WithOverrides(bad); !errors.Is(err, ErrInvalidConfig) || KafkaErrorCode(err) != 40 {
			t.Errorf("%v accepted: %v", bad, err)
		}
	}
}

func TestMaxTimestampAndScanBatches(t *testing.T) {
	for _, kind := range logKinds {
		t.Run(kind.name, func(t *testing.T) {
			l := kind.make(t, testConfig(func(c *Config) { c.SegmentBytes = 400 }), newClock())
			if _, _, ok, err := l.MaxTimestamp(); ok || err != nil {
				t.Fatalf("empty log: %v %v", ok, err)
			}
			// The largest timestamp (990) is record 2 of the batch at 12.
			for i := int64(0); i < 10; i++ {
				recs := []testRecord{{TsDelta: 0}, {TsDelta: 5}, {TsDelta: 1}}
				first := i * 10
				if i == 4 {
					recs[2].TsDelta = 990 - first
				}
				if _, err := l.Append(makeBatch(t, batchOpts{firstTs: first, records: recs, codec: 2}), 0); err != nil {
					t.Fatal(err)
				}
			}
			ts, off, ok, err := l.MaxTimestamp()
			if err != nil || !ok || ts != 990 || off != 14 {
				t.Fatalf("MaxTimestamp = %d at %d (%v, %v), want 990 at 14", ts, off, ok, err)
			}
			var seen []int64
			err = ScanBatches(l, 4, 25, func(h BatchHeader, b []byte) error {
				if len(b) != h.Size() {
					t.Fatalf("batch of %d bytes, header says %d", len(b), h.Size())
				}
				seen = append(seen, h.BaseOffset)
				return nil
			})
			if err != nil || fmt.Sprint(seen) != "[3 6 9 12 15 18 21]" {
				t.Fatalf("ScanBatches visited %v, %v", seen, err)
			}
			stop := errors.New("stop")
			if err := ScanBatches(l, 0, 100, func(BatchHeader, []byte) error { return stop }); err != stop {
				t.Fatalf("fn's error not returned: %v", err)
			}
		})
	}
}
