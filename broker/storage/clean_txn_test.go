package storage

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/osprey-kafka/osprey/broker/txn"
)

// txnData is a transactional data batch of producer pid.
func txnData(t *testing.T, ts int64, pid int64, kvs ...kv) []byte {
	b := keyedBatch(t, ts, 0, kvs...)
	setProducer(b, pid, attrTransactional)
	return b
}

// txnMarker is producer pid's commit or abort marker (a control batch).
func txnMarker(t *testing.T, ts int64, pid int64, commit bool) []byte {
	b := makeBatch(t, batchOpts{firstTs: ts, records: []testRecord{{Key: txn.MarkerKey(commit), Value: txn.MarkerValue(0)}}})
	setProducer(b, pid, attrTransactional|attrControl)
	return b
}

// batchAt returns the header of the batch whose base offset is off.
func batchAt(hs []BatchHeader, off int64) (BatchHeader, bool) {
	for _, h := range hs {
		if h.BaseOffset == off {
			return h, true
		}
	}
	return BatchHeader{}, false
}

// values maps each key to the values the log holds for it, in order.
func values(recs []testRecord) map[string][]string {
	out := map[string][]string{}
	for _, r := range recs {
		if _, ok := txn.ParseMarkerKey(r.Key); ok && len(r.Key) == 4 {
			continue
		}
		out[string(r.Key)] = append(out[string(r.Key)], string(r.Value))
	}
	return out
}

// TestCleanTransactionalData follows Kafka's cleaner through three cleans:
// aborted data is removed and never shadows a committed value, committed
// transactional data is compacted like any other, the abort marker stays
// (with its .txnindex entry) while its data was still there, then gets a
// delete horizon, and goes after it; a commit marker stays while its
// transaction's data does.
func TestCleanTransactionalData(t *testing.T) {
	const retention = 60_000
	f := newCleanerFixture(t, compactConfig(func(c *Config) { c.DeleteRetentionMs = retention }), DefaultCleanerConfig())
	ts := f.clk.now().UnixMilli()
	f.append(keyedBatch(t, ts, 0, kv{"k1", []byte("v0")}))                              // 0
	f.append(txnData(t, ts, 10, kv{"k1", []byte("committed")}, kv{"k2", []byte("c2")})) // 1-2
	f.append(txnMarker(t, ts, 10, true))                                                // 3
	f.append(txnData(t, ts, 11, kv{"k1", []byte("aborted")}, kv{"k3", []byte("a3")}))   // 4-5
	f.append(txnMarker(t, ts, 11, false))                                               // 6
	abort := txn.AbortedTxn{ProducerID: 11, FirstOffset: 4, LastOffset: 6, LastStableOffset: 7}
	if err := f.l.AppendAbortedTxn(abort); err != nil {
		t.Fatal(err)
	}
	f.append(keyedBatch(t, ts, 0, kv{"k2", []byte("new")})) // 7
	f.roll()
	f.append(txnData(t, ts, 11, kv{"k5", []byte("x")})) // 8
	f.append(txnMarker(t, ts, 11, true))                // 9

	if f.cleanAll() == 0 {
		t.Fatal("nothing cleaned")
	}
	hs, recs := f.records()
	got := values(recs)
	if !slices.Equal(got["k1"], []string{"committed"}) || !slices.Equal(got["k2"], []string{"new"}) || got["k3"] != nil {
		t.Fatalf("after the first clean: %v (want k1 committed, k2 new, no k3)", got)
	}
	for _, off := range []int64{3, 6} {
		if h, ok := batchAt(hs, off); !ok || !h.Control() || h.RecordCount != 1 {
			t.Fatalf("marker at %d after the first clean: %+v %v", off, h, ok)
		}
	}
	if _, ok := batchAt(hs, 4); ok {
		t.Fatal("aborted batch kept")
	}
	if txns := f.l.AbortedTxns(); !slices.Equal(txns, []txn.AbortedTxn{abort}) {
		t.Fatalf("aborted transactions %v after the first clean, want %v", txns, abort)
	}

	// Clean 2: k1 is superseded, so transaction 1-2 has no data left; the
	// abort marker's data is gone: it gets its delete horizon, its
	// .txnindex entry goes.
	// Producer 10 writes on without a transaction, so its marker is not
	// its last batch (which a clean keeps, emptied, for its epoch).
	final := keyedBatch(t, ts, 0, kv{"k1", []byte("final")})
	setProducer(final, 10, 0)
	f.append(final) // 10
	f.roll()
	f.cleanAll()
	hs, recs = f.records()
	if got := values(recs); !slices.Equal(got["k1"], []string{"final"}) {
		t.Fatalf("after the second clean: %v", got)
	}
	if h, ok := batchAt(hs, 6); !ok || h.RecordCount != 1 {
		t.Fatalf("abort marker removed before its delete horizon: %+v %v", h, ok)
	} else if hz, ok := h.deleteHorizon(); !ok || hz != f.clk.now().UnixMilli()+retention {
		t.Fatalf("abort marker's delete horizon %d %v", hz, ok)
	}
	if h, ok := batchAt(hs, 3); !ok || h.RecordCount != 1 {
		t.Fatalf("commit marker at 3: %+v %v", h, ok)
	}
	if txns := f.l.AbortedTxns(); len(txns) != 0 {
		t.Fatalf("aborted transactions %v kept without their data", txns)
	}

	// Past the horizon: the abort marker goes; the commit marker, whose
	// data went in the last clean, gets its horizon now and goes after it.
	f.clk.advance(retention*time.Millisecond + time.Millisecond)
	f.cleanAll()
	hs, _ = f.records()
	if _, ok := batchAt(hs, 6); ok {
		t.Fatal("abort marker kept past its delete horizon")
	}
	if h, ok := batchAt(hs, 3); !ok || h.RecordCount != 1 {
		t.Fatalf("commit marker at 3 before its horizon: %+v %v", h, ok)
	}
	f.clk.advance(retention*time.Millisecond + time.Millisecond)
	f.cleanAll()
	hs, recs = f.records()
	if _, ok := batchAt(hs, 3); ok {
		t.Fatal("commit marker kept past its delete horizon")
	}
	if h, ok := batchAt(hs, 9); !ok || h.RecordCount != 1 {
		t.Fatalf("commit marker of data still in the log: %+v %v", h, ok)
	}
	if got := values(recs); !slices.Equal(got["k5"], []string{"x"}) || !slices.Equal(got["k2"], []string{"new"}) {
		t.Fatalf("final values %v", got)
	}
	checkIndexFiles(t, filepath.Join(f.dir, "compacted-0"))
}

// TestCleanKeepsTxnIndexAcrossReopen: the cleaned segment's .txnindex holds
// the aborted transaction whose marker it keeps, on disk.
func TestCleanKeepsTxnIndexAcrossReopen(t *testing.T) {
	f := newCleanerFixture(t, compactConfig(nil), DefaultCleanerConfig())
	ts := f.clk.now().UnixMilli()
	f.append(txnData(t, ts, 11, kv{"k1", []byte("aborted")})) // 0
	f.append(txnMarker(t, ts, 11, false))                     // 1
	abort := txn.AbortedTxn{ProducerID: 11, FirstOffset: 0, LastOffset: 1, LastStableOffset: 2}
	if err := f.l.AppendAbortedTxn(abort); err != nil {
		t.Fatal(err)
	}
	f.append(keyedBatch(t, ts, 0, kv{"k1", []byte("v")}, kv{"k1", []byte("w")})) // 2-3
	f.roll()
	f.append(keyedBatch(t, ts, 0, kv{"k9", []byte("z")}))
	f.cleanAll()
	if err := f.m.Close(); err != nil {
		t.Fatal(err)
	}
	f.open()
	if txns := f.l.AbortedTxns(); !slices.Equal(txns, []txn.AbortedTxn{abort}) {
		t.Fatalf("aborted transactions after reopen %v, want %v", txns, abort)
	}
	if _, err := os.Stat(filepath.Join(f.dir, "compacted-0", segmentFileName(0, txnIndexSuffix))); err != nil {
		t.Fatal(err)
	}
	_, recs := f.records()
	if got := values(recs); !slices.Equal(got["k1"], []string{"w"}) {
		t.Fatalf("values %v", got)
	}
}

// TestCleanStopsAtLastStableOffset: with an open transaction the clean
// stops below its first offset, though the high watermark is past it.
func TestCleanStopsAtLastStableOffset(t *testing.T) {
	f := newCleanerFixture(t, compactConfig(nil), DefaultCleanerConfig())
	ts := f.clk.now().UnixMilli()
	f.append(keyedBatch(t, ts, 0, kv{"k", []byte("1")})) // 0
	f.roll()
	f.append(txnData(t, ts, 12, kv{"open", []byte("o")})) // 1: an open transaction
	f.append(keyedBatch(t, ts, 0, kv{"k", []byte("2")}))  // 2
	f.roll()
	f.append(keyedBatch(t, ts, 0, kv{"k", []byte("3")})) // 3
	f.roll()
	lso := int64(1)
	f.l.(TxnOwnerHooks).SetLastStableOffsetFunc(func() int64 { return lso })
	f.cleanAll()
	if _, recs := f.records(); !slices.Equal(values(recs)["k"], []string{"1", "2", "3"}) {
		t.Fatalf("clean reached past the last stable offset: %v", values(recs))
	}
	lso = 4
	f.cleanAll()
	if _, recs := f.records(); !slices.Equal(values(recs)["k"], []string{"3"}) {
		t.Fatalf("after the transaction is decided: %v", values(recs))
	}
}

// TestCleanCrashKeepsTxnIndex stops a clean whose new segment keeps an
// aborted transaction at each step of its swap, as a crash would: after
// recovery the log has the transaction's .txnindex entry (from the old
// segment or the new one) and no file of the swap is left.
func TestCleanCrashKeepsTxnIndex(t *testing.T) {
	abort := txn.AbortedTxn{ProducerID: 11, FirstOffset: 0, LastOffset: 1, LastStableOffset: 2}
	scenario := func(f *cleanerFixture) {
		ts := f.clk.now().UnixMilli()
		f.append(txnData(t, ts, 11, kv{"ka", []byte("aborted")})) // 0
		f.append(txnMarker(t, ts, 11, false))                     // 1
		if err := f.l.AppendAbortedTxn(abort); err != nil {
			t.Fatal(err)
		}
		f.writeKeyed(30, 4, 3)
		f.roll()
		if err := f.l.SetConfig(compactConfig(func(c *Config) { c.SegmentBytes = 1 << 20 })); err != nil {
			t.Fatal(err)
		}
		if err := f.m.WriteCheckpoints(); err != nil {
			t.Fatal(err)
		}
	}
	var steps []string
	ref := newCleanerFixture(t, compactConfig(nil), DefaultCleanerConfig(), WithCleanHook(func(s string) error {
		steps = append(steps, s)
		return nil
	}))
	scenario(ref)
	if ok, err := ref.c.CleanOnce(); !ok || err != nil {
		t.Fatalf("reference clean: %v %v", ok, err)
	}
	if txns := ref.l.AbortedTxns(); !slices.Equal(txns, []txn.AbortedTxn{abort}) {
		t.Fatalf("reference clean keeps %v", txns)
	}
	for i, step := range steps {
		t.Run(step, func(t *testing.T) {
			n := 0
			errCrash := os.ErrDeadlineExceeded
			f := newCleanerFixture(t, compactConfig(nil), DefaultCleanerConfig(), WithCleanHook(func(string) error {
				if n++; n == i+1 {
					return errCrash
				}
				return nil
			}))
			scenario(f)
			if _, err := f.c.CleanOnce(); err != errCrash {
				t.Fatalf("clean ended without reaching the crash point: %v", err)
			}
			f.crash()
			f.opt = nil
			f.open()
			if txns := f.l.AbortedTxns(); !slices.Equal(txns, []txn.AbortedTxn{abort}) {
				t.Fatalf("aborted transactions after recovery %v, want %v", txns, abort)
			}
			ents, _ := os.ReadDir(filepath.Join(f.dir, "compacted-0"))
			for _, e := range ents {
				if n := e.Name(); filepath.Ext(n) == cleanedSuffix || filepath.Ext(n) == swapSuffix || filepath.Ext(n) == swapEndSuffix {
					t.Fatalf("%s left after recovery", n)
				}
			}
			if _, err := os.Stat(filepath.Join(f.dir, "compacted-0", segmentFileName(0, txnIndexSuffix))); err != nil {
				t.Fatal(err)
			}
		})
	}
}
