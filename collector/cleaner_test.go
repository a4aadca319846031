package collector

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
)

// fakeCleaner reports fixed states per broker.
type fakeCleaner map[int32][]CleanerState

func (f fakeCleaner) CleanerStates(context.Context) (map[int32][]CleanerState, error) { return f, nil }

// createCleanerTopics creates a compacted two-partition topic and a delete one on e's cluster.
func createCleanerTopics(t *testing.T, e *testEnv) {
	t.Helper()
	adm := kadm.NewClient(e.client(t))
	compact := map[string]*string{"cleanup.policy": kadm.StringPtr("compact")}
	if _, err := adm.CreateTopic(testCtx(t), 2, 2, compact, "changelog"); err != nil {
		t.Fatal(err)
	}
	if _, err := adm.CreateTopic(testCtx(t), 1, 1, nil, "events"); err != nil {
		t.Fatal(err)
	}
}

// TestCleanerStateFromLeaders: a compacted topic's partitions take the cleaner state their leader
// reports (a follower's is ignored), the topic sums them with Kafka's dirty ratio, and a topic
// whose policy is delete has none.
func TestCleanerStateFromLeaders(t *testing.T) {
	src := fakeCleaner{}
	e := newTestCollector(t, Config{Cleaner: src})
	createCleanerTopics(t, e)
	s := e.col.PollNow(testCtx(t))
	ct, _ := s.Topic("changelog")
	l0, l1 := ct.Partitions[0].Leader, ct.Partitions[1].Leader
	var follower1 int32 = -1
	for _, r := range ct.Partitions[1].Replicas {
		if r != l1 {
			follower1 = r
		}
	}
	cleaned := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	src[l0] = append(src[l0], CleanerState{Topic: "changelog", Partition: 0, FirstDirtyOffset: 500, CleanBytes: 3000,
		DirtyBytes: 1000, DirtyRatio: 0.25, LastCleanedMs: cleaned.UnixMilli(), BytesCleaned: 9000, BytesFreed: 6000, FreeableBytes: 700})
	src[follower1] = append(src[follower1], CleanerState{Topic: "changelog", Partition: 1, DirtyBytes: 99, DirtyRatio: 1})

	s = e.col.PollNow(testCtx(t))
	ct, _ = s.Topic("changelog")
	if ct.CleanupPolicy != "compact" {
		t.Fatalf("cleanup policy %q", ct.CleanupPolicy)
	}
	p0 := ct.Partitions[0].Cleaner
	if p0 == nil || p0.Broker != l0 || p0.FirstDirtyOffset != 500 || p0.DirtyRatio != 0.25 || !p0.LastCleaned.Equal(cleaned) ||
		p0.BytesCleaned != 9000 || p0.BytesFreed != 6000 || p0.FreeableBytes != 700 {
		t.Errorf("partition 0 cleaner %+v", p0)
	}
	if p1 := ct.Partitions[1].Cleaner; p1 != nil {
		t.Errorf("partition 1 took a follower's state: %+v", p1)
	}
	tc := ct.Cleaner
	if tc == nil || !tc.Reported || tc.Partitions != 1 || tc.DirtyRatio != 0.25 || tc.MaxDirtyRatio != 0.25 ||
		tc.FreeableBytes != 700 || !tc.LastCleaned.Equal(cleaned) {
		t.Errorf("topic cleaner %+v", tc)
	}
	if et, _ := s.Topic("events"); et.CleanupPolicy != "delete" || et.Cleaner != nil {
		t.Errorf("delete topic: policy %q, cleaner %+v", et.CleanupPolicy, et.Cleaner)
	}
}

// TestCleanerNotReported: without a source, a compacted topic shows its policy and a cleaner state
// marked not reported, with no figures.
func TestCleanerNotReported(t *testing.T) {
	e := newTestCollector(t, Config{})
	createCleanerTopics(t, e)
	s := e.col.PollNow(testCtx(t))
	ct, _ := s.Topic("changelog")
	if ct.CleanupPolicy != "compact" || ct.Cleaner == nil || ct.Cleaner.Reported || *ct.Cleaner != (TopicCleaner{}) {
		t.Errorf("policy %q, cleaner %+v", ct.CleanupPolicy, ct.Cleaner)
	}
	for _, p := range ct.Partitions {
		if p.Cleaner != nil {
			t.Errorf("partition %d: cleaner %+v", p.Partition, p.Cleaner)
		}
	}
}
