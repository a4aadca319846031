package broker

import (
	"context"

	"github.com/osprey-kafka/osprey/broker/acl"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// DeleteShareGroupOffsets: v0
//
// Behavior:
// * Drops the share-partitions of the given topics from an empty share
//   group (DeleteShareGroupState in the share coordinator): the next
//   fetch starts them again at the log end offset. A
//   group with members: NON_EMPTY_GROUP; an unknown one:
//   GROUP_ID_NOT_FOUND. DELETE on the group, READ on each topic.

func init() { regKey(92, 0, 0, handleDeleteShareGroupOffsets) }

func handleDeleteShareGroupOffsets(b *Broker, r *request) (kmsg.Response, error) {
	req := r.kreq.(*kmsg.DeleteShareGroupOffsetsRequest)
	resp := req.ResponseKind().(*kmsg.DeleteShareGroupOffsetsResponse)
	if !b.shareGroupsEnabled() {
		resp.ErrorCode = errUnsupportedVersion
		return resp, nil
	}
	if code := r.groupCode(acl.OpDelete, req.GroupID); code != 0 {
		resp.ErrorCode = code
		return resp, nil
	}
	s := &b.shares
	s.mu.Lock()
	g := s.groups[req.GroupID]
	empty := g != nil && len(g.members) == 0
	s.mu.Unlock()
	switch {
	case g == nil:
		resp.ErrorCode = errGroupIDNotFound
		return resp, nil
	case !empty:
		resp.ErrorCode = errGroupNotEmpty
		return resp, nil
	}
	for _, rt := range req.Topics {
		t := kmsg.NewDeleteShareGroupOffsetsResponseTopic()
		t.Topic = rt.Topic
		info, known := b.cluster.Topic(rt.Topic)
		t.TopicID = info.ID
		switch {
		case !r.authorizeTopic(acl.OpRead, rt.Topic):
			t.ErrorCode = kerr.TopicAuthorizationFailed.Code
		case !known:
			t.ErrorCode = errUnknownTopicOrPart
		default:
			t.ErrorCode = b.deleteShareTopic(req.GroupID, info)
		}
		resp.Topics = append(resp.Topics, t)
	}
	return resp, nil
}

// deleteShareTopic removes the group's share-partitions of the topic from
// the share coordinator and from this broker; the first error is the
// topic's.
func (b *Broker) deleteShareTopic(group string, t TopicInfo) int16 {
	ctx, cancel := context.WithTimeout(b.ctx, shareStateTimeout)
	defer cancel()
	var first int16
	for p := range int32(len(t.Partitions)) {
		k := sharePartKey{group, t.ID, p}
		if code := b.deleteShareState(ctx, k.stateKey()); code != 0 && first == 0 {
			first = code
		}
		b.shares.mu.Lock()
		b.shares.dropPartitionLocked(k)
		b.shares.mu.Unlock()
	}
	return first
}
