package metastore

import "sync"

// StateTracker is the session-state bookkeeping both implementations share:
// the current state, the Changed broadcast and the Done channel. The zero
// value is not usable; use NewStateTracker.
type StateTracker struct {
	mu      sync.Mutex
	state   SessionState  // guarded by mu
	changed chan struct{} // closed and replaced at each change; guarded by mu
	done    chan struct{} // closed on the first terminal state
}

// NewStateTracker starts in state.
func NewStateTracker(state SessionState) *StateTracker {
	t := &StateTracker{state: state, changed: make(chan struct{}), done: make(chan struct{})}
	if state.Terminal() {
		close(t.done)
	}
	return t
}

// Set moves to state and reports whether it changed. Terminal states are
// final: Set after one is ignored and returns false.
func (t *StateTracker) Set(state SessionState) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.state == state || t.state.Terminal() {
		return false
	}
	t.state = state
	close(t.changed)
	t.changed = make(chan struct{})
	if state.Terminal() {
		close(t.done)
	}
	return true
}

// State returns the current state.
func (t *StateTracker) State() SessionState {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.state
}

// Changed returns a channel closed at the next change.
func (t *StateTracker) Changed() <-chan struct{} {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.changed
}

// Done is closed once a terminal state is reached.
func (t *StateTracker) Done() <-chan struct{} { return t.done }

// Err maps the state to the error operations return: ErrSessionExpired,
// ErrClosed, or nil for live sessions.
func (t *StateTracker) Err() error {
	switch t.State() {
	case StateExpired:
		return ErrSessionExpired
	case StateClosed:
		return ErrClosed
	}
	return nil
}
