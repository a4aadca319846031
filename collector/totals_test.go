package collector

import (
	"math"
	"testing"

	"github.com/osprey-kafka/osprey/admin"
)

func adminTopic(name string, partitions int32) admin.TopicSpec {
	return admin.TopicSpec{Name: name, Partitions: partitions, ReplicationFactor: 1}
}

// Totals cover every topic; Internal is the internal topics' share, and UserTopics takes it out.
func TestTotalsInternalShare(t *testing.T) {
	tt := Totals{Topics: 3, Partitions: 60, UnderReplicated: 2, Offline: 1, Messages: 900, SizeBytes: 4096, MsgsPerSec: 8.6, BytesPerSec: 900,
		Brokers: 3, BrokersUp: 3, Groups: 4, Lag: 10,
		Internal: TopicSums{Topics: 1, Partitions: 50, UnderReplicated: 1, Messages: 400, SizeBytes: 1024, MsgsPerSec: 3.6, BytesPerSec: 300}}
	u := tt.UserTopics()
	if u.Topics != 2 || u.Partitions != 10 || u.UnderReplicated != 1 || u.Offline != 1 || u.Messages != 500 || u.SizeBytes != 3072 ||
		u.MsgsPerSec < 4.999 || u.MsgsPerSec > 5.001 || u.BytesPerSec != 600 || u.Internal != (TopicSums{}) {
		t.Errorf("user topics = %+v", u)
	}
	if u.Brokers != 3 || u.Groups != 4 || u.Lag != 10 { // not topic figures: unchanged
		t.Errorf("user topics changed cluster figures: %+v", u)
	}
}

func TestSnapshotInternalShare(t *testing.T) {
	e := newTestCollector(t, Config{})
	ctx := testCtx(t)
	if errs, err := e.ac.CreateTopics(ctx, adminTopic("user", 2), adminTopic("__state", 3)); err != nil || errs["user"] != nil || errs["__state"] != nil {
		t.Fatal(err, errs)
	}
	if err := e.ac.AlterTopicConfigs(ctx, "__state", map[string]string{"kfake.is_internal": "true"}, nil); err != nil {
		t.Fatal(err)
	}
	e.produce(t, "user", map[int32]int{0: 5})
	e.produce(t, "__state", map[int32]int{0: 7})
	s := e.col.PollNow(ctx)
	if s.Totals.Topics != 2 || s.Totals.Partitions != 5 || s.Totals.Messages != 12 {
		t.Errorf("totals %+v, want 2 topics, 5 partitions, 12 messages", s.Totals)
	}
	if in := s.Totals.Internal; in.Topics != 1 || in.Partitions != 3 || in.Messages != 7 {
		t.Errorf("internal share %+v, want 1 topic, 3 partitions, 7 messages", in)
	}
	e.produce(t, "user", map[int32]int{0: 5})
	e.produce(t, "__state", map[int32]int{0: 7})
	s = e.col.PollNow(ctx)
	u := s.Totals.UserTopics()
	user, _ := s.Topic("user")
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-6 }
	if u.Topics != 1 || !near(u.MsgsPerSec, user.MsgsPerSec) || !near(u.BytesPerSec, user.BytesPerSec) || u.MsgsPerSec <= 0 {
		t.Errorf("user totals %+v, topic user %.3f msg/s %.3f B/s", u, user.MsgsPerSec, user.BytesPerSec)
	}
	// The cluster's stored series follow the same rule.
	if got := buildSamples(s).Totals; got.Topics != 1 || !near(got.MsgsPerSec, user.MsgsPerSec) {
		t.Errorf("cluster sample %+v, want the user topics only", got)
	}
}
