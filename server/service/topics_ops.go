package service

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/osprey-kafka/osprey/admin"
	"github.com/osprey-kafka/osprey/collector"
	"github.com/osprey-kafka/osprey/internal/topicname"
)

// isInternalTopic reports topics the console never deletes: Kafka's own (__consumer_offsets,
// __transaction_state, and any other "__" name).
func isInternalTopic(name string) bool { return strings.HasPrefix(name, "__") }

// CreateTopicRequest is the body of POST /topics.
type CreateTopicRequest struct {
	Name              string            `json:"name" required:"true"`
	Partitions        int32             `json:"partitions" required:"true"`
	ReplicationFactor int16             `json:"replicationFactor" required:"true"`
	Configs           map[string]string `json:"configs"`
}

// CreatedTopic is the answer to a topic's creation: the topic from the snapshot CreateTopic's re-poll
// published or, when no snapshot shows it yet, what the request asked for (its partitions counted as
// starting, its figures unknown), so the answer is a topic either way.
func (s *Service) CreatedTopic(cluster string, req CreateTopicRequest) TopicDetail {
	if d, err := s.Topic(cluster, req.Name); err == nil {
		return d
	}
	n := int(req.Partitions)
	return TopicDetail{TopicRow: TopicRow{Name: req.Name, Partitions: n, ReplicationFactor: int(req.ReplicationFactor), Starting: n},
		Brokers: []int32{}, PartitionsL: []PartitionRow{}, Consumers: []TopicConsumer{}}
}

// maxPartitions bounds one request; more is almost always a typo.
const maxPartitions = 10000

// CreateTopic validates and creates a topic, then re-polls so the next view shows it.
func (s *Service) CreateTopic(ctx context.Context, who Caller, cluster string, req CreateTopicRequest) error {
	c, err := s.get(cluster)
	if err != nil {
		return err
	}
	if err := topicname.Validate(req.Name); err != nil {
		return badRequest("invalid_topic_name", "topic name %v", err)
	}
	if req.Partitions < 1 || req.Partitions > maxPartitions {
		return badRequest("invalid_partitions", "partitions must be between 1 and %d, got %d", maxPartitions, req.Partitions)
	}
	if req.ReplicationFactor < 1 {
		return badRequest("invalid_replication_factor", "replicationFactor must be at least 1, got %d", req.ReplicationFactor)
	}
	for k := range req.Configs {
		if strings.TrimSpace(k) == "" || strings.ContainsAny(k, " \t\n=") {
			return badRequest("invalid_config", "config name %q is not valid", k)
		}
	}
	if err := validateTopicConfigs(req.Configs); err != nil {
		return err
	}
	if snap := c.collector.Latest(); snap != nil {
		if _, exists := snap.Topic(req.Name); exists {
			return conflict("topic_exists", "topic %q already exists in cluster %s", req.Name, cluster)
		}
		if up := snap.Totals.BrokersUp; up > 0 && int(req.ReplicationFactor) > up {
			return badRequest("invalid_replication_factor", "replicationFactor %d is larger than the %d available brokers", req.ReplicationFactor, up)
		}
		if topicname.HasCollisionChars(req.Name) {
			for _, t := range snap.Topics {
				if topicname.Collides(req.Name, t.Name) {
					return conflict("topic_collides", "topic %q collides with existing topic %q (Kafka treats '.' and '_' alike in metric names)", req.Name, t.Name)
				}
			}
		}
	}
	return s.Audited(ctx, who, "topic.create", cluster, req.Name, req, func() error {
		res, err := c.client.CreateTopics(ctx, admin.TopicSpec{Name: req.Name, Partitions: req.Partitions,
			ReplicationFactor: req.ReplicationFactor, Configs: req.Configs})
		if err != nil {
			return kafkaError(opCreateTopic, req.Name, err)
		}
		if e := res[req.Name]; e != nil {
			return kafkaError(opCreateTopic, req.Name, e)
		}
		s.repoll(ctx, c)
		return nil
	})
}

// DeleteTopic deletes a topic; internal topics are refused.
func (s *Service) DeleteTopic(ctx context.Context, who Caller, cluster, name string) error {
	c, err := s.get(cluster)
	if err != nil {
		return err
	}
	if isInternalTopic(name) {
		return &UserError{Status: http.StatusForbidden, Code: "internal_topic", Message: fmt.Sprintf("%q is an internal Kafka topic and cannot be deleted from the console", name)}
	}
	if err := s.knownTopic(c, cluster, name); err != nil {
		return err
	}
	return s.Audited(ctx, who, "topic.delete", cluster, name, nil, func() error {
		res, err := c.client.DeleteTopics(ctx, name)
		if err != nil {
			return kafkaError(opDeleteTopic, name, err)
		}
		if e := res[name]; e != nil {
			return kafkaError(opDeleteTopic, name, e)
		}
		s.repoll(ctx, c)
		return nil
	})
}

// AlterConfigsRequest is the body of PATCH /topics/{t}/configs: keys to set and keys to reset to default.
type AlterConfigsRequest struct {
	Set    map[string]string `json:"set"`
	Delete []string          `json:"delete"`
}

// AlterTopicConfigs changes a topic's configs incrementally.
func (s *Service) AlterTopicConfigs(ctx context.Context, who Caller, cluster, name string, req AlterConfigsRequest) error {
	c, err := s.get(cluster)
	if err != nil {
		return err
	}
	if len(req.Set) == 0 && len(req.Delete) == 0 {
		return badRequest("empty_change", "nothing to change: give \"set\" and/or \"delete\"")
	}
	for k := range req.Set {
		if slices.Contains(req.Delete, k) {
			return badRequest("invalid_config", "config %q is both set and deleted", k)
		}
		if strings.TrimSpace(k) == "" {
			return badRequest("invalid_config", "config names must not be empty")
		}
	}
	if err := validateTopicConfigs(req.Set); err != nil {
		return err
	}
	if err := s.knownTopic(c, cluster, name); err != nil {
		return err
	}
	return s.Audited(ctx, who, "topic.configs", cluster, name, req, func() error {
		if err := c.client.AlterTopicConfigs(ctx, name, req.Set, req.Delete); err != nil {
			return kafkaError(opAlterConfigs, name, err)
		}
		s.configs.forget(cluster, name)
		return nil
	})
}

// AddPartitions raises a topic's partition count to total.
func (s *Service) AddPartitions(ctx context.Context, who Caller, cluster, name string, total int32) error {
	c, err := s.get(cluster)
	if err != nil {
		return err
	}
	snap, err := s.snapshot(cluster)
	if err != nil {
		return err
	}
	t, ok := snap.Topic(name)
	if !ok {
		return topicNotFound(cluster, name)
	}
	if total <= int32(len(t.Partitions)) {
		return badRequest("invalid_partitions", "topic %q has %d partitions; the new count must be larger (partitions can only be added)", name, len(t.Partitions))
	}
	if total > maxPartitions {
		return badRequest("invalid_partitions", "at most %d partitions per request", maxPartitions)
	}
	return s.Audited(ctx, who, "topic.partitions", cluster, name, map[string]any{"partitions": total}, func() error {
		if err := c.client.CreatePartitions(ctx, name, total); err != nil {
			return kafkaError(opAddPartitions, name, err)
		}
		s.repoll(ctx, c)
		return nil
	})
}

// TopicConfig is a config entry as the API shows it.
type TopicConfig struct {
	Name      string `json:"name"`
	Value     string `json:"value"`
	Default   bool   `json:"default"`
	ReadOnly  bool   `json:"readOnly"`
	Sensitive bool   `json:"sensitive"`
	Source    string `json:"source"`
}

var configSources = map[int8]string{1: "topic", 2: "broker-dynamic", 3: "broker-default-dynamic", 4: "broker-static", 5: "default", 6: "broker-logger"}

// TopicConfigs returns a topic's configs. They are cached per topic for a minute: configs change rarely
// and only through Kafka's admin API, and a change made here clears the cache.
func (s *Service) TopicConfigs(ctx context.Context, cluster, name string) ([]TopicConfig, error) {
	c, err := s.get(cluster)
	if err != nil {
		return nil, err
	}
	if err := s.knownTopic(c, cluster, name); err != nil {
		return nil, err
	}
	if cached, ok := s.configs.get(cluster, name, s.opts.Now()); ok {
		return cached, nil
	}
	m, err := c.client.DescribeTopicConfigs(ctx, name)
	if err != nil {
		return nil, kafkaError(opDescribeConfigs, name, err)
	}
	out := make([]TopicConfig, 0, len(m[name]))
	for _, e := range m[name] {
		src := configSources[e.Source]
		if src == "" {
			src = "unknown"
		}
		out = append(out, TopicConfig{Name: e.Name, Value: e.Value, Default: e.Default, ReadOnly: e.ReadOnly, Sensitive: e.Sensitive, Source: src})
	}
	s.configs.put(cluster, name, out, s.opts.Now())
	return out, nil
}

func (s *Service) knownTopic(c *cluster, clusterName, topic string) error {
	snap := c.collector.Latest()
	if snap == nil {
		return nil // not polled yet: let Kafka decide
	}
	if _, ok := snap.Topic(topic); !ok {
		return topicNotFound(clusterName, topic)
	}
	return nil
}

// repoll refreshes the cluster's snapshot after a change, so the caller's next read shows it.
func (s *Service) repoll(ctx context.Context, c *cluster) {
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	c.collector.PollNow(pctx)
}

// ResetOffsetsRequest is the body of POST /groups/{g}/offsets.
type ResetOffsetsRequest struct {
	// Topic whose offsets to reset; all topics the group has committed when empty.
	Topic string `json:"topic"`
	// Partitions limits the reset to these partitions of Topic.
	Partitions []int32 `json:"partitions"`
	// Strategy: earliest, latest, offset, timestamp or shift.
	Strategy string `json:"strategy" required:"true" enum:"earliest,latest,offset,timestamp,shift"`
	// Offset for "offset"; Timestamp (Unix ms) for "timestamp"; Shift (±n) for "shift".
	Offset    *int64 `json:"offset"`
	Timestamp *int64 `json:"timestamp"`
	Shift     *int64 `json:"shift"`
	// DryRun computes the new offsets without committing them.
	DryRun bool `json:"dryRun"`
}

// OffsetChange is one partition's offset before and after a reset.
type OffsetChange struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	Before    int64  `json:"before"`
	After     int64  `json:"after"`
	Error     string `json:"error,omitempty"`
}

// ResetOffsets moves a group's committed offsets. A dry run only computes the plan, so it is answered
// for an active group too (as kafka-consumer-groups.sh --reset-offsets --dry-run is); executing is
// refused while the group has members or is not Empty/Dead: Kafka would reject the commit, and a
// running consumer would overwrite it. The refusal is audited as a refused change.
func (s *Service) ResetOffsets(ctx context.Context, who Caller, cluster, group string, req ResetOffsetsRequest) ([]OffsetChange, error) {
	c, err := s.get(cluster)
	if err != nil {
		return nil, err
	}
	snap, err := s.snapshot(cluster)
	if err != nil {
		return nil, err
	}
	g, ok := snap.Group(group)
	if !ok {
		return nil, groupNotFound(cluster, group)
	}
	if g.Type == "share" {
		return nil, badRequest("share_group_offsets", "group %q is a share group: it has share-partition start offsets, not committed offsets; reset them with POST .../groups/%s/share-offsets (admin role)", group, group)
	}
	if err := validateResetRequest(req); err != nil {
		return nil, err
	}
	targets, before, err := resetTargets(snap, cluster, group, g, req)
	if err != nil {
		return nil, err
	}
	var byTime map[string][]int64
	if req.Strategy == "timestamp" {
		if byTime, err = offsetsAtTime(ctx, c, cluster, targets, *req.Timestamp); err != nil {
			return nil, err
		}
	}
	changes, commit := planReset(snap, req, targets, before, byTime)
	if req.DryRun {
		return changes, nil
	}
	if len(commit) == 0 {
		return changes, &UserError{Status: http.StatusServiceUnavailable, Code: "offsets_unknown", Message: "no partition's offsets are known; try again when the leaders are available"}
	}
	err = s.Audited(ctx, who, "group.offsets.reset", cluster, group, req, func() error {
		if groupActive(g) {
			return conflict("group_active", "group %q is %s with %d member(s); stop its consumers before resetting offsets (a dry run shows the plan meanwhile)", group, g.State, len(g.Members))
		}
		if err := commitReset(ctx, c, group, commit, changes); err != nil {
			return err
		}
		s.repoll(ctx, c)
		return nil
	})
	return changes, err
}

// validateResetRequest checks that the strategy is known and has the argument it needs.
func validateResetRequest(req ResetOffsetsRequest) error {
	switch req.Strategy {
	case "earliest", "latest":
	case "offset":
		if req.Offset == nil || *req.Offset < 0 {
			return badRequest("invalid_offset", "strategy offset needs a non-negative \"offset\"")
		}
	case "timestamp":
		if req.Timestamp == nil || *req.Timestamp < 0 {
			return badRequest("invalid_timestamp", "strategy timestamp needs \"timestamp\" in Unix milliseconds")
		}
	case "shift":
		if req.Shift == nil {
			return badRequest("invalid_shift", "strategy shift needs \"shift\" (a positive or negative number of messages)")
		}
	default:
		return badRequest("invalid_strategy", "strategy %q is not one of earliest, latest, offset, timestamp, shift", req.Strategy)
	}
	if len(req.Partitions) > 0 && req.Topic == "" {
		return badRequest("invalid_partitions", "partitions need a topic")
	}
	return nil
}

// resetTarget is one partition an offset reset moves.
type resetTarget struct {
	topic     string
	partition int32
}

// resetTargets returns the partitions to reset, sorted by topic and partition: the group's committed
// ones, or every (or every named) partition of req.Topic. before holds the group's committed offsets.
func resetTargets(snap *collector.Snapshot, cluster, group string, g *collector.Group, req ResetOffsetsRequest) (targets []resetTarget, before map[resetTarget]int64, err error) {
	before = map[resetTarget]int64{}
	for _, gt := range g.Topics {
		for _, p := range gt.Partitions {
			before[resetTarget{gt.Topic, p.Partition}] = p.Committed
		}
	}
	if req.Topic != "" {
		t, ok := snap.Topic(req.Topic)
		if !ok {
			return nil, nil, topicNotFound(cluster, req.Topic)
		}
		for _, p := range t.Partitions {
			if len(req.Partitions) == 0 || slices.Contains(req.Partitions, p.Partition) {
				targets = append(targets, resetTarget{req.Topic, p.Partition})
			}
		}
		for _, want := range req.Partitions {
			if want < 0 || int(want) >= len(t.Partitions) {
				return nil, nil, badRequest("invalid_partitions", "topic %q has no partition %d", req.Topic, want)
			}
		}
	} else {
		for k := range before {
			targets = append(targets, k)
		}
	}
	if len(targets) == 0 {
		return nil, nil, badRequest("nothing_to_reset", "group %q has no committed offsets; name a topic to reset", group)
	}
	sort.Slice(targets, func(i, j int) bool {
		if targets[i].topic != targets[j].topic {
			return targets[i].topic < targets[j].topic
		}
		return targets[i].partition < targets[j].partition
	})
	return targets, before, nil
}

// offsetsAtTime asks Kafka for each target topic's partitions' first offset at or after ts (Unix ms),
// indexed by partition; -1 where there is none.
func offsetsAtTime(ctx context.Context, c *cluster, cluster string, targets []resetTarget, ts int64) (map[string][]int64, error) {
	topics := map[string]bool{}
	for _, t := range targets {
		topics[t.topic] = true
	}
	names := make([]string, 0, len(topics))
	for t := range topics {
		names = append(names, t)
	}
	md, err := c.client.Metadata(ctx, names)
	if err != nil {
		return nil, kafkaError(opReadMetadata, "cluster "+cluster, err)
	}
	return c.client.ListOffsets(ctx, md, names, ts).Offsets, nil
}

// planReset computes each target's new offset, clamped to the partition's log range, and the
// offsets to commit per topic; a partition whose offsets are unknown gets an Error and no commit.
func planReset(snap *collector.Snapshot, req ResetOffsetsRequest, targets []resetTarget, before map[resetTarget]int64, byTime map[string][]int64) ([]OffsetChange, map[string]map[int32]int64) {
	changes := make([]OffsetChange, 0, len(targets))
	commit := map[string]map[int32]int64{}
	for _, t := range targets {
		topic, _ := snap.Topic(t.topic)
		var start, end int64 = -1, -1
		if topic != nil && int(t.partition) < len(topic.Partitions) {
			start, end = topic.Partitions[t.partition].StartOffset, topic.Partitions[t.partition].EndOffset
		}
		cur, had := before[t]
		if !had {
			cur = -1
		}
		next := resetOffset(req, t, cur, start, end, byTime)
		ch := OffsetChange{Topic: t.topic, Partition: t.partition, Before: cur, After: next}
		if start >= 0 && next < start {
			ch.After = start // clamp, as kafka-consumer-groups.sh does
		}
		if end >= 0 && next > end {
			ch.After = end
		}
		if ch.After < 0 {
			ch.Error = "the partition's offsets are unknown (leader unavailable)"
		} else {
			if commit[t.topic] == nil {
				commit[t.topic] = map[int32]int64{}
			}
			commit[t.topic][t.partition] = ch.After
		}
		changes = append(changes, ch)
	}
	return changes, commit
}

// resetOffset is the strategy's offset for one partition before clamping; cur is the committed
// offset (-1 for none) and start and end the log's range (-1 when unknown).
func resetOffset(req ResetOffsetsRequest, t resetTarget, cur, start, end int64, byTime map[string][]int64) int64 {
	switch req.Strategy {
	case "earliest":
		return start
	case "latest":
		return end
	case "offset":
		return *req.Offset
	case "timestamp":
		next := int64(-1)
		if s := byTime[t.topic]; int(t.partition) < len(s) {
			next = s[t.partition]
		}
		if next < 0 { // no message at or after the time: the log end
			next = end
		}
		return next
	case "shift":
		base := cur
		if base < 0 {
			base = end
		}
		return base + *req.Shift
	}
	return 0
}

// commitReset commits the planned offsets and records each partition's failure in changes. A
// membership error means a consumer joined meanwhile, which is a conflict rather than a partial reset.
func commitReset(ctx context.Context, c *cluster, group string, commit map[string]map[int32]int64, changes []OffsetChange) error {
	perr, err := c.client.CommitOffsets(ctx, group, commit)
	if err != nil {
		return kafkaError(opCommitOffsets, group, err)
	}
	var failed []string
	for i := range changes {
		if e := perr[changes[i].Topic][changes[i].Partition]; e != nil {
			changes[i].Error = e.Error()
			failed = append(failed, fmt.Sprintf("%s-%d", changes[i].Topic, changes[i].Partition))
			if errors.Is(e, kerr.UnknownMemberID) || errors.Is(e, kerr.IllegalGeneration) || errors.Is(e, kerr.RebalanceInProgress) {
				return conflict("group_active", "group %q became active during the reset; stop its consumers and retry", group)
			}
		}
	}
	if len(failed) > 0 {
		return &UserError{Status: http.StatusBadGateway, Code: "partial_reset", Message: "some partitions were not reset: " + strings.Join(failed, ", ")}
	}
	return nil
}

// DeleteGroup deletes a consumer group (Kafka refuses while it has members).
func (s *Service) DeleteGroup(ctx context.Context, who Caller, cluster, group string) error {
	c, err := s.get(cluster)
	if err != nil {
		return err
	}
	if snap := c.collector.Latest(); snap != nil {
		g, ok := snap.Group(group)
		if !ok {
			return groupNotFound(cluster, group)
		}
		if len(g.Members) > 0 {
			return conflict("group_active", "group %q has %d active member(s); stop its consumers first", group, len(g.Members))
		}
	}
	return s.Audited(ctx, who, "group.delete", cluster, group, nil, func() error {
		res, err := c.client.DeleteGroups(ctx, group)
		if err != nil {
			return kafkaError(opDeleteGroup, group, err)
		}
		if e := res[group]; e != nil {
			return kafkaError(opDeleteGroup, group, e)
		}
		s.repoll(ctx, c)
		return nil
	})
}
