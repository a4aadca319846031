package storage

import (
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
)

// ErrLogDirOffline is the error of every operation on a log whose log dir
// has failed: the dir's first I/O error on a write path (an append, a
// roll, a flush, an index, checkpoint or snapshot write, a truncation or
// a segment deletion) takes the whole dir offline, as Kafka's
// LogDirFailureChannel does, because the state on disk is no longer known
// to match what the broker holds in memory. It stays offline until the
// process opens the dir again. Kafka: KAFKA_STORAGE_ERROR (56).
var ErrLogDirOffline = errors.New("log dir offline")

// dirHealth records whether one log dir is online. It is shared by the
// Manager and every file log of the dir; all methods are safe on a nil
// receiver (a log with no Manager, or a memory Manager, never fails) and
// take no lock, so a log may report its failure with its own lock held.
type dirHealth struct {
	dir    string
	logger *slog.Logger
	// onFail is told of the failure once, on a goroutine of its own: it may
	// close the logs, whose locks the failing caller may still hold.
	onFail func(dir string, cause error)
	failed atomic.Pointer[error] // the offline error; nil while online
}

// err is nil while the dir is online, else an error wrapping
// ErrLogDirOffline and the I/O error that took it offline.
func (h *dirHealth) err() error {
	if h == nil {
		return nil
	}
	if p := h.failed.Load(); p != nil {
		return *p
	}
	return nil
}

// fail takes the dir offline because of cause. Only the first failure is
// recorded and reported; later ones are the same failure seen again.
func (h *dirHealth) fail(cause error) {
	if h == nil {
		return
	}
	off := fmt.Errorf("log dir %s is offline: %w", h.dir, errors.Join(ErrLogDirOffline, cause))
	if !h.failed.CompareAndSwap(nil, &off) {
		return
	}
	h.logger.Error("log dir failed: it is offline, and every partition in it answers KAFKA_STORAGE_ERROR until the broker opens it again",
		"dir", h.dir, "err", cause)
	if h.onFail != nil {
		go h.onFail(h.dir, cause)
	}
}

// check returns err after taking the dir offline if err is an I/O error
// (ErrStorage) of a write path. ErrLogClosed, validation errors and the
// offline error itself are not failures of the dir.
func (h *dirHealth) check(err error) error {
	if err != nil && errors.Is(err, ErrStorage) && !errors.Is(err, ErrLogDirOffline) {
		h.fail(err)
	}
	return err
}

// usable is nil when the log may serve a call: ErrLogClosed once it is
// closed, the offline error once its dir has failed. Lock held (either
// mode).
func (l *fileLog) usable() error {
	if l.closed {
		return ErrLogClosed
	}
	return l.health.err()
}
