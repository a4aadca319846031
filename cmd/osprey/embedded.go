package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/osprey-kafka/osprey/broker"
	"github.com/osprey-kafka/osprey/config"
)

// embeddedCluster is the cluster the console runs in its own process when `embedded.enabled` is set.
type embeddedCluster struct {
	brokers []*broker.Broker
}

// startEmbedded starts the embedded cluster's brokers on loopback with their logs under dataDir.
// The runtime has no controller or replication yet, so it runs one broker whatever embedded.brokers
// says; the console shows it as a one-broker cluster rather than pretending to have more.
func startEmbedded(ctx context.Context, cfg config.Config, log *slog.Logger) (*embeddedCluster, error) {
	if cfg.Embedded.Brokers > 1 {
		log.Warn("the embedded cluster runs a single broker until the multi-broker runtime lands", "requested", cfg.Embedded.Brokers)
	}
	bc := broker.DefaultConfig()
	bc.BrokerID = 0
	bc.LogDirs = []string{filepath.Join(cfg.DataDir, "embedded", "broker-0")}
	bc.NumPartitions = 3
	bc.GroupInitialRebalanceDelay = 0
	b, err := broker.New(bc, broker.WithLogger(log.With("component", "embedded")))
	if err != nil {
		return nil, fmt.Errorf("embedded broker: %w", err)
	}
	if err := b.Start(ctx); err != nil {
		return nil, fmt.Errorf("starting the embedded broker: %w", err)
	}
	return &embeddedCluster{brokers: []*broker.Broker{b}}, nil
}

// Bootstrap lists the brokers' addresses.
func (e *embeddedCluster) Bootstrap() []string {
	out := make([]string, 0, len(e.brokers))
	for _, b := range e.brokers {
		out = append(out, b.Addr())
	}
	return out
}

// Close stops every broker, flushing their logs.
func (e *embeddedCluster) Close() error {
	var errs []error
	for _, b := range e.brokers {
		errs = append(errs, b.Close())
	}
	return errors.Join(errs...)
}
