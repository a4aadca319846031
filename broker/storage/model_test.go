package storage

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"testing"
)

// TestFileLogMatchesMemoryModel drives the file log and the memory log
// with the same random operations (appends, truncation, DeleteRecords,
// clean reopen, crash reopen) and compares everything they answer.
func TestFileLogMatchesMemoryModel(t *testing.T) {
	for seed := uint64(1); seed <= 6; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 77))
			clk := newClock()
			cfg := testConfig(func(c *Config) {
				c.SegmentBytes = int64(300 + rng.IntN(2000))
				c.IndexIntervalBytes = int32(rng.IntN(400))
				c.SegmentMs = int64(100 + rng.IntN(2000)) // batch timestamps rise 20 per op
				c.RetentionMs = int64(200 + rng.IntN(3000))
				if rng.IntN(2) == 0 {
					c.RetentionBytes = int64(rng.IntN(5000))
				}
			})
			dir := t.TempDir() + "/model-0"
			open := func(rp int64) *fileLog {
				l, err := openFileLog(dir, cfg, logState{recoveryPoint: rp, logStart: -1, hw: -1}, slog.New(slog.DiscardHandler), clk.now)
				if err != nil {
					t.Fatal(err)
				}
				return l
			}
			file := open(-1)
			defer func() { file.Close() }()
			model := NewMemoryLog(cfg).(*memoryLog)
			model.now = clk.now
			epoch := int32(0)
			// On open, as in Kafka, epochs starting at the log end (no
			// batch of theirs left) are dropped; the model does the same.
			reopened := func() { model.epochs.truncateFromEnd(model.end) }
			for op := 0; op < 250; op++ {
				switch k := rng.IntN(24); {
				case k >= 20 && k < 22: // follower append, as replicated from a leader
					b := makeBatch(t, batchOpts{firstTs: int64(op * 20), records: []testRecord{{Value: []byte("f")}, {TsDelta: 7}}})
					setBaseOffset(b, model.LogEndOffset())
					setLeaderEpoch(b, epoch)
					i1, e1 := file.AppendAsFollower(bytes.Clone(b))
					i2, e2 := model.AppendAsFollower(bytes.Clone(b))
					i1.Rolled = false // the model has no segments
					if e1 != nil || e2 != nil || i1 != i2 {
						t.Fatalf("op %d follower append: file %+v %v, model %+v %v", op, i1, e1, i2, e2)
					}
				case k >= 22: // retention on the file log; the model follows its start
					file.SetHighWatermark(file.LogEndOffset())
					model.SetHighWatermark(model.LogEndOffset())
					if _, err := file.DeleteExpired(int64(op*20) + rng.Int64N(3000)); err != nil {
						t.Fatal(err)
					}
					if _, err := model.DeleteRecordsBefore(file.LogStartOffset()); err != nil {
						t.Fatalf("op %d: retention moved the start to %d: %v", op, file.LogStartOffset(), err)
					}
				case k < 13: // append
					n := 1 + rng.IntN(4)
					recs := make([]testRecord, n)
					for i := range recs {
						recs[i] = testRecord{TsDelta: rng.Int64N(50), Value: make([]byte, rng.IntN(120))}
					}
					b := makeBatch(t, batchOpts{firstTs: int64(op * 20), records: recs, codec: int8(rng.IntN(2) * 4)})
					if rng.IntN(10) == 0 {
						epoch++
					}
					i1, e1 := file.Append(bytes.Clone(b), epoch)
					i2, e2 := model.Append(bytes.Clone(b), epoch)
					i1.Rolled = false // the model has no segments
					if (e1 == nil) != (e2 == nil) || i1 != i2 {
						t.Fatalf("op %d append: file %+v %v, model %+v %v", op, i1, e1, i2, e2)
					}
				case k < 15: // truncate
					to := model.LogStartOffset() - 2 + rng.Int64N(model.LogEndOffset()-model.LogStartOffset()+4)
					e1, e2 := file.TruncateTo(to), model.TruncateTo(to)
					if to < 0 && (!errors.Is(e1, ErrOffsetOutOfRange) || !errors.Is(e2, ErrOffsetOutOfRange)) || to >= 0 && (e1 != nil || e2 != nil) {
						t.Fatalf("op %d truncate to %d: %v %v", op, to, e1, e2)
					}
				case k < 17: // delete records up to the end
					file.SetHighWatermark(file.LogEndOffset())
					model.SetHighWatermark(model.LogEndOffset())
					to := model.LogStartOffset() + rng.Int64N(model.LogEndOffset()-model.LogStartOffset()+1)
					s1, e1 := file.DeleteRecordsBefore(to)
					s2, e2 := model.DeleteRecordsBefore(to)
					if s1 != s2 || e1 != nil || e2 != nil {
						t.Fatalf("op %d delete before %d: %d %v / %d %v", op, to, s1, e1, s2, e2)
					}
				case k < 18: // clean reopen
					file.mu.RLock()
					start, hw := file.start, file.hw
					file.mu.RUnlock()
					if err := file.Close(); err != nil {
						t.Fatal(err)
					}
					rp := model.LogEndOffset()
					file, _ = openFileLog(dir, cfg, logState{recoveryPoint: rp, logStart: start, hw: hw}, slog.New(slog.DiscardHandler), clk.now)
					reopened()
				default: // crash: no flush, no final index entries, unknown recovery point
					file.mu.RLock()
					start := file.start
					file.mu.RUnlock()
					file.closeForDelete()
					var err error
					file, err = openFileLog(dir, cfg, logState{recoveryPoint: -1, logStart: start, hw: -1}, slog.New(slog.DiscardHandler), clk.now)
					if err != nil {
						t.Fatal(err)
					}
					reopened()
				}
				compareLogs(t, op, file, model, rng)
			}
		})
	}
}

func compareLogs(t *testing.T, op int, file, model Log, rng *rand.Rand) {
	t.Helper()
	if file.LogStartOffset() != model.LogStartOffset() || file.LogEndOffset() != model.LogEndOffset() {
		t.Fatalf("op %d: file [%d,%d) model [%d,%d)", op, file.LogStartOffset(), file.LogEndOffset(), model.LogStartOffset(), model.LogEndOffset())
	}
	if !bytes.Equal(readAll(t, file), readAll(t, model)) {
		t.Fatalf("op %d: contents differ", op)
	}
	start, end := model.LogStartOffset(), model.LogEndOffset()
	for i := 0; i < 5; i++ {
		off := start + rng.Int64N(end-start+1)
		maxBytes := int32(rng.IntN(1500))
		maxOff := off + rng.Int64N(end-off+2)
		minOne := rng.IntN(2) == 0
		r1, e1 := file.Read(off, maxBytes, maxOff, minOne)
		r2, e2 := model.Read(off, maxBytes, maxOff, minOne)
		if e1 != nil || e2 != nil {
			t.Fatalf("op %d read(%d,%d,%d,%v): %v %v", op, off, maxBytes, maxOff, minOne, e1, e2)
		}
		b1, _ := r1.AppendTo(nil)
		b2, _ := r2.AppendTo(nil)
		r1.Close()
		// The file log reads from one segment only: a prefix of the
		// model's answer, never empty when the model's is not.
		if !bytes.HasPrefix(b2, b1) || (len(b1) == 0) != (len(b2) == 0) || r1.FirstOffset() != r2.FirstOffset() {
			t.Fatalf("op %d read(%d,%d,%d,%v): file %d bytes from %d, model %d bytes from %d", op, off, maxBytes, maxOff, minOne, len(b1), r1.FirstOffset(), len(b2), r2.FirstOffset())
		}
		ts := rng.Int64N(int64(op+2) * 20)
		o1, t1, ok1, e1 := file.OffsetForTimestamp(ts)
		o2, t2, ok2, e2 := model.OffsetForTimestamp(ts)
		if o1 != o2 || t1 != t2 || ok1 != ok2 || e1 != nil || e2 != nil {
			t.Fatalf("op %d OffsetForTimestamp(%d): file %d %d %v %v, model %d %d %v %v", op, ts, o1, t1, ok1, e1, o2, t2, ok2, e2)
		}
		// An empty log's epoch history may legitimately differ: after a
		// crash the file log rebuilds it from batches still on disk below
		// the log start.
		ep := int32(rng.IntN(30))
		if a1, b1 := file.EndOffsetForEpoch(ep); start < end {
			if a2, b2 := model.EndOffsetForEpoch(ep); a1 != a2 || b1 != b2 {
				t.Fatalf("op %d EndOffsetForEpoch(%d): file %d %d, model %d %d", op, ep, a1, b1, a2, b2)
			}
		}
	}
	m1, o1, ok1, _ := file.MaxTimestamp()
	m2, o2, ok2, _ := model.MaxTimestamp()
	if m1 != m2 || o1 != o2 || ok1 != ok2 {
		t.Fatalf("op %d MaxTimestamp: file %d@%d %v, model %d@%d %v", op, m1, o1, ok1, m2, o2, ok2)
	}
}
