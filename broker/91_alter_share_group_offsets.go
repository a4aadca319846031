package broker

import (
	"context"

	"github.com/osprey-kafka/osprey/broker/acl"
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
// * Answered by the group's coordinator: each share-partition is
//   initialised at its new start offset in the share coordinator
//   (InitializeShareGroupState with the next state epoch).

func init() { regKey(91, 0, 0, handleAlterShareGroupOffsets) }

func handleAlterShareGroupOffsets(b *Broker, r *request) (kmsg.Response, error) {
	req := r.kreq.(*kmsg.AlterShareGroupOffsetsRequest)
	resp := req.ResponseKind().(*kmsg.AlterShareGroupOffsetsResponse)
	if !b.shareGroupsEnabled() {
		resp.ErrorCode = errUnsupportedVersion
		return resp, nil
	}
	if code := r.groupCode(acl.OpRead, req.GroupID); code != 0 {
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
				p.ErrorCode = b.resetSharePartition(sharePartKey{req.GroupID, info.ID, rp.Partition}, rp.StartOffset)
			}
			t.Partitions = append(t.Partitions, p)
		}
		resp.Topics = append(resp.Topics, t)
	}
	return resp, nil
}

// resetSharePartition initialises the share-partition at start with the
// next state epoch in the share coordinator, which fences the leader's
// writes of the old state; this broker's copy is dropped at once, a
// leader elsewhere reads the new state when a member next opens a
// session (or its next write is fenced).
func (b *Broker) resetSharePartition(k sharePartKey, start int64) int16 {
	ctx, cancel := context.WithTimeout(b.ctx, shareStateTimeout)
	defer cancel()
	st, _, code := b.summaryShareState(ctx, k.stateKey())
	if code != 0 {
		return code
	}
	if code := b.initializeShareState(ctx, k.stateKey(), st.StateEpoch+1, start); code != 0 {
		return code
	}
	b.shares.mu.Lock()
	b.shares.dropPartitionLocked(k)
	b.shares.mu.Unlock()
	return 0
}
