package cgroup

import (
	"fmt"
	"iter"
	"maps"
	"regexp"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

// Config is what the broker's configuration says about consumer groups.
type Config struct {
	SessionTimeout    time.Duration // group.consumer.session.timeout.ms
	HeartbeatInterval time.Duration // group.consumer.heartbeat.interval.ms
	Assignors         []string      // group.consumer.assignors; the first is the default
	MaxSize           int           // group.consumer.max.size; 0 = unlimited
	// Migration is group.consumer.migration.policy; ClassicMaxSize is
	// group.max.size (0 = unlimited), which a downgraded group must fit.
	Migration      MigrationPolicy
	ClassicMaxSize int
}

// metadataRefresh bounds how often a heartbeat re-resolves the group's
// subscriptions against the cluster's topics when nothing else changed (a
// new topic matching a regex, partitions added).
const metadataRefresh = time.Second

// Error is a heartbeat or commit refusal: a Kafka error and why.
type Error struct {
	Code *kerr.Error
	Msg  string
}

func (e *Error) Error() string { return e.Code.Message + ": " + e.Msg }

func fail(code *kerr.Error, format string, args ...any) *Error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// Group is one consumer group. It is not safe for concurrent use: its owner
// serialises every call.
type Group struct {
	ID string
	// Epoch is the group epoch, bumped whenever membership, a
	// subscription or a subscribed topic changes; AssignmentEpoch the
	// group epoch the target assignment was computed at.
	Epoch, AssignmentEpoch int32
	// AssignorName is the assignor of the current target assignment.
	AssignorName string
	Members      map[string]*Member
	// Target is each member's target assignment.
	Target map[string]Set
	// Subscribed is the subscription metadata: every topic some member
	// subscribes to (by name or regex) that exists, as of the last check.
	Subscribed map[string]Topic

	owners        map[TP]string // partition → member that may be using it
	regexes       map[string]*regexp.Regexp
	metaCheckedAt time.Time
	changes       Changes
}

// Changes says what changed since the last TakeChanges, so the owner can
// write the matching records.
type Changes struct {
	GroupEpoch      bool            // Epoch
	Subscribed      bool            // Subscribed
	AssignmentEpoch bool            // AssignmentEpoch
	Members         map[string]bool // member metadata (subscription, client)
	Targets         map[string]bool // a member's target assignment
	Current         map[string]bool // a member's epoch, state and partitions
	Removed         map[string]bool // members gone (their records are deleted)
}

// New returns an empty group.
func New(id string) *Group {
	return &Group{ID: id, Members: map[string]*Member{}, Target: map[string]Set{}, Subscribed: map[string]Topic{},
		owners: map[TP]string{}, regexes: map[string]*regexp.Regexp{}, changes: newChanges()}
}

func newChanges() Changes {
	return Changes{Members: map[string]bool{}, Targets: map[string]bool{}, Current: map[string]bool{}, Removed: map[string]bool{}}
}

// TakeChanges returns the changes since the last call and forgets them.
func (g *Group) TakeChanges() Changes {
	c := g.changes
	g.changes = newChanges()
	return c
}

// State is the group state as ListGroups and ConsumerGroupDescribe show it.
func (g *Group) State() string {
	switch {
	case len(g.Members) == 0:
		return "Empty"
	case g.Epoch > g.AssignmentEpoch:
		return "Assigning"
	}
	for _, m := range g.Members {
		if m.Reconciling(g.AssignmentEpoch) {
			return "Reconciling"
		}
	}
	return "Stable"
}

// Owner returns the member that may be using tp, if any.
func (g *Group) Owner(tp TP) (string, bool) {
	id, ok := g.owners[tp]
	return id, ok
}

// RebuildOwners recomputes partition ownership from the members' current
// assignments (after the group was rebuilt from records).
func (g *Group) RebuildOwners() {
	g.owners = map[TP]string{}
	for id, m := range g.Members {
		for tp := range m.Assigned {
			g.owners[tp] = id
		}
		for tp := range m.Revoking {
			g.owners[tp] = id
		}
	}
}

// Request is one ConsumerGroupHeartbeat; nil fields are "unchanged".
type Request struct {
	MemberID         string
	MemberEpoch      int32
	InstanceID       *string
	RackID           *string
	RebalanceTimeout time.Duration // <0 = unchanged
	SubscribedNames  []string
	SubscribedRegex  *string
	ServerAssignor   *string
	Owned            Set // the partitions the member owns; nil = unchanged
	ClientID         string
	ClientHost       string
}

// Response is the answer to a heartbeat.
type Response struct {
	MemberID string
	Epoch    int32
	// Assignment is the member's assigned partitions, nil when the answer
	// carries none (nothing changed and the request was not a full one).
	Assignment Set
}

// Validate checks a request's shape (INVALID_REQUEST and the like) before
// any group is touched.
func Validate(req *Request, cfg Config) *Error {
	switch {
	case req.MemberID == "":
		return fail(kerr.InvalidRequest, "MemberId can't be empty")
	case req.MemberEpoch < StaticLeaveEpoch:
		return fail(kerr.InvalidRequest, "MemberEpoch %d is invalid", req.MemberEpoch)
	case req.MemberEpoch == StaticLeaveEpoch && req.InstanceID == nil:
		return fail(kerr.InvalidRequest, "InstanceId can't be null when MemberEpoch is -2")
	case req.MemberEpoch == JoinEpoch && req.RebalanceTimeout < 0:
		return fail(kerr.InvalidRequest, "RebalanceTimeoutMs must be provided in first request")
	case req.MemberEpoch == JoinEpoch && len(req.Owned) > 0:
		return fail(kerr.InvalidRequest, "TopicPartitions must be empty when (re-)joining")
	case req.MemberEpoch == JoinEpoch && req.SubscribedNames == nil && req.SubscribedRegex == nil:
		return fail(kerr.InvalidRequest, "SubscribedTopicNames or SubscribedTopicRegex must be set in first request")
	}
	if req.ServerAssignor != nil && !slices.Contains(cfg.Assignors, *req.ServerAssignor) {
		return fail(kerr.UnsupportedAssignor, "ServerAssignor %s is not supported; supported: %v", *req.ServerAssignor, cfg.Assignors)
	}
	if req.SubscribedRegex != nil && *req.SubscribedRegex != "" {
		if _, err := compileRegex(*req.SubscribedRegex); err != nil {
			return fail(kerr.InvalidRegularExpression, "SubscribedTopicRegex %q: %v", *req.SubscribedRegex, err)
		}
	}
	return nil
}

// compileRegex compiles a subscription regex: RE2 syntax (KIP-848 asks
// for RE2/J's), matched against the whole topic name.
func compileRegex(re string) (*regexp.Regexp, error) {
	return regexp.Compile("^(?:" + re + ")$")
}

// Heartbeat handles one ConsumerGroupHeartbeat from a member. The request
// must have passed Validate.
func (g *Group) Heartbeat(now time.Time, md Metadata, cfg Config, req *Request) (Response, *Error) {
	if req.MemberEpoch == LeaveEpoch || req.MemberEpoch == StaticLeaveEpoch {
		return g.leave(req)
	}
	m, isNew, err := g.member(req, cfg)
	if err != nil {
		return Response{}, err
	}
	before := m.Assigned.Clone()
	beforeEpoch := m.Epoch
	bump := g.update(m, req) || isNew
	m.LastHeartbeat = now
	g.advance(now, md, cfg, m, bump, req.Owned)
	resp := Response{MemberID: m.ID, Epoch: m.Epoch}
	full := req.RebalanceTimeout >= 0 && (req.SubscribedNames != nil || req.SubscribedRegex != nil) && req.Owned != nil
	if req.MemberEpoch == JoinEpoch || full || !before.Equal(m.Assigned) || beforeEpoch != m.Epoch {
		resp.Assignment = m.Assigned.Clone()
	}
	return resp, nil
}

// advance moves the group epoch when the member's subscription changed
// (bump) or the subscribed topics did, computes the target assignment if
// the epoch moved past it, and reconciles the member with what it reports
// owning (nil: not reported).
func (g *Group) advance(now time.Time, md Metadata, cfg Config, m *Member, bump bool, owned Set) {
	if bump || now.Sub(g.metaCheckedAt) >= metadataRefresh {
		g.metaCheckedAt = now
		if sub := g.resolve(md); !sameTopics(sub, g.Subscribed) {
			g.Subscribed = sub
			g.changes.Subscribed = true
			bump = true
		}
	}
	if bump {
		g.bumpEpoch()
	}
	if g.Epoch > g.AssignmentEpoch {
		g.computeTarget(cfg)
	}
	g.reconcile(m, owned, now)
}

// member finds or admits the request's member, checking its epoch and
// instance id.
func (g *Group) member(req *Request, cfg Config) (*Member, bool, *Error) {
	if req.MemberEpoch == JoinEpoch {
		return g.join(req, cfg)
	}
	m := g.Members[req.MemberID]
	if m == nil {
		return nil, false, fail(kerr.UnknownMemberID, "member %s is not in group %s", req.MemberID, g.ID)
	}
	if req.InstanceID != nil && (m.InstanceID == nil || *m.InstanceID != *req.InstanceID) {
		return nil, false, fail(kerr.FencedInstanceID, "member %s does not have instance id %s", m.ID, *req.InstanceID)
	}
	switch {
	case req.MemberEpoch > m.Epoch:
		return nil, false, fail(kerr.FencedMemberEpoch, "member epoch %d is newer than the current %d", req.MemberEpoch, m.Epoch)
	case req.MemberEpoch < m.Epoch:
		// A member that missed the answer that bumped its epoch comes
		// back with the previous one; it is accepted while what it owns
		// is still part of its assignment.
		if req.MemberEpoch != m.PrevEpoch || (req.Owned != nil && !subset(req.Owned, m.Assigned)) {
			return nil, false, fail(kerr.FencedMemberEpoch, "member epoch %d is older than the current %d", req.MemberEpoch, m.Epoch)
		}
	}
	return m, false, nil
}

// join admits a member sending epoch 0: a new member, a member rejoining
// with its id, or a static member taking over its instance id's place.
func (g *Group) join(req *Request, cfg Config) (*Member, bool, *Error) {
	if m := g.Members[req.MemberID]; m != nil {
		return m, false, nil
	}
	if req.InstanceID != nil {
		if old := g.byInstance(*req.InstanceID); old != nil {
			if old.Epoch != StaticLeaveEpoch {
				return nil, false, fail(kerr.UnreleasedInstanceID, "instance id %s is in use by member %s", *req.InstanceID, old.ID)
			}
			return g.replace(old, req.MemberID), false, nil
		}
	}
	if cfg.MaxSize > 0 && len(g.Members) >= cfg.MaxSize {
		return nil, false, fail(kerr.GroupMaxSizeReached, "group %s has reached its maximum size %d", g.ID, cfg.MaxSize)
	}
	m := &Member{ID: req.MemberID, State: MemberStable, Assigned: Set{}, Revoking: Set{}, Since: map[TP]int32{}}
	g.Members[m.ID] = m
	return m, true, nil
}

// replace hands a static member's place (its assignment and epoch) to the
// member that rejoined with its instance id.
func (g *Group) replace(old *Member, id string) *Member {
	m := *old
	m.ID = id
	delete(g.Members, old.ID)
	g.Members[id] = &m
	for tp := range m.Assigned {
		g.owners[tp] = id
	}
	for tp := range m.Revoking {
		g.owners[tp] = id
	}
	if t, ok := g.Target[old.ID]; ok {
		delete(g.Target, old.ID)
		g.Target[id] = t
	}
	g.changes.Removed[old.ID] = true
	g.changes.Members[id], g.changes.Targets[id], g.changes.Current[id] = true, true, true
	return &m
}

func (g *Group) byInstance(inst string) *Member {
	for _, m := range g.Members {
		if m.InstanceID != nil && *m.InstanceID == inst {
			return m
		}
	}
	return nil
}

// update applies the request's member fields and reports whether the
// subscription changed (which bumps the group epoch).
func (g *Group) update(m *Member, req *Request) bool {
	changed := false
	meta := false
	if req.InstanceID != nil && (m.InstanceID == nil || *m.InstanceID != *req.InstanceID) {
		m.InstanceID, meta = req.InstanceID, true
	}
	if req.RackID != nil && (m.RackID == nil || *m.RackID != *req.RackID) {
		m.RackID, meta = req.RackID, true
	}
	if req.RebalanceTimeout >= 0 && req.RebalanceTimeout != m.RebalanceTimeout {
		m.RebalanceTimeout, meta = req.RebalanceTimeout, true
	}
	if req.ClientID != m.ClientID || req.ClientHost != m.ClientHost {
		m.ClientID, m.ClientHost, meta = req.ClientID, req.ClientHost, true
	}
	if req.SubscribedNames != nil {
		names := slices.Compact(slices.Sorted(slices.Values(req.SubscribedNames)))
		if !slices.Equal(names, m.SubscribedNames) {
			m.SubscribedNames, changed = names, true
		}
	}
	if req.SubscribedRegex != nil {
		re := req.SubscribedRegex
		if *re == "" {
			re = nil
		}
		if !equalPtr(re, m.SubscribedRegex) {
			m.SubscribedRegex, changed = re, true
		}
	}
	if req.ServerAssignor != nil && !equalPtr(req.ServerAssignor, m.ServerAssignor) {
		m.ServerAssignor, changed = req.ServerAssignor, true
	}
	if changed || meta {
		g.changes.Members[m.ID] = true
	}
	return changed
}

func equalPtr(a, b *string) bool {
	return (a == nil) == (b == nil) && (a == nil || *a == *b)
}

// leave handles epoch -1 (the member leaves; its partitions are freed) and
// -2 (a static member leaves for now; it keeps its partitions until its
// session times out or a member with its instance id takes its place).
func (g *Group) leave(req *Request) (Response, *Error) {
	m := g.Members[req.MemberID]
	if m == nil && req.InstanceID != nil {
		if o := g.byInstance(*req.InstanceID); o != nil {
			return Response{}, fail(kerr.FencedInstanceID, "instance id %s belongs to member %s", *req.InstanceID, o.ID)
		}
	}
	if m == nil {
		return Response{}, fail(kerr.UnknownMemberID, "member %s is not in group %s", req.MemberID, g.ID)
	}
	if req.MemberEpoch == StaticLeaveEpoch {
		m.Epoch = StaticLeaveEpoch
		g.changes.Current[m.ID] = true
		return Response{MemberID: m.ID, Epoch: StaticLeaveEpoch}, nil
	}
	g.Remove(m.ID)
	return Response{MemberID: req.MemberID, Epoch: LeaveEpoch}, nil
}

// Remove drops a member (left, fenced or timed out): its partitions are
// free for others at once, and the group epoch moves so the others are
// assigned anew on their next heartbeat.
func (g *Group) Remove(id string) {
	m := g.Members[id]
	if m == nil {
		return
	}
	for tp := range m.Assigned {
		delete(g.owners, tp)
	}
	for tp := range m.Revoking {
		delete(g.owners, tp)
	}
	delete(g.Members, id)
	delete(g.Target, id)
	delete(g.changes.Members, id)
	delete(g.changes.Targets, id)
	delete(g.changes.Current, id)
	g.changes.Removed[id] = true
	if sub := g.trimSubscribed(); !sameTopics(sub, g.Subscribed) {
		g.Subscribed = sub
		g.changes.Subscribed = true
	}
	g.bumpEpoch()
}

// Expire removes members whose session timed out and members that did not
// revoke partitions within their rebalance timeout, then recomputes the
// target assignment if that changed membership. It returns who was removed
// and why.
func (g *Group) Expire(now time.Time, cfg Config) map[string]string {
	var out map[string]string
	for id, m := range g.Members {
		why := ""
		switch {
		case m.Classic != nil:
			why = expireClassic(now, m)
		case now.Sub(m.LastHeartbeat) > cfg.SessionTimeout:
			why = "session timeout"
		case m.State == MemberUnrevoked && !m.RevokeDeadline.IsZero() && now.After(m.RevokeDeadline):
			why = "rebalance timeout while revoking partitions"
		}
		if why != "" {
			if out == nil {
				out = map[string]string{}
			}
			out[id] = why
			g.Remove(id)
		}
	}
	if out != nil && len(g.Members) > 0 && g.Epoch > g.AssignmentEpoch {
		g.computeTarget(cfg)
	}
	return out
}

func (g *Group) bumpEpoch() {
	g.Epoch++
	g.changes.GroupEpoch = true
}

// memberTopics lists the names the member subscribes to, by name or regex.
func (g *Group) memberTopics(m *Member, names iter.Seq[string]) []string {
	var re *regexp.Regexp
	if m.SubscribedRegex != nil {
		re = g.regex(*m.SubscribedRegex)
	}
	var out []string
	for n := range names {
		if slices.Contains(m.SubscribedNames, n) || (re != nil && re.MatchString(n)) {
			out = append(out, n)
		}
	}
	return out
}

func (g *Group) regex(s string) *regexp.Regexp {
	if re, ok := g.regexes[s]; ok {
		return re
	}
	re, err := compileRegex(s)
	if err != nil { // validated on the way in; a replayed bad one matches nothing
		re = regexp.MustCompile(`^\b$`)
	}
	g.regexes[s] = re
	return re
}

// resolve computes the subscription metadata from the cluster's topics.
// Topics only a regex brings in must be describable by the member whose
// heartbeat resolves them, when md says (TopicAuthorizer).
func (g *Group) resolve(md Metadata) map[string]Topic {
	names := map[string]bool{}
	regexes := map[string]bool{}
	for _, m := range g.Members {
		for _, n := range m.SubscribedNames {
			names[n] = true
		}
		if m.SubscribedRegex != nil {
			regexes[*m.SubscribedRegex] = true
		}
	}
	if len(regexes) > 0 {
		authz, _ := md.(TopicAuthorizer)
		for _, n := range md.TopicNames() {
			if names[n] {
				continue
			}
			for re := range regexes {
				if g.regex(re).MatchString(n) {
					if authz == nil || authz.MayDescribe(n) {
						names[n] = true
					}
					break
				}
			}
		}
	}
	out := map[string]Topic{}
	for n := range names {
		if t, ok := md.Topic(n); ok && t.Partitions > 0 {
			out[n] = t
		}
	}
	return out
}

// trimSubscribed drops topics no remaining member subscribes to.
func (g *Group) trimSubscribed() map[string]Topic {
	out := map[string]Topic{}
	for _, m := range g.Members {
		for _, n := range g.memberTopics(m, maps.Keys(g.Subscribed)) {
			out[n] = g.Subscribed[n]
		}
	}
	return out
}

func sameTopics(a, b map[string]Topic) bool {
	return maps.Equal(a, b)
}

// preferredAssignor is the assignor most members ask for (ties: the first
// configured), else the default.
func (g *Group) preferredAssignor(cfg Config) string {
	votes := map[string]int{}
	for _, m := range g.Members {
		if m.ServerAssignor != nil {
			votes[*m.ServerAssignor]++
		}
	}
	best := cfg.Assignors[0]
	for _, a := range cfg.Assignors {
		if votes[a] > votes[best] {
			best = a
		}
	}
	return best
}

// computeTarget computes the target assignment at the current group epoch.
func (g *Group) computeTarget(cfg Config) {
	spec := AssignmentSpec{Subscriptions: map[string][]TopicID{}, Partitions: map[TopicID]int32{}, Previous: g.Target}
	for id, m := range g.Members {
		var ids []TopicID
		for _, n := range g.memberTopics(m, maps.Keys(g.Subscribed)) {
			t := g.Subscribed[n]
			ids = append(ids, t.ID)
			spec.Partitions[t.ID] = t.Partitions
		}
		slices.SortFunc(ids, compareIDs)
		spec.Subscriptions[id] = ids
	}
	name := g.preferredAssignor(cfg)
	target := Assignors[name](spec)
	for id, s := range target {
		if !s.Equal(g.Target[id]) {
			g.changes.Targets[id] = true
		}
	}
	g.Target = target
	g.AssignorName = name
	g.AssignmentEpoch = g.Epoch
	g.changes.AssignmentEpoch = true
}

// reconcile moves the member towards its target assignment: partitions to
// give up are revoked first (the member keeps its epoch until it reports
// them gone); only then does it get its new epoch and the target's
// partitions no other member still owns. owned is what the member reports
// owning (nil: not reported).
func (g *Group) reconcile(m *Member, owned Set, now time.Time) {
	switch m.State {
	case MemberUnrevoked:
		if owned == nil || intersects(owned, m.Revoking) {
			return
		}
		for tp := range m.Revoking {
			delete(g.owners, tp)
		}
		m.Revoking = Set{}
		m.RevokeDeadline = time.Time{}
		g.changes.Current[m.ID] = true
	case MemberStable:
		if m.Epoch == g.AssignmentEpoch {
			return
		}
	}
	g.next(m, owned, now)
}

// next takes the member a step towards its target: partitions it must give
// up are revoked first, unless the member reported (owned) that it no
// longer has them, as a classic member that revoked everything before
// rejoining does; they are free for others at once then.
func (g *Group) next(m *Member, owned Set, now time.Time) {
	target := g.Target[m.ID]
	revoke := Set{}
	for tp := range m.Assigned {
		if !target.Has(tp) {
			revoke[tp] = struct{}{}
		}
	}
	if len(revoke) > 0 && (owned == nil || intersects(owned, revoke)) {
		for tp := range revoke {
			delete(m.Assigned, tp)
			delete(m.Since, tp)
			m.Revoking[tp] = struct{}{}
		}
		m.State = MemberUnrevoked
		if m.Classic == nil {
			// A classic member is held to its rejoin and sync
			// deadlines instead.
			m.RevokeDeadline = now.Add(m.RebalanceTimeout)
		}
		g.changes.Current[m.ID] = true
		return
	}
	for tp := range revoke {
		delete(m.Assigned, tp)
		delete(m.Since, tp)
		delete(g.owners, tp)
		g.changes.Current[m.ID] = true
	}
	state := MemberStable
	for tp := range target {
		if m.Assigned.Has(tp) {
			continue
		}
		if owner, ok := g.owners[tp]; ok && owner != m.ID {
			state = MemberUnreleased
			continue
		}
		g.owners[tp] = m.ID
		m.Assigned[tp] = struct{}{}
		m.Since[tp] = g.AssignmentEpoch
		g.changes.Current[m.ID] = true
	}
	if m.Epoch != g.AssignmentEpoch {
		m.PrevEpoch, m.Epoch = m.Epoch, g.AssignmentEpoch
		g.changes.Current[m.ID] = true
	}
	if m.State != state {
		m.State = state
		g.changes.Current[m.ID] = true
	}
}

func intersects(a, b Set) bool {
	for tp := range a {
		if b.Has(tp) {
			return true
		}
	}
	return false
}

func subset(a, b Set) bool {
	for tp := range a {
		if !b.Has(tp) {
			return false
		}
	}
	return true
}

// ValidateCommit checks an OffsetCommit (v9+) against the group: a commit
// without a member (epoch < 0) only while the group is empty; a member's
// commit at its current epoch; a commit from an older epoch only for
// partitions the member has held since that epoch or earlier (Kafka's
// per-partition assignment epochs, KIP-1251). It returns nil when the whole
// request is refused by a group-level error instead of per partition.
func (g *Group) ValidateCommit(memberID string, epoch int32) (func(TP) *Error, *Error) {
	if epoch < 0 && len(g.Members) == 0 {
		return func(TP) *Error { return nil }, nil
	}
	m := g.Members[memberID]
	if m == nil {
		return nil, fail(kerr.UnknownMemberID, "member %q is not in group %s", memberID, g.ID)
	}
	if epoch == m.Epoch {
		return func(TP) *Error { return nil }, nil
	}
	if m.Classic != nil {
		return nil, fail(kerr.IllegalGeneration, "generation %d is not member %s's epoch %d", epoch, m.ID, m.Epoch)
	}
	if epoch > m.Epoch || epoch < 0 {
		return nil, fail(kerr.StaleMemberEpoch, "member epoch %d, current %d", epoch, m.Epoch)
	}
	return func(tp TP) *Error {
		since, ok := m.Since[tp]
		if !ok || since > epoch || !m.Owns(tp) {
			return fail(kerr.StaleMemberEpoch, "partition %d not held by member %s at epoch %d", tp.Partition, m.ID, epoch)
		}
		return nil
	}, nil
}

// ValidateFetch checks an OffsetFetch (v9+): requests without a member are
// accepted; a member's must come at its current epoch.
func (g *Group) ValidateFetch(memberID *string, epoch int32) *Error {
	if memberID == nil && epoch < 0 {
		return nil
	}
	id := ""
	if memberID != nil {
		id = *memberID
	}
	m := g.Members[id]
	if m == nil {
		return fail(kerr.UnknownMemberID, "member %q is not in group %s", id, g.ID)
	}
	if epoch != m.Epoch && m.Classic != nil {
		return fail(kerr.IllegalGeneration, "generation %d is not member %s's epoch %d", epoch, m.ID, m.Epoch)
	}
	if epoch != m.Epoch {
		return fail(kerr.StaleMemberEpoch, "member epoch %d, current %d", epoch, m.Epoch)
	}
	return nil
}
