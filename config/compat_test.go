package config

import (
	"strings"
	"testing"
)

func TestCompatDefaultsAndValidation(t *testing.T) {
	cfg := Default()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	if kx := cfg.Compat.KafkaExporter; !kx.Enabled || kx.Path != "/metrics/kafka-exporter" || kx.ClusterLabel != "cluster" {
		t.Fatalf("kafkaExporter defaults = %+v", kx)
	}
	if b := cfg.Compat.Burrow; !b.Enabled || b.Role != "" || b.Intervals != 10 {
		t.Fatalf("burrow defaults = %+v", b)
	}
	cfg, err := Load(LoadOptions{Env: []string{"OSPREY_COMPAT_KAFKA_EXPORTER_PATH=/metrics", "OSPREY_COMPAT_BURROW_ROLE=viewer"}})
	if err != nil || cfg.Compat.KafkaExporter.Path != "/metrics" || cfg.Compat.Burrow.Role != "viewer" {
		t.Fatalf("environment: %+v %v", cfg.Compat, err)
	}
	for _, tc := range []struct {
		set  func(*Config)
		want string
	}{
		{func(c *Config) { c.Compat.KafkaExporter.Path = "metrics" }, "compat.kafkaExporter.path"},
		{func(c *Config) { c.Compat.KafkaExporter.Path = "/api/v1/x" }, "compat.kafkaExporter.path"},
		{func(c *Config) { c.Compat.KafkaExporter.ClusterLabel = "my-cl" }, "compat.kafkaExporter.clusterLabel"},
		{func(c *Config) { c.Compat.KafkaExporter.MaxSeries = 0 }, "compat.kafkaExporter.maxSeries"},
		{func(c *Config) { c.Compat.Burrow.Role = "root" }, "compat.burrow.role"},
		{func(c *Config) { c.Compat.Burrow.Intervals = 11 }, "compat.burrow.intervals"},
	} {
		c := Default()
		tc.set(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want+":") {
			t.Errorf("want a problem on %s, got %v", tc.want, err)
		}
	}
	// Disabled, the settings are not checked.
	c := Default()
	c.Compat.KafkaExporter = KafkaExporter{}
	c.Compat.Burrow = Burrow{}
	if err := c.Validate(); err != nil {
		t.Fatalf("disabled: %v", err)
	}
}
