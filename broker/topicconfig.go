package broker

import (
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/osprey-kafka/osprey/broker/storage"
)

// Topic-level configs this broker accepts. The log configs come from the
// storage package; the others are accepted and reported, and some are
// enforced by the broker (min.insync.replicas for acks=all).
var extraTopicConfigs = map[string]func(c Config) string{
	"min.insync.replicas":                     func(c Config) string { return strconv.Itoa(int(c.MinInsyncReplicas)) },
	"compression.type":                        func(Config) string { return "producer" },
	"unclean.leader.election.enable":          func(Config) string { return "false" },
	"message.downconversion.enable":           func(Config) string { return "true" },
	"preallocate":                             func(Config) string { return "false" },
	"message.timestamp.difference.max.ms":     func(Config) string { return "9223372036854775807" },
	"follower.replication.throttled.replicas": func(Config) string { return "" },
	"leader.replication.throttled.replicas":   func(Config) string { return "" },
}

// topicConfigDefs is the set of accepted topic config names.
var topicConfigDefs = func() map[string]struct{} {
	m := map[string]struct{}{}
	for _, k := range storage.ConfigKeys {
		m[k] = struct{}{}
	}
	for k := range extraTopicConfigs {
		m[k] = struct{}{}
	}
	return m
}()

func isLogConfig(k string) bool { return slices.Contains(storage.ConfigKeys, k) }

// validateTopicConfig checks one topic config override.
func validateTopicConfig(k, v string) error {
	if _, ok := topicConfigDefs[k]; !ok {
		return fmt.Errorf("%w: unknown topic config %s", ErrInvalidConfig, k)
	}
	if isLogConfig(k) {
		if _, err := storage.DefaultConfig().WithOverrides(map[string]string{k: v}); err != nil {
			return fmt.Errorf("%w: %v", ErrInvalidConfig, err)
		}
		return nil
	}
	if k == "min.insync.replicas" {
		if n, err := strconv.Atoi(v); err != nil || n < 1 {
			return fmt.Errorf("%w: min.insync.replicas=%q", ErrInvalidConfig, v)
		}
	}
	return nil
}

// brokerLogDefaults maps the broker's log.* settings onto a storage config.
func (c Config) brokerLogDefaults() storage.Config {
	sc := storage.DefaultConfig()
	sc.SegmentBytes = c.LogSegmentBytes
	sc.SegmentMs = c.LogRoll.Milliseconds()
	if c.LogRetention < 0 {
		sc.RetentionMs = -1
	} else {
		sc.RetentionMs = c.LogRetention.Milliseconds()
	}
	sc.RetentionBytes = c.LogRetentionBytes
	sc.IndexIntervalBytes = c.LogIndexIntervalBytes
	sc.MaxMessageBytes = c.MessageMaxBytes
	// Zero values (a Config not built from DefaultConfig) keep storage's
	// defaults.
	if c.LogFlushIntervalMsgs > 0 {
		sc.FlushMessages = c.LogFlushIntervalMsgs
	}
	if c.LogFlushInterval > 0 {
		sc.FlushMs = c.LogFlushInterval.Milliseconds()
	}
	if c.LogCleanupPolicy != "" {
		sc.CleanupPolicy = c.LogCleanupPolicy
	}
	if c.LogMessageTimestamp != "" {
		sc.MessageTimestampType = c.LogMessageTimestamp
	}
	c.applyCleanerDefaults(&sc)
	return sc
}

// logConfigFor returns the storage config of a topic: broker defaults with
// the topic's log overrides.
func (c Config) logConfigFor(overrides map[string]string) (storage.Config, error) {
	logKeys := map[string]string{}
	for k, v := range overrides {
		if isLogConfig(k) {
			logKeys[k] = v
		}
	}
	return c.brokerLogDefaults().WithOverrides(logKeys)
}

// effectiveTopicConfigs lists every topic config with its value and whether
// it is a topic override, for DescribeConfigs.
func (c Config) effectiveTopicConfigs(overrides map[string]string) map[string]configValue {
	out := map[string]configValue{}
	for k, v := range c.brokerLogDefaults().Entries() {
		out[k] = configValue{value: v}
	}
	for k, f := range extraTopicConfigs {
		out[k] = configValue{value: f(c)}
	}
	for k, v := range maps.All(overrides) {
		out[k] = configValue{value: v, override: true}
	}
	return out
}

type configValue struct {
	value    string
	override bool
}

// storageConfig is the storage package's per-log config.
type storageConfig = storage.Config
