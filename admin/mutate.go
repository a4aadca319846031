package admin

import (
	"context"
	"errors"
	"fmt"
	"sort"

	kafka "github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// This file holds the management calls that any broker answers (configs) or
// a group coordinator does, sent through kafka-go's Client and its shared
// Transport, and the reassignment and election calls for the controller
// (raw, see controller.go; kafka-go encodes a cancel wrongly).

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

// DescribeTopicConfigs returns each topic's configs, sorted by name.
func (c *Client) DescribeTopicConfigs(ctx context.Context, topics ...string) (map[string][]ConfigEntry, error) {
	res := make([]kafka.DescribeConfigRequestResource, 0, len(topics))
	for _, t := range topics {
		res = append(res, kafka.DescribeConfigRequestResource{ResourceType: kafka.ResourceTypeTopic, ResourceName: t})
	}
	return c.describeConfigs(ctx, res)
}

// DescribeBrokerConfigs returns a broker's configs, sorted by name. It asks
// that broker itself (its static configs are known only there); kafka-go would
// send it to the controller.
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
		if e := kerr.ErrorForCode(res.ErrorCode); e != nil {
			return nil, fmt.Errorf("describe configs of broker %d: %w", broker, e)
		}
		for _, e := range res.Configs {
			ce := ConfigEntry{Name: e.Name, ReadOnly: e.ReadOnly, Sensitive: e.IsSensitive, Source: int8(e.Source)}
			ce.Default = e.Source == kmsg.ConfigSourceDefaultConfig
			if e.Value != nil && !e.IsSensitive {
				ce.Value = *e.Value
			}
			out = append(out, ce)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// AlterBrokerConfigs sets and deletes dynamic configs of one broker incrementally (what
// `kafka-configs.sh --entity-type brokers --entity-name N --alter` does), e.g. the replication throttle
// rates. It is sent to that broker: Kafka applies a per-broker config only where it is addressed.
func (c *Client) AlterBrokerConfigs(ctx context.Context, broker int32, set map[string]string, del []string) error {
	req := kmsg.NewPtrIncrementalAlterConfigsRequest()
	r := kmsg.NewIncrementalAlterConfigsRequestResource()
	r.ResourceType = kmsg.ConfigResourceTypeBroker
	r.ResourceName = fmt.Sprint(broker)
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
	resp, err := c.requestBroker(ctx, broker, req, 0, -1)
	if err != nil {
		return fmt.Errorf("alter configs of broker %d: %w", broker, err)
	}
	for _, res := range resp.(*kmsg.IncrementalAlterConfigsResponse).Resources {
		if e := kerr.ErrorForCode(res.ErrorCode); e != nil {
			if res.ErrorMessage != nil && *res.ErrorMessage != "" {
				return fmt.Errorf("alter configs of broker %d: %w: %s", broker, e, *res.ErrorMessage)
			}
			return fmt.Errorf("alter configs of broker %d: %w", broker, e)
		}
	}
	return nil
}

func (c *Client) describeConfigs(ctx context.Context, res []kafka.DescribeConfigRequestResource) (map[string][]ConfigEntry, error) {
	ctx, cancel := c.callCtx(ctx)
	defer cancel()
	resp, _, err := retryBroken(ctx, func() (*kafka.DescribeConfigsResponse, error) {
		return c.kc.DescribeConfigs(ctx, &kafka.DescribeConfigsRequest{Resources: res})
	})
	if err != nil {
		return nil, fmt.Errorf("describe configs: %w", err)
	}
	out := make(map[string][]ConfigEntry, len(resp.Resources))
	var errs []error
	for _, r := range resp.Resources {
		if r.Error != nil {
			errs = append(errs, fmt.Errorf("%s: %w", r.ResourceName, r.Error))
			continue
		}
		entries := make([]ConfigEntry, 0, len(r.ConfigEntries))
		for _, e := range r.ConfigEntries {
			v := e.ConfigValue
			if e.IsSensitive {
				v = "" // never hand secrets to the UI
			}
			entries = append(entries, ConfigEntry{Name: e.ConfigName, Value: v, ReadOnly: e.ReadOnly, Default: e.IsDefault, Sensitive: e.IsSensitive, Source: e.ConfigSource})
		}
		sort.Slice(entries, func(i, j int) bool { return entries[i].Name < entries[j].Name })
		out[r.ResourceName] = entries
	}
	if len(errs) > 0 {
		return out, fmt.Errorf("describe configs: %w", errors.Join(errs...))
	}
	return out, nil
}

// AlterTopicConfigs sets and deletes (reverts to default) topic configs
// incrementally, leaving other overrides untouched.
func (c *Client) AlterTopicConfigs(ctx context.Context, topic string, set map[string]string, del []string) error {
	ctx, cancel := c.callCtx(ctx)
	defer cancel()
	r := kafka.IncrementalAlterConfigsRequestResource{ResourceType: kafka.ResourceTypeTopic, ResourceName: topic}
	for k, v := range set {
		r.Configs = append(r.Configs, kafka.IncrementalAlterConfigsRequestConfig{Name: k, Value: v, ConfigOperation: kafka.ConfigOperationSet})
	}
	for _, k := range del {
		r.Configs = append(r.Configs, kafka.IncrementalAlterConfigsRequestConfig{Name: k, ConfigOperation: kafka.ConfigOperationDelete})
	}
	resp, _, err := retryBroken(ctx, func() (*kafka.IncrementalAlterConfigsResponse, error) {
		return c.kc.IncrementalAlterConfigs(ctx, &kafka.IncrementalAlterConfigsRequest{Resources: []kafka.IncrementalAlterConfigsRequestResource{r}})
	})
	if err != nil {
		return fmt.Errorf("alter configs of %q: %w", topic, err)
	}
	for _, rr := range resp.Resources {
		if rr.Error != nil {
			return fmt.Errorf("alter configs of %q: %w", topic, rr.Error)
		}
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
	if e := kerr.ErrorForCode(r.ErrorCode); e != nil {
		return nil, fmt.Errorf("alter partition reassignments: %w", e)
	}
	var out []PartitionError
	for _, t := range r.Topics {
		for _, p := range t.Partitions {
			out = append(out, PartitionError{Topic: t.Topic, Partition: p.Partition, Err: kerr.ErrorForCode(p.ErrorCode)})
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
var ErrElectionNotNeeded = kerr.ElectionNotNeeded

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
	if e := kerr.ErrorForCode(r.ErrorCode); e != nil {
		return nil, fmt.Errorf("elect leaders for %q: %w", topic, e)
	}
	var out []PartitionError
	for _, t := range r.Topics {
		for _, p := range t.Partitions {
			out = append(out, PartitionError{Topic: t.Topic, Partition: p.Partition, Err: kerr.ErrorForCode(p.ErrorCode)})
		}
	}
	return out, nil
}

// DeleteGroups deletes consumer groups; the map holds each group's error.
func (c *Client) DeleteGroups(ctx context.Context, groups ...string) (map[string]error, error) {
	ctx, cancel := c.callCtx(ctx)
	defer cancel()
	resp, retried, err := retryBroken(ctx, func() (*kafka.DeleteGroupsResponse, error) {
		return c.kc.DeleteGroups(ctx, &kafka.DeleteGroupsRequest{GroupIDs: groups})
	})
	if err != nil {
		return nil, fmt.Errorf("delete groups: %w", err)
	}
	return doneOnRetry(nilErrors(resp.Errors), retried, kafka.GroupIdNotFound), nil
}

// nilErrors turns kafka-go's "no error" values into nil.
func nilErrors(in map[string]error) map[string]error {
	out := make(map[string]error, len(in))
	for k, e := range in {
		var ke kafka.Error
		if errors.As(e, &ke) && ke == 0 {
			e = nil
		}
		out[k] = e
	}
	return out
}
