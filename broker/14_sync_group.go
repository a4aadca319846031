package broker

import (
	"time"

	"github.com/osprey-kafka/osprey/broker/acl"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// SyncGroup: v0-5
//
// Behavior:
// * In CompletingRebalance, followers wait (deferred answer) for the
//   leader's SyncGroup; the leader's assignments complete the rebalance:
//   the group becomes Stable, its metadata is written to
//   __consumer_offsets and every waiting member gets its assignment.
// * In Stable, a member gets its current assignment at once.
// * Wrong generation: ILLEGAL_GENERATION; unknown member:
//   UNKNOWN_MEMBER_ID; during PreparingRebalance: REBALANCE_IN_PROGRESS.
// * A classic member of a consumer group gets its assigned partitions at
//   once, or REBALANCE_IN_PROGRESS while it is behind the group epoch and
//   not revoking (consumer_group_migration.go).
//
// Version notes:
// * v3: instance id; v4: flexible; v5: protocol type and name echoed.

func init() { regKey(14, 0, 5, handleSyncGroup) }

func handleSyncGroup(b *Broker, r *request) (kmsg.Response, error) {
	req := r.kreq.(*kmsg.SyncGroupRequest)
	resp := req.ResponseKind().(*kmsg.SyncGroupResponse)
	if code := r.groupCode(acl.OpRead, req.Group); code != 0 {
		resp.ErrorCode = code
		return resp, nil
	}
	g := b.groups.get(req.Group, false)
	if g == nil {
		resp.ErrorCode = errUnknownMemberID
		return resp, nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.cg != nil {
		g.syncClassicToConsumer(req, resp)
		return resp, nil
	}
	m, ok := g.members[req.MemberID]
	switch {
	case !ok:
		resp.ErrorCode = errUnknownMemberID
		return resp, nil
	case req.Generation != g.generation:
		resp.ErrorCode = errIllegalGeneration
		return resp, nil
	case req.ProtocolType != nil && *req.ProtocolType != g.protocolType,
		req.Protocol != nil && *req.Protocol != g.protocol:
		resp.ErrorCode = errInconsistentProtocol
		return resp, nil
	}
	m.lastSession = time.Now()
	resp.ProtocolType, resp.Protocol = kmsg.StringPtr(g.protocolType), kmsg.StringPtr(g.protocol)
	switch g.state {
	case groupPreparingRebalance:
		resp.ErrorCode = errRebalanceInProgress
		return resp, nil
	case groupStable:
		resp.MemberAssignment = m.assignment
		return resp, nil
	case groupCompletingRebalance:
	default:
		resp.ErrorCode = errUnknownMemberID
		return resp, nil
	}
	if m.sync != nil {
		g.replySyncError(m, errRebalanceInProgress)
	}
	m.sync = r
	if req.MemberID != g.leader {
		return nil, errDeferred
	}
	for _, o := range g.members {
		o.assignment = nil
	}
	for _, a := range req.GroupAssignment {
		if o, ok := g.members[a.MemberID]; ok {
			o.assignment = a.MemberAssignment
		}
	}
	g.state = groupStable
	g.stateMs = time.Now().UnixMilli()
	g.persistMetadata()
	for _, o := range g.members {
		if o.sync == nil {
			continue
		}
		sr := o.sync
		o.sync = nil
		out := sr.kreq.(*kmsg.SyncGroupRequest).ResponseKind().(*kmsg.SyncGroupResponse)
		out.ProtocolType, out.Protocol = kmsg.StringPtr(g.protocolType), kmsg.StringPtr(g.protocol)
		out.MemberAssignment = o.assignment
		sr.reply(out)
	}
	return nil, errDeferred
}
