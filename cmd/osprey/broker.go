package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/osprey-kafka/osprey/broker"
)

// newBrokerCmd is `osprey broker --config server.properties`: one
// Kafka-compatible broker process configured with Apache Kafka's broker
// property names. It stops gracefully (logs flushed and closed) on SIGTERM
// or SIGINT, and exits with status 1 when every log dir has failed.
func newBrokerCmd() *cobra.Command {
	var (
		configPath string
		overrides  []string
	)
	cmd := &cobra.Command{
		Use:   "broker",
		Short: "Run one Kafka-compatible broker (server.properties configuration)",
		Long: "Run one Kafka-compatible broker. The configuration file uses Apache Kafka's broker\n" +
			"property names (broker.id, listeners, advertised.listeners, log.dirs, num.partitions,\n" +
			"log.segment.bytes, log.retention.hours, ...); --override key=value takes precedence.\n\n" +
			"With process.roles the node runs in KRaft mode (Kafka's names: node.id, controller.quorum.voters,\n" +
			"controller.listener.names, a CONTROLLER listener in listeners); format its directories first with\n" +
			"`osprey storage format`. process.roles=controller runs a controller only; broker,controller a\n" +
			"combined node.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log := slog.Default()
			props := map[string]string{}
			if configPath != "" {
				f, err := os.Open(configPath)
				if err != nil {
					return fmt.Errorf("opening broker config: %w", err)
				}
				p, err := broker.ReadProperties(f)
				f.Close()
				if err != nil {
					return fmt.Errorf("%s: %w", configPath, err)
				}
				props = p
			}
			for _, o := range overrides {
				k, v, ok := cutKV(o)
				if !ok {
					return fmt.Errorf("--override %q: want key=value", o)
				}
				props[k] = v
			}
			cfg, err := broker.ConfigFromProperties(props, log)
			if err != nil {
				return err
			}
			if cfg.KRaft() && !cfg.HasRole(broker.RoleBroker) {
				return runController(cmd.Context(), cfg, log)
			}
			// A process of its own: when every log dir has failed it exits
			// with status 1 at once, as Kafka's broker halts.
			b, err := broker.New(cfg, broker.WithLogger(log), broker.WithExitOnHalt())
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGTERM, syscall.SIGINT)
			defer stop()
			startCtx, cancel := context.WithTimeout(ctx, 5*time.Minute)
			err = b.Start(startCtx)
			cancel()
			if err != nil {
				return err
			}
			<-ctx.Done()
			log.Info("shutting down broker")
			return b.Close()
		},
	}
	cmd.Flags().StringVarP(&configPath, "config", "c", "", "server.properties file")
	cmd.Flags().StringArrayVar(&overrides, "override", nil, "property override key=value (repeatable)")
	return cmd
}

func cutKV(s string) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == '=' {
			return s[:i], s[i+1:], i > 0
		}
	}
	return "", "", false
}

// runController runs a controller-only KRaft node (process.roles=controller)
// until SIGTERM or SIGINT.
func runController(ctx context.Context, cfg broker.Config, log *slog.Logger) error {
	c, err := broker.NewController(cfg, log)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	startCtx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	err = c.Start(startCtx)
	cancel()
	if err != nil {
		return err
	}
	<-ctx.Done()
	log.Info("shutting down controller")
	return c.Close()
}
