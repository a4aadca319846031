package broker

import (
	"sort"

	"github.com/osprey-kafka/osprey/broker/acl"
	"github.com/osprey-kafka/osprey/broker/cgroup"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// ConsumerGroupDescribe: v0-1
//
// Behavior:
// * Each consumer group with its state (Empty, Assigning, Reconciling,
//   Stable), group epoch, assignment epoch, assignor, and per member its
//   epoch, client, subscription (names and regex), current and target
//   assignment.
// * An unknown group, or a classic one: GROUP_ID_NOT_FOUND with the state
//   Dead (as Kafka). With an authorizer, DESCRIBE on the group is needed
//   (GROUP_AUTHORIZATION_FAILED).
// * include_authorized_operations: the bit field of the group operations
//   the principal may do, for groups described without error.
//
// Version notes:
// * v1: member type (1: consumer protocol, 0: a classic member kept by
//   the online migration).

func init() { regKey(69, 0, 1, handleConsumerGroupDescribe) }

func handleConsumerGroupDescribe(b *Broker, r *request) (kmsg.Response, error) {
	req := r.kreq.(*kmsg.ConsumerGroupDescribeRequest)
	resp := req.ResponseKind().(*kmsg.ConsumerGroupDescribeResponse)
	for _, name := range req.Groups {
		d := kmsg.NewConsumerGroupDescribeResponseGroup()
		d.Group = name
		if code := r.groupCode(acl.OpDescribe, name); code != 0 {
			d.ErrorCode = code
			resp.Groups = append(resp.Groups, d)
			continue
		}
		g := b.groups.get(name, false)
		ok := false
		if g != nil {
			g.mu.Lock()
			if g.cg != nil {
				b.describeConsumerGroup(g.cg, &d)
				ok = true
			}
			g.mu.Unlock()
		}
		if !ok {
			msg := "group " + name + " is not a consumer group"
			if g == nil && !b.isShareGroup(name) {
				msg = "group " + name + " not found"
			}
			d.ErrorCode, d.ErrorMessage, d.State = errGroupIDNotFound, &msg, "Dead"
		}
		if req.IncludeAuthorizedOperations && d.ErrorCode == 0 {
			d.AuthorizedOperations = r.authorizedOperations(acl.ResourceGroup, name)
		}
		resp.Groups = append(resp.Groups, d)
	}
	return resp, nil
}

// describeConsumerGroup fills d from the group. Its lock is held.
func (b *Broker) describeConsumerGroup(cg *cgroup.Group, d *kmsg.ConsumerGroupDescribeResponseGroup) {
	d.State = cg.State()
	d.Epoch, d.AssignmentEpoch = cg.Epoch, cg.AssignmentEpoch
	d.AssignorName = cg.Assignor(b.cfg.Consumer.groupConfig())
	ids := make([]string, 0, len(cg.Members))
	for id := range cg.Members {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		m := cg.Members[id]
		dm := kmsg.NewConsumerGroupDescribeResponseGroupMember()
		dm.MemberID, dm.InstanceID, dm.RackID, dm.MemberEpoch = m.ID, m.InstanceID, m.RackID, m.Epoch
		dm.ClientID, dm.ClientHost = m.ClientID, m.ClientHost
		dm.SubscribedTopics = m.SubscribedNames
		if dm.SubscribedTopics == nil {
			dm.SubscribedTopics = []string{}
		}
		dm.SubscribedTopicRegex = m.SubscribedRegex
		dm.Assignment = b.describeAssignment(m.Assigned)
		dm.TargetAssignment = b.describeAssignment(cg.Target[id])
		dm.MemberType = 1
		if m.Classic != nil {
			dm.MemberType = 0
		}
		d.Members = append(d.Members, dm)
	}
}

func (b *Broker) describeAssignment(s cgroup.Set) kmsg.Assignment {
	a := kmsg.NewAssignment()
	a.TopicPartitions = []kmsg.AssignmentTopicPartition{}
	for _, t := range s.Grouped() {
		at := kmsg.NewAssignmentTopicPartition()
		at.TopicID, at.Topic, at.Partitions = t.Topic, b.topicName(t.Topic), t.Partitions
		a.TopicPartitions = append(a.TopicPartitions, at)
	}
	return a
}
