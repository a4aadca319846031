package chaos

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"testing"
	"time"

	"github.com/osprey-kafka/osprey/broker"
)

// envChild set in a child's environment makes the test binary run one
// broker or controller node from the properties file it names, as
// `osprey broker --config` does, instead of the tests: the suite needs no
// separately built osprey binary.
const envChild = "OSPREY_CHAOS_NODE_CONFIG"

func TestMain(m *testing.M) {
	if path := os.Getenv(envChild); path != "" {
		if err := runNode(path); err != nil {
			fmt.Fprintln(os.Stderr, "chaos node:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runNode runs the node configured in path until SIGTERM or SIGINT.
func runNode(path string) error {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	slog.SetDefault(log)
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("opening node config: %w", err)
	}
	props, err := broker.ReadProperties(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	cfg, err := broker.ConfigFromProperties(props, log)
	if err != nil {
		return err
	}
	type node interface {
		Start(context.Context) error
		Close() error
	}
	var n node
	if cfg.KRaft() && !cfg.HasRole(broker.RoleBroker) {
		n, err = broker.NewController(cfg, log)
	} else {
		n, err = broker.New(cfg, broker.WithLogger(log), broker.WithExitOnHalt())
	}
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	startCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	err = n.Start(startCtx)
	cancel()
	if err != nil {
		return err
	}
	<-ctx.Done()
	log.Info("chaos node: shutting down")
	return n.Close()
}
