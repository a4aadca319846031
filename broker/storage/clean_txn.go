package storage

import (
	"slices"

	"github.com/osprey-kafka/osprey/broker/txn"
)

// TxnOwnerHooks is implemented by logs the cleaner compacts, for the
// owner of the log's transaction state (the partition).
//
// SetLastStableOffsetFunc: fn gives the last stable offset (below it every
// transaction is decided), where a clean stops, as Kafka's cleaner does;
// without it the clean stops at the high watermark. fn is called without
// the log's lock held and may take locks that are taken before the log's.
//
// SetTxnIndexChangedFunc: after a clean replaced the segments holding
// offsets [from, to), fn gets the aborted transactions whose markers in
// that range are still indexed (the others lost their data); an owner that
// caches the index drops the rest, or a read_committed consumer would be
// told of an aborted transaction whose marker a later clean removes. fn is
// called without the log's lock held.
type TxnOwnerHooks interface {
	SetLastStableOffsetFunc(fn func() int64)
	SetTxnIndexChangedFunc(fn func(from, to int64, kept []txn.AbortedTxn))
}

// cleanTxns is what a clean knows of transactions while it walks a range
// of batches in offset order (Kafka's CleanedTransactionMetadata): which
// producers are inside an aborted transaction (from the log's transaction
// index), which have committed data in the range, and the index entries the
// cleaned segment keeps.
type cleanTxns struct {
	pending []txn.AbortedTxn // not yet reached, by first offset
	// aborted maps a producer to its aborted transaction in progress at the
	// walk's position; seen is set once a data batch of it was read.
	aborted   map[int64]*abortedInWalk
	committed map[int64]bool // producers with data of a not-aborted transaction read
	kept      []txn.AbortedTxn
}

type abortedInWalk struct {
	e    txn.AbortedTxn
	seen bool
}

// newCleanTxns prepares a walk from offset from up to upper over a log
// whose transaction index holds all. Entries whose marker lies below from
// are over before the walk starts and must not make later data of their
// producer look aborted.
func newCleanTxns(all []txn.AbortedTxn, from, upper int64) *cleanTxns {
	ct := &cleanTxns{aborted: map[int64]*abortedInWalk{}, committed: map[int64]bool{}}
	for _, e := range all {
		if e.LastOffset >= from && e.FirstOffset < upper {
			ct.pending = append(ct.pending, e)
		}
	}
	slices.SortStableFunc(ct.pending, func(a, b txn.AbortedTxn) int {
		switch {
		case a.FirstOffset < b.FirstOffset:
			return -1
		case a.FirstOffset > b.FirstOffset:
			return 1
		}
		return 0
	})
	return ct
}

// reach starts the aborted transactions that begin at or before offset.
func (ct *cleanTxns) reach(offset int64) {
	for len(ct.pending) > 0 && ct.pending[0].FirstOffset <= offset {
		e := ct.pending[0]
		ct.pending = ct.pending[1:]
		if _, ok := ct.aborted[e.ProducerID]; !ok {
			ct.aborted[e.ProducerID] = &abortedInWalk{e: e}
		}
	}
}

// dataBatch reports whether a data batch is aborted data, which the clean
// removes and never maps.
func (ct *cleanTxns) dataBatch(h BatchHeader) bool {
	ct.reach(h.LastOffset())
	if !h.Transactional() {
		return false
	}
	if a, ok := ct.aborted[h.ProducerID]; ok {
		a.seen = true
		return true
	}
	ct.committed[h.ProducerID] = true
	return false
}

// controlBatch ends the producer's transaction at a marker and reports
// whether the marker may go (once past its delete horizon): no data of its
// transaction was read in this walk, so none is left in the range. An
// aborted transaction whose data was read keeps its index entry; an empty
// control batch (already cleaned) may always go.
func (ct *cleanTxns) controlBatch(h BatchHeader, batch []byte) bool {
	ct.reach(h.LastOffset())
	if h.RecordCount == 0 {
		return true
	}
	commit, ok := txn.ParseMarkerKey(firstKey(h, batch))
	if !ok {
		return false
	}
	if commit {
		had := ct.committed[h.ProducerID]
		delete(ct.committed, h.ProducerID)
		return !had
	}
	a, ok := ct.aborted[h.ProducerID]
	delete(ct.aborted, h.ProducerID)
	if ok && a.seen {
		ct.kept = append(ct.kept, a.e)
		return false
	}
	return true
}

// firstKey returns the key of a control batch's first record (control
// batches are never compressed), or nil.
func firstKey(h BatchHeader, batch []byte) []byte {
	var key []byte
	done := false
	_ = forEachRecord(h, batch[BatchHeaderSize:], func(r cleanerRecord) {
		if !done {
			key, done = r.key, true
		}
	})
	return key
}
