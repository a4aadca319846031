package storage

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestManagerLifecycle(t *testing.T) {
	clk := newClock()
	dir := t.TempDir()
	m, _ := newTestManager(t, dir, clk)
	cfg := testConfig(nil)
	for _, bad := range []string{"", "..", "a/b", "x y", strings.Repeat("x", 250)} {
		if _, err := m.GetOrCreate(bad, 0, cfg); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("topic %q accepted: %v", bad, err)
		}
	}
	l, err := m.GetOrCreate("my-topic", 3, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(simpleBatch(t, 0, 3, 10, "m"), 0); err != nil {
		t.Fatal(err)
	}
	l.SetHighWatermark(2)
	if got, ok := m.Get("my-topic", 3); !ok || got != l {
		t.Fatal("Get does not return the created log")
	}
	if again, _ := m.GetOrCreate("my-topic", 3, testConfig(func(c *Config) { c.RetentionMs = 5 })); again != l || l.Config().RetentionMs != 5 {
		t.Fatal("GetOrCreate of an existing log must return it with the new config")
	}
	if err := m.UpdateConfig("my-topic", testConfig(func(c *Config) { c.RetentionMs = 9 })); err != nil || l.Config().RetentionMs != 9 {
		t.Fatalf("UpdateConfig: %v", err)
	}
	if _, err := m.GetOrCreate("other", 0, cfg); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, pl := range m.Logs() {
		names = append(names, pl.TopicPartition.String())
	}
	if !reflect.DeepEqual(names, []string{"my-topic-3", "other-0"}) {
		t.Fatalf("Logs() = %v", names)
	}
	// A second manager on the same dir is refused while this one is open.
	if _, err := OpenManager(dir, nil); err == nil {
		t.Fatal("second OpenManager on a locked dir succeeded")
	}
	if err := m.EnsureMetaProperties("clusterX", 4); err != nil {
		t.Fatal(err)
	}
	if err := m.EnsureMetaProperties("clusterX", 5); err == nil {
		t.Fatal("broker.id mismatch accepted")
	}
	props, err := ReadProperties(filepath.Join(dir, MetaPropertiesFile))
	if err != nil || props["version"] != "0" || props["broker.id"] != "4" || props["cluster.id"] != "clusterX" {
		t.Fatalf("meta.properties %v %v", props, err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		RecoveryPointCheckpointFile:  "0\n2\nmy-topic 3 3\nother 0 0\n",
		LogStartOffsetCheckpointFile: "0\n2\nmy-topic 3 0\nother 0 0\n",
		ReplicationCheckpointFile:    "0\n2\nmy-topic 3 2\nother 0 0\n",
	} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || string(b) != want {
			t.Errorf("%s = %q, %v; want %q", name, b, err, want)
		}
	}

	// Reopen: the logs are found and their state restored.
	m2, _ := newTestManager(t, dir, clk)
	l2, ok := m2.Get("my-topic", 3)
	if !ok || l2.LogEndOffset() != 3 || l2.HighWatermark() != 2 {
		t.Fatalf("reopened log: ok %v", ok)
	}
	if err := m2.Delete("my-topic", 3); err != nil {
		t.Fatal(err)
	}
	if _, ok := m2.Get("my-topic", 3); ok {
		t.Fatal("deleted log still present")
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "my-topic-3") {
			t.Fatalf("%s left behind", e.Name())
		}
	}
	if _, err := l2.Append(simpleBatch(t, 0, 1, 1, "x"), 0); !errors.Is(err, ErrLogClosed) || KafkaErrorCode(err) != 56 {
		t.Fatalf("append to deleted log: %v", err)
	}
}

func TestDeleteLeftoversRemovedOnOpen(t *testing.T) {
	dir := t.TempDir()
	left := filepath.Join(dir, "gone-0.0123456789abcdef0123456789abcdef-delete")
	if err := os.MkdirAll(left, 0o755); err != nil {
		t.Fatal(err)
	}
	newTestManager(t, dir, newClock())
	if _, err := os.Stat(left); !os.IsNotExist(err) {
		t.Fatalf("leftover -delete dir survived open: %v", err)
	}
}

func TestCheckpointFormat(t *testing.T) {
	vals := map[TopicPartition]int64{{"a", 0}: 5, {"a-b", 10}: 1 << 40, {"__consumer_offsets", 49}: 0}
	b := formatCheckpoint(vals)
	if string(b) != "0\n3\n__consumer_offsets 49 0\na 0 5\na-b 10 1099511627776\n" {
		t.Fatalf("format: %q", b)
	}
	got, err := parseCheckpoint(b)
	if err != nil || !reflect.DeepEqual(got, vals) {
		t.Fatalf("round trip: %v %v", got, err)
	}
	for _, bad := range []string{"", "1\n0\n", "0\n2\na 0 1\n", "0\n1\na x 1\n", "0\n1\na 0\n"} {
		if _, err := parseCheckpoint([]byte(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	if tp, ok := parsePartitionDir("a-b-12"); !ok || tp != (TopicPartition{"a-b", 12}) {
		t.Fatalf("parsePartitionDir: %v %v", tp, ok)
	}
	for _, bad := range []string{"ab", "a-", "-1", "a-x", "a-0.abc-delete"} {
		if _, ok := parsePartitionDir(bad); ok {
			t.Errorf("%q parsed as a partition dir", bad)
		}
	}
}

func TestMemoryManager(t *testing.T) {
	m := NewMemoryManager(nil)
	l, err := m.GetOrCreate("t", 0, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(simpleBatch(t, 0, 2, 3, "m"), 0); err != nil {
		t.Fatal(err)
	}
	if err := m.WriteCheckpoints(); err != nil {
		t.Fatal(err)
	}
	if err := m.Delete("t", 0); err != nil {
		t.Fatal(err)
	}
	if len(m.Logs()) != 0 {
		t.Fatal("log not deleted")
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestCheckpointsNotOverwrittenAfterClose(t *testing.T) {
	dir := t.TempDir()
	m, _ := newTestManager(t, dir, newClock())
	l, _ := m.GetOrCreate("c", 0, DefaultConfig())
	l.Append(simpleBatch(t, 0, 4, 1, "c"), 0)
	l.SetHighWatermark(4)
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(dir, ReplicationCheckpointFile))
	if err := m.WriteCheckpoints(); err != nil { // e.g. a retention loop outliving Close
		t.Fatal(err)
	}
	after, _ := os.ReadFile(filepath.Join(dir, ReplicationCheckpointFile))
	if string(before) != "0\n1\nc 0 4\n" || string(after) != string(before) {
		t.Fatalf("checkpoint before %q after %q", before, after)
	}
}

func TestMemoryManagerWritesNothing(t *testing.T) {
	wd := t.TempDir()
	t.Chdir(wd)
	m := NewMemoryManager(nil)
	l, _ := m.GetOrCreate("t", 0, DefaultConfig())
	l.Append(simpleBatch(t, 0, 1, 1, "m"), 0)
	if err := m.EnsureMetaProperties("c", 1); err != nil {
		t.Fatal(err)
	}
	m.Close()
	if ents, _ := os.ReadDir(wd); len(ents) != 0 {
		t.Fatalf("memory manager wrote %d files", len(ents))
	}
}
