package config

import (
	"strings"
	"testing"
)

// The embedded cluster is a KRaft cluster by default; embedded.mode
// zookeeper keeps ZooKeeper mode, and any other mode is refused by name.
func TestEmbeddedMode(t *testing.T) {
	cfg := Default()
	if cfg.Embedded.Mode != EmbeddedKRaft {
		t.Fatalf("default embedded.mode = %q, want kraft", cfg.Embedded.Mode)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	cfg.Embedded.Mode = EmbeddedZooKeeper
	if err := cfg.Validate(); err != nil {
		t.Fatalf("embedded.mode zookeeper: %v", err)
	}
	cfg.Embedded.Mode = "raft"
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "embedded.mode") {
		t.Fatalf("embedded.mode raft: %v, want a problem naming embedded.mode", err)
	}
}
