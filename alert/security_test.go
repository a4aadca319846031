package alert

import (
	"strings"
	"testing"

	"github.com/osprey-kafka/osprey/collector"
)

// securitySnap is a snapshot of a cluster that reports its security counters: failures on
// listener SASL_PLAINTEXT over the 15 s interval, and user alice (client id producer-1) throttled
// for throttleMs.
func securitySnap(h *harness, failures int64, throttleMs float64) *collector.Snapshot {
	s := newSnap("c1", h.now()).broker(1, true).build()
	sec := &collector.SecurityActivity{IntervalSeconds: 15}
	if failures > 0 {
		sec.Listeners = append(sec.Listeners, collector.ListenerAuthFailures{Listener: "SASL_PLAINTEXT", Failures: failures,
			PerMinute: float64(failures) * 4, Brokers: []int32{1}})
	}
	if throttleMs > 0 {
		sec.Throttled = append(sec.Throttled, collector.ThrottledClient{User: "alice", ClientID: "producer-1",
			ThrottleSeconds: throttleMs / 1000, Requests: 3})
	}
	s.Security = sec
	return s
}

// auth_failures_per_minute fires per listener whose failures per minute stay above the threshold
// for the rule's hold and resolves when they drop.
func TestRuleAuthFailures(t *testing.T) {
	h := newHarness(t, RuleInput{Name: "auth", Kind: KindAuthFailures, Threshold: 10, ForSeconds: 15})
	h.observe(securitySnap(h, 2, 0)) // 8 per minute
	h.observe(securitySnap(h, 2, 0))
	h.expectFiring(0)
	h.observe(securitySnap(h, 5, 0)) // 20 per minute: pending
	h.observe(securitySnap(h, 5, 0))
	a := h.expectFiring(1)[0]
	if a.Value != 20 || a.Labels["listener"] != "SASL_PLAINTEXT" ||
		!strings.Contains(a.Summary, "5 failed SASL authentications on listener SASL_PLAINTEXT in the last 15 s (20.0 per minute, threshold 10) on brokers [1]") {
		t.Fatalf("alert = %+v", a)
	}
	h.observe(securitySnap(h, 0, 0))
	h.expectFiring(0)
}

// principal_throttled fires per user and client id throttled above the threshold in the interval
// and resolves once an interval passes without throttling.
func TestRulePrincipalThrottled(t *testing.T) {
	h := newHarness(t, RuleInput{Name: "throttled", Kind: KindPrincipalThrottled, Threshold: 100})
	h.observe(securitySnap(h, 0, 50)) // below the threshold
	h.expectFiring(0)
	h.observe(securitySnap(h, 0, 800))
	a := h.expectFiring(1)[0]
	if a.Value != 800 || a.Labels["user"] != "alice" || a.Labels["client_id"] != "producer-1" ||
		!strings.Contains(a.Summary, "User alice with client id producer-1 was throttled by client quotas for 800 ms over 3 requests in the last 15 s") {
		t.Fatalf("alert = %+v", a)
	}
	h.observe(securitySnap(h, 0, 0))
	h.expectFiring(0)
}

// A cluster that does not report the counters (Security nil) never fires.
func TestRuleSecurityUnreported(t *testing.T) {
	h := newHarness(t, RuleInput{Name: "auth", Kind: KindAuthFailures, Threshold: 1},
		RuleInput{Name: "throttled", Kind: KindPrincipalThrottled})
	for range 4 {
		h.observe(newSnap("c1", h.now()).broker(1, true).build())
	}
	h.expectFiring(0)
	h.observe(securitySnap(h, 3, 500))
	h.expectFiring(2)
}

func TestRuleSecurityValidation(t *testing.T) {
	for _, in := range []RuleInput{
		{Name: "a", Kind: KindAuthFailures},
		{Name: "a", Kind: KindAuthFailures, Threshold: -1},
		{Name: "a", Kind: KindAuthFailures, Threshold: 5, Topic: "t"},
		{Name: "p", Kind: KindPrincipalThrottled, Threshold: -1},
		{Name: "p", Kind: KindPrincipalThrottled, Group: "g"},
	} {
		if _, err := in.normalize(); err == nil {
			t.Fatalf("%+v accepted", in)
		}
	}
	for _, in := range []RuleInput{
		{Name: "a", Kind: KindAuthFailures, Threshold: 30, ForSeconds: 60},
		{Name: "p", Kind: KindPrincipalThrottled},
	} {
		if _, err := in.normalize(); err != nil {
			t.Fatal(err)
		}
	}
}
