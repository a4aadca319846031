package broker

import (
	"time"

	"github.com/osprey-kafka/osprey/broker/acl"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Heartbeat: v0-4
//
// Behavior:
// * Keeps the member's session alive. During PreparingRebalance the answer
//   is REBALANCE_IN_PROGRESS so the member rejoins.
// * Unknown member: UNKNOWN_MEMBER_ID; wrong generation: ILLEGAL_GENERATION.
// * A classic member of a consumer group gets REBALANCE_IN_PROGRESS while
//   it is behind the group epoch, must revoke partitions, or has partitions
//   waiting that are free now: it rejoins to reconcile (cgroup/classic.go).
//
// Version notes:
// * v3: instance id; v4: flexible.

func init() { regKey(12, 0, 4, handleHeartbeat) }

func handleHeartbeat(b *Broker, r *request) (kmsg.Response, error) {
	req := r.kreq.(*kmsg.HeartbeatRequest)
	resp := req.ResponseKind().(*kmsg.HeartbeatResponse)
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
		if err := g.cg.HeartbeatClassic(time.Now(), req.MemberID, req.InstanceID, req.Generation); err != nil {
			resp.ErrorCode = err.Code.Code
		}
		return resp, nil
	}
	m, ok := g.members[req.MemberID]
	switch {
	case !ok:
		resp.ErrorCode = errUnknownMemberID
	case req.Generation != g.generation:
		resp.ErrorCode = errIllegalGeneration
	default:
		m.lastSession = time.Now()
		if g.state == groupPreparingRebalance {
			resp.ErrorCode = errRebalanceInProgress
		}
	}
	return resp, nil
}
