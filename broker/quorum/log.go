package quorum

import (
	"errors"
	"fmt"
)

// Log is the replicated log a Node appends to and truncates. Offsets start at 0 and are dense.
// StorageLog maps the methods onto broker/storage.Log (LogEndOffset, LatestEpoch, AppendAsFollower
// of the batches encodeEntries writes followed by a flush, Read, EndOffsetForEpoch, TruncateTo).
// Implementations are called from the Node's owner only (no concurrent calls) and must make an
// Append or Truncate durable before returning, because the Node acknowledges entries (by fetching
// past them, or by counting them toward the high watermark) as soon as the call returns.
type Log interface {
	// EndOffset is the offset the next appended entry gets.
	EndOffset() int64
	// LastEpoch is the epoch of the last entry, or 0 for an empty log.
	LastEpoch() int32
	// Append adds entries; the first must be at EndOffset and offsets must be consecutive, with
	// epochs that never decrease.
	Append(entries []Entry) error
	// Read returns up to max entries starting at from (from may equal EndOffset: no entries).
	Read(from int64, max int) ([]Entry, error)
	// EndOffsetForEpoch returns, for the largest epoch in the log that is ≤ epoch, that epoch and
	// the offset just past its last entry (the start of the next epoch, or EndOffset). When every
	// entry's epoch is larger, or the log is empty, it returns {0, 0}.
	EndOffsetForEpoch(epoch int32) OffsetAndEpoch
	// Truncate removes every entry at or above offset.
	Truncate(offset int64) error
}

// MemLog is an in-memory Log. The simulator keeps a crashed node's MemLog and hands it to the
// restarted node, standing in for a disk whose writes are synchronous.
type MemLog struct {
	entries []Entry
}

// NewMemLog returns an empty in-memory log.
func NewMemLog() *MemLog { return &MemLog{} }

func (l *MemLog) EndOffset() int64 { return int64(len(l.entries)) }

func (l *MemLog) LastEpoch() int32 {
	if len(l.entries) == 0 {
		return 0
	}
	return l.entries[len(l.entries)-1].Epoch
}

func (l *MemLog) Append(entries []Entry) error {
	for _, e := range entries {
		if e.Offset != l.EndOffset() {
			return fmt.Errorf("append at offset %d: log ends at %d", e.Offset, l.EndOffset())
		}
		if e.Epoch < l.LastEpoch() {
			return fmt.Errorf("append at offset %d: epoch %d is below the last epoch %d", e.Offset, e.Epoch, l.LastEpoch())
		}
		e.Data = append([]byte(nil), e.Data...)
		l.entries = append(l.entries, e)
	}
	return nil
}

func (l *MemLog) Read(from int64, max int) ([]Entry, error) {
	if from < 0 || from > l.EndOffset() {
		return nil, fmt.Errorf("read at offset %d: log has [0, %d)", from, l.EndOffset())
	}
	end := min(from+int64(max), l.EndOffset())
	return append([]Entry(nil), l.entries[from:end]...), nil
}

func (l *MemLog) EndOffsetForEpoch(epoch int32) OffsetAndEpoch {
	// Entries' epochs never decrease, so the answer is found scanning back from the end.
	for i := len(l.entries) - 1; i >= 0; i-- {
		if l.entries[i].Epoch <= epoch {
			return OffsetAndEpoch{Offset: int64(i) + 1, Epoch: l.entries[i].Epoch}
		}
	}
	return OffsetAndEpoch{}
}

func (l *MemLog) Truncate(offset int64) error {
	if offset < 0 {
		return errors.New("truncate to a negative offset")
	}
	if offset < l.EndOffset() {
		l.entries = l.entries[:offset]
	}
	return nil
}
