package broker

import (
	"slices"
	"time"

	"github.com/osprey-kafka/osprey/broker/acl"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// JoinGroup: v0-9
//
// Behavior:
// * A new member without an id gets one; from v4 it is returned with
//   MEMBER_ID_REQUIRED and the client joins again with it (KIP-394).
// * The answer is deferred until the join phase completes: when every
//   known member has rejoined, or at the largest rebalance timeout (then
//   members that did not rejoin are dropped). A new group waits
//   group.initial.rebalance.delay.ms for more members first.
// * A follower rejoining a Stable group with unchanged protocols gets the
//   current generation at once, without a rebalance.
// * A consumer group with members takes the member as a classic member
//   of the consumer group (protocol type "consumer" only, else
//   INCONSISTENT_GROUP_PROTOCOL): answered at once with its member epoch
//   as the generation and no leader; an empty consumer group becomes a
//   classic group again (consumer_group_migration.go).
// * Session timeouts outside group.min/max.session.timeout.ms get
//   INVALID_SESSION_TIMEOUT; a protocol type or protocol set incompatible
//   with the members' gets INCONSISTENT_GROUP_PROTOCOL, as does a share
//   group's id.
//
// Version notes:
// * v1: rebalance timeout (v0 uses the session timeout); v4: member id
//   required; v5: instance id (static membership: recorded, not enforced);
//   v6: flexible; v7: protocol type in the response; v8: reason; v9: skip
//   assignment (never set here).

func init() { regKey(11, 0, 9, handleJoinGroup) }

func handleJoinGroup(b *Broker, r *request) (kmsg.Response, error) {
	req := r.kreq.(*kmsg.JoinGroupRequest)
	resp := req.ResponseKind().(*kmsg.JoinGroupResponse)
	resp.Generation = -1
	fail := func(code int16) (kmsg.Response, error) {
		resp.ErrorCode = code
		return resp, nil
	}
	if code := r.groupCode(acl.OpRead, req.Group); code != 0 {
		return fail(code)
	}
	session := time.Duration(req.SessionTimeoutMillis) * time.Millisecond
	if session < b.cfg.GroupMinSessionTimeout || session > b.cfg.GroupMaxSessionTimeout {
		return fail(errInvalidSessionTimeout)
	}
	rebalance := session
	if req.Version >= 1 && req.RebalanceTimeoutMillis > 0 {
		rebalance = time.Duration(req.RebalanceTimeoutMillis) * time.Millisecond
	}
	if req.ProtocolType == "" || len(req.Protocols) == 0 {
		return fail(errInconsistentProtocol)
	}
	if b.isShareGroup(req.Group) {
		return fail(errInconsistentProtocol) // group_types.go
	}

	g := b.groups.get(req.Group, true)
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.state == groupDead {
		return fail(errCoordinatorNotAvail)
	}
	if g.cg != nil && len(g.cg.Members) > 0 {
		// The member joins the consumer group as a classic member
		// (consumer_group_migration.go).
		if code := g.joinClassicToConsumer(r, req, resp, session, rebalance); code != 0 {
			return fail(code)
		}
		return resp, nil
	}
	if g.cg != nil {
		// An empty consumer group becomes classic again.
		if code := g.toClassic(); code != 0 {
			return fail(code)
		}
	}
	if !g.supportsProtocols(req.MemberID, req.ProtocolType, req.Protocols) {
		return fail(errInconsistentProtocol)
	}
	memberID := req.MemberID
	if memberID == "" {
		memberID = newMemberID(deref(r.hdr.ClientID))
		if req.Version >= 4 {
			g.pending[memberID] = time.Now().Add(session)
			resp.MemberID = memberID
			return fail(errMemberIDRequired)
		}
	} else if _, ok := g.members[memberID]; !ok {
		if _, ok := g.pending[memberID]; !ok {
			resp.MemberID = memberID
			return fail(errUnknownMemberID)
		}
	}
	delete(g.pending, memberID)

	m, existing := g.members[memberID]
	if existing && g.state == groupStable && memberID != g.leader && sameProtocols(m.protocols, req.Protocols) {
		m.lastSession = time.Now()
		g.fillJoinResponse(resp, m)
		return resp, nil
	}
	if !existing {
		m = &member{id: memberID}
		g.members[memberID] = m
	}
	m.recordJoin(r, req, session, rebalance)
	if m.join != nil {
		// The client gave up on its earlier join and sent another.
		g.replyJoinError(m, errRebalanceInProgress)
	}
	m.join = r
	if len(g.members) == 1 { // the only member sets the group's protocol type
		g.protocolType = req.ProtocolType
	}
	switch g.state {
	case groupEmpty, groupStable, groupCompletingRebalance:
		g.prepareRebalance()
	case groupPreparingRebalance:
		if !g.initialDeadline.IsZero() && !existing {
			// Initial delay: wait a little longer for more members.
			left := time.Until(g.initialDeadline)
			g.armRebalance(min(b.cfg.GroupInitialRebalanceDelay, max(left, 0)))
		}
	}
	g.maybeCompleteJoin()
	return nil, errDeferred
}

// recordJoin stores what a JoinGroup request says about its member: the
// client, its address, its timeouts and protocols; it counts as a heartbeat.
// The group's lock is held.
func (m *member) recordJoin(r *request, req *kmsg.JoinGroupRequest, session, rebalance time.Duration) {
	m.instanceID = req.InstanceID
	m.clientID = deref(r.hdr.ClientID)
	m.clientHost = memberHost(r)
	m.sessionTimeout, m.rebalanceTimeout = session, rebalance
	m.protocols = req.Protocols
	m.lastSession = time.Now()
}

func sameProtocols(a, b []kmsg.JoinGroupRequestProtocol) bool {
	return slices.EqualFunc(a, b, func(x, y kmsg.JoinGroupRequestProtocol) bool {
		return x.Name == y.Name && string(x.Metadata) == string(y.Metadata)
	})
}
