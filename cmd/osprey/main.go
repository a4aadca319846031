// Command osprey is the whole product in one binary: the monitoring console (`serve`, the default), a
// Kafka-compatible broker (`broker`), a local cluster supervisor (`cluster`), database migrations
// (`migrate`), the console's OpenAPI document (`openapi`), `import efak` (Kafka-Eagle's settings) and
// `version`.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/osprey-kafka/osprey/config"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := newRootCmd()
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "osprey:", err)
		os.Exit(1)
	}
}

// globalFlags are shared by every subcommand.
type globalFlags struct {
	configFile string
}

func newRootCmd() *cobra.Command {
	g := &globalFlags{}
	serve := newServeCmd(g)
	root := &cobra.Command{
		Use:   "osprey",
		Short: "Kafka monitoring and management console with its own Kafka-compatible broker runtime",
		Long: `Osprey watches Kafka clusters (brokers, ISR, leader skew, lag, rates), runs the operations
operators do by hand (topics, reassignment, preferred leader election), alerts on lag and
cluster health, and can stand up a Kafka-compatible cluster of its own.

Without a subcommand it runs the console (the same as "osprey serve").`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		RunE:          serve.RunE,
	}
	root.PersistentFlags().StringVarP(&g.configFile, "config", "c", "", "YAML configuration file (see config/osprey.example.yaml)")
	// The root runs serve, so it accepts serve's flags too.
	root.Flags().AddFlagSet(serve.Flags())
	root.AddCommand(serve, newMigrateCmd(g), newVersionCmd(), newBrokerCmd(), newClusterCmd(g), newStorageCmd(), newOpenAPICmd(),
		newImportCmd(g), newQuorumCmd())
	return root
}

// loadConfig reads the file named by --config, the OSPREY_* environment and the given flag values.
func loadConfig(g *globalFlags, flags map[string]string) (config.Config, error) {
	return config.Load(config.LoadOptions{File: g.configFile, Env: os.Environ(), Flags: flags})
}

// newLogger builds the console's slog logger from the configuration.
func newLogger(w io.Writer, c config.Log) *slog.Logger {
	var level slog.Level
	switch strings.ToLower(c.Level) {
	case "debug":
		level = slog.LevelDebug
	case "warn":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	default:
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintln(cmd.OutOrStdout(), "osprey", version)
		},
	}
}
