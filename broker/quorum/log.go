package quorum

import (
	"errors"
	"fmt"
)

// Log is the replicated log a Node appends to and truncates. Offsets are dense from StartOffset,
// which is 0 until a snapshot lets the prefix before it go (DeletePrefix, Reset).
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
	// entry's epoch is larger, or the log is empty, it returns {0, 0}. Only the entries the log
	// holds count: those below StartOffset are the snapshot's business (see Node).
	EndOffsetForEpoch(epoch int32) OffsetAndEpoch
	// Truncate removes every entry at or above offset (offset ≥ StartOffset).
	Truncate(offset int64) error

	// StartOffset is the offset of the first entry the log holds (EndOffset when it holds none);
	// the entries below it are covered by a snapshot.
	StartOffset() int64
	// DeletePrefix removes the entries below offset, StartOffset ≤ offset ≤ EndOffset; the log
	// then starts at offset. Like Append it is durable when it returns, and a reopened log
	// starts there too (or, on a crash before the implementation recorded it, no later than the
	// start it had: the Node moves it up again from its snapshots).
	DeletePrefix(offset int64) error
	// Reset removes every entry and restarts the log empty at offset (a follower that loaded
	// a snapshot ending there): StartOffset and EndOffset are offset, LastEpoch 0.
	Reset(offset int64) error
}

// MemLog is an in-memory Log. The simulator keeps a crashed node's MemLog and hands it to the
// restarted node, standing in for a disk whose writes are synchronous.
type MemLog struct {
	start   int64
	entries []Entry // entries[i] is at offset start+i
}

// NewMemLog returns an empty in-memory log.
func NewMemLog() *MemLog { return &MemLog{} }

func (l *MemLog) StartOffset() int64 { return l.start }

func (l *MemLog) EndOffset() int64 { return l.start + int64(len(l.entries)) }

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
	if from < l.start || from > l.EndOffset() {
		return nil, fmt.Errorf("read at offset %d: log has [%d, %d)", from, l.start, l.EndOffset())
	}
	end := min(from+int64(max), l.EndOffset())
	return append([]Entry(nil), l.entries[from-l.start:end-l.start]...), nil
}

// Entry returns the entry at offset, which must be in [StartOffset, EndOffset).
func (l *MemLog) Entry(offset int64) Entry { return l.entries[offset-l.start] }

func (l *MemLog) EndOffsetForEpoch(epoch int32) OffsetAndEpoch {
	// Entries' epochs never decrease, so the answer is found scanning back from the end.
	for i := len(l.entries) - 1; i >= 0; i-- {
		if l.entries[i].Epoch <= epoch {
			return OffsetAndEpoch{Offset: l.start + int64(i) + 1, Epoch: l.entries[i].Epoch}
		}
	}
	return OffsetAndEpoch{}
}

func (l *MemLog) Truncate(offset int64) error {
	if offset < l.start {
		return fmt.Errorf("truncate to %d, below the log start %d", offset, l.start)
	}
	if offset < l.EndOffset() {
		l.entries = l.entries[:offset-l.start]
	}
	return nil
}

func (l *MemLog) DeletePrefix(offset int64) error {
	if offset < l.start || offset > l.EndOffset() {
		return fmt.Errorf("delete the prefix before %d: log has [%d, %d)", offset, l.start, l.EndOffset())
	}
	l.entries = append([]Entry(nil), l.entries[offset-l.start:]...)
	l.start = offset
	return nil
}

func (l *MemLog) Reset(offset int64) error {
	if offset < 0 {
		return errors.New("reset to a negative offset")
	}
	l.start, l.entries = offset, nil
	return nil
}
