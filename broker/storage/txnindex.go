package storage

import (
	"errors"
	"fmt"
	"os"

	"github.com/osprey-kafka/osprey/broker/txn"
)

// The transaction index: each segment's aborted transactions, in Kafka's
// .txnindex format (txn.AppendEntry), one entry per abort marker in the
// segment, appended when the marker is written. The file is created with
// the first abort and deleted with its segment; a truncation drops the
// entries above the cut. Aborts are rare, so each append opens, writes,
// fsyncs and closes the file.

const txnIndexSuffix = ".txnindex"

// loadTxnIndex reads the segment's .txnindex, if any, keeping the entries
// whose marker is still in the segment (a torn tail or a truncation during
// recovery drops the others, and the file is rewritten to match).
func (s *segment) loadTxnIndex() error {
	b, err := os.ReadFile(s.path(txnIndexSuffix))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading transaction index: %w", errors.Join(ErrStorage, err))
	}
	entries, valid, err := txn.DecodeIndex(b)
	if err != nil {
		return fmt.Errorf("segment %d: %w", s.base, errors.Join(ErrCorruptMessage, err))
	}
	s.txns = entries
	if valid != len(b) || s.dropTxnsFrom(s.next) {
		return s.rewriteTxnIndex()
	}
	return nil
}

// dropTxnsFrom forgets entries whose marker is at or after end and reports
// whether any was dropped.
func (s *segment) dropTxnsFrom(end int64) bool {
	n := len(s.txns)
	for n > 0 && s.txns[n-1].LastOffset >= end {
		n--
	}
	dropped := n < len(s.txns)
	s.txns = s.txns[:n]
	return dropped
}

// rewriteTxnIndex writes the segment's entries to its .txnindex through a
// temporary file and a rename, so a crash leaves the old or the new file.
func (s *segment) rewriteTxnIndex() error {
	path := s.path(txnIndexSuffix)
	if len(s.txns) == 0 {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("removing transaction index: %w", errors.Join(ErrStorage, err))
		}
		return nil
	}
	var b []byte
	for _, e := range s.txns {
		b = txn.AppendEntry(b, e)
	}
	tmp := path + ".tmp"
	if err := writeFileSync(tmp, b); err != nil {
		return fmt.Errorf("writing transaction index: %w", errors.Join(ErrStorage, err))
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("writing transaction index: %w", errors.Join(ErrStorage, err))
	}
	return nil
}

func writeFileSync(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	_, werr := f.Write(b)
	serr := f.Sync()
	return errors.Join(werr, serr, f.Close())
}

// appendTxn appends one entry to the segment's .txnindex.
func (s *segment) appendTxn(e txn.AbortedTxn) error {
	f, err := os.OpenFile(s.path(txnIndexSuffix), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("opening transaction index: %w", errors.Join(ErrStorage, err))
	}
	_, werr := f.Write(txn.AppendEntry(nil, e))
	serr := f.Sync()
	if err := errors.Join(werr, serr, f.Close()); err != nil {
		return fmt.Errorf("appending to transaction index: %w", errors.Join(ErrStorage, err))
	}
	s.txns = append(s.txns, e)
	return nil
}

// AppendAbortedTxn implements Log.
func (l *fileLog) AppendAbortedTxn(e txn.AbortedTxn) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.usable(); err != nil {
		return err
	}
	if e.LastOffset < l.start || e.LastOffset >= l.end() {
		return fmt.Errorf("aborted transaction marker at %d outside the log [%d, %d): %w", e.LastOffset, l.start, l.end(), ErrOffsetOutOfRange)
	}
	return l.health.check(l.segs[l.segIndex(e.LastOffset)].appendTxn(e))
}

// AbortedTxns implements Log.
func (l *fileLog) AbortedTxns() []txn.AbortedTxn {
	l.mu.RLock()
	defer l.mu.RUnlock()
	var out []txn.AbortedTxn
	for _, s := range l.segs {
		out = append(out, s.txns...)
	}
	return out
}

// AppendAbortedTxn implements Log.
func (l *memoryLog) AppendAbortedTxn(e txn.AbortedTxn) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrLogClosed
	}
	if e.LastOffset < l.start || e.LastOffset >= l.end {
		return fmt.Errorf("aborted transaction marker at %d outside the log [%d, %d): %w", e.LastOffset, l.start, l.end, ErrOffsetOutOfRange)
	}
	l.aborted = append(l.aborted, e)
	return nil
}

// AbortedTxns implements Log: the entries whose marker is still in the log.
func (l *memoryLog) AbortedTxns() []txn.AbortedTxn {
	l.mu.Lock()
	defer l.mu.Unlock()
	kept := l.aborted[:0]
	for _, e := range l.aborted {
		if e.LastOffset >= l.start && e.LastOffset < l.end {
			kept = append(kept, e)
		}
	}
	l.aborted = kept
	return append([]txn.AbortedTxn(nil), kept...)
}
