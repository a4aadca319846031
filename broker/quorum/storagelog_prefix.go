package quorum

import "fmt"

// The log start of a StorageLog is broker/storage's log start offset: DeletePrefix moves it with
// DeleteRecordsBefore (whole segments below it are removed, the rest of a segment stays on disk
// but is no longer read), Reset with TruncateFullyAndStartAt. Both then write the manager's
// checkpoints, so a reopened log starts where this one did.

func (l *StorageLog) StartOffset() int64 { return l.log.LogStartOffset() }

func (l *StorageLog) DeletePrefix(offset int64) error {
	start, end := l.StartOffset(), l.EndOffset()
	switch {
	case offset < start || offset > end:
		return fmt.Errorf("delete the prefix before %d: log has [%d, %d)", offset, start, end)
	case offset == start:
		return nil
	case offset == end:
		return l.Reset(offset)
	}
	// broker/storage deletes records only below its high watermark, which the quorum does not
	// otherwise keep there: the prefix a snapshot covers is committed.
	l.log.SetHighWatermark(max(offset, l.log.HighWatermark()))
	if _, err := l.log.DeleteRecordsBefore(offset); err != nil {
		return fmt.Errorf("delete the prefix before %d: %w", offset, err)
	}
	return l.checkpoint(offset)
}

func (l *StorageLog) Reset(offset int64) error {
	if offset < 0 {
		return fmt.Errorf("reset to %d: negative offset", offset)
	}
	if err := l.log.TruncateFullyAndStartAt(offset); err != nil {
		return fmt.Errorf("reset to %d: %w", offset, err)
	}
	if err := l.log.Flush(); err != nil {
		return fmt.Errorf("flush after reset to %d: %w", offset, err)
	}
	return l.checkpoint(offset)
}

// checkpoint records the new log start in log-start-offset-checkpoint.
func (l *StorageLog) checkpoint(start int64) error {
	if err := l.mgr.WriteCheckpoints(); err != nil {
		return fmt.Errorf("checkpoint the log start %d: %w", start, err)
	}
	return nil
}
