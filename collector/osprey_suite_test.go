package collector

import (
	"context"
	"testing"

	"github.com/osprey-kafka/osprey/broker"
)

// startOsprey starts Osprey's own broker runtime with in-memory logs. It is
// single-broker until the controller (broker part 2) lands; then n brokers.
func startOsprey(t testing.TB, n int) []string {
	if n != 1 {
		t.Fatalf("startOsprey: %d brokers requested; the runtime runs one broker per process for now", n)
	}
	cfg := broker.DefaultConfig()
	cfg.Listeners = []string{"PLAINTEXT://127.0.0.1:0"}
	cfg.GroupInitialRebalanceDelay = 0 // tests should not wait 3 s for the first join
	b, err := broker.New(cfg, broker.WithLogger(quiet()))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return []string{b.Addr()}
}

// TestClusterSuiteOsprey runs the target-independent suite against one Osprey broker.
func TestClusterSuiteOsprey(t *testing.T) { runClusterSuite(t, startOsprey, 1) }
