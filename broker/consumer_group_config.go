package broker

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/osprey-kafka/osprey/broker/cgroup"
)

// ConsumerGroupConfig holds the properties of the consumer group protocol
// (KIP-848) and which group protocols the coordinator serves.
type ConsumerGroupConfig struct {
	// Protocols is group.coordinator.rebalance.protocols (default
	// classic,consumer, as in Kafka 4): without "consumer",
	// ConsumerGroupHeartbeat answers UNSUPPORTED_VERSION and clients fall
	// back to the classic protocol.
	Protocols []string
	// SessionTimeout is group.consumer.session.timeout.ms (45 s), within
	// group.consumer.min/max.session.timeout.ms (45 s / 60 s).
	SessionTimeout, MinSessionTimeout, MaxSessionTimeout time.Duration
	// HeartbeatInterval is group.consumer.heartbeat.interval.ms (5 s),
	// within group.consumer.min/max.heartbeat.interval.ms (5 s / 15 s).
	HeartbeatInterval, MinHeartbeatInterval, MaxHeartbeatInterval time.Duration
	// Assignors is group.consumer.assignors (uniform,range): the
	// server-side assignors, the first the default.
	Assignors []string
	// MaxSize is group.consumer.max.size (unlimited).
	MaxSize int32
	// Migration is group.consumer.migration.policy (bidirectional, as in
	// Kafka): whether a classic group with members becomes a consumer
	// group when a consumer protocol member joins it (upgrade), and a
	// consumer group left with only classic members a classic one
	// (downgrade). Empty groups change protocol whatever the policy.
	Migration cgroup.MigrationPolicy
}

func defaultConsumerGroupConfig() ConsumerGroupConfig {
	return ConsumerGroupConfig{Protocols: []string{"classic", "consumer"},
		SessionTimeout: 45 * time.Second, MinSessionTimeout: 45 * time.Second, MaxSessionTimeout: 60 * time.Second,
		HeartbeatInterval: 5 * time.Second, MinHeartbeatInterval: 5 * time.Second, MaxHeartbeatInterval: 15 * time.Second,
		Assignors: []string{"uniform", "range"}, MaxSize: math.MaxInt32, Migration: cgroup.MigrationBidirectional}
}

// consumerEnabled reports whether the consumer protocol is served.
func (c ConsumerGroupConfig) consumerEnabled() bool { return slices.Contains(c.Protocols, "consumer") }

// groupConfig is what the state machine needs.
func (c ConsumerGroupConfig) groupConfig() cgroup.Config {
	return cgroup.Config{SessionTimeout: c.SessionTimeout, HeartbeatInterval: c.HeartbeatInterval,
		Assignors: c.Assignors, MaxSize: int(c.MaxSize), Migration: c.Migration}
}

// assignorNames maps Kafka's assignor class names to the names clients
// send; the short names are accepted as they are.
var assignorNames = map[string]string{
	"org.apache.kafka.coordinator.group.assignor.UniformAssignor": "uniform",
	"org.apache.kafka.coordinator.group.assignor.RangeAssignor":   "range",
}

// parseConsumerGroupProperty parses a group.consumer.* property or
// group.coordinator.rebalance.protocols; ok is false for other keys.
func (c *Config) parseConsumerGroupProperty(k, v string) (ok bool, err error) {
	cg := &c.Consumer
	ms := func(dst *time.Duration) {
		var n int32
		n, err = parseInt32(v, 1, math.MaxInt32)
		*dst = time.Duration(n) * time.Millisecond
	}
	switch k {
	case "group.coordinator.rebalance.protocols":
		cg.Protocols, err = parseProtocols(v)
	case "group.consumer.session.timeout.ms":
		ms(&cg.SessionTimeout)
	case "group.consumer.min.session.timeout.ms":
		ms(&cg.MinSessionTimeout)
	case "group.consumer.max.session.timeout.ms":
		ms(&cg.MaxSessionTimeout)
	case "group.consumer.heartbeat.interval.ms":
		ms(&cg.HeartbeatInterval)
	case "group.consumer.min.heartbeat.interval.ms":
		ms(&cg.MinHeartbeatInterval)
	case "group.consumer.max.heartbeat.interval.ms":
		ms(&cg.MaxHeartbeatInterval)
	case "group.consumer.assignors":
		cg.Assignors, err = parseAssignors(v)
	case "group.consumer.max.size":
		cg.MaxSize, err = parseInt32(v, 1, math.MaxInt32)
	case "group.consumer.migration.policy":
		cg.Migration, err = cgroup.ParseMigrationPolicy(v)
	default:
		return false, nil
	}
	return true, err
}

func parseProtocols(v string) ([]string, error) {
	var out []string
	for p := range strings.SplitSeq(v, ",") {
		p = strings.ToLower(strings.TrimSpace(p))
		switch p {
		case "":
			continue
		case "classic", "consumer":
			out = append(out, p)
		case "share", "streams":
			// Kafka accepts them; this broker serves neither.
		default:
			return nil, fmt.Errorf("unknown group protocol %q (classic, consumer, share, streams)", p)
		}
	}
	if !slices.Contains(out, "classic") {
		return nil, fmt.Errorf("the classic protocol must be enabled")
	}
	return out, nil
}

func parseAssignors(v string) ([]string, error) {
	var out []string
	for a := range strings.SplitSeq(v, ",") {
		a = strings.TrimSpace(a)
		if a == "" {
			continue
		}
		if short, ok := assignorNames[a]; ok {
			a = short
		}
		if _, ok := cgroup.Assignors[a]; !ok {
			return nil, fmt.Errorf("unknown assignor %q (uniform, range)", a)
		}
		out = append(out, a)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("at least one assignor is required")
	}
	return out, nil
}

// validateConsumerGroups checks the timeouts against their bounds, as
// Kafka does at start.
func (c Config) validateConsumerGroups() error {
	cg := c.Consumer
	switch {
	case cg.SessionTimeout < cg.MinSessionTimeout || cg.SessionTimeout > cg.MaxSessionTimeout:
		return fmt.Errorf("property group.consumer.session.timeout.ms: %d must be within group.consumer.min.session.timeout.ms (%d) and group.consumer.max.session.timeout.ms (%d)",
			cg.SessionTimeout.Milliseconds(), cg.MinSessionTimeout.Milliseconds(), cg.MaxSessionTimeout.Milliseconds())
	case cg.HeartbeatInterval < cg.MinHeartbeatInterval || cg.HeartbeatInterval > cg.MaxHeartbeatInterval:
		return fmt.Errorf("property group.consumer.heartbeat.interval.ms: %d must be within group.consumer.min.heartbeat.interval.ms (%d) and group.consumer.max.heartbeat.interval.ms (%d)",
			cg.HeartbeatInterval.Milliseconds(), cg.MinHeartbeatInterval.Milliseconds(), cg.MaxHeartbeatInterval.Milliseconds())
	case cg.HeartbeatInterval >= cg.SessionTimeout:
		return fmt.Errorf("property group.consumer.heartbeat.interval.ms: must be less than group.consumer.session.timeout.ms")
	}
	return nil
}

// addConsumerGroupProperties adds the properties above (Properties).
func (c Config) addConsumerGroupProperties(props map[string]string) {
	cg := c.Consumer
	ms := func(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }
	props["group.coordinator.rebalance.protocols"] = strings.Join(cg.Protocols, ",")
	props["group.consumer.session.timeout.ms"] = ms(cg.SessionTimeout)
	props["group.consumer.min.session.timeout.ms"] = ms(cg.MinSessionTimeout)
	props["group.consumer.max.session.timeout.ms"] = ms(cg.MaxSessionTimeout)
	props["group.consumer.heartbeat.interval.ms"] = ms(cg.HeartbeatInterval)
	props["group.consumer.min.heartbeat.interval.ms"] = ms(cg.MinHeartbeatInterval)
	props["group.consumer.max.heartbeat.interval.ms"] = ms(cg.MaxHeartbeatInterval)
	props["group.consumer.assignors"] = strings.Join(cg.Assignors, ",")
	props["group.consumer.max.size"] = strconv.Itoa(int(cg.MaxSize))
	props["group.consumer.migration.policy"] = string(cg.Migration)
}
