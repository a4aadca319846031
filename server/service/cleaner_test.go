package service

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/osprey-kafka/osprey/broker/storage"
	"github.com/osprey-kafka/osprey/collector"
	"github.com/osprey-kafka/osprey/internal/testenv"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestTopicCleanerStateOnRuntimeCluster produces keyed records over many small segments to a
// compacted topic of the embedded cluster, waits for the broker's log cleaner to clean it, and
// checks that the topic detail shows the policy and exactly the figures the broker's cleaner
// reports; a delete-policy topic has no cleaner state.
func TestTopicCleanerStateOnRuntimeCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a runtime cluster")
	}
	ctx := context.Background()
	svc := New(Options{Logger: quietLog(), DataDir: t.TempDir(),
		Collector: collector.Config{OffsetsInterval: time.Hour, GroupsInterval: time.Hour, LogDirsInterval: time.Hour}})
	t.Cleanup(svc.Stop)
	boot, err := svc.StartEmbedded(ctx, "rt", 1, false, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	who := Caller{Identity: Identity{Name: "test", Kind: "admin-token", Role: RoleAdmin}}
	for _, req := range []CreateTopicRequest{
		{Name: "changelog", Partitions: 2, ReplicationFactor: 1, Configs: map[string]string{
			"cleanup.policy": "compact", "segment.bytes": "4096", "min.cleanable.dirty.ratio": "0.01"}},
		{Name: "events", Partitions: 1, ReplicationFactor: 1},
	} {
		if err := svc.CreateTopic(ctx, who, "rt", req); err != nil {
			t.Fatal(err)
		}
	}
	produceKeyed(t, boot, "changelog", 20, 30)

	svc.runtime.mu.Lock()
	b := svc.runtime.clusters["rt"].sup.Broker(1)
	svc.runtime.mu.Unlock()
	// The cleaner has cleaned both partitions and has nothing left to clean: its figures hold still.
	testenv.WaitFor(t, 90*time.Second, func() error {
		for _, s := range cleanerStates(b.LogCleanerStates(), "changelog") {
			if s.LastCleanedMs == 0 || s.DirtyBytes != 0 {
				return fmt.Errorf("partition %d: last cleaned %d, dirty bytes %d", s.Partition, s.LastCleanedMs, s.DirtyBytes)
			}
		}
		return nil
	})
	c, err := svc.get("rt")
	if err != nil {
		t.Fatal(err)
	}
	c.collector.PollNow(ctx)
	d, err := svc.Topic("rt", "changelog")
	if err != nil {
		t.Fatal(err)
	}
	want := cleanerStates(b.LogCleanerStates(), "changelog")
	checkTopicCleaner(t, d, want)

	ev, err := svc.Topic("rt", "events")
	if err != nil {
		t.Fatal(err)
	}
	if ev.CleanupPolicy != "delete" || ev.Cleaner != nil || ev.PartitionsL[0].Cleaner != nil {
		t.Errorf("delete topic: policy %q, cleaner %+v, partition cleaner %+v", ev.CleanupPolicy, ev.Cleaner, ev.PartitionsL[0].Cleaner)
	}
}

// checkTopicCleaner compares a topic's cleaner figures with the broker's states of its partitions.
func checkTopicCleaner(t *testing.T, d TopicDetail, want []storage.LogCleanerState) {
	t.Helper()
	if d.CleanupPolicy != "compact" || d.Cleaner == nil || !d.Cleaner.Reported || d.Cleaner.Partitions != len(want) {
		t.Fatalf("policy %q, cleaner %+v, want %d partitions reported", d.CleanupPolicy, d.Cleaner, len(want))
	}
	var sum collector.TopicCleaner
	var last int64
	for _, s := range want {
		p := d.PartitionsL[s.Partition].Cleaner
		if p == nil {
			t.Fatalf("partition %d: no cleaner state", s.Partition)
		}
		got := [7]int64{p.FirstDirtyOffset, p.CleanBytes, p.DirtyBytes, p.BytesCleaned, p.BytesFreed, p.FreeableBytes, p.LastCleaned.UnixMilli()}
		exp := [7]int64{s.FirstDirtyOffset, s.CleanBytes, s.DirtyBytes, s.BytesCleaned, s.BytesFreed, s.FreeableBytes, s.LastCleanedMs}
		if got != exp || p.DirtyRatio != s.DirtyRatio {
			t.Errorf("partition %d: got %v ratio %v, the broker's cleaner reports %v ratio %v", s.Partition, got, p.DirtyRatio, exp, s.DirtyRatio)
		}
		if s.BytesCleaned == 0 || s.BytesFreed == 0 {
			t.Errorf("partition %d: the clean read %d bytes and freed %d", s.Partition, s.BytesCleaned, s.BytesFreed)
		}
		sum.CleanBytes += s.CleanBytes
		sum.DirtyBytes += s.DirtyBytes
		sum.BytesCleaned += s.BytesCleaned
		sum.BytesFreed += s.BytesFreed
		sum.FreeableBytes += s.FreeableBytes
		last = max(last, s.LastCleanedMs)
	}
	tc := d.Cleaner
	if tc.CleanBytes != sum.CleanBytes || tc.DirtyBytes != sum.DirtyBytes || tc.BytesCleaned != sum.BytesCleaned ||
		tc.BytesFreed != sum.BytesFreed || tc.FreeableBytes != sum.FreeableBytes || tc.LastCleaned.UnixMilli() != last || tc.DirtyRatio != 0 {
		t.Errorf("topic cleaner %+v, want the partitions' sums %+v and last cleaned %d", tc, sum, last)
	}
}

func cleanerStates(all []storage.LogCleanerState, topic string) []storage.LogCleanerState {
	var out []storage.LogCleanerState
	for _, s := range all {
		if s.Topic == topic {
			out = append(out, s)
		}
	}
	return out
}

// produceKeyed writes rounds values of each of keys keys to every partition of topic.
func produceKeyed(t *testing.T, boot []string, topic string, keys, rounds int) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(boot...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pad := strings.Repeat("v", 80)
	for r := range rounds {
		var recs []*kgo.Record
		for p := range int32(2) {
			for k := range keys {
				recs = append(recs, &kgo.Record{Topic: topic, Partition: p, Key: fmt.Appendf(nil, "key-%02d", k), Value: fmt.Appendf(nil, "%s-%d", pad, r)})
			}
		}
		if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
}
