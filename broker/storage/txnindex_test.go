package storage

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/osprey-kafka/osprey/broker/txn"
)

// TestTxnIndexPerSegmentSurvivesReopenAndFollowsTruncation writes aborted
// transactions into the .txnindex of the segments holding their markers,
// reopens the log, then truncates and deletes segments under them.
func TestTxnIndexPerSegmentSurvivesReopenAndFollowsTruncation(t *testing.T) {
	clk := newClock()
	m, _ := newTestManager(t, "", clk)
	cfg := testConfig(func(c *Config) { c.SegmentBytes = 1000; c.RetentionMs = -1 })
	l, err := m.GetOrCreate("tx", 0, cfg)
	if err != nil {
		t.Fatal(err)
	}
	// 5 batches of 5 records per ~2 segments: offsets 0..49 over 5 segments.
	for i := 0; i < 10; i++ {
		if _, err := l.Append(simpleBatch(t, clk.now().UnixMilli(), 5, 60, "r"), 0); err != nil {
			t.Fatal(err)
		}
	}
	fl := l.(*fileLog)
	if len(fl.segs) != 5 {
		t.Fatalf("setup: %d segments", len(fl.segs))
	}
	es := []txn.AbortedTxn{
		{ProducerID: 1, FirstOffset: 0, LastOffset: 4, LastStableOffset: 5},
		{ProducerID: 2, FirstOffset: 5, LastOffset: 14, LastStableOffset: 15},
		{ProducerID: 3, FirstOffset: 12, LastOffset: 44, LastStableOffset: 45},
		{ProducerID: 4, FirstOffset: 45, LastOffset: 49, LastStableOffset: 50},
	}
	for _, e := range es {
		if err := l.AppendAbortedTxn(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.AppendAbortedTxn(txn.AbortedTxn{ProducerID: 9, LastOffset: 50}); err == nil {
		t.Fatal("entry past the log end accepted")
	}
	pdir := filepath.Join(m.Dir(), "tx-0")
	b, err := os.ReadFile(filepath.Join(pdir, segmentFileName(fl.segs[4].base, txnIndexSuffix)))
	if err != nil {
		t.Fatal(err)
	}
	if got, _, _ := txn.DecodeIndex(b); !slices.Equal(got, es[2:]) {
		t.Fatalf("last segment's .txnindex holds %v, want %v", got, es[2:])
	}
	if _, err := os.Stat(filepath.Join(pdir, segmentFileName(fl.segs[3].base, txnIndexSuffix))); !os.IsNotExist(err) {
		t.Fatalf("a segment without aborts has a .txnindex: %v", err)
	}

	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	m2, _ := newTestManager(t, m.Dir(), clk)
	l2, _ := m2.Get("tx", 0)
	if got := l2.AbortedTxns(); !slices.Equal(got, es) {
		t.Fatalf("after reopen: %v, want %v", got, es)
	}
	// A truncation below the last marker drops its entry, on disk too.
	if err := l2.TruncateTo(47); err != nil {
		t.Fatal(err)
	}
	if got := l2.AbortedTxns(); !slices.Equal(got, es[:3]) {
		t.Fatalf("after truncating to 47: %v, want %v", got, es[:3])
	}
	// Deleting the first segments deletes their index.
	l2.SetHighWatermark(l2.LogEndOffset())
	if _, err := l2.DeleteRecordsBefore(20); err != nil {
		t.Fatal(err)
	}
	if got := l2.AbortedTxns(); !slices.Equal(got, es[2:3]) {
		t.Fatalf("after deleting segments below 20: %v, want %v", got, es[2:3])
	}
	if err := m2.Close(); err != nil {
		t.Fatal(err)
	}
	m3, _ := newTestManager(t, m.Dir(), clk)
	l3, _ := m3.Get("tx", 0)
	if got := l3.AbortedTxns(); !slices.Equal(got, es[2:3]) {
		t.Fatalf("after the second reopen: %v, want %v", got, es[2:3])
	}
}

func TestMemoryLogTxnIndex(t *testing.T) {
	l := NewMemoryLog(DefaultConfig())
	for i := 0; i < 4; i++ {
		if _, err := l.Append(simpleBatch(t, 0, 5, 10, "r"), 0); err != nil {
			t.Fatal(err)
		}
	}
	es := []txn.AbortedTxn{{ProducerID: 1, FirstOffset: 0, LastOffset: 9}, {ProducerID: 2, FirstOffset: 10, LastOffset: 19}}
	for _, e := range es {
		if err := l.AppendAbortedTxn(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.TruncateTo(15); err != nil {
		t.Fatal(err)
	}
	if got := l.AbortedTxns(); !slices.Equal(got, es[:1]) {
		t.Fatalf("after truncation: %v", got)
	}
}
