package broker

import (
	"github.com/osprey-kafka/osprey/broker/acl"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// DeleteShareGroupOffsets: v0
//
// Behavior:
// * Drops the share-partitions of the given topics from an empty share
//   group: the next fetch starts them again at the log end offset. A
//   group with members: NON_EMPTY_GROUP; an unknown one:
//   GROUP_ID_NOT_FOUND. DELETE on the group, READ on each topic.

func init() { regKey(92, 0, 0, handleDeleteShareGroupOffsets) }

func handleDeleteShareGroupOffsets(b *Broker, r *request) (kmsg.Response, error) {
	req := r.kreq.(*kmsg.DeleteShareGroupOffsetsRequest)
	resp := req.ResponseKind().(*kmsg.DeleteShareGroupOffsetsResponse)
	if !b.cfg.Share.Enable {
		resp.ErrorCode = errUnsupportedVersion
		return resp, nil
	}
	if code := r.groupCode(acl.OpDelete, req.GroupID); code != 0 {
		resp.ErrorCode = code
		return resp, nil
	}
	s := &b.shares
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.groups[req.GroupID]
	switch {
	case g == nil:
		resp.ErrorCode = errGroupIDNotFound
		return resp, nil
	case len(g.members) > 0:
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
			for k := range s.parts {
				if k.group == req.GroupID && k.topic == info.ID {
					delete(s.parts, k)
				}
			}
		}
		resp.Topics = append(resp.Topics, t)
	}
	return resp, nil
}
