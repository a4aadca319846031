package auth

import (
	"sync"
	"time"
)

// loginLimiter allows a few login attempts per client address per window, against password guessing.
type loginLimiter struct {
	mu       sync.Mutex // guards attempts
	attempts map[string][]time.Time
	max      int
	window   time.Duration
}

func newLoginLimiter(max int, window time.Duration) *loginLimiter {
	return &loginLimiter{attempts: map[string][]time.Time{}, max: max, window: window}
}

func (l *loginLimiter) allow(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	recent := l.attempts[key][:0]
	for _, t := range l.attempts[key] {
		if now.Sub(t) < l.window {
			recent = append(recent, t)
		}
	}
	if len(l.attempts) > 10000 {
		// Bound memory under a spray of addresses: forget everyone else's history.
		l.attempts = map[string][]time.Time{}
	}
	if len(recent) >= l.max {
		l.attempts[key] = recent
		return false
	}
	l.attempts[key] = append(recent, now)
	return true
}
