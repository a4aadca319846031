package broker

import (
	"reflect"
	"testing"
	"time"
)

// SecurityStats copies the counts: failures per listener, throttle time and requests per user and
// client id over every quota; a later count does not change a copy already handed out.
func TestSecurityStatsCounts(t *testing.T) {
	b := &Broker{metrics: newBrokerMetrics(1)}
	if s := b.SecurityStats(); len(s.AuthFailures) != 0 || len(s.Throttled) != 0 {
		t.Fatalf("fresh broker: %+v", s)
	}
	b.metrics.sec.authFailed("SASL_PLAINTEXT")
	b.metrics.sec.authFailed("SASL_PLAINTEXT")
	b.metrics.sec.authFailed("SASL_SSL")
	b.metrics.observeThrottle("produce", "alice", "p1", 1500*time.Millisecond)
	b.metrics.observeThrottle("fetch", "alice", "p1", 500*time.Millisecond)
	got := b.SecurityStats()
	want := SecurityStats{AuthFailures: map[string]int64{"SASL_PLAINTEXT": 2, "SASL_SSL": 1},
		Throttled: map[ThrottledClient]ThrottleTotals{{User: "alice", ClientID: "p1"}: {Seconds: 2, Requests: 2}}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("stats = %+v, want %+v", got, want)
	}
	b.metrics.sec.authFailed("SASL_PLAINTEXT")
	if got.AuthFailures["SASL_PLAINTEXT"] != 2 {
		t.Fatal("a copy handed out changed")
	}
}
