package broker

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"
)

// testBrokerOpt adjusts a test broker's config.
type testBrokerOpt func(*Config)

func withDir(dir string) testBrokerOpt { return func(c *Config) { c.LogDirs = []string{dir} } }

// testConfig is DefaultConfig tuned for fast tests: a random loopback
// port, few offsets partitions, no initial rebalance delay.
func testConfig(opts ...testBrokerOpt) Config {
	cfg := DefaultConfig()
	cfg.OffsetsTopicPartitions = 4
	cfg.GroupInitialRebalanceDelay = 0
	cfg.GroupMinSessionTimeout = 100 * time.Millisecond
	for _, o := range opts {
		o(&cfg)
	}
	return cfg
}

func testLogger(t testing.TB) *slog.Logger {
	level := slog.LevelWarn
	if os.Getenv("OSPREY_TEST_DEBUG") != "" {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: level}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

// newTestBroker starts a broker on 127.0.0.1:0 and closes it at cleanup.
func newTestBroker(t testing.TB, opts ...testBrokerOpt) *Broker {
	t.Helper()
	return startTestBroker(t, testConfig(opts...))
}

func startTestBroker(t testing.TB, cfg Config) *Broker {
	t.Helper()
	b, err := New(cfg, WithLogger(testLogger(t)))
	if err != nil {
		t.Fatalf("new broker: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := b.Start(ctx); err != nil {
		t.Fatalf("start broker: %v", err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("close broker: %v", err)
		}
	})
	return b
}

func testCtx(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
