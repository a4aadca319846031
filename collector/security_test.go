package collector

import (
	"reflect"
	"testing"
	"time"
)

// The growth between two readings sums the brokers per listener and per user and client id; a
// counter below its previous reading (a restarted broker) counts from zero, and a broker not read
// before has no growth yet.
func TestSecurityGrowth(t *testing.T) {
	alice := ClientQuotaID{User: "alice", ClientID: "p1"}
	prev := map[int32]BrokerSecurityCounters{
		1: {AuthFailures: map[string]int64{"SASL_PLAINTEXT": 10}, Throttled: map[ClientQuotaID]ThrottleCount{alice: {Seconds: 4, Requests: 5}}},
		2: {AuthFailures: map[string]int64{"SASL_PLAINTEXT": 7, "SASL_SSL": 2}},
	}
	cur := map[int32]BrokerSecurityCounters{
		1: {AuthFailures: map[string]int64{"SASL_PLAINTEXT": 13}, Throttled: map[ClientQuotaID]ThrottleCount{alice: {Seconds: 4.5, Requests: 7}}},
		2: {AuthFailures: map[string]int64{"SASL_PLAINTEXT": 2, "SASL_SSL": 2}}, // restarted: 2 since
		3: {AuthFailures: map[string]int64{"SASL_PLAINTEXT": 50}},               // first reading
	}
	got := securityGrowth(prev, cur, 30*time.Second)
	want := &SecurityActivity{IntervalSeconds: 30,
		Listeners: []ListenerAuthFailures{{Listener: "SASL_PLAINTEXT", Failures: 5, PerMinute: 10, Brokers: []int32{1, 2}}},
		Throttled: []ThrottledClient{{User: "alice", ClientID: "p1", ThrottleSeconds: 0.5, Requests: 2}}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("growth = %+v, want %+v", got, want)
	}
}
