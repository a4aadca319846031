package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

// newClusterCmd is the local cluster supervisor. It needs the multi-broker runtime (controller and
// replication), which is not in this build yet; until then each subcommand says so instead of
// pretending to work.
func newClusterCmd(_ *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cluster",
		Short: "Stand up, inspect and tear down a local Kafka-compatible cluster",
	}
	for _, sub := range []struct{ use, short string }{
		{"up", "Start a local cluster of N brokers (in-process or as child processes)"},
		{"status", "Show the brokers of a local cluster and their state"},
		{"down", "Stop a local cluster"},
	} {
		cmd.AddCommand(&cobra.Command{
			Use:   sub.use,
			Short: sub.short,
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				return fmt.Errorf("osprey cluster %s: %w (the multi-broker supervisor is still being built; run single brokers with `osprey broker --config server.properties`)", sub.use, errNotYet)
			},
		})
	}
	return cmd
}
