package storage

import (
	"fmt"
)

// ScanBatches calls fn for every batch of l that holds offsets >= from and
// lies wholly below to (a batch reaching past to is not visited),
// in order, reading through Log.Read in chunks of about 1 MiB. It is for
// rebuilding state from a log at start-up (idempotent producer state,
// __consumer_offsets); batch is only valid during the call. A from below
// the log start offset starts at the log start. fn's error stops the scan
// and is returned as is.
func ScanBatches(l Log, from, to int64, fn func(h BatchHeader, batch []byte) error) error {
	from = max(from, l.LogStartOffset())
	to = min(to, l.LogEndOffset())
	var buf []byte
	for from < to {
		r, err := l.Read(from, 1<<20, to, true)
		if err != nil {
			return fmt.Errorf("scanning batches at %d: %w", from, err)
		}
		buf, err = r.AppendTo(buf[:0])
		r.Close()
		if err != nil {
			return fmt.Errorf("scanning batches at %d: %w", from, err)
		}
		if len(buf) == 0 {
			return nil // the rest is above a batch that reaches past to
		}
		var stop error
		err = forEachBatch(buf, func(h BatchHeader, batch []byte) error {
			if h.LastOffset() < from {
				return nil
			}
			if err := fn(h, batch); err != nil {
				stop = err
				return err
			}
			from = h.LastOffset() + 1
			return nil
		})
		if stop != nil {
			return stop
		}
		if err != nil {
			return fmt.Errorf("scanning batches at %d: %w", from, err)
		}
	}
	return nil
}
