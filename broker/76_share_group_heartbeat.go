package broker

import (
	"slices"
	"time"

	"github.com/osprey-kafka/osprey/broker/acl"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// ShareGroupHeartbeat: v1
//
// Behavior:
// * Share groups (KIP-932): a member joins with epoch 0 and the member id
//   it generated, heartbeats with its epoch, leaves with -1 (its acquired
//   records are released). Every membership or subscription change moves
//   the group epoch; the partitions of each subscribed topic are spread
//   over its members (several members share a partition when there are
//   more members than partitions). A member heartbeating with another
//   epoch than its own: FENCED_MEMBER_EPOCH; an unknown member:
//   UNKNOWN_MEMBER_ID.
// * group.share.session.timeout.ms, heartbeat.interval.ms, max.size.
// * A group id used by a classic or consumer group: GROUP_ID_NOT_FOUND.
// * Without group.share.enable or share.version 1: UNSUPPORTED_VERSION.
// * The group's coordinator (FindCoordinator GROUP, the leader of its
//   __consumer_offsets partition) answers; other brokers NOT_COORDINATOR.
//   Membership is kept in memory there: members rejoin after a failover.
//
// Version notes:
// * v0 (Kafka 4.0's early access) is not served; v1 is Kafka 4.1's.

func init() { regKey(76, 1, 1, handleShareGroupHeartbeat) }

func handleShareGroupHeartbeat(b *Broker, r *request) (kmsg.Response, error) {
	req := r.kreq.(*kmsg.ShareGroupHeartbeatRequest)
	resp := req.ResponseKind().(*kmsg.ShareGroupHeartbeatResponse)
	fail := func(code int16, msg string) (kmsg.Response, error) {
		resp.ErrorCode = code
		if msg != "" {
			resp.ErrorMessage = &msg
		}
		return resp, nil
	}
	cfg := b.cfg.Share
	switch {
	case !b.shareGroupsEnabled():
		return fail(errUnsupportedVersion, "share groups are not enabled (group.share.enable or share.version 1)")
	case req.GroupID == "":
		return fail(kerr.InvalidGroupID.Code, "")
	case req.MemberID == "" || len(req.MemberID) > 36 || req.MemberEpoch < -1:
		return fail(kerr.InvalidRequest.Code, "member id and epoch are invalid")
	case req.MemberEpoch == 0 && len(req.SubscribedTopicNames) == 0:
		return fail(kerr.InvalidRequest.Code, "a joining member subscribes to topics")
	}
	if code := r.groupCode(acl.OpRead, req.GroupID); code != 0 {
		return fail(code, "")
	}
	for _, name := range req.SubscribedTopicNames {
		if !r.authorizeTopic(acl.OpDescribe, name) {
			return fail(kerr.TopicAuthorizationFailed.Code, "not authorized to describe topic "+name)
		}
	}
	if b.groups.get(req.GroupID, false) != nil {
		return fail(errGroupIDNotFound, "group "+req.GroupID+" is not a share group")
	}
	s := &b.shares
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	s.expireLocked(now, cfg.SessionTimeout)
	g := s.groups[req.GroupID]
	if g == nil {
		if req.MemberEpoch != 0 {
			return fail(errGroupIDNotFound, "group "+req.GroupID+" not found")
		}
		if s.groups == nil {
			s.groups = map[string]*shareGroup{}
		}
		g = &shareGroup{name: req.GroupID, members: map[string]*shareMember{}}
		s.groups[req.GroupID] = g
	}
	m := g.members[req.MemberID]
	changed := false // the membership or a subscription changed: a new group epoch
	switch {
	case req.MemberEpoch == -1:
		if m == nil {
			return fail(kerr.UnknownMemberID.Code, "")
		}
		delete(g.members, req.MemberID)
		s.dropMemberLocked(g.name, m.id)
		g.epoch++
		g.assign(b.shareTopic)
		resp.MemberID, resp.MemberEpoch = &req.MemberID, -1
		return resp, nil
	case req.MemberEpoch == 0 && m == nil:
		if len(g.members) >= int(cfg.MaxSize) {
			return fail(kerr.GroupMaxSizeReached.Code, "")
		}
		m = &shareMember{id: req.MemberID}
		g.members[m.id] = m
		changed = true
	case m == nil:
		return fail(kerr.UnknownMemberID.Code, "")
	case req.MemberEpoch != 0 && req.MemberEpoch != m.epoch:
		return fail(kerr.FencedMemberEpoch.Code, "")
	}
	m.lastSeen, m.rack, m.clientID, m.clientHost = now, req.RackID, deref(r.hdr.ClientID), memberHost(r)
	if req.SubscribedTopicNames != nil {
		topics := slices.Clone(req.SubscribedTopicNames)
		slices.Sort(topics)
		topics = slices.Compact(topics)
		if !slices.Equal(topics, m.topics) {
			m.topics = topics
			changed = true
		}
	}
	if changed {
		g.epoch++
	}
	g.assign(b.shareTopic)
	send := req.MemberEpoch == 0 || !sameAssignment(m.sent, m.assigned)
	m.epoch, m.sent = g.epoch, m.assigned
	resp.MemberID, resp.MemberEpoch = &m.id, m.epoch
	resp.HeartbeatIntervalMillis = int32(cfg.HeartbeatInterval / time.Millisecond)
	if send {
		a := kmsg.NewShareGroupHeartbeatResponseAssignment()
		a.TopicPartitions = []kmsg.ShareGroupHeartbeatResponseAssignmentTopicPartition{}
		for tid, ps := range m.assigned {
			tp := kmsg.NewShareGroupHeartbeatResponseAssignmentTopicPartition()
			tp.TopicID, tp.Partitions = tid, ps
			a.TopicPartitions = append(a.TopicPartitions, tp)
		}
		resp.Assignment = &a
	}
	return resp, nil
}

// shareTopic resolves a subscribed topic name for the share assignor;
// internal topics are never assigned.
func (b *Broker) shareTopic(name string) ([16]byte, int32, bool) {
	t, ok := b.cluster.Topic(name)
	if !ok || t.Internal {
		return [16]byte{}, 0, false
	}
	return t.ID, int32(len(t.Partitions)), true
}
