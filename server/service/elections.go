package service

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/osprey-kafka/osprey/admin"
	"github.com/osprey-kafka/osprey/collector"
)

// This file holds preferred leader election (kafka-leader-election.sh --election-type preferred).

// TopicPartition names one partition.
type TopicPartition struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
}

// ElectionScope says which partitions to elect for: listed partitions, else one topic, else all.
type ElectionScope struct {
	Topic      string           `json:"topic,omitempty"`
	Partitions []TopicPartition `json:"partitions,omitempty"`
}

// Election outcomes per partition. Elected means the fresh metadata read after the election shows the
// preferred replica leading where another broker led before; pending means the controller accepted the
// election but the metadata did not show the new leader before the wait ended.
const (
	ElectionElected   = "elected"
	ElectionNotNeeded = "not_needed"
	ElectionPending   = "pending"
	ElectionFailed    = "error"
)

// electionSettle bounds the wait for the metadata to show the elected leaders: a controller answers
// ElectLeaders once it has recorded the new leaders, and the brokers learn them a moment later.
const electionSettle = 10 * time.Second

// ElectionPartition is one partition's outcome.
type ElectionPartition struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	// LeaderBefore is the leader in metadata read just before the election.
	LeaderBefore    int32 `json:"leaderBefore"`
	PreferredLeader int32 `json:"preferredLeader"`
	// LeaderAfter is the leader in metadata read after the election (-1 unknown).
	LeaderAfter int32  `json:"leaderAfter"`
	Result      string `json:"result" enum:"elected,not_needed,pending,error"`
	Error       string `json:"error,omitempty"`
}

// ElectionTopic is a topic in the election's scope, with its leader figures from the metadata read
// before and after the election.
type ElectionTopic struct {
	Topic                 string  `json:"topic"`
	LeaderSkewBefore      float64 `json:"leaderSkewBefore"`
	PreferredLeaderBefore float64 `json:"preferredLeaderBefore"`
	LeaderSkewAfter       float64 `json:"leaderSkewAfter"`
	PreferredLeaderAfter  float64 `json:"preferredLeaderAfter"`
}

// ElectionResult is the answer to a preferred leader election: every partition in scope, counted by
// outcome (Total = Elected + NotNeeded + Pending + Failed).
type ElectionResult struct {
	Items     []ElectionPartition `json:"items"`
	Total     int                 `json:"total"`
	Elected   int                 `json:"elected"`
	NotNeeded int                 `json:"notNeeded"`
	Pending   int                 `json:"pending"`
	Failed    int                 `json:"failed"`
	Topics    []ElectionTopic     `json:"topics"`
}

// electionTargets resolves a scope against a snapshot: the partitions to elect per topic (sorted), and
// those whose leader is already the preferred replica (answered without asking Kafka).
func electionTargets(snap *collector.Snapshot, scope ElectionScope) (elect map[string][]int32, items []ElectionPartition, err error) {
	elect = map[string][]int32{}
	add := func(t *collector.Topic, p *collector.Partition) {
		it := ElectionPartition{Topic: t.Name, Partition: p.Partition, LeaderBefore: p.Leader, PreferredLeader: -1, LeaderAfter: -1}
		if len(p.Replicas) > 0 {
			it.PreferredLeader = p.Replicas[0]
		}
		if it.PreferredLeader < 0 || p.Leader == it.PreferredLeader {
			it.Result = ElectionNotNeeded
		} else {
			elect[t.Name] = append(elect[t.Name], p.Partition)
		}
		items = append(items, it)
	}
	switch {
	case len(scope.Partitions) > 0:
		var unknownT, unknownP []string
		seen := map[TopicPartition]bool{}
		for _, tp := range scope.Partitions {
			if scope.Topic != "" && tp.Topic != scope.Topic {
				return nil, nil, badRequest("bad_request", "partition %s-%d is not of topic %q", tp.Topic, tp.Partition, scope.Topic)
			}
			if seen[tp] {
				continue
			}
			seen[tp] = true
			t := snapTopic(snap, tp.Topic)
			if t == nil {
				unknownT = append(unknownT, strconv.Quote(tp.Topic))
				continue
			}
			p := snapPartition(t, tp.Partition)
			if p == nil {
				unknownP = append(unknownP, fmt.Sprintf("%s-%d", tp.Topic, tp.Partition))
				continue
			}
			add(t, p)
		}
		if len(unknownT) > 0 {
			return nil, nil, badRequest("unknown_topic", "unknown topic(s): %s", boundedList(uniqueSorted(unknownT)))
		}
		if len(unknownP) > 0 {
			return nil, nil, badRequest("unknown_partition", "unknown partition(s): %s", boundedList(unknownP))
		}
	case scope.Topic != "":
		t := snapTopic(snap, scope.Topic)
		if t == nil {
			return nil, nil, badRequest("unknown_topic", "unknown topic %q", scope.Topic)
		}
		for i := range t.Partitions {
			add(t, &t.Partitions[i])
		}
	default:
		// Every partition is in scope: those already led by their preferred replica are reported too,
		// so "already preferred" counts the whole cluster.
		for ti := range snap.Topics {
			t := &snap.Topics[ti]
			for i := range t.Partitions {
				add(t, &t.Partitions[i])
			}
		}
	}
	for t := range elect {
		sort.Slice(elect[t], func(i, j int) bool { return elect[t][i] < elect[t][j] })
	}
	return elect, items, nil
}

// ElectPreferred runs a preferred leader election over the scope. Leaders before and after come from
// metadata read from the cluster around the election (the snapshot only resolves the scope): partitions
// already led by their preferred replica are reported not_needed without a request (Kafka's
// ELECTION_NOT_NEEDED answer counts the same), and a partition counts as elected only once the metadata
// shows its preferred replica leading, which is waited for up to electionSettle. Afterwards the cluster
// is polled so the next snapshot shows the new leaders.
func (s *Service) ElectPreferred(ctx context.Context, caller Caller, cluster string, scope ElectionScope) (ElectionResult, error) {
	o, snap, err := s.opsFor(cluster)
	if err != nil {
		return ElectionResult{}, err
	}
	target := scope.Topic
	if target == "" && len(scope.Partitions) == 0 {
		target = "*"
	}
	var res ElectionResult
	var params any = scope
	if len(scope.Partitions) > 100 {
		params = map[string]any{"topic": scope.Topic, "partitionCount": len(scope.Partitions)}
	}
	err = s.Audited(ctx, caller, "election.preferred", cluster, target, params, func() error {
		var err error
		res, err = o.elect(ctx, snap, scope)
		return err
	})
	return res, err
}

// scopeTopics names the topics to read metadata for: nil (every topic) for a whole-cluster election.
func scopeTopics(scope ElectionScope, items []ElectionPartition) []string {
	if scope.Topic == "" && len(scope.Partitions) == 0 {
		return nil
	}
	names := make([]string, 0, 1)
	for _, it := range items {
		names = append(names, it.Topic)
	}
	return uniqueSorted(names)
}

// mdPartition finds a partition in metadata (topics sorted by name, partitions by number).
func mdPartition(md *admin.Metadata, topic string, partition int32) *admin.PartitionMetadata {
	if md == nil {
		return nil
	}
	ti := sort.Search(len(md.Topics), func(i int) bool { return md.Topics[i].Name >= topic })
	if ti == len(md.Topics) || md.Topics[ti].Name != topic {
		return nil
	}
	ps := md.Topics[ti].Partitions
	pi := sort.Search(len(ps), func(i int) bool { return ps[i].Partition >= partition })
	if pi == len(ps) || ps[pi].Partition != partition {
		return nil
	}
	return &ps[pi]
}

// refreshTargets takes each item's leader and preferred replica from fresh metadata (the snapshot may be
// a poll interval old) and returns the partitions that still need an election, per topic, sorted.
func refreshTargets(items []ElectionPartition, md *admin.Metadata) map[string][]int32 {
	elect := map[string][]int32{}
	for i := range items {
		it := &items[i]
		if p := mdPartition(md, it.Topic, it.Partition); p != nil {
			it.LeaderBefore, it.PreferredLeader = p.Leader, -1
			if len(p.Replicas) > 0 {
				it.PreferredLeader = p.Replicas[0]
			}
		}
		it.Result = ""
		if it.PreferredLeader < 0 || it.LeaderBefore == it.PreferredLeader {
			it.Result = ElectionNotNeeded
			continue
		}
		elect[it.Topic] = append(elect[it.Topic], it.Partition)
	}
	for t := range elect {
		slices.Sort(elect[t])
	}
	return elect
}

// awaitLeaders reads metadata until every partition in want is led by the broker it names, or until
// electionSettle passes (or ctx ends); it returns the last metadata read (nil if none could be read).
func (o *ops) awaitLeaders(ctx context.Context, topics []string, want map[TopicPartition]int32) *admin.Metadata {
	settle := o.settle
	if settle <= 0 {
		settle = electionSettle
	}
	ctx, cancel := context.WithTimeout(ctx, settle)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var last *admin.Metadata
	for {
		md, err := o.adm.Metadata(ctx, topics)
		if err == nil {
			last = md
			done := true
			for tp, leader := range want {
				if p := mdPartition(md, tp.Topic, tp.Partition); p == nil || p.Leader != leader {
					done = false
					break
				}
			}
			if done {
				return last
			}
		} else {
			o.log.Debug("reading metadata after an election", "err", err)
		}
		select {
		case <-ctx.Done():
			return last
		case <-tick.C:
		}
	}
}

// figures computes a topic's leader figures from metadata.
func figures(md *admin.Metadata, topic string) (collector.TopicFigures, bool) {
	ti := sort.Search(len(md.Topics), func(i int) bool { return md.Topics[i].Name >= topic })
	if ti == len(md.Topics) || md.Topics[ti].Name != topic {
		return collector.TopicFigures{}, false
	}
	layouts := make([]collector.Layout, 0, len(md.Topics[ti].Partitions))
	for _, p := range md.Topics[ti].Partitions {
		layouts = append(layouts, collector.Layout{Leader: p.Leader, Replicas: p.Replicas, ISR: p.ISR})
	}
	return collector.ComputeTopicFigures(layouts, len(md.Brokers)), true
}

func (o *ops) elect(ctx context.Context, snap *collector.Snapshot, scope ElectionScope) (ElectionResult, error) {
	_, items, err := electionTargets(snap, scope)
	if err != nil {
		return ElectionResult{}, err
	}
	topicsMD := scopeTopics(scope, items)
	before, err := o.adm.Metadata(ctx, topicsMD)
	if err != nil {
		return ElectionResult{}, kafkaFailure("reading the leaders before the election", err)
	}
	elect := refreshTargets(items, before)
	outcome := o.electPerTopic(ctx, elect)
	// The controller has answered; the brokers' metadata follows. Wait for it to show the new leaders.
	want := map[TopicPartition]int32{}
	for i := range items {
		it := &items[i]
		if it.Result == "" && outcome[TopicPartition{it.Topic, it.Partition}] == nil {
			want[TopicPartition{it.Topic, it.Partition}] = it.PreferredLeader
		}
	}
	after := before
	if len(elect) > 0 {
		after = o.awaitLeaders(ctx, topicsMD, want)
		if o.poll != nil {
			o.poll(ctx) // so the pages' next read shows the new leaders
		}
	}
	res := ElectionResult{Items: items, Topics: []ElectionTopic{}}
	if res.Items == nil {
		res.Items = []ElectionPartition{}
	}
	o.judgeItems(&res, outcome, after)
	res.Total = len(res.Items)
	res.Topics = append(res.Topics, electionTopics(res.Items, before, after)...)
	if res.Elected == 0 && res.Pending == 0 && res.Failed > 0 {
		return res, &UserError{Status: 502, Code: "kafka_error", Message: fmt.Sprintf("the election failed for all %d partition(s); first error: %s", res.Failed, firstError(res.Items))}
	}
	return res, nil
}

// electPerTopic sends one ElectLeaders request per topic, one after another, and returns each
// partition's error (nil when the controller accepted it).
func (o *ops) electPerTopic(ctx context.Context, elect map[string][]int32) map[TopicPartition]error {
	outcome := map[TopicPartition]error{}
	topics := make([]string, 0, len(elect))
	for t := range elect {
		topics = append(topics, t)
	}
	sort.Strings(topics)
	for _, t := range topics {
		results, err := o.adm.ElectPreferredLeaders(ctx, t, elect[t])
		if err != nil {
			for _, p := range elect[t] {
				outcome[TopicPartition{t, p}] = err
			}
			continue
		}
		for _, r := range results {
			outcome[TopicPartition{r.Topic, r.Partition}] = r.Err
		}
	}
	return outcome
}

// judgeItems sets each item's leader after the election and, where not already decided, its result
// from the controller's answer and the metadata; then counts the results in res.
func (o *ops) judgeItems(res *ElectionResult, outcome map[TopicPartition]error, after *admin.Metadata) {
	for i := range res.Items {
		it := &res.Items[i]
		it.LeaderAfter = -1
		if p := mdPartition(after, it.Topic, it.Partition); p != nil {
			it.LeaderAfter = p.Leader
		}
		if it.Result == "" {
			switch e := outcome[TopicPartition{it.Topic, it.Partition}]; {
			case e == nil && it.LeaderAfter == it.PreferredLeader:
				it.Result = ElectionElected
			case e == nil:
				it.Result = ElectionPending
				it.Error = fmt.Sprintf("the controller accepted the election, but after %s the metadata still shows broker %d leading", settleText(o.settle), it.LeaderAfter)
			case errors.Is(e, admin.ErrElectionNotNeeded):
				it.Result = ElectionNotNeeded
			default:
				it.Result, it.Error = ElectionFailed, e.Error()
			}
		}
		switch it.Result {
		case ElectionElected:
			res.Elected++
		case ElectionNotNeeded:
			res.NotNeeded++
		case ElectionPending:
			res.Pending++
		default:
			res.Failed++
		}
	}
}

// electionTopics gives each topic of items its leader skew and preferred-leader figures before and
// after the election (the before figures stand for after when there is no later metadata).
func electionTopics(items []ElectionPartition, before, after *admin.Metadata) []ElectionTopic {
	names := make([]string, 0, len(items))
	for _, it := range items {
		names = append(names, it.Topic)
	}
	var out []ElectionTopic
	for _, name := range uniqueSorted(names) {
		et := ElectionTopic{Topic: name}
		if f, ok := figures(before, name); ok {
			et.LeaderSkewBefore, et.PreferredLeaderBefore = f.LeaderSkew, f.PreferredLeader
			et.LeaderSkewAfter, et.PreferredLeaderAfter = f.LeaderSkew, f.PreferredLeader
		}
		if after != nil {
			if f, ok := figures(after, name); ok {
				et.LeaderSkewAfter, et.PreferredLeaderAfter = f.LeaderSkew, f.PreferredLeader
			}
		}
		out = append(out, et)
	}
	return out
}

func settleText(d time.Duration) string {
	if d <= 0 {
		d = electionSettle
	}
	return d.String()
}

func firstError(items []ElectionPartition) string {
	for _, it := range items {
		if it.Error != "" && it.Result == ElectionFailed {
			return fmt.Sprintf("%s-%d: %s", it.Topic, it.Partition, it.Error)
		}
	}
	return ""
}
