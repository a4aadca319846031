package storage

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Producer-state snapshot files: <offset, 20 digits>.snapshot in the partition's directory, as
// Kafka names them. The broker encodes their contents (broker/txn); the log only keeps the files:
// it writes them atomically, finds the latest usable one, and removes them with the segments
// below them (retention, DeleteRecords) and with truncation past them.

const snapshotSuffix = ".snapshot"

func snapshotName(offset int64) string { return fmt.Sprintf("%020d%s", offset, snapshotSuffix) }

// WriteProducerSnapshot implements Log.
func (l *fileLog) WriteProducerSnapshot(offset int64, data []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.usable(); err != nil {
		return err
	}
	if offset < l.start || offset > l.end() {
		return fmt.Errorf("producer snapshot of %s at %d outside the log [%d, %d]: %w", l.name, offset, l.start, l.end(), ErrOffsetOutOfRange)
	}
	if err := writeFileAtomic(filepath.Join(l.dir, snapshotName(offset)), data); err != nil {
		return l.health.check(fmt.Errorf("producer snapshot of %s at %d: %w", l.name, offset, err))
	}
	return nil
}

// ProducerSnapshot implements Log.
func (l *fileLog) ProducerSnapshot() (int64, []byte, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.usable(); err != nil {
		return -1, nil, err
	}
	offs, err := l.snapshotOffsets()
	if err != nil {
		return -1, nil, err
	}
	best := int64(-1)
	for _, off := range offs {
		if off >= l.start && off <= l.end() {
			best = max(best, off)
		}
	}
	if best < 0 {
		return -1, nil, nil
	}
	data, err := os.ReadFile(filepath.Join(l.dir, snapshotName(best)))
	if err != nil {
		return -1, nil, fmt.Errorf("producer snapshot of %s: %w", l.name, errors.Join(ErrStorage, err))
	}
	return best, data, nil
}

// snapshotOffsets lists the offsets of the snapshot files. Lock held.
func (l *fileLog) snapshotOffsets() ([]int64, error) {
	ents, err := os.ReadDir(l.dir)
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", l.name, errors.Join(ErrStorage, err))
	}
	var out []int64
	for _, e := range ents {
		n := e.Name()
		if !strings.HasSuffix(n, snapshotSuffix) || len(n) != 20+len(snapshotSuffix) {
			continue
		}
		if off, err := strconv.ParseInt(n[:20], 10, 64); err == nil {
			out = append(out, off)
		}
	}
	return out, nil
}

// removeSnapshots deletes the snapshot files whose offset drop says. Lock held.
func (l *fileLog) removeSnapshots(drop func(offset int64) bool) error {
	offs, err := l.snapshotOffsets()
	if err != nil {
		return err
	}
	var errs []error
	for _, off := range offs {
		if !drop(off) {
			continue
		}
		if err := os.Remove(filepath.Join(l.dir, snapshotName(off))); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, errors.Join(ErrStorage, err))
		}
	}
	return errors.Join(errs...)
}

// WriteProducerSnapshot implements Log: a memory log does not outlive the broker, so it keeps no
// snapshot.
func (l *memoryLog) WriteProducerSnapshot(int64, []byte) error { return nil }

// ProducerSnapshot implements Log: there is none.
func (l *memoryLog) ProducerSnapshot() (int64, []byte, error) { return -1, nil, nil }
