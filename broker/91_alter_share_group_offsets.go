package broker

import (
	"github.com/osprey-kafka/osprey/broker/acl"
	"github.com/osprey-kafka/osprey/broker/sharegroup"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// AlterShareGroupOffsets: v0
//
// Behavior:
// * Sets the start offset (SPSO) of share-partitions of an empty share
//   group; their in-flight records are dropped and delivery starts at the
//   new offset. A group with members: NON_EMPTY_GROUP; an unknown one:
//   GROUP_ID_NOT_FOUND. READ on the group and on each topic, as Kafka checks.
// * The state changed is this broker's (the leader's) share-partition,
//   kept in memory.

func init() { regKey(91, 0, 0, handleAlterShareGroupOffsets) }

func handleAlterShareGroupOffsets(b *Broker, r *request) (kmsg.Response, error) {
	req := r.kreq.(*kmsg.AlterShareGroupOffsetsRequest)
	resp := req.ResponseKind().(*kmsg.AlterShareGroupOffsetsResponse)
	if !b.cfg.Share.Enable {
		resp.ErrorCode = errUnsupportedVersion
		return resp, nil
	}
	if code := r.groupCode(acl.OpRead, req.GroupID); code != 0 {
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
	cfg := b.cfg.Share.partitionConfig()
	for _, rt := range req.Topics {
		t := kmsg.NewAlterShareGroupOffsetsResponseTopic()
		t.Topic = rt.Topic
		info, known := b.cluster.Topic(rt.Topic)
		t.TopicID = info.ID
		for _, rp := range rt.Partitions {
			p := kmsg.NewAlterShareGroupOffsetsResponseTopicPartition()
			p.Partition = rp.Partition
			switch {
			case !r.authorizeTopic(acl.OpRead, rt.Topic):
				p.ErrorCode = kerr.TopicAuthorizationFailed.Code
			case !known || rp.Partition < 0 || int(rp.Partition) >= len(info.Partitions):
				p.ErrorCode = errUnknownTopicOrPart
			case rp.StartOffset < 0:
				p.ErrorCode = kerr.InvalidRequest.Code
			default:
				if s.parts == nil {
					s.parts = map[sharePartKey]*sharegroup.Partition{}
				}
				s.parts[sharePartKey{req.GroupID, info.ID, rp.Partition}] = sharegroup.New(cfg, rp.StartOffset)
			}
			t.Partitions = append(t.Partitions, p)
		}
		resp.Topics = append(resp.Topics, t)
	}
	return resp, nil
}
