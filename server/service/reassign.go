package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/osprey-kafka/osprey/admin"
	"github.com/osprey-kafka/osprey/collector"
	"github.com/osprey-kafka/osprey/store"
)

// This file holds partition reassignment (plan, execute with throttle, watch, cancel) the way
// kafka-reassign-partitions.sh does it, through the admin client's KIP-455 calls.

// opsAdmin is the part of admin.Client the operations use; tests substitute a fake.
type opsAdmin interface {
	AlterPartitionReassignments(ctx context.Context, moves []admin.Reassignment) ([]admin.PartitionError, error)
	ListPartitionReassignments(ctx context.Context) ([]admin.ReassignmentStatus, error)
	ElectPreferredLeaders(ctx context.Context, topic string, partitions []int32) ([]admin.PartitionError, error)
	AlterTopicConfigs(ctx context.Context, topic string, set map[string]string, del []string) error
	// AlterBrokerConfigs sets the replication throttle rates on one broker.
	AlterBrokerConfigs(ctx context.Context, broker int32, set map[string]string, del []string) error
	// Metadata reads the cluster's metadata now (topics nil: every topic), for leaders around an election.
	Metadata(ctx context.Context, topics []string) (*admin.Metadata, error)
}

// Kafka's throttle configs (kafka-reassign-partitions.sh sets the same).
const (
	cfgLeaderRate       = "leader.replication.throttled.rate"
	cfgFollowerRate     = "follower.replication.throttled.rate"
	cfgLeaderReplicas   = "leader.replication.throttled.replicas"
	cfgFollowerReplicas = "follower.replication.throttled.replicas"
)

// Reassignment states as stored.
const (
	ReassignRunning   = "running"
	ReassignCompleted = "completed"
	ReassignCancelled = "cancelled"
	ReassignFailed    = "failed"
)

// ops runs the operations on one cluster. It is built per call from the cluster's parts.
type ops struct {
	cluster string
	adm     opsAdmin
	st      *store.Store // nil: nothing is recorded
	now     func() time.Time
	log     *slog.Logger
	// poll runs a collection cycle now and returns its snapshot (nil in tests that need none).
	poll func(ctx context.Context) *collector.Snapshot
	// settle bounds the wait for an election's leaders to show in the metadata (0: electionSettle).
	settle time.Duration
	// notify receives the reassignment events (nil: none are sent).
	notify func(ReassignmentEvent)
	// progress is the service's memory of published progress (nil: every check publishes).
	progress *progressMemo
}

func (s *Service) opsFor(name string) (*ops, *collector.Snapshot, error) {
	c, err := s.get(name)
	if err != nil {
		return nil, nil, err
	}
	snap := c.collector.Latest()
	if snap == nil {
		return nil, nil, &UserError{Status: http.StatusServiceUnavailable, Code: "not_polled",
			Message: fmt.Sprintf("cluster %q has not been polled yet; try again in a few seconds", name)}
	}
	return &ops{cluster: name, adm: c.client, st: s.opts.Store, now: s.opts.Now, log: s.log.With("cluster", name),
		poll: c.collector.PollNow, notify: s.opts.OnReassignment, progress: &s.reassignProgress}, snap, nil
}

// snapTopic looks a topic up by binary search (snapshots keep topics sorted by name), so it also works
// on snapshots built outside the collector.
func snapTopic(snap *collector.Snapshot, name string) *collector.Topic {
	i := sort.Search(len(snap.Topics), func(i int) bool { return snap.Topics[i].Name >= name })
	if i < len(snap.Topics) && snap.Topics[i].Name == name {
		return &snap.Topics[i]
	}
	return nil
}

func snapBroker(snap *collector.Snapshot, id int32) *collector.Broker {
	i := sort.Search(len(snap.Brokers), func(i int) bool { return snap.Brokers[i].ID >= id })
	if i < len(snap.Brokers) && snap.Brokers[i].ID == id {
		return &snap.Brokers[i]
	}
	return nil
}

func snapPartition(t *collector.Topic, p int32) *collector.Partition {
	i := sort.Search(len(t.Partitions), func(i int) bool { return t.Partitions[i].Partition >= p })
	if i < len(t.Partitions) && t.Partitions[i].Partition == p {
		return &t.Partitions[i]
	}
	return nil
}

// boundedList joins names for a message, bounded so a huge request cannot make a huge answer.
func boundedList[T any](items []T) string {
	var b strings.Builder
	for i, it := range items {
		if i == 10 {
			fmt.Fprintf(&b, ", … (%d more)", len(items)-10)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprint(&b, it)
	}
	return b.String()
}

// ReassignmentPlan is a proposed target layout for some topics over chosen brokers.
type ReassignmentPlan struct {
	Cluster string   `json:"cluster"`
	Topics  []string `json:"topics"`
	Brokers []int32  `json:"brokers"`
	// ReplicationFactor is the requested new factor; 0 keeps each partition's current one.
	ReplicationFactor int `json:"replicationFactor"`
	// SnapshotSequence identifies the snapshot the plan was computed from.
	SnapshotSequence uint64 `json:"snapshotSequence"`
	PlanLayout
}

// PlanReassignment computes a balanced, rack-aware plan for topics over brokers from the latest
// snapshot. It makes no Kafka call.
func (s *Service) PlanReassignment(ctx context.Context, cluster string, topics []string, brokers []int32, rf int) (ReassignmentPlan, error) {
	_, snap, err := s.opsFor(cluster)
	if err != nil {
		return ReassignmentPlan{}, err
	}
	return planFromSnapshot(snap, cluster, topics, brokers, rf)
}

func planFromSnapshot(snap *collector.Snapshot, cluster string, topics []string, brokers []int32, rf int) (ReassignmentPlan, error) {
	if len(topics) == 0 {
		return ReassignmentPlan{}, badRequest("bad_request", "topics: name at least one topic to move")
	}
	if len(brokers) == 0 {
		return ReassignmentPlan{}, badRequest("bad_request", "brokers: name at least one target broker")
	}
	if rf < 0 || rf > 32767 {
		return ReassignmentPlan{}, badRequest("bad_request", "replicationFactor must be 0 (keep) or a positive number")
	}
	topics = uniqueSorted(topics)
	brokers = uniqueSorted(brokers)
	var missingT []string
	var in []PlanInputTopic
	for _, name := range topics {
		t := snapTopic(snap, name)
		if t == nil {
			missingT = append(missingT, strconv.Quote(name))
			continue
		}
		it := PlanInputTopic{Name: name}
		for _, p := range t.Partitions {
			it.Partitions = append(it.Partitions, PlanInputPartition{Partition: p.Partition, Replicas: p.Replicas})
		}
		in = append(in, it)
	}
	if len(missingT) > 0 {
		return ReassignmentPlan{}, badRequest("unknown_topic", "unknown topic(s) on cluster %q: %s", cluster, boundedList(missingT))
	}
	var missingB []int32
	var down []int32
	var bs []PlanBroker
	for _, id := range brokers {
		b := snapBroker(snap, id)
		if b == nil {
			missingB = append(missingB, id)
			continue
		}
		if !b.Up {
			down = append(down, id)
		}
		bs = append(bs, PlanBroker{ID: id, Rack: b.Rack})
	}
	if len(missingB) > 0 {
		return ReassignmentPlan{}, badRequest("unknown_broker", "unknown broker id(s) on cluster %q: %s", cluster, boundedList(missingB))
	}
	if rf > len(bs) {
		return ReassignmentPlan{}, badRequest("bad_replication_factor", "replicationFactor %d is more than the %d target broker(s)", rf, len(bs))
	}
	layout, err := PlanLayoutFor(in, bs, rf)
	if err != nil {
		return ReassignmentPlan{}, badRequest("bad_replication_factor", "%s", err.Error())
	}
	if len(down) > 0 {
		layout.Warnings = append(layout.Warnings, "target broker(s) down in the latest snapshot: "+boundedList(down))
	}
	return ReassignmentPlan{Cluster: cluster, Topics: topics, Brokers: brokers, ReplicationFactor: rf,
		SnapshotSequence: snap.Cluster.Sequence, PlanLayout: layout}, nil
}

func uniqueSorted[T int32 | string](in []T) []T {
	out := slices.Clone(in)
	slices.Sort(out)
	return slices.Compact(out)
}

// PartitionMove is one partition's target replica list (preferred leader first).
type PartitionMove struct {
	Topic     string  `json:"topic"`
	Partition int32   `json:"partition"`
	Replicas  []int32 `json:"replicas"`
}

// MovesFromPlan turns a plan into the moves that change something.
func MovesFromPlan(p ReassignmentPlan) []PartitionMove {
	var out []PartitionMove
	for _, pp := range p.Partitions {
		if !slices.Equal(pp.Before, pp.After) {
			out = append(out, PartitionMove{Topic: pp.Topic, Partition: pp.Partition, Replicas: pp.After})
		}
	}
	return out
}

// MoveResult is how one partition's move was received by the cluster.
type MoveResult struct {
	Topic     string  `json:"topic"`
	Partition int32   `json:"partition"`
	Before    []int32 `json:"before"`
	Replicas  []int32 `json:"replicas"`
	Error     string  `json:"error,omitempty"`
}

// ExecuteResult is the answer to starting a reassignment.
type ExecuteResult struct {
	// ID is the recorded reassignment (0 when the console runs without a database).
	ID                  int64        `json:"id"`
	Partitions          []MoveResult `json:"partitions"`
	Started             int          `json:"started"`
	Failed              int          `json:"failed"`
	ThrottleBytesPerSec int64        `json:"throttleBytesPerSec"`
	Warnings            []string     `json:"warnings,omitempty"`
}

// ExecuteReassignment starts moving partitions. With throttle > 0 it first sets Kafka's replication
// throttles as kafka-reassign-partitions.sh does (topic throttled-replica lists, the rate on every
// involved broker; a refusal is returned as a warning and the copy runs unthrottled). The reassignment is
// recorded (plan and original layout) and audited; the throttles are removed when it completes.
func (s *Service) ExecuteReassignment(ctx context.Context, caller Caller, cluster string, moves []PartitionMove, throttle int64) (ExecuteResult, error) {
	o, snap, err := s.opsFor(cluster)
	if err != nil {
		return ExecuteResult{}, err
	}
	var res ExecuteResult
	params := auditMoves(moves, throttle)
	err = s.Audited(ctx, caller, "reassignment.execute", cluster, moveTarget(moves), params, func() error {
		var err error
		res, err = o.execute(ctx, caller, snap, moves, throttle)
		return err
	})
	return res, err
}

func moveTarget(moves []PartitionMove) string {
	var topics []string
	for _, m := range moves {
		topics = append(topics, m.Topic)
	}
	t := strings.Join(uniqueSorted(topics), ",")
	if len(t) > 200 {
		t = t[:200] + "…"
	}
	return t
}

// validateMoves checks moves against the snapshot and returns the ones that change something, with
// each partition's current replicas.
func validateMoves(snap *collector.Snapshot, moves []PartitionMove) (changed []PartitionMove, before map[tpKey][]int32, err error) {
	if len(moves) == 0 {
		return nil, nil, badRequest("bad_request", "partitions: give at least one partition to move (or a plan)")
	}
	before = map[tpKey][]int32{}
	var unknownT, unknownP []string
	var unknownB []int32
	seenB := map[int32]bool{}
	for _, m := range moves {
		k := tpKey{m.Topic, m.Partition}
		if _, dup := before[k]; dup {
			return nil, nil, badRequest("bad_request", "partition %s-%d is listed twice", m.Topic, m.Partition)
		}
		t := snapTopic(snap, m.Topic)
		if t == nil {
			unknownT = append(unknownT, strconv.Quote(m.Topic))
			before[k] = nil
			continue
		}
		p := snapPartition(t, m.Partition)
		if p == nil {
			unknownP = append(unknownP, fmt.Sprintf("%s-%d", m.Topic, m.Partition))
			before[k] = nil
			continue
		}
		before[k] = p.Replicas
		if len(m.Replicas) == 0 {
			return nil, nil, badRequest("bad_request", "partition %s-%d: replicas must name at least one broker", m.Topic, m.Partition)
		}
		if len(uniqueSorted(m.Replicas)) != len(m.Replicas) {
			return nil, nil, badRequest("bad_request", "partition %s-%d: a broker appears twice in %v", m.Topic, m.Partition, m.Replicas)
		}
		for _, r := range m.Replicas {
			if snapBroker(snap, r) == nil && !seenB[r] {
				seenB[r] = true
				unknownB = append(unknownB, r)
			}
		}
		if !slices.Equal(p.Replicas, m.Replicas) {
			changed = append(changed, m)
		}
	}
	switch {
	case len(unknownT) > 0:
		return nil, nil, badRequest("unknown_topic", "unknown topic(s): %s", boundedList(uniqueSorted(unknownT)))
	case len(unknownP) > 0:
		return nil, nil, badRequest("unknown_partition", "unknown partition(s): %s", boundedList(unknownP))
	case len(unknownB) > 0:
		slices.Sort(unknownB)
		return nil, nil, badRequest("unknown_broker", "unknown broker id(s): %s", boundedList(unknownB))
	case len(changed) == 0:
		return nil, nil, badRequest("nothing_to_move", "every partition already has the requested replicas")
	}
	return changed, before, nil
}

type tpKey struct {
	topic     string
	partition int32
}

// maxRecordedBytes bounds a stored plan: the plan and original columns are TEXT (64 KiB on MySQL).
const maxRecordedBytes = 60000

// encodeMoves stores moves compactly, as {"topic": [[partition, replica, ...], ...]} (about 15 bytes
// a partition, so a TEXT column holds a few thousand), for the plan and original columns.
func encodeMoves(moves []PartitionMove) string {
	m := map[string][][]int32{}
	for _, mv := range moves {
		m[mv.Topic] = append(m[mv.Topic], append([]int32{mv.Partition}, mv.Replicas...))
	}
	b, _ := json.Marshal(m) // maps marshal with sorted keys: stable text
	return string(b)
}

func decodeMoves(s string) []PartitionMove {
	var m map[string][][]int32
	if json.Unmarshal([]byte(s), &m) != nil {
		return nil // a row we did not write reads as empty
	}
	topics := make([]string, 0, len(m))
	for t := range m {
		topics = append(topics, t)
	}
	sort.Strings(topics)
	var out []PartitionMove
	for _, t := range topics {
		for _, e := range m[t] {
			if len(e) > 0 {
				out = append(out, PartitionMove{Topic: t, Partition: e[0], Replicas: e[1:]})
			}
		}
	}
	return out
}

// auditMoves is what the audit log keeps of a move request: all of it when small, else a summary
// (the full plan is in the reassignment's record).
func auditMoves(moves []PartitionMove, throttle int64) map[string]any {
	if len(moves) <= 100 {
		return map[string]any{"partitions": moves, "throttleBytesPerSec": throttle}
	}
	var topics []string
	for _, m := range moves {
		topics = append(topics, m.Topic)
	}
	topics = uniqueSorted(topics)
	if len(topics) > 50 {
		topics = append(topics[:50], fmt.Sprintf("… (%d more)", len(topics)-50))
	}
	return map[string]any{"partitionCount": len(moves), "topics": topics, "throttleBytesPerSec": throttle}
}

func (o *ops) execute(ctx context.Context, caller Caller, snap *collector.Snapshot, moves []PartitionMove, throttle int64) (ExecuteResult, error) {
	if throttle < 0 {
		return ExecuteResult{}, badRequest("bad_request", "throttleBytesPerSec must be 0 (none) or positive")
	}
	changed, before, err := validateMoves(snap, moves)
	if err != nil {
		return ExecuteResult{}, err
	}
	if err := o.checkNotBusy(ctx, before); err != nil {
		return ExecuteResult{}, err
	}
	original := originalMoves(changed, before)
	res := ExecuteResult{ThrottleBytesPerSec: throttle}
	plan, orig := encodeMoves(changed), encodeMoves(original)
	if len(plan) > maxRecordedBytes || len(orig) > maxRecordedBytes {
		return ExecuteResult{}, badRequest("too_large", "%d partitions are too many for one reassignment; move fewer topics at a time", len(changed))
	}
	var row *store.Reassignment
	if o.st != nil {
		row = &store.Reassignment{Cluster: o.cluster, State: ReassignRunning, Plan: plan, Original: orig,
			ThrottleBytes: throttle, Actor: caller.Identity.Name, StartedAt: o.now().UTC()}
		if err := o.st.CreateReassignment(ctx, row); err != nil {
			return ExecuteResult{}, err
		}
		res.ID = row.ID
	}
	// From here on the row exists: a start that fails ends it (abortStart), even if the request ends.
	if throttle > 0 {
		res.Warnings = append(res.Warnings, o.setThrottles(ctx, changed, original, throttle)...)
	}
	req := make([]admin.Reassignment, 0, len(changed))
	for _, m := range changed {
		req = append(req, admin.Reassignment{Topic: m.Topic, Partition: m.Partition, Replicas: m.Replicas})
	}
	results, err := o.adm.AlterPartitionReassignments(ctx, req)
	if err != nil {
		o.abortStart(ctx, row, res.ID, changed, original, throttle, err.Error(), err.Error())
		return res, kafkaFailure("starting the reassignment", err)
	}
	failMsgs := moveResults(&res, changed, before, results)
	if res.Started == 0 {
		o.abortStart(ctx, row, res.ID, changed, original, throttle, strings.Join(failMsgs, "; "), boundedList(failMsgs))
		return res, &UserError{Status: http.StatusBadGateway, Code: "kafka_error",
			Message: "the cluster refused every partition: " + boundedList(failMsgs)}
	}
	if len(failMsgs) > 0 && row != nil {
		row.Error = "refused: " + strings.Join(failMsgs, "; ")
		if err := o.st.UpdateReassignment(context.WithoutCancel(ctx), row); err != nil {
			o.log.Error("recording reassignment errors", "id", row.ID, "err", err)
		}
	}
	o.publish(ReassignmentEvent{ID: res.ID, Kind: ReassignEventStarted, State: ReassignRunning, Remaining: res.Started, Total: res.Started})
	return res, nil
}

// checkNotBusy refuses a reassignment touching a partition that Kafka is already reassigning.
func (o *ops) checkNotBusy(ctx context.Context, before map[tpKey][]int32) error {
	ongoing, err := o.adm.ListPartitionReassignments(ctx)
	if err != nil {
		return kafkaFailure("listing ongoing reassignments", err)
	}
	var busy []string
	for _, g := range ongoing {
		if _, ok := before[tpKey{g.Topic, g.Partition}]; ok {
			busy = append(busy, fmt.Sprintf("%s-%d", g.Topic, g.Partition))
		}
	}
	if len(busy) > 0 {
		return conflict("reassignment_in_progress", "partition(s) already being reassigned: %s; wait or cancel first", boundedList(busy))
	}
	return nil
}

// originalMoves is the moves that would put the changed partitions back on their current replicas.
func originalMoves(changed []PartitionMove, before map[tpKey][]int32) []PartitionMove {
	original := make([]PartitionMove, 0, len(changed))
	for _, m := range changed {
		original = append(original, PartitionMove{Topic: m.Topic, Partition: m.Partition, Replicas: before[tpKey{m.Topic, m.Partition}]})
	}
	return original
}

// abortStart ends a reassignment that did not start: it records msg on its row (even when the request
// has ended), publishes the failure with eventMsg, and removes the throttles it set.
func (o *ops) abortStart(ctx context.Context, row *store.Reassignment, id int64, changed, original []PartitionMove, throttle int64, msg, eventMsg string) {
	if row != nil {
		now := o.now().UTC()
		row.State, row.Error, row.FinishedAt = ReassignFailed, msg, &now
		if err := o.st.UpdateReassignment(context.WithoutCancel(ctx), row); err != nil {
			o.log.Error("recording reassignment end", "id", row.ID, "err", err)
		}
	}
	o.publish(ReassignmentEvent{ID: id, Kind: ReassignEventFailed, State: ReassignFailed, Total: len(changed), Error: eventMsg})
	if throttle > 0 {
		o.clearThrottles(context.WithoutCancel(ctx), changed, original, nil)
	}
}

// moveResults adds each changed partition's outcome to res, counting the started and the failed ones,
// and returns the failures' messages.
func moveResults(res *ExecuteResult, changed []PartitionMove, before map[tpKey][]int32, results []admin.PartitionError) []string {
	errs := map[tpKey]error{}
	for _, r := range results {
		if r.Err != nil {
			errs[tpKey{r.Topic, r.Partition}] = r.Err
		}
	}
	var failMsgs []string
	for _, m := range changed {
		mr := MoveResult{Topic: m.Topic, Partition: m.Partition, Before: before[tpKey{m.Topic, m.Partition}], Replicas: m.Replicas}
		if e := errs[tpKey{m.Topic, m.Partition}]; e != nil {
			mr.Error = e.Error()
			res.Failed++
			failMsgs = append(failMsgs, fmt.Sprintf("%s-%d: %v", m.Topic, m.Partition, e))
		} else {
			res.Started++
		}
		res.Partitions = append(res.Partitions, mr)
	}
	return failMsgs
}

// throttleLists builds the topic throttled-replica lists: the leader list names every current replica
// of a moving partition (they may serve the copy), the follower list the replicas being added.
func throttleLists(moves, original []PartitionMove) (leader, follower map[string][]string) {
	leader, follower = map[string][]string{}, map[string][]string{}
	orig := map[tpKey][]int32{}
	for _, m := range original {
		orig[tpKey{m.Topic, m.Partition}] = m.Replicas
	}
	for _, m := range moves {
		was := orig[tpKey{m.Topic, m.Partition}]
		for _, r := range was {
			leader[m.Topic] = append(leader[m.Topic], fmt.Sprintf("%d:%d", m.Partition, r))
		}
		for _, r := range m.Replicas {
			if !slices.Contains(was, r) {
				follower[m.Topic] = append(follower[m.Topic], fmt.Sprintf("%d:%d", m.Partition, r))
			}
		}
	}
	return leader, follower
}

func involvedBrokers(moves, original []PartitionMove) []int32 {
	var out []int32
	for _, list := range [][]PartitionMove{moves, original} {
		for _, m := range list {
			out = append(out, m.Replicas...)
		}
	}
	return uniqueSorted(out)
}

// setThrottles applies the throttle; failures become warnings (the move itself still runs, as with
// kafka-reassign-partitions.sh, which also sets throttles before starting).
func (o *ops) setThrottles(ctx context.Context, moves, original []PartitionMove, rate int64) []string {
	var warn []string
	leader, follower := throttleLists(moves, original)
	topics := make([]string, 0, len(leader))
	for t := range leader {
		topics = append(topics, t)
	}
	sort.Strings(topics)
	for _, t := range topics {
		set := map[string]string{cfgLeaderReplicas: strings.Join(leader[t], ",")}
		if f := follower[t]; len(f) > 0 {
			set[cfgFollowerReplicas] = strings.Join(f, ",")
		}
		if err := o.adm.AlterTopicConfigs(ctx, t, set, nil); err != nil {
			warn = append(warn, fmt.Sprintf("could not set the throttled replicas of topic %q: %v", t, err))
		}
	}
	v := strconv.FormatInt(rate, 10)
	for _, b := range involvedBrokers(moves, original) {
		if err := o.adm.AlterBrokerConfigs(ctx, b, map[string]string{cfgLeaderRate: v, cfgFollowerRate: v}, nil); err != nil {
			warn = append(warn, fmt.Sprintf("could not set the throttle rate on broker %d: %v", b, err))
		}
	}
	return warn
}

// clearThrottles removes the throttle configs of a finished reassignment, except on topics and brokers
// another running reassignment still uses (keep).
func (o *ops) clearThrottles(ctx context.Context, moves, original []PartitionMove, keep []store.Reassignment) {
	keepTopics, keepBrokers := map[string]bool{}, map[int32]bool{}
	for _, r := range keep {
		p, orig := decodeMoves(r.Plan), decodeMoves(r.Original)
		for _, m := range p {
			keepTopics[m.Topic] = true
		}
		for _, b := range involvedBrokers(p, orig) {
			keepBrokers[b] = true
		}
	}
	leader, _ := throttleLists(moves, original)
	for t := range leader {
		if keepTopics[t] {
			continue
		}
		if err := o.adm.AlterTopicConfigs(ctx, t, nil, []string{cfgLeaderReplicas, cfgFollowerReplicas}); err != nil {
			o.log.Warn("removing topic throttle", "topic", t, "err", err)
		}
	}
	for _, b := range involvedBrokers(moves, original) {
		if keepBrokers[b] {
			continue
		}
		if err := o.adm.AlterBrokerConfigs(ctx, b, nil, []string{cfgLeaderRate, cfgFollowerRate}); err != nil {
			o.log.Warn("removing broker throttle", "broker", b, "err", err)
		}
	}
}

// OngoingReassignment is one partition being moved, with its progress from the latest snapshot.
type OngoingReassignment struct {
	Topic     string  `json:"topic"`
	Partition int32   `json:"partition"`
	Replicas  []int32 `json:"replicas"`
	Target    []int32 `json:"target"`
	Adding    []int32 `json:"adding"`
	Removing  []int32 `json:"removing"`
	ISR       []int32 `json:"isr"`
	// InSync of Total target replicas are in the ISR; Progress is their ratio (0..1).
	InSync   int     `json:"inSync"`
	Total    int     `json:"total"`
	Progress float64 `json:"progress"`
}

// ReassignmentRecord is a reassignment started from the console, as recorded.
type ReassignmentRecord struct {
	ID                  int64            `json:"id"`
	State               string           `json:"state"`
	Actor               string           `json:"actor"`
	StartedAt           time.Time        `json:"startedAt"`
	FinishedAt          *time.Time       `json:"finishedAt"`
	ThrottleBytesPerSec int64            `json:"throttleBytesPerSec"`
	Error               string           `json:"error,omitempty"`
	Partitions          []RecordedChange `json:"partitions"`
}

// RecordedChange is one partition of a recorded reassignment.
type RecordedChange struct {
	Topic     string  `json:"topic"`
	Partition int32   `json:"partition"`
	Before    []int32 `json:"before"`
	After     []int32 `json:"after"`
}

// ReassignmentsView is the reassignment page: ongoing partitions (items) and the recorded history.
type ReassignmentsView struct {
	Items   []OngoingReassignment `json:"items"`
	Total   int                   `json:"total"`
	History []ReassignmentRecord  `json:"history"`
}

// Reassignments lists the ongoing partition moves (asked of the controller: the one Kafka call of this
// read, since snapshots do not carry it) with progress from the latest snapshot, and the recorded
// history. Recorded reassignments found complete are marked so and their throttles removed.
func (s *Service) Reassignments(ctx context.Context, cluster string) (ReassignmentsView, error) {
	o, snap, err := s.opsFor(cluster)
	if err != nil {
		return ReassignmentsView{}, err
	}
	return o.view(ctx, snap)
}

// ClusterReassignments is one cluster's part of the cross-cluster reassignment page.
type ClusterReassignments struct {
	Cluster string `json:"cluster"`
	ReassignmentsView
	// Error says why this cluster's state is missing (not polled yet, unreachable); the others still show.
	Error string `json:"error,omitempty"`
}

// perClusterReassignTimeout bounds each cluster's part of AllReassignments.
const perClusterReassignTimeout = 5 * time.Second

// AllReassignments shows every cluster's reassignments on one page, in the order of Clusters. Clusters
// are asked in parallel, each within a few seconds, so one unreachable cluster delays the page by that
// bound at most; its row says why it is empty.
func (s *Service) AllReassignments(ctx context.Context) []ClusterReassignments {
	clusters := s.Clusters()
	out := make([]ClusterReassignments, len(clusters))
	var wg sync.WaitGroup
	for i, cl := range clusters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, perClusterReassignTimeout)
			defer cancel()
			v, err := s.Reassignments(cctx, cl.Name)
			row := ClusterReassignments{Cluster: cl.Name, ReassignmentsView: v}
			if err != nil {
				// The row shows the sentence meant for users; the cause (a broker's own message) is logged.
				row.Error = err.Error()
				var ue *UserError
				if errors.As(err, &ue) {
					row.Error = ue.Message
				}
				s.log.Debug("reassignments of a cluster", "cluster", cl.Name, "err", err)
			}
			if row.Items == nil {
				row.Items = []OngoingReassignment{}
			}
			if row.History == nil {
				row.History = []ReassignmentRecord{}
			}
			out[i] = row
		}()
	}
	wg.Wait()
	return out
}

func (o *ops) view(ctx context.Context, snap *collector.Snapshot) (ReassignmentsView, error) {
	ongoing, err := o.adm.ListPartitionReassignments(ctx)
	if err != nil {
		return ReassignmentsView{}, kafkaFailure("listing ongoing reassignments", err)
	}
	v := ReassignmentsView{Items: make([]OngoingReassignment, 0, len(ongoing)), History: []ReassignmentRecord{}}
	for _, g := range ongoing {
		it := OngoingReassignment{Topic: g.Topic, Partition: g.Partition, Replicas: nonNilIDs(g.Replicas),
			Adding: nonNilIDs(g.Adding), Removing: nonNilIDs(g.Removing), ISR: []int32{}, Target: []int32{}}
		for _, r := range g.Replicas {
			if !slices.Contains(g.Removing, r) {
				it.Target = append(it.Target, r)
			}
		}
		if t := snapTopic(snap, g.Topic); t != nil {
			if p := snapPartition(t, g.Partition); p != nil {
				it.ISR = nonNilIDs(p.ISR)
			}
		}
		for _, r := range it.Target {
			if slices.Contains(it.ISR, r) {
				it.InSync++
			}
		}
		it.Total = len(it.Target)
		if it.Total > 0 {
			it.Progress = float64(it.InSync) / float64(it.Total)
		}
		v.Items = append(v.Items, it)
	}
	v.Total = len(v.Items)
	if o.st == nil {
		return v, nil
	}
	if err := o.complete(ctx, snap, ongoing); err != nil {
		return v, err
	}
	rows, err := o.st.Reassignments(ctx, o.cluster, 50)
	if err != nil {
		return v, err
	}
	for _, r := range rows {
		v.History = append(v.History, recordOf(r))
	}
	return v, nil
}

func nonNilIDs(s []int32) []int32 {
	if s == nil {
		return []int32{}
	}
	return s
}

func recordOf(r store.Reassignment) ReassignmentRecord {
	rec := ReassignmentRecord{ID: r.ID, State: r.State, Actor: r.Actor, StartedAt: r.StartedAt, FinishedAt: r.FinishedAt,
		ThrottleBytesPerSec: r.ThrottleBytes, Error: r.Error, Partitions: []RecordedChange{}}
	orig := map[tpKey][]int32{}
	for _, m := range decodeMoves(r.Original) {
		orig[tpKey{m.Topic, m.Partition}] = m.Replicas
	}
	for _, m := range decodeMoves(r.Plan) {
		rec.Partitions = append(rec.Partitions, RecordedChange{Topic: m.Topic, Partition: m.Partition,
			Before: nonNilIDs(orig[tpKey{m.Topic, m.Partition}]), After: m.Replicas})
	}
	return rec
}

// complete marks running reassignments done when none of their partitions is still listed as moving
// and the snapshot shows each on its target replicas; their throttles are then removed. A partition
// not listed but not yet on target waits for a newer snapshot: a stale snapshot is never a failure.
func (o *ops) complete(ctx context.Context, snap *collector.Snapshot, ongoing []admin.ReassignmentStatus) error {
	rows, err := o.st.Reassignments(ctx, o.cluster, 1000)
	if err != nil {
		return err
	}
	moving := map[tpKey]bool{}
	for _, g := range ongoing {
		moving[tpKey{g.Topic, g.Partition}] = true
	}
	var running []store.Reassignment
	for _, r := range rows {
		if r.State == ReassignRunning {
			running = append(running, r)
		}
	}
	for i, r := range running {
		plan := decodeMoves(r.Plan)
		remaining := 0
		for _, m := range plan {
			if moving[tpKey{m.Topic, m.Partition}] || !onReplicas(snap, m) {
				remaining++
			}
		}
		if remaining > 0 {
			o.publishProgress(r.ID, remaining, len(plan))
			continue
		}
		// Throttles first: once the record says completed, nothing of the move is left on the cluster.
		if r.ThrottleBytes > 0 {
			others := slices.Delete(slices.Clone(running), i, i+1)
			others = slices.DeleteFunc(others, func(x store.Reassignment) bool { return x.State != ReassignRunning })
			o.clearThrottles(ctx, plan, decodeMoves(r.Original), others)
		}
		now := o.now().UTC()
		r.State, r.FinishedAt = ReassignCompleted, &now
		if err := o.st.UpdateReassignment(ctx, &r); err != nil {
			return err
		}
		o.log.Info("reassignment completed", "id", r.ID, "partitions", len(plan))
		o.finished(ReassignmentEvent{ID: r.ID, Kind: ReassignEventCompleted, State: ReassignCompleted, Total: len(plan), At: now})
		running[i].State = ReassignCompleted
	}
	return nil
}

// onReplicas reports whether the snapshot shows the partition on exactly the move's replicas.
func onReplicas(snap *collector.Snapshot, m PartitionMove) bool {
	t := snapTopic(snap, m.Topic)
	if t == nil {
		return false
	}
	p := snapPartition(t, m.Partition)
	if p == nil || len(p.Replicas) != len(m.Replicas) {
		return false
	}
	for _, r := range m.Replicas {
		if !slices.Contains(p.Replicas, r) {
			return false
		}
	}
	return true
}

// CheckReassignments runs completion detection alone, for a caller that watches snapshots (call it
// after each new snapshot). It asks Kafka only while a recorded reassignment of the cluster runs.
func (s *Service) CheckReassignments(ctx context.Context, cluster string) error {
	o, snap, err := s.opsFor(cluster)
	if err != nil || o.st == nil {
		return err
	}
	rows, err := o.st.Reassignments(ctx, cluster, 1000)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(rows, func(r store.Reassignment) bool { return r.State == ReassignRunning }) {
		return nil
	}
	ongoing, err := o.adm.ListPartitionReassignments(ctx)
	if err != nil {
		return fmt.Errorf("listing reassignments of %q: %w", cluster, err)
	}
	return o.complete(ctx, snap, ongoing)
}

// CancelResult is the answer to cancelling.
type CancelResult struct {
	Items []MoveResult `json:"items"`
	Total int          `json:"total"`
	// Records are the recorded reassignments marked cancelled.
	Records []int64 `json:"records"`
}

// CancelReassignment stops every ongoing partition move of the cluster and records the recorded
// reassignments as cancelled (removing their throttles).
//
// Each partition is sent back to its original replicas (the replicas not being added, in the recorded
// order when the console started the move) rather than cancelled with null replicas; for Kafka the two
// are the same (KIP-455: a new target replaces the ongoing one; replicas being added are dropped).
func (s *Service) CancelReassignment(ctx context.Context, caller Caller, cluster string) (CancelResult, error) {
	o, snap, err := s.opsFor(cluster)
	if err != nil {
		return CancelResult{}, err
	}
	var res CancelResult
	err = s.Audited(ctx, caller, "reassignment.cancel", cluster, "", nil, func() error {
		var err error
		res, err = o.cancel(ctx, snap)
		return err
	})
	return res, err
}

func (o *ops) cancel(ctx context.Context, snap *collector.Snapshot) (CancelResult, error) {
	ongoing, err := o.adm.ListPartitionReassignments(ctx)
	if err != nil {
		return CancelResult{}, kafkaFailure("listing ongoing reassignments", err)
	}
	var running []store.Reassignment
	if o.st != nil {
		if err := o.complete(ctx, snap, ongoing); err != nil {
			return CancelResult{}, err
		}
		rows, err := o.st.Reassignments(ctx, o.cluster, 1000)
		if err != nil {
			return CancelResult{}, err
		}
		for _, r := range rows {
			if r.State == ReassignRunning {
				running = append(running, r)
			}
		}
	}
	if len(ongoing) == 0 && len(running) == 0 {
		return CancelResult{}, conflict("no_reassignment", "no reassignment is in progress on cluster %q", o.cluster)
	}
	recorded := map[tpKey][]int32{}
	for _, r := range running {
		for _, m := range decodeMoves(r.Original) {
			recorded[tpKey{m.Topic, m.Partition}] = m.Replicas
		}
	}
	res := CancelResult{Items: []MoveResult{}, Records: []int64{}}
	if len(ongoing) > 0 {
		req := make([]admin.Reassignment, 0, len(ongoing))
		for _, g := range ongoing {
			back := recorded[tpKey{g.Topic, g.Partition}]
			if len(back) == 0 || !replicasSubset(back, g.Replicas) {
				back = nil
				for _, r := range g.Replicas {
					if !slices.Contains(g.Adding, r) {
						back = append(back, r)
					}
				}
			}
			req = append(req, admin.Reassignment{Topic: g.Topic, Partition: g.Partition, Replicas: back})
			res.Items = append(res.Items, MoveResult{Topic: g.Topic, Partition: g.Partition, Before: nonNilIDs(g.Replicas), Replicas: back})
		}
		results, err := o.adm.AlterPartitionReassignments(ctx, req)
		if err != nil {
			return CancelResult{}, kafkaFailure("cancelling the reassignment", err)
		}
		errs := map[tpKey]error{}
		for _, r := range results {
			if r.Err != nil {
				errs[tpKey{r.Topic, r.Partition}] = r.Err
			}
		}
		for i := range res.Items {
			if e := errs[tpKey{res.Items[i].Topic, res.Items[i].Partition}]; e != nil {
				res.Items[i].Error = e.Error()
			}
		}
	}
	res.Total = len(res.Items)
	if len(running) == 0 {
		// Nothing recorded (no database, or moves started elsewhere): the lists still changed.
		o.publish(ReassignmentEvent{Kind: ReassignEventCancelled, State: ReassignCancelled, Total: res.Total})
	}
	for i, r := range running {
		now := o.now().UTC()
		r.State, r.FinishedAt = ReassignCancelled, &now
		if err := o.st.UpdateReassignment(context.WithoutCancel(ctx), &r); err != nil {
			return res, err
		}
		res.Records = append(res.Records, r.ID)
		o.finished(ReassignmentEvent{ID: r.ID, Kind: ReassignEventCancelled, State: ReassignCancelled, Total: len(decodeMoves(r.Plan)), At: now})
		if r.ThrottleBytes > 0 {
			o.clearThrottles(context.WithoutCancel(ctx), decodeMoves(r.Plan), decodeMoves(r.Original), running[i+1:])
		}
	}
	return res, nil
}

func replicasSubset(a, b []int32) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}
