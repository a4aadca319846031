package admin

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sort"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// This file holds the management calls that any broker answers (topic configs), one broker answers
// about itself (its configs), a group coordinator answers (DeleteGroups), and the reassignment and
// election calls for the controller (see controller.go).

// TopicSpec describes a topic to create. Either Partitions and
// ReplicationFactor (-1 for broker defaults) or Assignment (partition →
// replica broker ids, partitions numbered from 0) is given.
type TopicSpec struct {
	Name              string
	Partitions        int32
	ReplicationFactor int16
	Assignment        map[int32][]int32
	Configs           map[string]string
}

// ConfigEntry is one configuration value of a topic or broker.
type ConfigEntry struct {
	Name      string
	Value     string
	ReadOnly  bool
	Default   bool
	Sensitive bool
	// Source is Kafka's ConfigSource (1 dynamic topic, 4 static broker, 5 default, ...).
	Source int8
}

// DescribeTopicConfigs returns each topic's configs, sorted by name, in one request to the controller:
// it learns of a new topic and of a config change first, so a topic just created or altered is
// described as it now is. Topics whose describe failed are missing from the map and named in the
// error.
func (c *Client) DescribeTopicConfigs(ctx context.Context, topics ...string) (map[string][]ConfigEntry, error) {
	req := kmsg.NewPtrDescribeConfigsRequest()
	for _, t := range topics {
		r := kmsg.NewDescribeConfigsRequestResource()
		r.ResourceType = kmsg.ConfigResourceTypeTopic
		r.ResourceName = t
		req.Resources = append(req.Resources, r)
	}
	resp, _, err := c.requestController(ctx, req, 0, -1, neverMoved)
	if err != nil {
		return nil, fmt.Errorf("describe configs: %w", err)
	}
	out := make(map[string][]ConfigEntry, len(topics))
	var errs []error
	for _, r := range resp.(*kmsg.DescribeConfigsResponse).Resources {
		if e := codeErr(req.Key(), r.ErrorCode, r.ErrorMessage); e != nil {
			errs = append(errs, fmt.Errorf("%s: %w", r.ResourceName, e))
			continue
		}
		out[r.ResourceName] = configEntries(r.Configs)
	}
	if len(errs) > 0 {
		return out, fmt.Errorf("describe configs: %w", errors.Join(errs...))
	}
	return out, nil
}

// configEntries converts a DescribeConfigs resource's entries, sorted by name. Sensitive values are
// dropped: secrets never reach the UI.
func configEntries(in []kmsg.DescribeConfigsResponseResourceConfig) []ConfigEntry {
	out := make([]ConfigEntry, 0, len(in))
	for _, e := range in {
		// v0 answers IsDefault; v1+ answers the source instead.
		ce := ConfigEntry{Name: e.Name, ReadOnly: e.ReadOnly, Sensitive: e.IsSensitive, Source: int8(e.Source),
			Default: e.IsDefault || e.Source == kmsg.ConfigSourceDefaultConfig}
		if e.Value != nil && !e.IsSensitive {
			ce.Value = *e.Value
		}
		out = append(out, ce)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// DescribeBrokerConfigs returns a broker's configs, sorted by name. It asks
// that broker itself: its static configs are known only there.
func (c *Client) DescribeBrokerConfigs(ctx context.Context, broker int32) ([]ConfigEntry, error) {
	req := kmsg.NewPtrDescribeConfigsRequest()
	r := kmsg.NewDescribeConfigsRequestResource()
	r.ResourceType = kmsg.ConfigResourceTypeBroker
	r.ResourceName = fmt.Sprint(broker)
	req.Resources = append(req.Resources, r)
	resp, err := c.requestBroker(ctx, broker, req, 0, -1)
	if err != nil {
		return nil, fmt.Errorf("describe configs of broker %d: %w", broker, err)
	}
	var out []ConfigEntry
	for _, res := range resp.(*kmsg.DescribeConfigsResponse).Resources {
		if e := codeErr(req.Key(), res.ErrorCode, res.ErrorMessage); e != nil {
			return nil, fmt.Errorf("describe configs of broker %d: %w", broker, e)
		}
		out = append(out, configEntries(res.Configs)...)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// AlterBrokerConfigs sets and deletes dynamic configs of one broker incrementally (what
// `kafka-configs.sh --entity-type brokers --entity-name N --alter` does), e.g. the replication throttle
// rates. It is sent to that broker: Kafka applies a per-broker config only where it is addressed.
func (c *Client) AlterBrokerConfigs(ctx context.Context, broker int32, set map[string]string, del []string) error {
	req := alterConfigsRequest(kmsg.ConfigResourceTypeBroker, fmt.Sprint(broker), set, del)
	resp, err := c.requestBroker(ctx, broker, req, 0, -1)
	if err != nil {
		return fmt.Errorf("alter configs of broker %d: %w", broker, err)
	}
	if err := alterConfigsErr(req, resp); err != nil {
		return fmt.Errorf("alter configs of broker %d: %w", broker, err)
	}
	return nil
}

// alterConfigsRequest sets and deletes configs of one resource, in a stable order.
func alterConfigsRequest(typ kmsg.ConfigResourceType, name string, set map[string]string, del []string) *kmsg.IncrementalAlterConfigsRequest {
	req := kmsg.NewPtrIncrementalAlterConfigsRequest()
	r := kmsg.NewIncrementalAlterConfigsRequestResource()
	r.ResourceType = typ
	r.ResourceName = name
	names := make([]string, 0, len(set))
	for k := range set {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		cfg := kmsg.NewIncrementalAlterConfigsRequestResourceConfig()
		cfg.Name, cfg.Op, cfg.Value = k, kmsg.IncrementalAlterConfigOpSet, kmsg.StringPtr(set[k])
		r.Configs = append(r.Configs, cfg)
	}
	for _, k := range del {
		cfg := kmsg.NewIncrementalAlterConfigsRequestResourceConfig()
		cfg.Name, cfg.Op = k, kmsg.IncrementalAlterConfigOpDelete
		r.Configs = append(r.Configs, cfg)
	}
	req.Resources = append(req.Resources, r)
	return req
}

// alterConfigsErr is the first resource's refusal in an IncrementalAlterConfigs answer, nil if none.
func alterConfigsErr(req *kmsg.IncrementalAlterConfigsRequest, resp kmsg.Response) error {
	for _, res := range resp.(*kmsg.IncrementalAlterConfigsResponse).Resources {
		if e := codeErr(req.Key(), res.ErrorCode, res.ErrorMessage); e != nil {
			return e
		}
	}
	return nil
}

// AlterTopicConfigs sets and deletes (reverts to default) topic configs incrementally, leaving other
// overrides untouched. Any broker would take it; it goes to the controller, which DescribeTopicConfigs
// asks too, so a describe after the change reads it. Setting and deleting are idempotent: a send
// repeated after a broken connection does no harm.
func (c *Client) AlterTopicConfigs(ctx context.Context, topic string, set map[string]string, del []string) error {
	req := alterConfigsRequest(kmsg.ConfigResourceTypeTopic, topic, set, del)
	resp, _, err := c.requestController(ctx, req, 0, -1, neverMoved)
	if err != nil {
		return fmt.Errorf("alter configs of %q: %w", topic, err)
	}
	if err := alterConfigsErr(req, resp); err != nil {
		return fmt.Errorf("alter configs of %q: %w", topic, err)
	}
	return nil
}

// Reassignment moves one partition to Replicas; nil Replicas cancels an
// ongoing reassignment of that partition.
type Reassignment struct {
	Topic     string
	Partition int32
	Replicas  []int32
}

// PartitionError is a per-partition outcome.
type PartitionError struct {
	Topic     string
	Partition int32
	Err       error
}

// AlterPartitionReassignments starts (or cancels) reassignments and returns
// each partition's outcome. It is sent raw to the controller: kafka-go
// (v0.4.51) encodes a nil replica list as an empty array instead of null, so
// a cancel would not be a cancel.
func (c *Client) AlterPartitionReassignments(ctx context.Context, moves []Reassignment) ([]PartitionError, error) {
	req := kmsg.NewPtrAlterPartitionAssignmentsRequest()
	req.TimeoutMillis = int32(c.cfg.Timeout.Milliseconds())
	idx := map[string]int{}
	for _, m := range moves {
		i, ok := idx[m.Topic]
		if !ok {
			rt := kmsg.NewAlterPartitionAssignmentsRequestTopic()
			rt.Topic = m.Topic
			req.Topics = append(req.Topics, rt)
			i = len(req.Topics) - 1
			idx[m.Topic] = i
		}
		rp := kmsg.NewAlterPartitionAssignmentsRequestTopicPartition()
		rp.Partition = m.Partition
		rp.Replicas = m.Replicas // nil: cancel
		if m.Replicas != nil {
			rp.Replicas = append([]int32{}, m.Replicas...)
		}
		req.Topics[i].Partitions = append(req.Topics[i].Partitions, rp)
	}
	resp, _, err := c.requestController(ctx, req, 0, -1, func(r kmsg.Response) bool {
		return r.(*kmsg.AlterPartitionAssignmentsResponse).ErrorCode == kerr.NotController.Code
	})
	if err != nil {
		return nil, fmt.Errorf("alter partition reassignments: %w", err)
	}
	r := resp.(*kmsg.AlterPartitionAssignmentsResponse)
	if e := codeErr(req.Key(), r.ErrorCode, r.ErrorMessage); e != nil {
		return nil, fmt.Errorf("alter partition reassignments: %w", e)
	}
	var out []PartitionError
	for _, t := range r.Topics {
		for _, p := range t.Partitions {
			out = append(out, PartitionError{Topic: t.Topic, Partition: p.Partition, Err: codeErr(req.Key(), p.ErrorCode, nil)})
		}
	}
	return out, nil
}

// ReassignmentStatus is one ongoing reassignment.
type ReassignmentStatus struct {
	Topic     string
	Partition int32
	Replicas  []int32
	Adding    []int32
	Removing  []int32
}

// ErrElectionNotNeeded is the per-partition result when the preferred replica already leads.
var ErrElectionNotNeeded error = &KafkaError{Op: "ElectLeaders", Code: kerr.ElectionNotNeeded.Code}

// ElectPreferredLeaders runs a preferred leader election for partitions of one topic, sent raw to the
// controller (see requestController).
func (c *Client) ElectPreferredLeaders(ctx context.Context, topic string, partitions []int32) ([]PartitionError, error) {
	req := kmsg.NewPtrElectLeadersRequest()
	req.ElectionType = 0 // preferred
	req.TimeoutMillis = int32(c.cfg.Timeout.Milliseconds())
	rt := kmsg.NewElectLeadersRequestTopic()
	rt.Topic = topic
	rt.Partitions = append([]int32{}, partitions...)
	req.Topics = append(req.Topics, rt)
	resp, _, err := c.requestController(ctx, req, 1, -1, func(r kmsg.Response) bool {
		return r.(*kmsg.ElectLeadersResponse).ErrorCode == kerr.NotController.Code
	})
	if err != nil {
		return nil, fmt.Errorf("elect leaders for %q: %w", topic, err)
	}
	r := resp.(*kmsg.ElectLeadersResponse)
	if e := codeErr(req.Key(), r.ErrorCode, nil); e != nil {
		return nil, fmt.Errorf("elect leaders for %q: %w", topic, e)
	}
	var out []PartitionError
	for _, t := range r.Topics {
		for _, p := range t.Partitions {
			out = append(out, PartitionError{Topic: t.Topic, Partition: p.Partition, Err: codeErr(req.Key(), p.ErrorCode, nil)})
		}
	}
	return out, nil
}

// DeleteGroups deletes consumer groups; the map holds each group's error. Each group's delete goes to
// its coordinator, one request per coordinator; a coordinator that cannot be reached fails the call.
func (c *Client) DeleteGroups(ctx context.Context, groups ...string) (map[string]error, error) {
	ctx, cancel := c.callCtx(ctx)
	defer cancel()
	co, out, err := c.FindCoordinators(ctx, groups)
	if err != nil {
		return nil, fmt.Errorf("delete groups: %w", err)
	}
	byCoord := map[int32][]string{}
	for _, g := range groups {
		if id, ok := co[g]; ok {
			byCoord[id] = append(byCoord[id], g)
		}
	}
	var errs []error
	for id, gs := range byCoord {
		req := kmsg.NewPtrDeleteGroupsRequest()
		req.Groups = gs
		resp, retried, err := c.requestBrokerRetried(ctx, id, req, 0, -1)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		answered := map[string]error{}
		for _, g := range resp.(*kmsg.DeleteGroupsResponse).Groups {
			answered[g.Group] = codeErr(req.Key(), g.ErrorCode, nil)
		}
		maps.Copy(out, doneOnRetry(answered, retried, kerr.GroupIDNotFound))
	}
	if len(errs) > 0 {
		return out, fmt.Errorf("delete groups: %w", errors.Join(errs...))
	}
	return out, nil
}
