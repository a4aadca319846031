package broker

import (
	"github.com/osprey-kafka/osprey/broker/acl"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// LeaveGroup: v0-5
//
// Behavior:
// * Removes the members and rebalances the rest. Unknown members get
//   UNKNOWN_MEMBER_ID (per member from v3). A consumer group's classic
//   members leave it the same way; its consumer protocol members are
//   UNKNOWN_MEMBER_ID here.
//
// Version notes:
// * v3: several members (batch leave, by member or instance id);
//   v4: flexible; v5: reason.

func init() { regKey(13, 0, 5, handleLeaveGroup) }

func handleLeaveGroup(b *Broker, r *request) (kmsg.Response, error) {
	req := r.kreq.(*kmsg.LeaveGroupRequest)
	resp := req.ResponseKind().(*kmsg.LeaveGroupResponse)
	if code := r.groupCode(acl.OpRead, req.Group); code != 0 {
		resp.ErrorCode = code
		return resp, nil
	}
	leaving := req.Members
	if req.Version < 3 {
		leaving = []kmsg.LeaveGroupRequestMember{{MemberID: req.MemberID}}
	}
	g := b.groups.get(req.Group, false)
	if g == nil {
		resp.ErrorCode = errUnknownMemberID
		return resp, nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.cg != nil {
		resp.Members = g.leaveClassicFromConsumer(leaving)
	} else {
		resp.Members = g.leave(leaving)
	}
	if req.Version < 3 {
		resp.ErrorCode = resp.Members[0].ErrorCode
		resp.Members = nil
	}
	return resp, nil
}

// leave removes members of a classic group, by member id or instance id,
// answering each. g.mu held.
func (g *group) leave(leaving []kmsg.LeaveGroupRequestMember) []kmsg.LeaveGroupResponseMember {
	out := make([]kmsg.LeaveGroupResponseMember, 0, len(leaving))
	for _, lm := range leaving {
		rm := kmsg.NewLeaveGroupResponseMember()
		rm.MemberID, rm.InstanceID = lm.MemberID, lm.InstanceID
		id := lm.MemberID
		if id == "" && lm.InstanceID != nil {
			for mid, m := range g.members {
				if m.instanceID != nil && *m.instanceID == *lm.InstanceID {
					id = mid
				}
			}
		}
		if _, ok := g.members[id]; ok {
			g.removeMember(id)
		} else {
			rm.ErrorCode = errUnknownMemberID
		}
		out = append(out, rm)
	}
	return out
}
