package broker

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/osprey-kafka/osprey/broker/cgroup"
)

// group.consumer.* and group.coordinator.rebalance.protocols are read with
// Kafka's names and checked against Kafka's bounds at start.
func TestConsumerGroupConfig(t *testing.T) {
	cfg, err := ConfigFromProperties(map[string]string{
		"group.consumer.assignors":             "org.apache.kafka.coordinator.group.assignor.RangeAssignor,uniform",
		"group.consumer.heartbeat.interval.ms": "6000",
		"group.consumer.session.timeout.ms":    "50000",
		"group.consumer.migration.policy":      "UPGRADE",
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cg := cfg.Consumer; !slices.Equal(cg.Assignors, []string{"range", "uniform"}) || cg.HeartbeatInterval != 6*time.Second ||
		cg.SessionTimeout != 50*time.Second || !cg.consumerEnabled() || cg.Migration != cgroup.MigrationUpgrade {
		t.Fatalf("parsed %+v", cg)
	}
	back, err := ConfigFromProperties(cfg.Properties(), nil)
	if err != nil || !slices.Equal(back.Consumer.Assignors, cfg.Consumer.Assignors) || back.Consumer.SessionTimeout != cfg.Consumer.SessionTimeout {
		t.Fatalf("round trip through Properties: %+v %v", back.Consumer, err)
	}
	for _, bad := range []map[string]string{
		{"group.consumer.session.timeout.ms": "30000"},                                                 // below the 45 s minimum
		{"group.consumer.heartbeat.interval.ms": "20000"},                                              // above the 15 s maximum
		{"group.consumer.min.session.timeout.ms": "1000", "group.consumer.session.timeout.ms": "4000"}, // not above the heartbeat
		{"group.consumer.assignors": "sticky"},
		{"group.coordinator.rebalance.protocols": "consumer"}, // classic is required
		{"group.coordinator.rebalance.protocols": "classic,fancy"},
		{"group.consumer.migration.policy": "both"},
	} {
		if _, err := ConfigFromProperties(bad, nil); err == nil || !strings.Contains(err.Error(), "group.") {
			t.Errorf("%v accepted (%v)", bad, err)
		}
	}
	off, err := ConfigFromProperties(map[string]string{"group.coordinator.rebalance.protocols": "classic"}, nil)
	if err != nil || off.Consumer.consumerEnabled() || off.Consumer.Migration != cgroup.MigrationBidirectional {
		t.Fatalf("classic only: %+v %v", off.Consumer, err)
	}
}
