package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

// newBrokerCmd runs one Kafka-compatible broker. The broker runtime replaces this placeholder.
func newBrokerCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "broker",
		Short: "Run one Kafka-compatible broker from a Kafka-style server.properties",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return fmt.Errorf("osprey broker: %w", errNotYet)
		},
	}
}
