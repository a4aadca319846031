package broker

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// The snapshot triggers take Kafka's names and defaults (20 MiB of records, 1 h), survive a
// round trip, and reach the KRaft node; Kafka's interval 0 (no time-based snapshots) becomes
// the node's negative interval.
func TestParseKRaftSnapshotKeys(t *testing.T) {
	quiet := slog.New(slog.DiscardHandler)
	cfg, err := ParseProperties(strings.NewReader(designDocKRaft), quiet)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MetadataSnapshotMaxBytes != 20<<20 || cfg.MetadataSnapshotInterval != time.Hour {
		t.Fatalf("defaults: %d bytes, %v; want 20 MiB, 1h", cfg.MetadataSnapshotMaxBytes, cfg.MetadataSnapshotInterval)
	}
	if n := cfg.nodeConfig("c", quiet); n.SnapshotMaxBytes != 20<<20 || n.SnapshotInterval != time.Hour {
		t.Fatalf("node config: %d bytes, %v", n.SnapshotMaxBytes, n.SnapshotInterval)
	}
	set := designDocKRaft + "metadata.log.max.record.bytes.between.snapshots=4096\nmetadata.log.max.snapshot.interval.ms=0\n"
	cfg, err = ParseProperties(strings.NewReader(set), quiet)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := cfg.WriteProperties(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := ParseProperties(&buf, quiet)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []Config{cfg, back} {
		if c.MetadataSnapshotMaxBytes != 4096 || c.MetadataSnapshotInterval != 0 {
			t.Fatalf("set values not read (or not written back): %d bytes, %v", c.MetadataSnapshotMaxBytes, c.MetadataSnapshotInterval)
		}
		if n := c.nodeConfig("c", quiet); n.SnapshotMaxBytes != 4096 || n.SnapshotInterval >= 0 {
			t.Fatalf("node config: %d bytes, interval %v; want 4096 and none", n.SnapshotMaxBytes, n.SnapshotInterval)
		}
	}
	_, err = ParseProperties(strings.NewReader(designDocKRaft+"metadata.log.max.record.bytes.between.snapshots=0\n"), quiet)
	if err == nil || !strings.Contains(err.Error(), "metadata.log.max.record.bytes.between.snapshots") {
		t.Fatalf("0 bytes between snapshots accepted or not named: %v", err)
	}
}
