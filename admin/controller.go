package admin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// This file holds the requests Kafka wants at the controller: topic creation and deletion, partition
// addition and the reassignment and election calls (and the topic config calls, see mutate.go). They
// are sent to the controller named by a Metadata request made for the call, so a controller that moved
// a moment ago (a killed broker, a lost ZooKeeper session) is found at once; a controller cached from
// older metadata would answer NOT_CONTROLLER, or not at all, for as long as the cache is kept.

// controllerAttempts bounds the resends after NOT_CONTROLLER: the broker that answered Metadata may
// not have heard of the new controller yet.
const controllerAttempts = 3

// requestController sends req to the current controller. moved reports whether the answer says the
// broker is not the controller (top-level or per-topic codes, by request kind); then the controller is
// looked up again and the request resent. On the last attempt such an answer is returned as it is, for
// the caller to report per item. retried says a send broke after reaching the broker, so the
// controller may have acted on it.
func (c *Client) requestController(ctx context.Context, req kmsg.Request, minVersion, maxVersion int16, moved func(kmsg.Response) bool) (resp kmsg.Response, retried bool, err error) {
	ctx, cancel := c.callCtx(ctx)
	defer cancel()
	for attempt := 1; ; attempt++ {
		var r bool
		resp, r, err = c.sendToController(ctx, req, minVersion, maxVersion)
		retried = retried || r
		switch {
		case err != nil && (attempt == controllerAttempts || !errors.Is(err, kerr.NotController)):
			return nil, retried, err
		case err == nil && (attempt == controllerAttempts || !moved(resp)):
			return resp, retried, nil
		}
		select {
		case <-ctx.Done():
			return nil, retried, ctx.Err()
		case <-time.After(time.Duration(attempt) * 200 * time.Millisecond):
		}
	}
}

// sendToController sends req once to the controller named by a Metadata request made now.
func (c *Client) sendToController(ctx context.Context, req kmsg.Request, minVersion, maxVersion int16) (kmsg.Response, bool, error) {
	md, err := c.Metadata(ctx, []string{})
	if err != nil {
		return nil, false, err
	}
	if md.ControllerID < 0 {
		return nil, false, fmt.Errorf("no controller: %w", metadataErr(kerr.NotController))
	}
	addr, err := c.brokerAddr(ctx, md.ControllerID)
	if err != nil {
		return nil, false, err
	}
	return c.requestAddrRetried(ctx, addr, req, minVersion, maxVersion)
}

// neverMoved is requestController's moved for requests whose answer cannot say the broker is not the
// controller: they are sent there for its view of the cluster, which any broker would answer from.
func neverMoved(kmsg.Response) bool { return false }

// doneOnRetry clears the "already done" error of a retried request: the first attempt, whose answer was
// lost with its connection, may have done the work (created the topic, deleted the group).
func doneOnRetry(errs map[string]error, retried bool, already error) map[string]error {
	if !retried {
		return errs
	}
	for k, e := range errs {
		if errors.Is(e, already) {
			errs[k] = nil
		}
	}
	return errs
}

// CreateTopics creates topics; the map holds each topic's error (nil on success).
func (c *Client) CreateTopics(ctx context.Context, specs ...TopicSpec) (map[string]error, error) {
	req := kmsg.NewPtrCreateTopicsRequest()
	req.TimeoutMillis = int32(c.cfg.Timeout.Milliseconds())
	for _, s := range specs {
		rt := kmsg.NewCreateTopicsRequestTopic()
		rt.Topic, rt.NumPartitions, rt.ReplicationFactor = s.Name, s.Partitions, s.ReplicationFactor
		if len(s.Assignment) > 0 {
			rt.NumPartitions, rt.ReplicationFactor = -1, -1
			parts := make([]int32, 0, len(s.Assignment))
			for p := range s.Assignment {
				parts = append(parts, p)
			}
			sort.Slice(parts, func(i, j int) bool { return parts[i] < parts[j] })
			for _, p := range parts {
				ra := kmsg.NewCreateTopicsRequestTopicReplicaAssignment()
				ra.Partition, ra.Replicas = p, append([]int32(nil), s.Assignment[p]...)
				rt.ReplicaAssignment = append(rt.ReplicaAssignment, ra)
			}
		}
		names := make([]string, 0, len(s.Configs))
		for k := range s.Configs {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			cfg := kmsg.NewCreateTopicsRequestTopicConfig()
			cfg.Name, cfg.Value = k, kmsg.StringPtr(s.Configs[k])
			rt.Configs = append(rt.Configs, cfg)
		}
		req.Topics = append(req.Topics, rt)
	}
	minVersion := int16(0)
	for _, rt := range req.Topics {
		if len(rt.ReplicaAssignment) == 0 && (rt.NumPartitions < 0 || rt.ReplicationFactor < 0) {
			minVersion = 4 // the broker's defaults (-1) came with v4 (Kafka 2.4)
		}
	}
	resp, retried, err := c.requestController(ctx, req, minVersion, -1, func(r kmsg.Response) bool {
		return slices.ContainsFunc(r.(*kmsg.CreateTopicsResponse).Topics, func(t kmsg.CreateTopicsResponseTopic) bool { return t.ErrorCode == kerr.NotController.Code })
	})
	if err != nil {
		return nil, fmt.Errorf("create topics: %w", err)
	}
	out := map[string]error{}
	for _, t := range resp.(*kmsg.CreateTopicsResponse).Topics {
		out[t.Topic] = codeErr(req.Key(), t.ErrorCode, t.ErrorMessage)
	}
	return doneOnRetry(out, retried, kerr.TopicAlreadyExists), nil
}

// DeleteTopics deletes topics; the map holds each topic's error.
func (c *Client) DeleteTopics(ctx context.Context, names ...string) (map[string]error, error) {
	req := kmsg.NewPtrDeleteTopicsRequest()
	req.TimeoutMillis = int32(c.cfg.Timeout.Milliseconds())
	for _, n := range names {
		rt := kmsg.NewDeleteTopicsRequestTopic()
		rt.Topic = kmsg.StringPtr(n)
		req.Topics = append(req.Topics, rt)
		req.TopicNames = append(req.TopicNames, n) // v0-5 carry names here
	}
	// v6+ names topics in Topics; v0-5 in TopicNames; kmsg writes the field its version has.
	resp, retried, err := c.requestController(ctx, req, 0, -1, func(r kmsg.Response) bool {
		return slices.ContainsFunc(r.(*kmsg.DeleteTopicsResponse).Topics, func(t kmsg.DeleteTopicsResponseTopic) bool { return t.ErrorCode == kerr.NotController.Code })
	})
	if err != nil {
		return nil, fmt.Errorf("delete topics: %w", err)
	}
	out := map[string]error{}
	for _, t := range resp.(*kmsg.DeleteTopicsResponse).Topics {
		if t.Topic != nil {
			out[*t.Topic] = codeErr(req.Key(), t.ErrorCode, t.ErrorMessage)
		}
	}
	return doneOnRetry(out, retried, kerr.UnknownTopicOrPartition), nil
}

// CreatePartitions raises a topic's partition count to total.
func (c *Client) CreatePartitions(ctx context.Context, topic string, total int32) error {
	req := kmsg.NewPtrCreatePartitionsRequest()
	req.TimeoutMillis = int32(c.cfg.Timeout.Milliseconds())
	rt := kmsg.NewCreatePartitionsRequestTopic()
	rt.Topic, rt.Count = topic, total
	req.Topics = append(req.Topics, rt)
	resp, retried, err := c.requestController(ctx, req, 0, -1, func(r kmsg.Response) bool {
		return slices.ContainsFunc(r.(*kmsg.CreatePartitionsResponse).Topics, func(t kmsg.CreatePartitionsResponseTopic) bool { return t.ErrorCode == kerr.NotController.Code })
	})
	if err != nil {
		return fmt.Errorf("create partitions for %q: %w", topic, err)
	}
	for _, t := range resp.(*kmsg.CreatePartitionsResponse).Topics {
		e := codeErr(req.Key(), t.ErrorCode, t.ErrorMessage)
		if retried && errors.Is(e, kerr.InvalidPartitions) {
			// The first send may have grown the topic already: check before reporting.
			if md, merr := c.Metadata(ctx, []string{topic}); merr == nil && len(md.Topics) == 1 && len(md.Topics[0].Partitions) == int(total) {
				e = nil
			}
		}
		if e != nil {
			return fmt.Errorf("create partitions for %q: %w", topic, e)
		}
	}
	return nil
}

// ListPartitionReassignments lists every ongoing reassignment, sorted.
func (c *Client) ListPartitionReassignments(ctx context.Context) ([]ReassignmentStatus, error) {
	req := kmsg.NewPtrListPartitionReassignmentsRequest()
	req.TimeoutMillis = int32(c.cfg.Timeout.Milliseconds())
	req.Topics = nil // all
	resp, _, err := c.requestController(ctx, req, 0, -1, func(r kmsg.Response) bool {
		return r.(*kmsg.ListPartitionReassignmentsResponse).ErrorCode == kerr.NotController.Code
	})
	if err != nil {
		return nil, fmt.Errorf("list partition reassignments: %w", err)
	}
	r := resp.(*kmsg.ListPartitionReassignmentsResponse)
	if e := codeErr(req.Key(), r.ErrorCode, r.ErrorMessage); e != nil {
		return nil, fmt.Errorf("list partition reassignments: %w", e)
	}
	var out []ReassignmentStatus
	for _, t := range r.Topics {
		for _, p := range t.Partitions {
			out = append(out, ReassignmentStatus{Topic: t.Topic, Partition: p.Partition,
				Replicas: p.Replicas, Adding: p.AddingReplicas, Removing: p.RemovingReplicas})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Topic != out[j].Topic {
			return out[i].Topic < out[j].Topic
		}
		return out[i].Partition < out[j].Partition
	})
	return out, nil
}
