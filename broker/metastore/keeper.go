package metastore

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Keeper keeps a session open for its owner (a broker): it connects, runs
// the owner's setup on every new session (register the broker's ephemeral
// node, set watches) and opens a new session whenever the current one
// expires, until Close. Setup runs on the Keeper's goroutine; a failing
// setup closes that session and is retried with backoff.
type Keeper struct {
	connector Connector
	setup     func(ctx context.Context, s Session) error
	log       *slog.Logger

	mu      sync.Mutex
	cur     Session       // guarded by mu; nil until the first setup succeeded
	changed chan struct{} // closed when cur is replaced; guarded by mu
	started bool          // guarded by mu
	closed  bool          // guarded by mu

	cancel context.CancelFunc
	done   chan struct{}
}

// Keeper backoff between failed attempts.
const (
	keeperMinBackoff = 100 * time.Millisecond
	keeperMaxBackoff = 5 * time.Second
)

// NewKeeper prepares a Keeper; it does no I/O until Start. logger may be nil.
func NewKeeper(c Connector, setup func(ctx context.Context, s Session) error, logger *slog.Logger) *Keeper {
	if logger == nil {
		logger = slog.Default()
	}
	if setup == nil {
		setup = func(context.Context, Session) error { return nil }
	}
	return &Keeper{connector: c, setup: setup, log: logger, changed: make(chan struct{}), done: make(chan struct{})}
}

// Start launches the Keeper's goroutine and returns at once.
func (k *Keeper) Start() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.started {
		return
	}
	k.started = true
	ctx, cancel := context.WithCancel(context.Background())
	k.cancel = cancel
	go k.run(ctx)
}

// Current returns the session whose setup succeeded last (nil before the
// first) and a channel closed when it is replaced or the Keeper stops. The
// session may have expired meanwhile; operations then fail with
// ErrSessionExpired and the channel closes soon.
func (k *Keeper) Current() (Session, <-chan struct{}) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.cur, k.changed
}

// WaitSession waits for a session whose setup succeeded and that has not
// ended yet, or for ctx to end.
func (k *Keeper) WaitSession(ctx context.Context) (Session, error) {
	for {
		s, changed := k.Current()
		if s != nil && s.Err() == nil {
			return s, nil
		}
		select {
		case <-changed:
		case <-k.done:
			return nil, ErrClosed
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Close stops the Keeper and closes its session (deleting its ephemeral
// nodes); it returns when the goroutine has ended.
func (k *Keeper) Close() error {
	k.mu.Lock()
	started, closed := k.started, k.closed
	k.started, k.closed = true, true // a later Start does nothing
	k.mu.Unlock()
	if closed {
		<-k.done
		return nil
	}
	if !started {
		close(k.done)
		return nil
	}
	k.cancel()
	<-k.done
	return nil
}

func (k *Keeper) publish(s Session) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.cur = s
	close(k.changed)
	k.changed = make(chan struct{})
}

func (k *Keeper) run(ctx context.Context) {
	defer close(k.done)
	defer k.publish(nil)
	backoff := keeperMinBackoff
	wait := func() bool {
		t := time.NewTimer(backoff)
		defer t.Stop()
		backoff = min(2*backoff, keeperMaxBackoff)
		select {
		case <-t.C:
			return true
		case <-ctx.Done():
			return false
		}
	}
	for ctx.Err() == nil {
		s, err := k.connector.Connect(ctx)
		if err != nil {
			if ctx.Err() == nil {
				k.log.Warn("metadata store: connect failed", "err", err, "retry_in", backoff)
			}
			if !wait() {
				return
			}
			continue
		}
		if err := k.setup(ctx, s); err != nil {
			_ = s.Close()
			if ctx.Err() == nil {
				k.log.Warn("metadata store: session setup failed", "session", fmt.Sprintf("0x%x", s.ID()), "err", err, "retry_in", backoff)
			}
			if !wait() {
				return
			}
			continue
		}
		backoff = keeperMinBackoff
		k.publish(s)
		select {
		case <-s.Done():
			k.log.Warn("metadata store: session ended, opening a new one", "session", fmt.Sprintf("0x%x", s.ID()), "err", s.Err())
			_ = s.Close() // releases an expired session's resources
		case <-ctx.Done():
			_ = s.Close()
			return
		}
	}
}
