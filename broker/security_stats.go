package broker

import (
	"maps"
	"sync"
	"time"
)

// securityStats counts failed SASL authentications per listener and client quota throttling per
// user and client id since the broker started: the figures of
// osprey_broker_sasl_authentication_failures_total and osprey_broker_client_quota_throttle_*,
// kept as plain numbers so a console running this broker in its own process reads them without
// going through the metrics registry.
type securityStats struct {
	mu           sync.Mutex
	authFailures map[string]int64
	throttle     map[ThrottledClient]ThrottleTotals
}

// ThrottledClient is the user and client id a client quota throttled ("" for an anonymous user).
type ThrottledClient struct {
	User     string
	ClientID string
}

// ThrottleTotals is the throttling of one user and client id since the broker started, over
// every quota (produce, fetch, request).
type ThrottleTotals struct {
	Seconds  float64
	Requests int64
}

// SecurityStats is a copy of a broker's authentication and throttling counters, cumulative since
// it started.
type SecurityStats struct {
	// AuthFailures is the failed SASL authentications per listener name; a listener without a
	// failure is left out.
	AuthFailures map[string]int64
	// Throttled is every user and client id a client quota has throttled.
	Throttled map[ThrottledClient]ThrottleTotals
}

func (s *securityStats) authFailed(listener string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.authFailures == nil {
		s.authFailures = map[string]int64{}
	}
	s.authFailures[listener]++
}

func (s *securityStats) throttled(user, clientID string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.throttle == nil {
		s.throttle = map[ThrottledClient]ThrottleTotals{}
	}
	k := ThrottledClient{User: user, ClientID: clientID}
	t := s.throttle[k]
	t.Seconds += d.Seconds()
	t.Requests++
	s.throttle[k] = t
}

// SecurityStats returns the broker's failed authentications per listener and the client quota
// throttling per user and client id, cumulative since it started.
func (b *Broker) SecurityStats() SecurityStats {
	s := b.metrics.sec
	s.mu.Lock()
	defer s.mu.Unlock()
	return SecurityStats{AuthFailures: maps.Clone(s.authFailures), Throttled: maps.Clone(s.throttle)}
}
