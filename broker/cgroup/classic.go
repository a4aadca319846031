package cgroup

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

// Classic members: a consumer group keeps members of the classic protocol
// (JoinGroup / SyncGroup / Heartbeat, protocol type "consumer") beside the
// members of the consumer protocol, as Kafka's online migration does. The
// coordinator assigns their partitions like any member's; what a classic
// client cannot be told in a heartbeat it learns by rejoining:
//
//   - JoinGroup creates or updates the member (its subscription and owned
//     partitions come from the embedded consumer protocol), reconciles it
//     and is answered at once with the member epoch as the generation;
//   - SyncGroup answers the member's assigned partitions (never those it
//     must still revoke, nor those another member still owns);
//   - Heartbeat and SyncGroup answer REBALANCE_IN_PROGRESS while the
//     member is behind the group epoch, must revoke partitions, or has
//     partitions waiting that are now free, so the client rejoins;
//   - a member told to rejoin must do so within its rebalance timeout, and
//     must sync within it after a join, or it is removed, as is one whose
//     classic session timeout passes without a heartbeat.

// ProtocolType is the classic protocol type of consumers (the embedded
// consumer protocol): the only one a consumer group takes.
const ProtocolType = "consumer"

// Protocol is one protocol a classic member supports (JoinGroup's
// Protocols), in the member's order of preference.
type Protocol struct {
	Name     string
	Metadata []byte
}

// Classic is what a member of the classic protocol has beyond a consumer
// group member (Kafka's ClassicMemberMetadata, plus its timers).
type Classic struct {
	SessionTimeout time.Duration
	Protocols      []Protocol
	// JoinDeadline is set when the member is told to rejoin, SyncDeadline
	// when its JoinGroup is answered; zero otherwise. Neither is durable.
	JoinDeadline, SyncDeadline time.Time
}

// protocolName is the protocol the member is answered with: its first.
func (c *Classic) protocolName() string {
	if len(c.Protocols) == 0 {
		return ""
	}
	return c.Protocols[0].Name
}

// MigrationPolicy is group.consumer.migration.policy: which way a group
// with members may change protocol. Empty groups change either way
// whatever the policy.
type MigrationPolicy string

// The policies, Kafka's names; Bidirectional is Kafka's default.
const (
	MigrationBidirectional MigrationPolicy = "bidirectional"
	MigrationUpgrade       MigrationPolicy = "upgrade"
	MigrationDowngrade     MigrationPolicy = "downgrade"
	MigrationDisabled      MigrationPolicy = "disabled"
)

// ParseMigrationPolicy parses a policy name, case-insensitively.
func ParseMigrationPolicy(s string) (MigrationPolicy, error) {
	p := MigrationPolicy(strings.ToLower(strings.TrimSpace(s)))
	switch p {
	case MigrationBidirectional, MigrationUpgrade, MigrationDowngrade, MigrationDisabled:
		return p, nil
	}
	return "", fmt.Errorf("unknown migration policy %q (bidirectional, upgrade, downgrade, disabled)", s)
}

// Upgrade reports whether a classic group with members may become a
// consumer group.
func (p MigrationPolicy) Upgrade() bool { return p == MigrationBidirectional || p == MigrationUpgrade }

// Downgrade reports whether a consumer group left with only classic
// members may become a classic group.
func (p MigrationPolicy) Downgrade() bool {
	return p == MigrationBidirectional || p == MigrationDowngrade
}

// UpgradeRefusal says why a classic group with members may not become a
// consumer group when a consumer protocol member joins it ("" when it may):
// the policy must allow it, the group must use the consumer protocol type,
// and its members must fit group.consumer.max.size.
func UpgradeRefusal(cfg Config, protocolType string, members int) string {
	switch {
	case !cfg.Migration.Upgrade():
		return "the online upgrade is disabled (group.consumer.migration.policy)"
	case protocolType != ProtocolType:
		return "the group does not use the consumer embedded protocol"
	case cfg.MaxSize > 0 && members > cfg.MaxSize:
		return "the group size exceeds the consumer group maximum size"
	}
	return ""
}

// CanDowngrade reports whether the group, having just lost a member, is to
// become a classic group: it still has members, all of the classic
// protocol, the policy allows it and they fit the classic group size.
func (g *Group) CanDowngrade(cfg Config) bool {
	if len(g.Members) == 0 || !cfg.Migration.Downgrade() || (cfg.ClassicMaxSize > 0 && len(g.Members) > cfg.ClassicMaxSize) {
		return false
	}
	for _, m := range g.Members {
		if m.Classic == nil {
			return false
		}
	}
	return true
}

// ClassicMember is a member of a classic group as the conversions read and
// write it: its assignment is the partitions it was given (upgrade) or its
// target assignment (downgrade).
type ClassicMember struct {
	ID                               string
	InstanceID, RackID               *string
	ClientID, ClientHost             string
	SessionTimeout, RebalanceTimeout time.Duration
	Protocols                        []Protocol
	Topics                           []string
	Assigned                         Set
}

// FromClassic builds the consumer group a classic group with members
// becomes: the group epoch is the classic generation, every member is
// Stable at that epoch with the partitions it was assigned as its current
// and target assignment. The next member of the consumer protocol to join
// moves the group epoch, and the classic members learn it on their next
// heartbeat. Every record of the new group is marked to be written.
func FromClassic(id string, generation int32, members []ClassicMember, now time.Time) *Group {
	g := New(id)
	g.Epoch, g.AssignmentEpoch = generation, generation
	g.changes.GroupEpoch, g.changes.AssignmentEpoch = true, true
	for _, cm := range members {
		m := &Member{ID: cm.ID, InstanceID: cm.InstanceID, RackID: cm.RackID, ClientID: cm.ClientID, ClientHost: cm.ClientHost,
			Epoch: generation, PrevEpoch: generation, State: MemberStable,
			SubscribedNames:  slices.Compact(slices.Sorted(slices.Values(cm.Topics))),
			RebalanceTimeout: cm.RebalanceTimeout, Assigned: Set{}, Revoking: Set{}, Since: map[TP]int32{},
			LastHeartbeat: now, Classic: &Classic{SessionTimeout: cm.SessionTimeout, Protocols: cm.Protocols}}
		for tp := range cm.Assigned {
			if _, taken := g.owners[tp]; taken {
				continue // a partition is never given to two members
			}
			g.owners[tp] = m.ID
			m.Assigned[tp] = struct{}{}
			m.Since[tp] = generation
		}
		g.Members[m.ID] = m
		g.Target[m.ID] = m.Assigned.Clone()
		g.changes.Members[m.ID], g.changes.Targets[m.ID], g.changes.Current[m.ID] = true, true, true
	}
	return g
}

// ClassicMembers lists the members as the classic group they become has
// them, each with its target assignment, sorted by id. Every member must be
// of the classic protocol (CanDowngrade).
func (g *Group) ClassicMembers() []ClassicMember {
	out := make([]ClassicMember, 0, len(g.Members))
	for _, id := range sortedKeys(g.Members) {
		m := g.Members[id]
		cm := ClassicMember{ID: m.ID, InstanceID: m.InstanceID, RackID: m.RackID, ClientID: m.ClientID, ClientHost: m.ClientHost,
			RebalanceTimeout: m.RebalanceTimeout, Topics: m.SubscribedNames, Assigned: g.Target[id].Clone()}
		if m.Classic != nil {
			cm.SessionTimeout, cm.Protocols = m.Classic.SessionTimeout, m.Classic.Protocols
		}
		out = append(out, cm)
	}
	return out
}

// SupportsClassic reports whether a classic member (self, maybe new) with
// this protocol type and these protocols may join: the type must be
// "consumer" and one of the protocols must be supported by every other
// classic member.
func (g *Group) SupportsClassic(self, protocolType string, protocols []Protocol) bool {
	if protocolType != ProtocolType || len(protocols) == 0 {
		return false
	}
	for _, p := range protocols {
		all := true
		for id, m := range g.Members {
			if id == self || m.Classic == nil {
				continue
			}
			if !slices.ContainsFunc(m.Classic.Protocols, func(q Protocol) bool { return q.Name == p.Name }) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

// IsClassic reports whether id is a member of the classic protocol.
func (g *Group) IsClassic(id string) bool {
	m := g.Members[id]
	return m != nil && m.Classic != nil
}

// ClassicJoin is one JoinGroup of a classic member; the broker has given a
// member id to a member without one, and decoded the embedded consumer
// protocol's subscription (Topics, Owned, RackID).
type ClassicJoin struct {
	MemberID                         string
	InstanceID, RackID               *string
	ClientID, ClientHost             string
	SessionTimeout, RebalanceTimeout time.Duration
	Protocols                        []Protocol
	Topics                           []string
	Owned                            Set // never nil: what the member reports owning
}

// JoinClassic handles a classic member's JoinGroup: the member is created
// or updated, the group epoch moves if its subscription changed, and the
// member is reconciled towards its target with the partitions it reports
// owning. It returns the generation (the member epoch) and the protocol
// name to answer with; the member must then sync within its rebalance
// timeout.
func (g *Group) JoinClassic(now time.Time, md Metadata, cfg Config, req *ClassicJoin) (int32, string, *Error) {
	if !g.SupportsClassic(req.MemberID, ProtocolType, req.Protocols) {
		return 0, "", fail(kerr.InconsistentGroupProtocol, "member %s's protocols are not supported", req.MemberID)
	}
	m, isNew, err := g.classicMember(req, cfg)
	if err != nil {
		return 0, "", err
	}
	ureq := &Request{MemberID: m.ID, InstanceID: req.InstanceID, RackID: req.RackID, RebalanceTimeout: req.RebalanceTimeout,
		SubscribedNames: req.Topics, ClientID: req.ClientID, ClientHost: req.ClientHost}
	if ureq.SubscribedNames == nil {
		ureq.SubscribedNames = []string{}
	}
	bump := g.update(m, ureq) || isNew
	c := &Classic{SessionTimeout: req.SessionTimeout, Protocols: req.Protocols}
	if m.Classic == nil || m.Classic.SessionTimeout != c.SessionTimeout || !sameProtocols(m.Classic.Protocols, c.Protocols) {
		g.changes.Members[m.ID] = true
	}
	m.Classic = c
	m.LastHeartbeat = now
	owned := req.Owned
	if owned == nil {
		owned = Set{}
	}
	g.advance(now, md, cfg, m, bump, owned)
	c.SyncDeadline = now.Add(m.RebalanceTimeout)
	return m.Epoch, c.protocolName(), nil
}

func sameProtocols(a, b []Protocol) bool {
	return slices.EqualFunc(a, b, func(x, y Protocol) bool { return x.Name == y.Name && string(x.Metadata) == string(y.Metadata) })
}

// classicMember finds or admits the joining classic member: a static member
// takes over its instance id's place (whatever protocol the previous
// holder used, as a classic static member does), reconciled from epoch 0.
func (g *Group) classicMember(req *ClassicJoin, cfg Config) (*Member, bool, *Error) {
	if req.InstanceID != nil {
		if old := g.byInstance(*req.InstanceID); old != nil {
			m := old
			if old.ID != req.MemberID {
				m = g.replace(old, req.MemberID)
			}
			m.Epoch, m.PrevEpoch = 0, 0
			g.changes.Current[m.ID] = true
			return m, false, nil
		}
	}
	if m := g.Members[req.MemberID]; m != nil {
		return m, false, nil
	}
	if cfg.MaxSize > 0 && len(g.Members) >= cfg.MaxSize {
		return nil, false, fail(kerr.GroupMaxSizeReached, "group %s has reached its maximum size %d", g.ID, cfg.MaxSize)
	}
	m := &Member{ID: req.MemberID, State: MemberStable, Assigned: Set{}, Revoking: Set{}, Since: map[TP]int32{}}
	g.Members[m.ID] = m
	return m, true, nil
}

// classicByID finds a classic member for SyncGroup, Heartbeat and
// LeaveGroup: by instance id when given (FENCED_INSTANCE_ID if another
// member id holds it), else by member id.
func (g *Group) classicByID(memberID string, instanceID *string) (*Member, *Error) {
	var m *Member
	if instanceID != nil {
		m = g.byInstance(*instanceID)
		if m == nil {
			return nil, fail(kerr.UnknownMemberID, "instance id %s is not a member of group %s", *instanceID, g.ID)
		}
		if memberID != "" && m.ID != memberID {
			return nil, fail(kerr.FencedInstanceID, "instance id %s belongs to member %s, not %s", *instanceID, m.ID, memberID)
		}
	} else if m = g.Members[memberID]; m == nil {
		return nil, fail(kerr.UnknownMemberID, "member %s is not in group %s", memberID, g.ID)
	}
	if m.Classic == nil {
		return nil, fail(kerr.UnknownMemberID, "member %s does not use the classic protocol", m.ID)
	}
	return m, nil
}

// mustRejoin is the REBALANCE_IN_PROGRESS a classic member gets when the
// group moved past its epoch and it is not revoking; the rejoin must come
// within its rebalance timeout.
func (g *Group) mustRejoin(now time.Time, m *Member) *Error {
	if m.Classic.JoinDeadline.IsZero() {
		m.Classic.JoinDeadline = now.Add(m.RebalanceTimeout)
	}
	return fail(kerr.RebalanceInProgress, "group %s is at epoch %d, member %s must rejoin", g.ID, g.Epoch, m.ID)
}

// SyncClassic handles a classic member's SyncGroup: the generation must be
// the member's epoch and the protocol the one it was answered with; a
// member behind the group epoch (and not revoking) must rejoin first. It
// returns the member's assigned partitions.
func (g *Group) SyncClassic(now time.Time, memberID string, instanceID *string, generation int32, protocolType, protocol *string) (Set, *Error) {
	m, err := g.classicByID(memberID, instanceID)
	if err != nil {
		return nil, err
	}
	switch {
	case generation != m.Epoch:
		return nil, fail(kerr.IllegalGeneration, "generation %d is not member %s's epoch %d", generation, m.ID, m.Epoch)
	case protocolType != nil && *protocolType != ProtocolType:
		return nil, fail(kerr.InconsistentGroupProtocol, "protocol type %s is not %s", *protocolType, ProtocolType)
	case protocol != nil && *protocol != m.Classic.protocolName():
		return nil, fail(kerr.InconsistentGroupProtocol, "protocol %s is not %s", *protocol, m.Classic.protocolName())
	case g.Epoch > m.Epoch && m.State != MemberUnrevoked:
		return nil, g.mustRejoin(now, m)
	}
	m.Classic.SyncDeadline = time.Time{}
	m.LastHeartbeat = now
	return m.Assigned.Clone(), nil
}

// HeartbeatClassic handles a classic member's Heartbeat: it keeps the
// session alive and answers REBALANCE_IN_PROGRESS when the member is behind
// the group epoch, must revoke partitions, or waits for partitions that
// are free now.
func (g *Group) HeartbeatClassic(now time.Time, memberID string, instanceID *string, generation int32) *Error {
	m, err := g.classicByID(memberID, instanceID)
	if err != nil {
		return err
	}
	if generation != m.Epoch {
		return fail(kerr.IllegalGeneration, "generation %d is not member %s's epoch %d", generation, m.ID, m.Epoch)
	}
	m.LastHeartbeat = now
	if m.Epoch < g.Epoch || m.State == MemberUnrevoked || (m.State == MemberUnreleased && !g.waitingOnUnreleased(m)) {
		return g.mustRejoin(now, m)
	}
	return nil
}

// waitingOnUnreleased reports whether a target partition of m is still
// owned by another member.
func (g *Group) waitingOnUnreleased(m *Member) bool {
	for tp := range g.Target[m.ID] {
		if m.Assigned.Has(tp) {
			continue
		}
		if owner, ok := g.owners[tp]; ok && owner != m.ID {
			return true
		}
	}
	return false
}

// LeaveClassic removes a classic member (LeaveGroup), found by member id or
// by instance id. It returns the member id removed.
func (g *Group) LeaveClassic(memberID string, instanceID *string) (string, *Error) {
	m, err := g.classicByID(memberID, instanceID)
	if err != nil {
		return "", err
	}
	g.Remove(m.ID)
	return m.ID, nil
}

// expireClassic says why a classic member is to be removed now ("" if
// not): its session, or its rejoin or sync deadline passed.
func expireClassic(now time.Time, m *Member) string {
	c := m.Classic
	switch {
	case now.Sub(m.LastHeartbeat) > c.SessionTimeout:
		return "session timeout"
	case !c.JoinDeadline.IsZero() && now.After(c.JoinDeadline):
		return "the classic member did not rejoin within its rebalance timeout"
	case !c.SyncDeadline.IsZero() && now.After(c.SyncDeadline):
		return "the classic member did not sync within its rebalance timeout"
	}
	return ""
}
