package broker

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// served dials b and reports whether the connection answers an
// ApiVersions request (a connection over its address's rate is closed
// unanswered).
func served(t *testing.T, addr string) bool {
	t.Helper()
	c := dialRaw(t, addr)
	c.send(kmsg.NewPtrApiVersionsRequest(), 1)
	_, _, err := c.recv()
	return err == nil
}

// connection_creation_rate of an ip entity, set with AlterClientQuotas,
// closes the connections over the rate unserved; another address's
// entity and the <default> entity for a different rate do not apply.
func TestIPConnectionCreationRate(t *testing.T) {
	// Two one-second windows: a rate of 2/s lets two connections in at once.
	b := newTestBroker(t, func(c *Config) { c.Quota.Windows = 2 })
	ctx := testCtx(t, 30*time.Second)
	adm := kadm.NewClient(kgoClient(t, b))
	if _, err := adm.BrokerMetadata(ctx); err != nil {
		t.Fatal(err)
	}
	alterQuotas(t, ctx, adm,
		kadm.AlterClientQuotaEntry{Entity: quotaEnt("ip", "127.0.0.1"), Ops: []kadm.AlterClientQuotaOp{{Key: quotaConnectionCreationRate, Value: 2}}},
		kadm.AlterClientQuotaEntry{Entity: quotaEnt("ip", "<default>"), Ops: []kadm.AlterClientQuotaOp{{Key: quotaConnectionCreationRate, Value: 1000}}},
		kadm.AlterClientQuotaEntry{Entity: quotaEnt("ip", "10.0.0.1"), Ops: []kadm.AlterClientQuotaOp{{Key: quotaConnectionCreationRate, Value: 1000}}},
	)
	var ok, refused int
	for range 6 {
		if served(t, b.Addr()) {
			ok++
		} else {
			refused++
		}
	}
	if ok < 2 || refused == 0 {
		t.Fatalf("%d connections served, %d refused; want the first two served and the rest refused", ok, refused)
	}
	// Removed, the <default> entity's 1000/s applies and every connection
	// is served.
	alterQuotas(t, ctx, adm, kadm.AlterClientQuotaEntry{Entity: quotaEnt("ip", "127.0.0.1"),
		Ops: []kadm.AlterClientQuotaOp{{Key: quotaConnectionCreationRate, Remove: true}}})
	for i := range 6 {
		if !served(t, b.Addr()) {
			t.Fatalf("connection %d refused under the default 1000/s", i)
		}
	}
}

// max.connection.creation.rate delays accepting connections over the
// broker-wide rate; they are served once accepted.
func TestBrokerConnectionCreationRate(t *testing.T) {
	props, err := ConfigFromProperties(map[string]string{"max.connection.creation.rate": "2", "quota.window.num": "2"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if props.Quota.MaxConnectionCreationRate != 2 {
		t.Fatalf("max.connection.creation.rate parsed as %d", props.Quota.MaxConnectionCreationRate)
	}
	b := newTestBroker(t, func(c *Config) { c.Quota = props.Quota })
	start := time.Now()
	for i := range 5 {
		if !served(t, b.Addr()) {
			t.Fatalf("connection %d not served", i)
		}
	}
	// Connections 3, 4 and 5 wait 0.5, 1 and 1 s (capped at one window).
	if d := time.Since(start); d < 1500*time.Millisecond {
		t.Fatalf("5 connections at 2/s accepted in %v, want them spread over at least 1.5 s", d)
	}
}
