package admin

import (
	"context"
	"fmt"
	"sort"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Share groups (KIP-932). Kafka reports a share group's members and epochs
// (ShareGroupDescribe) and, per share-partition, the share-partition start
// offset (SPSO) and, from Kafka 4.2 (DescribeShareGroupOffsets v1,
// KIP-1226), its lag. The in-flight records, their delivery counts and the
// archived records are kept by the partition leaders and not carried by any
// admin request.

// DescribeShareGroups describes share groups coordinated by one broker with
// ShareGroupDescribe, batching them like DescribeGroups.
func (c *Client) DescribeShareGroups(ctx context.Context, coordinator int32, groups []string) ([]GroupDescription, error) {
	var out []GroupDescription
	for start := 0; start < len(groups); start += groupBatch {
		req := kmsg.NewPtrShareGroupDescribeRequest()
		req.GroupIDs = groups[start:min(start+groupBatch, len(groups))]
		resp, err := c.requestBroker(ctx, coordinator, req, 0, -1)
		if err != nil {
			return out, fmt.Errorf("describe share groups: %w", err)
		}
		for _, g := range resp.(*kmsg.ShareGroupDescribeResponse).Groups {
			out = append(out, shareGroupDescription(coordinator, g, codeErr(req.Key(), g.ErrorCode, g.ErrorMessage)))
		}
	}
	return out, nil
}

func shareGroupDescription(coordinator int32, g kmsg.ShareGroupDescribeResponseGroup, err error) GroupDescription {
	d := GroupDescription{Name: g.GroupID, Coordinator: coordinator, State: g.GroupState, ProtocolType: "share",
		Protocol: g.Assignor, Err: err, Type: "share", GroupEpoch: g.GroupEpoch, AssignmentEpoch: g.AssignmentEpoch,
		Assignor: g.Assignor}
	for _, m := range g.Members {
		a := make(map[string][]int32, len(m.Assignment.TopicPartitions))
		for _, t := range m.Assignment.TopicPartitions {
			name := t.Topic
			if name == "" {
				name = fmt.Sprintf("%x", t.TopicID)
			}
			ps := append([]int32(nil), t.Partitions...)
			sort.Slice(ps, func(i, j int) bool { return ps[i] < ps[j] })
			a[name] = append(a[name], ps...)
		}
		gm := GroupMember{ID: m.MemberID, ClientID: m.ClientID, ClientHost: m.ClientHost, Epoch: m.MemberEpoch,
			Assignment: a, SubscribedTopics: m.SubscribedTopicNames}
		if m.RackID != nil {
			gm.Rack = *m.RackID
		}
		d.Members = append(d.Members, gm)
	}
	return d
}

// ShareOffset is one share-partition's start offset and lag as DescribeShareGroupOffsets reports
// them. StartOffset is -1 when the group has not initialised the partition; Lag is -1 when the
// broker does not report it (before v1, Kafka 4.2) or does not know it.
type ShareOffset struct {
	StartOffset int64
	Lag         int64
	LeaderEpoch int32
	Err         error
}

// ShareGroupOffsets is one share group's share-partitions: topic → partition → offset.
type ShareGroupOffsets struct {
	Group   string
	Offsets map[string]map[int32]ShareOffset
	Err     error
}

// DescribeShareGroupOffsets reads the share-partitions of many share groups coordinated by one
// broker: one DescribeShareGroupOffsets request per groupBatch groups, every topic of each group.
func (c *Client) DescribeShareGroupOffsets(ctx context.Context, coordinator int32, groups []string) ([]ShareGroupOffsets, error) {
	var out []ShareGroupOffsets
	for start := 0; start < len(groups); start += groupBatch {
		req := kmsg.NewPtrDescribeShareGroupOffsetsRequest()
		for _, g := range groups[start:min(start+groupBatch, len(groups))] {
			rg := kmsg.NewDescribeShareGroupOffsetsRequestGroup()
			rg.GroupID = g // nil Topics: every topic-partition of the group
			req.Groups = append(req.Groups, rg)
		}
		resp, err := c.requestBroker(ctx, coordinator, req, 0, -1)
		if err != nil {
			return out, fmt.Errorf("describe share group offsets: %w", err)
		}
		r := resp.(*kmsg.DescribeShareGroupOffsetsResponse)
		for _, g := range r.Groups {
			o := ShareGroupOffsets{Group: g.GroupID, Offsets: map[string]map[int32]ShareOffset{},
				Err: codeErr(req.Key(), g.ErrorCode, g.ErrorMessage)}
			for _, t := range g.Topics {
				m := make(map[int32]ShareOffset, len(t.Partitions))
				for _, p := range t.Partitions {
					lag := p.Lag
					if r.Version < 1 {
						lag = -1 // the field's default, not a figure the broker sent
					}
					m[p.Partition] = ShareOffset{StartOffset: p.StartOffset, Lag: lag, LeaderEpoch: p.LeaderEpoch,
						Err: codeErr(req.Key(), p.ErrorCode, p.ErrorMessage)}
				}
				if len(m) > 0 {
					o.Offsets[t.Topic] = m
				}
			}
			out = append(out, o)
		}
	}
	return out, nil
}

// AlterShareGroupOffsets sets the start offsets of share-partitions of an empty share group
// (Kafka answers NON_EMPTY_GROUP while it has members). Per-partition errors are returned in the
// map; a group-level refusal is the error.
func (c *Client) AlterShareGroupOffsets(ctx context.Context, group string, offsets map[string]map[int32]int64) (map[string]map[int32]error, error) {
	co, errs, err := c.FindCoordinators(ctx, []string{group})
	if err != nil {
		return nil, err
	}
	if e := errs[group]; e != nil {
		return nil, fmt.Errorf("coordinator for %q: %w", group, e)
	}
	req := kmsg.NewPtrAlterShareGroupOffsetsRequest()
	req.GroupID = group
	for t, ps := range offsets {
		rt := kmsg.NewAlterShareGroupOffsetsRequestTopic()
		rt.Topic = t
		for p, off := range ps {
			rp := kmsg.NewAlterShareGroupOffsetsRequestTopicPartition()
			rp.Partition, rp.StartOffset = p, off
			rt.Partitions = append(rt.Partitions, rp)
		}
		req.Topics = append(req.Topics, rt)
	}
	resp, err := c.requestBroker(ctx, co[group], req, 0, -1)
	if err != nil {
		return nil, fmt.Errorf("alter share group offsets of %q: %w", group, err)
	}
	r := resp.(*kmsg.AlterShareGroupOffsetsResponse)
	if e := codeErr(req.Key(), r.ErrorCode, r.ErrorMessage); e != nil {
		return nil, e
	}
	perr := map[string]map[int32]error{}
	for _, t := range r.Topics {
		for _, p := range t.Partitions {
			if e := codeErr(req.Key(), p.ErrorCode, p.ErrorMessage); e != nil {
				if perr[t.Topic] == nil {
					perr[t.Topic] = map[int32]error{}
				}
				perr[t.Topic][p.Partition] = e
			}
		}
	}
	return perr, nil
}

// DeleteShareGroupOffsets deletes a share group's state for whole topics (Kafka answers
// NON_EMPTY_GROUP while it has members). Per-topic errors are returned in the map.
func (c *Client) DeleteShareGroupOffsets(ctx context.Context, group string, topics []string) (map[string]error, error) {
	co, errs, err := c.FindCoordinators(ctx, []string{group})
	if err != nil {
		return nil, err
	}
	if e := errs[group]; e != nil {
		return nil, fmt.Errorf("coordinator for %q: %w", group, e)
	}
	req := kmsg.NewPtrDeleteShareGroupOffsetsRequest()
	req.GroupID = group
	for _, t := range topics {
		rt := kmsg.NewDeleteShareGroupOffsetsRequestTopic()
		rt.Topic = t
		req.Topics = append(req.Topics, rt)
	}
	resp, err := c.requestBroker(ctx, co[group], req, 0, -1)
	if err != nil {
		return nil, fmt.Errorf("delete share group offsets of %q: %w", group, err)
	}
	r := resp.(*kmsg.DeleteShareGroupOffsetsResponse)
	if e := codeErr(req.Key(), r.ErrorCode, r.ErrorMessage); e != nil {
		return nil, e
	}
	out := map[string]error{}
	for _, t := range r.Topics {
		if e := codeErr(req.Key(), t.ErrorCode, t.ErrorMessage); e != nil {
			out[t.Topic] = e
		}
	}
	return out, nil
}
