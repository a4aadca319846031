package service

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"

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

// Election outcomes per partition.
const (
	ElectionElected   = "elected"
	ElectionNotNeeded = "not_needed"
	ElectionFailed    = "error"
)

// ElectionPartition is one partition's outcome.
type ElectionPartition struct {
	Topic           string `json:"topic"`
	Partition       int32  `json:"partition"`
	LeaderBefore    int32  `json:"leaderBefore"`
	PreferredLeader int32  `json:"preferredLeader"`
	// LeaderAfter is the leader in the snapshot taken right after the election (-1 unknown).
	LeaderAfter int32  `json:"leaderAfter"`
	Result      string `json:"result"`
	Error       string `json:"error,omitempty"`
}

// ElectionTopic is a topic the election touched, with its leader figures before (from the snapshot).
type ElectionTopic struct {
	Topic                 string  `json:"topic"`
	LeaderSkewBefore      float64 `json:"leaderSkewBefore"`
	PreferredLeaderBefore float64 `json:"preferredLeaderBefore"`
	LeaderSkewAfter       float64 `json:"leaderSkewAfter"`
	PreferredLeaderAfter  float64 `json:"preferredLeaderAfter"`
}

// ElectionResult is the answer to a preferred leader election.
type ElectionResult struct {
	Items     []ElectionPartition `json:"items"`
	Total     int                 `json:"total"`
	Elected   int                 `json:"elected"`
	NotNeeded int                 `json:"notNeeded"`
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
		for ti := range snap.Topics {
			t := &snap.Topics[ti]
			for i := range t.Partitions {
				// Listing every balanced partition of a large cluster would bury the answer: "all"
				// reports only the partitions it acts on.
				if p := &t.Partitions[i]; len(p.Replicas) > 0 && p.Leader != p.Replicas[0] {
					add(t, p)
				}
			}
		}
	}
	for t := range elect {
		sort.Slice(elect[t], func(i, j int) bool { return elect[t][i] < elect[t][j] })
	}
	return elect, items, nil
}

// ElectPreferred runs a preferred leader election over the scope. Partitions already led by their
// preferred replica are reported not_needed without a request (and Kafka's ELECTION_NOT_NEEDED answer
// counts the same, never as an error). Afterwards it polls the cluster so the next snapshot, and this
// answer's leaderAfter, show the new leaders.
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

func (o *ops) elect(ctx context.Context, snap *collector.Snapshot, scope ElectionScope) (ElectionResult, error) {
	elect, items, err := electionTargets(snap, scope)
	if err != nil {
		return ElectionResult{}, err
	}
	outcome := map[TopicPartition]error{}
	topics := make([]string, 0, len(elect))
	for t := range elect {
		topics = append(topics, t)
	}
	sort.Strings(topics)
	// kafka-go sends one topic per ElectLeaders request; topics go one after another.
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
	var after *collector.Snapshot
	if len(elect) > 0 && o.poll != nil {
		after = o.poll(ctx)
	}
	res := ElectionResult{Items: items, Topics: []ElectionTopic{}}
	if res.Items == nil {
		res.Items = []ElectionPartition{}
	}
	affected := map[string]bool{}
	for i := range res.Items {
		it := &res.Items[i]
		affected[it.Topic] = true
		if it.Result == "" {
			switch e := outcome[TopicPartition{it.Topic, it.Partition}]; {
			case e == nil:
				it.Result = ElectionElected
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
		default:
			res.Failed++
		}
		it.LeaderAfter = it.LeaderBefore
		if after != nil {
			it.LeaderAfter = -1
			if t := snapTopic(after, it.Topic); t != nil {
				if p := snapPartition(t, it.Partition); p != nil {
					it.LeaderAfter = p.Leader
				}
			}
		}
	}
	res.Total = len(res.Items)
	names := make([]string, 0, len(affected))
	for t := range affected {
		names = append(names, t)
	}
	sort.Strings(names)
	for _, name := range names {
		et := ElectionTopic{Topic: name}
		if t := snapTopic(snap, name); t != nil {
			et.LeaderSkewBefore, et.PreferredLeaderBefore = t.LeaderSkew, t.PreferredLeader
			et.LeaderSkewAfter, et.PreferredLeaderAfter = t.LeaderSkew, t.PreferredLeader
		}
		if after != nil {
			if t := snapTopic(after, name); t != nil {
				et.LeaderSkewAfter, et.PreferredLeaderAfter = t.LeaderSkew, t.PreferredLeader
			}
		}
		res.Topics = append(res.Topics, et)
	}
	if res.Elected == 0 && res.Failed > 0 {
		return res, &UserError{Status: 502, Code: "kafka_error", Message: fmt.Sprintf("the election failed for all %d partition(s); first error: %s", res.Failed, firstError(res.Items))}
	}
	return res, nil
}

func firstError(items []ElectionPartition) string {
	for _, it := range items {
		if it.Error != "" {
			return fmt.Sprintf("%s-%d: %s", it.Topic, it.Partition, it.Error)
		}
	}
	return ""
}
