package broker

import (
	"testing"
	"time"
)

// The usage a console reads is the sensors' measure: each client's rate, the quota and the entity
// it comes from, and the throttle a request would get now — the throttle_time_ms record() gives.
// Sensors gone quiet for a whole window and sensors whose quota was removed are left out.
func TestClientQuotaUsage(t *testing.T) {
	q := newClientQuotas(QuotaConfig{Windows: 2, WindowSize: time.Second})
	q.set(quotaTable{
		quotaEntity{user: namedQuota("alice")}:                       {quotaProducerByteRate: 1000},
		quotaEntity{user: defaultQuota, client: namedQuota("batch")}: {quotaConsumerByteRate: 500},
	})
	now := time.Unix(1_000_000, 0)
	if got := q.usage(now); len(got) != 0 {
		t.Fatalf("before any traffic: %+v", got)
	}
	want := q.record(quotaProducerByteRate, "alice", "app", 4000, now, false)
	if want <= 0 {
		t.Fatal("4000 bytes against 1000 B/s were not throttled")
	}
	q.record(quotaConsumerByteRate, "bob", "batch", 100, now, true)
	q.record(quotaProducerByteRate, "carol", "app", 1e6, now, false) // no quota applies: no sensor

	got := q.usage(now)
	if len(got) != 2 {
		t.Fatalf("usage %+v, want alice's and bob's sensors", got)
	}
	c, p := got[0], got[1]
	if p.Key != quotaProducerByteRate || p.User != "alice" || p.ClientID != "" || p.EntityUser != "alice" || p.EntityClientID != "" ||
		p.Limit != 1000 || p.Rate != 4000 || p.Throttle != want {
		t.Errorf("alice: %+v, want rate 4000 of 1000 on entity user=alice, throttle %v", p, want)
	}
	if c.Key != quotaConsumerByteRate || c.User != "bob" || c.ClientID != "batch" || c.EntityUser != QuotaDefaultName ||
		c.EntityClientID != "batch" || c.Limit != 500 || c.Rate != 100 || c.Throttle != 0 {
		t.Errorf("bob: %+v, want rate 100 of 500 on entity user=<default> client-id=batch, not throttled", c)
	}

	q.set(quotaTable{quotaEntity{user: namedQuota("alice")}: {quotaProducerByteRate: 1000}})
	if got := q.usage(now); len(got) != 1 || got[0].User != "alice" {
		t.Errorf("after bob's quota was removed: %+v, want alice's only", got)
	}
	if got := q.usage(now.Add(2 * time.Second)); len(got) != 0 {
		t.Errorf("a whole window later: %+v, want none", got)
	}
}
