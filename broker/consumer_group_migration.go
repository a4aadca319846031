package broker

import (
	"maps"
	"slices"
	"sort"
	"time"

	"github.com/osprey-kafka/osprey/broker/cgroup"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Online migration of groups with members between the classic protocol
// and the consumer protocol (KIP-848), as Kafka's group coordinator does it
// under group.consumer.migration.policy:
//
//   - upgrade: the first ConsumerGroupHeartbeat of a new member to a
//     classic group whose members use the "consumer" protocol type makes it
//     a consumer group that keeps them (cgroup.FromClassic): classic
//     members waiting in a rebalance are told REBALANCE_IN_PROGRESS, and
//     from then on their JoinGroup, SyncGroup, Heartbeat and LeaveGroup are
//     answered from the consumer group (cgroup/classic.go);
//   - downgrade: when a member leaves or is removed and only classic
//     members remain, the group becomes a classic group again (generation:
//     the newest member epoch), and a rebalance starts at once so the
//     members rejoin and their leader assigns.
//
// Either conversion deletes the old type's records and writes the new
// type's in one batch; committed offsets stay.

// decodeSubscription reads a classic member's embedded consumer protocol
// subscription.
func decodeSubscription(meta []byte) (*kmsg.ConsumerMemberMetadata, error) {
	var s kmsg.ConsumerMemberMetadata
	if err := s.ReadFrom(meta); err != nil {
		return nil, err
	}
	return &s, nil
}

// subscriptionVersion is the consumer protocol version of a member's
// subscription, which its assignment is encoded with (0 if unreadable).
func subscriptionVersion(meta []byte) int16 {
	if len(meta) < 2 {
		return 0
	}
	return min(int16(meta[0])<<8|int16(meta[1]), 3)
}

func classicProtocols(ps []kmsg.JoinGroupRequestProtocol) []cgroup.Protocol {
	out := make([]cgroup.Protocol, len(ps))
	for i, p := range ps {
		out[i] = cgroup.Protocol{Name: p.Name, Metadata: p.Metadata}
	}
	return out
}

func joinProtocols(ps []cgroup.Protocol) []kmsg.JoinGroupRequestProtocol {
	out := make([]kmsg.JoinGroupRequestProtocol, len(ps))
	for i, p := range ps {
		out[i] = kmsg.JoinGroupRequestProtocol{Name: p.Name, Metadata: p.Metadata}
	}
	return out
}

// partitionsOf maps consumer protocol topic partitions (by name) to a set
// (by id); topics that do not exist are left out.
func (b *Broker) partitionsOf(names map[string][]int32) cgroup.Set {
	s := cgroup.Set{}
	for name, ps := range names {
		id, ok := b.topicID(name)
		if !ok {
			continue
		}
		for _, p := range ps {
			s[cgroup.TP{Topic: id, Partition: p}] = struct{}{}
		}
	}
	return s
}

// encodeAssignment is a consumer protocol assignment of the partitions.
func (b *Broker) encodeAssignment(s cgroup.Set, version int16) []byte {
	a := kmsg.NewConsumerMemberAssignment()
	a.Version = version
	for _, t := range s.Grouped() {
		at := kmsg.NewConsumerMemberAssignmentTopic()
		at.Topic, at.Partitions = b.topicName(t.Topic), t.Partitions
		a.Topics = append(a.Topics, at)
	}
	return a.AppendTo(nil)
}

// upgradeClassic makes the classic group with members a consumer group
// that keeps them, if the policy and the group allow it; it returns a
// Kafka error code and why the group was refused. g.mu held.
func (g *group) upgradeClassic(now time.Time) (int16, string) {
	b := g.gc.b
	if why := cgroup.UpgradeRefusal(b.cfg.Consumer.groupConfig(), g.protocolType, len(g.members)); why != "" {
		return errGroupIDNotFound, "group " + g.name + " is not a consumer group: " + why
	}
	members, ok := g.classicMembersForUpgrade()
	if !ok {
		return errGroupIDNotFound, "cannot upgrade group " + g.name + ": the embedded consumer protocol is malformed"
	}
	cg := cgroup.FromClassic(g.name, g.generation, members, now)
	keys, values := cg.Records(cg.TakeChanges())
	recs := []kvRecord{{key: groupKey(g.name)}}
	for i := range keys {
		recs = append(recs, kvRecord{key: keys[i], value: values[i]})
	}
	if code := g.gc.writeGroupRecords(g.name, recs); code != 0 {
		return code, ""
	}
	// Members waiting in the classic rebalance rejoin the consumer group.
	for _, m := range g.members {
		if m.join != nil {
			g.replyJoinError(m, errRebalanceInProgress)
		}
		if m.sync != nil {
			g.replySyncError(m, errRebalanceInProgress)
		}
	}
	if g.rebalance != nil {
		g.rebalance.Stop()
	}
	g.cg = cg
	g.members, g.pending = map[string]*member{}, map[string]time.Time{}
	g.protocolType, g.protocol, g.leader, g.generation = "", "", "", 0
	g.state, g.initialDeadline, g.stateMs = groupEmpty, time.Time{}, now.UnixMilli()
	b.log.Info("classic group upgraded to the consumer protocol", "group", g.name, "classic_members", len(members))
	return 0, ""
}

// classicMembersForUpgrade reads each member's subscription and current
// assignment; ok is false if one is not the consumer protocol's. g.mu held.
func (g *group) classicMembersForUpgrade() ([]cgroup.ClassicMember, bool) {
	b := g.gc.b
	out := make([]cgroup.ClassicMember, 0, len(g.members))
	for _, m := range g.members {
		proto := g.protocol
		if proto == "" && len(m.protocols) > 0 {
			proto = m.protocols[0].Name
		}
		sub, err := decodeSubscription(m.metadataFor(proto))
		if err != nil {
			return nil, false
		}
		assigned := cgroup.Set{}
		if len(m.assignment) > 0 {
			var a kmsg.ConsumerMemberAssignment
			if err := a.ReadFrom(m.assignment); err != nil {
				return nil, false
			}
			names := map[string][]int32{}
			for _, t := range a.Topics {
				names[t.Topic] = append(names[t.Topic], t.Partitions...)
			}
			assigned = b.partitionsOf(names)
		}
		out = append(out, cgroup.ClassicMember{ID: m.id, InstanceID: m.instanceID, RackID: sub.Rack, ClientID: m.clientID,
			ClientHost: m.clientHost, SessionTimeout: m.sessionTimeout, RebalanceTimeout: m.rebalanceTimeout,
			Protocols: classicProtocols(m.protocols), Topics: sub.Topics, Assigned: assigned})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, true
}

// maybeDowngrade makes the consumer group a classic group if only classic
// members are left and the policy allows it (a member has just left or
// been removed). g.mu held.
func (g *group) maybeDowngrade(now time.Time) {
	b := g.gc.b
	if g.cg == nil || !g.cg.CanDowngrade(b.cfg.Consumer.groupConfig()) {
		return
	}
	cms := g.cg.ClassicMembers()
	members := make(map[string]*member, len(cms))
	for _, cm := range cms {
		members[cm.ID] = &member{id: cm.ID, instanceID: cm.InstanceID, clientID: cm.ClientID, clientHost: cm.ClientHost,
			sessionTimeout: cm.SessionTimeout, rebalanceTimeout: cm.RebalanceTimeout, protocols: joinProtocols(cm.Protocols),
			lastSession: now}
	}
	cg, stateMs := g.cg, g.stateMs
	tombstones := g.consumerTombstones()
	g.members = members
	g.protocol = g.chooseProtocol()
	for _, cm := range cms {
		m := members[cm.ID]
		m.assignment = b.encodeAssignment(cm.Assigned, subscriptionVersion(m.metadataFor(g.protocol)))
	}
	ids := slices.Sorted(maps.Keys(members))
	// The generation is the newest member epoch: members reconciled to it
	// heartbeat on into the rebalance (REBALANCE_IN_PROGRESS); the leaving
	// member's removal moved the group epoch past every member's.
	var generation int32
	for _, m := range cg.Members {
		generation = max(generation, m.Epoch)
	}
	g.cg, g.state, g.generation, g.protocolType, g.leader = nil, groupStable, generation, cgroup.ProtocolType, ids[0]
	g.stateMs = now.UnixMilli()
	recs := append(tombstones, kvRecord{key: groupKey(g.name), value: g.metadataValue()})
	if code := g.gc.writeGroupRecords(g.name, recs); code != 0 {
		b.log.Error("downgrading the group to the classic protocol", "group", g.name, "error_code", code)
		g.cg, g.members, g.state, g.stateMs = cg, map[string]*member{}, groupEmpty, stateMs
		g.generation, g.protocolType, g.protocol, g.leader = 0, "", "", ""
		return
	}
	b.log.Info("consumer group downgraded to the classic protocol", "group", g.name, "members", len(members), "generation", g.generation)
	// The members rejoin (their heartbeats answer REBALANCE_IN_PROGRESS)
	// and their leader assigns.
	g.prepareRebalance()
}

// joinClassicToConsumer answers a JoinGroup reaching a consumer group with
// members: the member joins the consumer group as a classic member and is
// answered at once, never as the leader (the coordinator assigns). It
// returns a Kafka error code. g.mu held.
func (g *group) joinClassicToConsumer(r *request, req *kmsg.JoinGroupRequest, resp *kmsg.JoinGroupResponse, session, rebalance time.Duration) int16 {
	b := g.gc.b
	if req.ProtocolType != cgroup.ProtocolType {
		return errInconsistentProtocol
	}
	memberID := req.MemberID
	if memberID == "" {
		memberID = newMemberID(deref(r.hdr.ClientID))
		if req.Version >= 4 && req.InstanceID == nil {
			resp.MemberID = memberID
			return errMemberIDRequired
		}
	}
	protos := classicProtocols(req.Protocols)
	if !g.cg.SupportsClassic(memberID, req.ProtocolType, protos) {
		return errInconsistentProtocol
	}
	sub, err := decodeSubscription(req.Protocols[0].Metadata)
	if err != nil {
		return errInconsistentProtocol
	}
	owned := map[string][]int32{}
	for _, t := range sub.OwnedPartitions {
		owned[t.Topic] = append(owned[t.Topic], t.Partitions...)
	}
	cfg := b.cfg.Consumer.groupConfig()
	gen, proto, cerr := g.cg.JoinClassic(time.Now(), b.heartbeatTopics(r), cfg, &cgroup.ClassicJoin{
		MemberID: memberID, InstanceID: req.InstanceID, RackID: sub.Rack, ClientID: deref(r.hdr.ClientID), ClientHost: memberHost(r),
		SessionTimeout: session, RebalanceTimeout: rebalance, Protocols: protos, Topics: sub.Topics, Owned: b.partitionsOf(owned)})
	code := g.persistConsumer()
	if cerr != nil {
		return cerr.Code.Code
	}
	if code != 0 {
		return code
	}
	resp.MemberID, resp.Generation = memberID, gen
	resp.ProtocolType, resp.Protocol = kmsg.StringPtr(cgroup.ProtocolType), kmsg.StringPtr(proto)
	return 0
}

// syncClassicToConsumer answers a SyncGroup reaching a consumer group with
// the member's assigned partitions. g.mu held.
func (g *group) syncClassicToConsumer(req *kmsg.SyncGroupRequest, resp *kmsg.SyncGroupResponse) {
	set, err := g.cg.SyncClassic(time.Now(), req.MemberID, req.InstanceID, req.Generation, req.ProtocolType, req.Protocol)
	if err != nil {
		resp.ErrorCode = err.Code.Code
		return
	}
	version := int16(0)
	if m := g.cg.Members[req.MemberID]; m != nil && m.Classic != nil && len(m.Classic.Protocols) > 0 {
		version = subscriptionVersion(m.Classic.Protocols[0].Metadata)
	}
	resp.ProtocolType, resp.Protocol = req.ProtocolType, req.Protocol
	resp.MemberAssignment = g.gc.b.encodeAssignment(set, version)
}

// leaveClassicFromConsumer removes classic members of a consumer group
// (LeaveGroup), answering each; the group may downgrade after. g.mu held.
func (g *group) leaveClassicFromConsumer(leaving []kmsg.LeaveGroupRequestMember) []kmsg.LeaveGroupResponseMember {
	out := make([]kmsg.LeaveGroupResponseMember, 0, len(leaving))
	removed := false
	for _, lm := range leaving {
		rm := kmsg.NewLeaveGroupResponseMember()
		rm.MemberID, rm.InstanceID = lm.MemberID, lm.InstanceID
		id, err := g.cg.LeaveClassic(lm.MemberID, lm.InstanceID)
		if err != nil {
			rm.ErrorCode = err.Code.Code
		} else {
			rm.MemberID, removed = id, true
			g.gc.b.log.Info("classic member left the consumer group", "group", g.name, "member", id)
		}
		out = append(out, rm)
	}
	if removed {
		if code := g.persistConsumer(); code != 0 {
			g.gc.b.log.Error("writing consumer group records", "group", g.name, "error_code", code)
		}
		g.maybeDowngrade(time.Now())
	}
	return out
}
