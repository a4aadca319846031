package service

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/osprey-kafka/osprey/admin"
	"github.com/osprey-kafka/osprey/collector"
	"github.com/osprey-kafka/osprey/store"
)

// fakeOpsAdmin records the operations' calls and answers from a scripted state.
type fakeOpsAdmin struct {
	mu       sync.Mutex
	ongoing  []admin.ReassignmentStatus
	altered  [][]admin.Reassignment
	alterErr map[tpKey]error
	configs  []opsConfigCall
	elected  map[string][]int32
	electErr map[TopicPartition]error
	// metadata answers Metadata calls (numbered from 1); nil answers an error.
	metadata func(call int) *admin.Metadata
	mdCalls  int
}

type opsConfigCall struct {
	topic  string
	broker int32
	set    map[string]string
	del    []string
}

func (f *fakeOpsAdmin) AlterPartitionReassignments(_ context.Context, moves []admin.Reassignment) ([]admin.PartitionError, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.altered = append(f.altered, moves)
	var out []admin.PartitionError
	for _, m := range moves {
		out = append(out, admin.PartitionError{Topic: m.Topic, Partition: m.Partition, Err: f.alterErr[tpKey{m.Topic, m.Partition}]})
	}
	return out, nil
}

func (f *fakeOpsAdmin) ListPartitionReassignments(context.Context) ([]admin.ReassignmentStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.ongoing), nil
}

func (f *fakeOpsAdmin) ElectPreferredLeaders(_ context.Context, topic string, partitions []int32) ([]admin.PartitionError, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.elected == nil {
		f.elected = map[string][]int32{}
	}
	f.elected[topic] = append(f.elected[topic], partitions...)
	var out []admin.PartitionError
	for _, p := range partitions {
		out = append(out, admin.PartitionError{Topic: topic, Partition: p, Err: f.electErr[TopicPartition{topic, p}]})
	}
	return out, nil
}

func (f *fakeOpsAdmin) AlterTopicConfigs(_ context.Context, topic string, set map[string]string, del []string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.configs = append(f.configs, opsConfigCall{topic: topic, broker: -1, set: set, del: del})
	return nil
}

func (f *fakeOpsAdmin) AlterBrokerConfigs(_ context.Context, broker int32, set map[string]string, del []string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.configs = append(f.configs, opsConfigCall{broker: broker, set: set, del: del})
	return nil
}

func (f *fakeOpsAdmin) Metadata(context.Context, []string) (*admin.Metadata, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mdCalls++
	if f.metadata == nil {
		return nil, errors.New("no metadata in this test")
	}
	return f.metadata(f.mdCalls), nil
}

// testMetadata builds metadata as testSnapshot builds a snapshot: brokers 1..n, replica lists per topic,
// leader = first replica unless leaders overrides it, ISR = replicas.
func testMetadata(nBrokers int, topics map[string][][]int32, leaders map[TopicPartition]int32) *admin.Metadata {
	md := &admin.Metadata{ControllerID: 1}
	for i := 1; i <= nBrokers; i++ {
		md.Brokers = append(md.Brokers, admin.Broker{ID: int32(i)})
	}
	names := make([]string, 0, len(topics))
	for n := range topics {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		tm := admin.TopicMetadata{Name: n}
		for p, reps := range topics[n] {
			pm := admin.PartitionMetadata{Partition: int32(p), Leader: reps[0], Replicas: reps, ISR: reps}
			if l, ok := leaders[TopicPartition{n, int32(p)}]; ok {
				pm.Leader = l
			}
			tm.Partitions = append(tm.Partitions, pm)
		}
		md.Topics = append(md.Topics, tm)
	}
	return md
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newOpsTestStore(t *testing.T) *store.Store {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{Driver: "sqlite", DSN: filepath.Join(t.TempDir(), "osprey.db"), Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return st
}

// testSnapshot builds a snapshot: brokers 1..n (rack per broker optional) and topics given as replica lists
// (leader = first replica unless leaders overrides it; ISR = replicas).
func testSnapshot(nBrokers int, racks []string, topics map[string][][]int32, leaders map[TopicPartition]int32) *collector.Snapshot {
	s := &collector.Snapshot{Cluster: collector.ClusterInfo{Name: "c", Sequence: 7, Controller: 1}}
	for i := 1; i <= nBrokers; i++ {
		b := collector.Broker{ID: int32(i), Up: true}
		if len(racks) >= i {
			b.Rack = racks[i-1]
		}
		s.Brokers = append(s.Brokers, b)
	}
	var names []string
	for n := range topics {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		t := collector.Topic{Name: n}
		for p, reps := range topics[n] {
			part := collector.Partition{Partition: int32(p), Replicas: reps, ISR: reps, Leader: reps[0]}
			if l, ok := leaders[TopicPartition{n, int32(p)}]; ok {
				part.Leader = l
			}
			part.PreferredLeader = part.Leader == reps[0]
			t.Partitions = append(t.Partitions, part)
		}
		s.Topics = append(s.Topics, t)
	}
	return s
}

func wantUserError(t *testing.T, err error, status int, code string, contains ...string) {
	t.Helper()
	var ue *UserError
	if !errors.As(err, &ue) || ue.Status != status || ue.Code != code {
		t.Fatalf("err = %v, want %d %s", err, status, code)
	}
	for _, c := range contains {
		if !strings.Contains(ue.Message, c) {
			t.Fatalf("message %q does not name %q", ue.Message, c)
		}
	}
}

func TestPlanFromSnapshotValidates(t *testing.T) {
	snap := testSnapshot(3, nil, map[string][][]int32{"orders": {{1, 2}, {2, 3}}}, nil)
	_, err := planFromSnapshot(snap, "c", []string{"orders", "nope", "gone"}, []int32{1, 2}, 0)
	wantUserError(t, err, http.StatusBadRequest, "unknown_topic", `"nope"`, `"gone"`)
	_, err = planFromSnapshot(snap, "c", []string{"orders"}, []int32{1, 9, 8}, 0)
	wantUserError(t, err, http.StatusBadRequest, "unknown_broker", "8", "9")
	_, err = planFromSnapshot(snap, "c", []string{"orders"}, []int32{1, 2}, 3)
	wantUserError(t, err, http.StatusBadRequest, "bad_replication_factor", "3", "2 target")
	_, err = planFromSnapshot(snap, "c", []string{"orders"}, []int32{1}, 0)
	wantUserError(t, err, http.StatusBadRequest, "bad_replication_factor")
	_, err = planFromSnapshot(snap, "c", nil, []int32{1}, 0)
	wantUserError(t, err, http.StatusBadRequest, "bad_request")

	plan, err := planFromSnapshot(snap, "c", []string{"orders", "orders"}, []int32{3, 2, 1}, 3)
	if err != nil {
		t.Fatal(err)
	}
	if plan.SnapshotSequence != 7 || len(plan.Topics) != 1 || len(plan.Partitions) != 2 || plan.MovedReplicas != 2 {
		t.Fatalf("plan = %+v", plan)
	}
	if got := MovesFromPlan(plan); len(got) != 2 || len(got[0].Replicas) != 3 {
		t.Fatalf("moves = %+v", got)
	}
}

func newTestOps(adm opsAdmin, st *store.Store) *ops {
	return &ops{cluster: "c", adm: adm, st: st, now: time.Now, log: quietLog()}
}

func TestExecuteRecordsThrottlesAndCompletes(t *testing.T) {
	ctx := context.Background()
	st := newOpsTestStore(t)
	fa := &fakeOpsAdmin{}
	o := newTestOps(fa, st)
	snap := testSnapshot(4, nil, map[string][][]int32{"orders": {{1, 2}, {2, 3}}, "logs": {{3, 1}}}, nil)
	caller := Caller{Identity: Identity{Name: "alice", Kind: "session", Role: RoleOperator}}

	moves := []PartitionMove{
		{Topic: "orders", Partition: 0, Replicas: []int32{1, 4}},
		{Topic: "orders", Partition: 1, Replicas: []int32{2, 3}}, // unchanged: left out
		{Topic: "logs", Partition: 0, Replicas: []int32{4, 1}},
	}
	res, err := o.execute(ctx, caller, snap, moves, 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	if res.Started != 2 || res.Failed != 0 || res.ID == 0 || len(fa.altered) != 1 || len(fa.altered[0]) != 2 {
		t.Fatalf("result %+v, altered %+v", res, fa.altered)
	}
	// Topic throttles as kafka-reassign-partitions.sh sets them (the broker rates: see
	// TestExecuteSetsBrokerRates).
	want := map[string]map[string]string{
		"orders": {cfgLeaderReplicas: "0:1,0:2", cfgFollowerReplicas: "0:4"},
		"logs":   {cfgLeaderReplicas: "0:3,0:1", cfgFollowerReplicas: "0:4"},
	}
	topicCalls := 0
	for _, c := range fa.configs {
		if c.broker >= 0 {
			continue
		}
		topicCalls++
		for k, v := range want[c.topic] {
			if c.set[k] != v {
				t.Fatalf("topic %s %s = %q, want %q", c.topic, k, c.set[k], v)
			}
		}
	}
	if topicCalls != 2 || len(res.Warnings) != 0 {
		t.Fatalf("config calls = %+v, warnings = %v", fa.configs, res.Warnings)
	}
	rows, err := st.Reassignments(ctx, "c", 10)
	if err != nil || len(rows) != 1 || rows[0].State != ReassignRunning || rows[0].Actor != "alice" || rows[0].ThrottleBytes != 1_000_000 {
		t.Fatalf("rows = %+v, %v", rows, err)
	}
	if got := decodeMoves(rows[0].Original); len(got) != 2 || got[1].Topic != "orders" || !slices.Equal(got[1].Replicas, []int32{1, 2}) {
		t.Fatalf("original = %+v", got)
	}

	// The same partitions cannot be moved again while they move.
	fa.ongoing = []admin.ReassignmentStatus{{Topic: "orders", Partition: 0, Replicas: []int32{1, 2, 4}, Adding: []int32{4}, Removing: []int32{2}}}
	_, err = o.execute(ctx, caller, snap, moves[:1], 0)
	wantUserError(t, err, http.StatusConflict, "reassignment_in_progress", "orders-0")

	// In progress: broker 4 not yet in the ISR → 1 of 2 target replicas in sync.
	v, err := o.view(ctx, snap)
	if err != nil {
		t.Fatal(err)
	}
	if v.Total != 1 || v.Items[0].InSync != 1 || v.Items[0].Total != 2 || v.Items[0].Progress != 0.5 ||
		!slices.Equal(v.Items[0].Target, []int32{1, 4}) || len(v.History) != 1 || v.History[0].State != ReassignRunning {
		t.Fatalf("view = %+v", v)
	}
	// Kafka no longer lists it, but the snapshot is stale: still running.
	fa.ongoing = nil
	if v, _ = o.view(ctx, snap); v.History[0].State != ReassignRunning {
		t.Fatalf("completed on a stale snapshot: %+v", v.History[0])
	}
	// A snapshot showing the targets: completed, and the throttles come off.
	fa.configs = nil
	done := testSnapshot(4, nil, map[string][][]int32{"orders": {{1, 4}, {2, 3}}, "logs": {{4, 1}}}, nil)
	v, err = o.view(ctx, done)
	if err != nil {
		t.Fatal(err)
	}
	if v.History[0].State != ReassignCompleted || v.History[0].FinishedAt == nil || len(v.History[0].Partitions) != 2 {
		t.Fatalf("history = %+v", v.History)
	}
	removed := map[string]bool{}
	for _, c := range fa.configs {
		if slices.Contains(c.del, cfgLeaderReplicas) && slices.Contains(c.del, cfgFollowerReplicas) {
			removed[c.topic] = true
		}
	}
	if !removed["orders"] || !removed["logs"] {
		t.Fatalf("throttles not removed: %+v", fa.configs)
	}
}

func TestExecuteSetsBrokerRates(t *testing.T) {
	ctx := context.Background()
	fa := &fakeOpsAdmin{}
	o := newTestOps(fa, nil)
	snap := testSnapshot(4, nil, map[string][][]int32{"orders": {{1, 2}}}, nil)
	res, err := o.execute(ctx, Caller{}, snap, []PartitionMove{{Topic: "orders", Partition: 0, Replicas: []int32{3, 4}}}, 5000)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Warnings) != 0 {
		t.Fatalf("warnings = %v", res.Warnings)
	}
	var brokers []int32
	for _, c := range fa.configs {
		if c.broker >= 0 {
			if c.set[cfgLeaderRate] != "5000" || c.set[cfgFollowerRate] != "5000" {
				t.Fatalf("broker %d set %v", c.broker, c.set)
			}
			brokers = append(brokers, c.broker)
		}
	}
	if !slices.Equal(brokers, []int32{1, 2, 3, 4}) {
		t.Fatalf("rates set on %v, want every involved broker", brokers)
	}
}

func TestExecuteValidatesAndReportsRefusals(t *testing.T) {
	ctx := context.Background()
	st := newOpsTestStore(t)
	fa := &fakeOpsAdmin{alterErr: map[tpKey]error{{"orders", 0}: errors.New("INVALID_REPLICA_ASSIGNMENT")}}
	o := newTestOps(fa, st)
	snap := testSnapshot(3, nil, map[string][][]int32{"orders": {{1, 2}, {2, 3}}}, nil)
	cases := []struct {
		moves  []PartitionMove
		status int
		code   string
		names  []string
	}{
		{nil, 400, "bad_request", nil},
		{[]PartitionMove{{Topic: "nope", Partition: 0, Replicas: []int32{1}}}, 400, "unknown_topic", []string{`"nope"`}},
		{[]PartitionMove{{Topic: "orders", Partition: 9, Replicas: []int32{1}}}, 400, "unknown_partition", []string{"orders-9"}},
		{[]PartitionMove{{Topic: "orders", Partition: 0, Replicas: []int32{1, 7}}}, 400, "unknown_broker", []string{"7"}},
		{[]PartitionMove{{Topic: "orders", Partition: 0, Replicas: []int32{1, 1}}}, 400, "bad_request", []string{"twice"}},
		{[]PartitionMove{{Topic: "orders", Partition: 0}}, 400, "bad_request", nil},
		{[]PartitionMove{{Topic: "orders", Partition: 0, Replicas: []int32{1, 2}}}, 400, "nothing_to_move", nil},
	}
	for _, c := range cases {
		_, err := o.execute(ctx, Caller{}, snap, c.moves, 0)
		wantUserError(t, err, c.status, c.code, c.names...)
	}
	if _, err := o.execute(ctx, Caller{}, snap, []PartitionMove{{Topic: "orders", Partition: 1, Replicas: []int32{3, 1}}}, -1); err == nil {
		t.Fatal("negative throttle accepted")
	}
	if len(fa.altered) != 0 {
		t.Fatalf("a refused request reached Kafka: %+v", fa.altered)
	}
	// One partition refused by Kafka, one started: the answer and the record say which.
	res, err := o.execute(ctx, Caller{}, snap, []PartitionMove{
		{Topic: "orders", Partition: 0, Replicas: []int32{3, 1}},
		{Topic: "orders", Partition: 1, Replicas: []int32{3, 1}},
	}, 0)
	if err != nil || res.Started != 1 || res.Failed != 1 || res.Partitions[0].Error == "" {
		t.Fatalf("res = %+v, err %v", res, err)
	}
	// Every partition refused: an error, and the record is failed.
	_, err = o.execute(ctx, Caller{}, snap, []PartitionMove{{Topic: "orders", Partition: 0, Replicas: []int32{3, 2}}}, 0)
	wantUserError(t, err, http.StatusBadGateway, "kafka_error", "orders-0")
	rows, _ := st.Reassignments(ctx, "c", 10)
	if len(rows) != 2 || rows[0].State != ReassignFailed || !strings.Contains(rows[1].Error, "orders-0") {
		t.Fatalf("rows = %+v", rows)
	}
}

func TestCancelRevertsToOriginalReplicas(t *testing.T) {
	ctx := context.Background()
	st := newOpsTestStore(t)
	fa := &fakeOpsAdmin{}
	o := newTestOps(fa, st)
	snap := testSnapshot(4, nil, map[string][][]int32{"orders": {{2, 1}, {2, 3}}}, nil)
	if _, err := o.cancel(ctx, snap); err == nil {
		t.Fatal("cancel with nothing running must say so")
	} else {
		wantUserError(t, err, http.StatusConflict, "no_reassignment")
	}
	if _, err := o.execute(ctx, Caller{}, snap, []PartitionMove{{Topic: "orders", Partition: 0, Replicas: []int32{4, 3}}}, 100); err != nil {
		t.Fatal(err)
	}
	fa.ongoing = []admin.ReassignmentStatus{
		{Topic: "orders", Partition: 0, Replicas: []int32{4, 3, 1, 2}, Adding: []int32{4, 3}, Removing: []int32{1, 2}},
		// Started elsewhere (kafka-reassign-partitions.sh): reverted to the replicas not being added.
		{Topic: "orders", Partition: 1, Replicas: []int32{2, 3, 4}, Adding: []int32{4}, Removing: []int32{3}},
	}
	fa.configs = nil
	res, err := o.cancel(ctx, snap)
	if err != nil {
		t.Fatal(err)
	}
	last := fa.altered[len(fa.altered)-1]
	if res.Total != 2 || len(last) != 2 || !slices.Equal(last[0].Replicas, []int32{2, 1}) || !slices.Equal(last[1].Replicas, []int32{2, 3}) {
		t.Fatalf("cancel sent %+v (result %+v)", last, res)
	}
	rows, _ := st.Reassignments(ctx, "c", 10)
	if rows[0].State != ReassignCancelled || rows[0].FinishedAt == nil || len(res.Records) != 1 {
		t.Fatalf("rows %+v, result %+v", rows, res)
	}
	if len(fa.configs) == 0 || fa.configs[0].del == nil {
		t.Fatalf("cancel left the throttle: %+v", fa.configs)
	}
}

func TestRecordedMovesAreCompactAndBounded(t *testing.T) {
	moves := []PartitionMove{{Topic: "b", Partition: 1, Replicas: []int32{3, 1}}, {Topic: "a", Partition: 0, Replicas: []int32{1}}, {Topic: "b", Partition: 0, Replicas: []int32{2}}}
	enc := encodeMoves(moves)
	if enc != `{"a":[[0,1]],"b":[[1,3,1],[0,2]]}` {
		t.Fatalf("encoded = %s", enc)
	}
	got := decodeMoves(enc)
	if len(got) != 3 || got[0].Topic != "a" || got[1].Partition != 1 || !slices.Equal(got[1].Replicas, []int32{3, 1}) {
		t.Fatalf("decoded = %+v", got)
	}
	if decodeMoves("not json") != nil {
		t.Fatal("garbage must decode as nothing")
	}
	// A move too large for the record is refused before anything is sent.
	reps := map[string][][]int32{}
	var big []PartitionMove
	for p := 0; p < 6000; p++ {
		reps["a-topic-with-a-long-name"] = append(reps["a-topic-with-a-long-name"], []int32{1, 2, 3})
		big = append(big, PartitionMove{Topic: "a-topic-with-a-long-name", Partition: int32(p), Replicas: []int32{4, 2, 3}})
	}
	fa := &fakeOpsAdmin{}
	_, err := newTestOps(fa, nil).execute(context.Background(), Caller{}, testSnapshot(4, nil, reps, nil), big, 0)
	wantUserError(t, err, http.StatusBadRequest, "too_large", "6000")
	if len(fa.altered) != 0 {
		t.Fatal("an oversized move reached Kafka")
	}
	if a := auditMoves(big, 7); a["partitionCount"] != 6000 || a["partitions"] != nil {
		t.Fatalf("audit params of a big move = %v", a)
	}
}
