package broker

import (
	"slices"
	"sort"
	"time"

	"github.com/osprey-kafka/osprey/broker/acl"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// ShareGroupDescribe: v1
//
// Behavior:
// * Each share group with its state (Empty or Stable), group epoch,
//   assignment epoch (the group epoch: the assignment is computed at
//   once), assignor ("simple") and per member its epoch, client,
//   subscribed topics and assigned partitions.
// * An unknown group, or a classic or consumer one: GROUP_ID_NOT_FOUND
//   with the state Dead. With an authorizer, DESCRIBE on the group
//   (GROUP_AUTHORIZATION_FAILED).
// * Without group.share.enable or share.version 1: UNSUPPORTED_VERSION for
//   each group.
// * Answered by the group's coordinator; NOT_COORDINATOR elsewhere.
//
// Version notes:
// * v0 (Kafka 4.0's early access) is not served.

func init() { regKey(77, 1, 1, handleShareGroupDescribe) }

func handleShareGroupDescribe(b *Broker, r *request) (kmsg.Response, error) {
	req := r.kreq.(*kmsg.ShareGroupDescribeRequest)
	resp := req.ResponseKind().(*kmsg.ShareGroupDescribeResponse)
	s := &b.shares
	for _, name := range req.GroupIDs {
		d := kmsg.NewShareGroupDescribeResponseGroup()
		d.GroupID = name
		if !b.shareGroupsEnabled() {
			d.ErrorCode = errUnsupportedVersion
			resp.Groups = append(resp.Groups, d)
			continue
		}
		if code := r.groupCode(acl.OpDescribe, name); code != 0 {
			d.ErrorCode = code
			resp.Groups = append(resp.Groups, d)
			continue
		}
		s.mu.Lock()
		s.expireLocked(time.Now(), b.cfg.Share.SessionTimeout)
		if g := s.groups[name]; g != nil {
			b.describeShareGroup(g, &d)
		} else {
			msg := "group " + name + " is not a share group"
			d.ErrorCode, d.ErrorMessage, d.GroupState = errGroupIDNotFound, &msg, "Dead"
		}
		s.mu.Unlock()
		resp.Groups = append(resp.Groups, d)
	}
	return resp, nil
}

// describeShareGroup fills d from the group. b.shares.mu held.
func (b *Broker) describeShareGroup(g *shareGroup, d *kmsg.ShareGroupDescribeResponseGroup) {
	d.GroupState, d.GroupEpoch, d.AssignmentEpoch, d.Assignor = g.state(), g.epoch, g.epoch, "simple"
	ids := make([]string, 0, len(g.members))
	for id := range g.members {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		m := g.members[id]
		dm := kmsg.NewShareGroupDescribeResponseGroupMember()
		dm.MemberID, dm.RackID, dm.MemberEpoch = m.id, m.rack, m.epoch
		dm.ClientID, dm.ClientHost, dm.SubscribedTopicNames = m.clientID, m.clientHost, slices.Clone(m.topics)
		for tid, ps := range m.sent {
			tp := kmsg.NewShareGroupDescribeResponseGroupMemberAssignmentTopicPartition()
			tp.TopicID, tp.Partitions = tid, ps
			if t, ok := b.cluster.TopicByID(tid); ok {
				tp.Topic = t.Name
			}
			dm.Assignment.TopicPartitions = append(dm.Assignment.TopicPartitions, tp)
		}
		d.Members = append(d.Members, dm)
	}
}
