package admin

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// DescribeConsumerGroups describes consumer groups (KIP-848) coordinated by
// one broker with ConsumerGroupDescribe, batching them like DescribeGroups.
// A member is reconciling while its epoch is behind the group's assignment
// epoch or its assignment differs from its target.
func (c *Client) DescribeConsumerGroups(ctx context.Context, coordinator int32, groups []string) ([]GroupDescription, error) {
	var out []GroupDescription
	for start := 0; start < len(groups); start += groupBatch {
		req := kmsg.NewPtrConsumerGroupDescribeRequest()
		req.Groups = groups[start:min(start+groupBatch, len(groups))]
		resp, err := c.requestBroker(ctx, coordinator, req, 0, -1)
		if err != nil {
			return out, fmt.Errorf("describe consumer groups: %w", err)
		}
		for _, g := range resp.(*kmsg.ConsumerGroupDescribeResponse).Groups {
			out = append(out, consumerGroupDescription(coordinator, g, codeErr(req.Key(), g.ErrorCode, g.ErrorMessage)))
		}
	}
	return out, nil
}

func consumerGroupDescription(coordinator int32, g kmsg.ConsumerGroupDescribeResponseGroup, err error) GroupDescription {
	d := GroupDescription{Name: g.Group, Coordinator: coordinator, State: g.State, ProtocolType: "consumer",
		Protocol: g.AssignorName, Err: err, Type: "consumer", GroupEpoch: g.Epoch, AssignmentEpoch: g.AssignmentEpoch,
		Assignor: g.AssignorName}
	for _, m := range g.Members {
		gm := GroupMember{ID: m.MemberID, ClientID: m.ClientID, ClientHost: m.ClientHost, Epoch: m.MemberEpoch,
			Assignment: assignmentMap(m.Assignment), Target: assignmentMap(m.TargetAssignment),
			SubscribedTopics: m.SubscribedTopics}
		if m.InstanceID != nil {
			gm.InstanceID = *m.InstanceID
		}
		if m.SubscribedTopicRegex != nil {
			gm.SubscribedRegex = *m.SubscribedTopicRegex
		}
		gm.Reconciling = m.MemberEpoch != g.AssignmentEpoch || !maps.EqualFunc(gm.Assignment, gm.Target, slices.Equal[[]int32])
		d.Members = append(d.Members, gm)
	}
	return d
}

// assignmentMap is an assignment by topic name (the id's hex when the
// broker did not name it), partitions sorted.
func assignmentMap(a kmsg.Assignment) map[string][]int32 {
	out := make(map[string][]int32, len(a.TopicPartitions))
	for _, t := range a.TopicPartitions {
		name := t.Topic
		if name == "" {
			name = fmt.Sprintf("%x", t.TopicID)
		}
		ps := slices.Clone(t.Partitions)
		slices.Sort(ps)
		out[name] = append(out[name], ps...)
	}
	return out
}
