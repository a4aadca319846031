package broker

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/osprey-kafka/osprey/broker/cgroup"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// The classic consumer-group coordinator (join/sync/heartbeat/leave with
// session and rebalance timeouts) and committed offsets. Group state and
// offsets are written to __consumer_offsets (offsets_topic.go) and rebuilt
// from it at start.

type groupState int8

const (
	groupEmpty groupState = iota
	groupPreparingRebalance
	groupCompletingRebalance
	groupStable
	groupDead
)

func (s groupState) String() string {
	return [...]string{"Empty", "PreparingRebalance", "CompletingRebalance", "Stable", "Dead"}[s]
}

type topicPartition struct {
	topic     string
	partition int32
}

// offsetCommit is one committed offset.
type offsetCommit struct {
	offset      int64
	leaderEpoch int32
	metadata    string
	commitMs    int64
}

type member struct {
	id               string
	instanceID       *string
	clientID         string
	clientHost       string
	sessionTimeout   time.Duration
	rebalanceTimeout time.Duration
	protocols        []kmsg.JoinGroupRequestProtocol
	assignment       []byte

	join        *request // a JoinGroup waiting for the rebalance to complete
	sync        *request // a SyncGroup waiting for the leader's assignment
	lastSession time.Time
}

// group is one consumer group. mu guards every field below it; timers fire
// in their own goroutines and take mu.
type group struct {
	name string
	gc   *groupCoordinator

	mu           sync.Mutex
	state        groupState
	protocolType string
	protocol     string
	generation   int32
	leader       string
	members      map[string]*member
	pending      map[string]time.Time // member ids handed out by MEMBER_ID_REQUIRED, not yet joined
	offsets      map[topicPartition]offsetCommit
	stateMs      int64
	rebalance    *time.Timer // PreparingRebalance deadline
	// initialDeadline bounds group.initial.rebalance.delay.ms extensions.
	initialDeadline time.Time
	stopped         bool
	lastExpiryScan  time.Time
	// pendingTxn holds transactional offset commits by producer id until
	// their transaction's marker commits or drops them (28_txn_offset_commit.go).
	pendingTxn map[int64]map[topicPartition]offsetCommit
	// cg is set while the group uses the consumer protocol (KIP-848,
	// consumer_groups.go); the classic fields above are then unused
	// except offsets, pendingTxn and stateMs.
	cg *cgroup.Group
}

// groupCoordinator owns all groups this broker coordinates.
type groupCoordinator struct {
	b *Broker

	mu     sync.RWMutex // guards groups (the map only)
	groups map[string]*group

	// pmu guards the offsets partitions' ownership (replica_groups.go):
	// loaded: the partition's groups are in groups and served; changes
	// counts leadership changes, so that a load overtaken by one does not
	// mark the partition loaded; dirty: changed, not reconciled yet.
	pmu     sync.Mutex
	loaded  map[int32]bool
	changes map[int32]uint64
	dirty   map[int32]struct{}
	wake    chan struct{} // capacity 1: a partition is dirty

	quit    chan struct{} // closed by stop: ends expireLoop
	done    chan struct{} // closed when expireLoop returns
	started atomic.Bool
}

func newGroupCoordinator(b *Broker) *groupCoordinator {
	return &groupCoordinator{b: b, groups: map[string]*group{},
		loaded: map[int32]bool{}, changes: map[int32]uint64{}, dirty: map[int32]struct{}{}, wake: make(chan struct{}, 1),
		quit: make(chan struct{}), done: make(chan struct{})}
}

// start launches the coordinator's loop (after load).
func (gc *groupCoordinator) start() {
	gc.started.Store(true)
	go gc.expireLoop()
}

// get returns the group, creating it when create is set.
// A Dead group (deleted, offsets expired) counts as absent. Lock order:
// gc.mu before g.mu.
func (gc *groupCoordinator) get(name string, create bool) *group {
	gc.mu.RLock()
	g := gc.groups[name]
	gc.mu.RUnlock()
	if g != nil && !g.isDead() {
		return g
	}
	if !create {
		return nil
	}
	gc.mu.Lock()
	defer gc.mu.Unlock()
	if g = gc.groups[name]; g == nil || g.isDead() {
		g = gc.newGroup(name)
		gc.groups[name] = g
		gc.b.metrics.groups.Set(float64(len(gc.groups)))
	}
	return g
}

func (g *group) isDead() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.state == groupDead
}

func (gc *groupCoordinator) newGroup(name string) *group {
	return &group{name: name, gc: gc, members: map[string]*member{}, pending: map[string]time.Time{},
		offsets: map[topicPartition]offsetCommit{}, stateMs: time.Now().UnixMilli()}
}

func (gc *groupCoordinator) remove(name string) {
	gc.mu.Lock()
	g := gc.groups[name]
	delete(gc.groups, name)
	gc.b.metrics.groups.Set(float64(len(gc.groups)))
	gc.mu.Unlock()
	if g != nil {
		g.stop()
	}
}

func (gc *groupCoordinator) list() []*group {
	gc.mu.RLock()
	defer gc.mu.RUnlock()
	out := make([]*group, 0, len(gc.groups))
	for _, g := range gc.groups {
		out = append(out, g)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// coordinated returns the groups this broker coordinates now: those of the
// offsets partitions it leads and has loaded (a partition whose leadership
// just moved away may still have groups in memory until the loop unloads
// them).
func (gc *groupCoordinator) coordinated() []*group {
	n := gc.partitions()
	out := gc.list()
	return slices.DeleteFunc(out, func(g *group) bool { return !gc.isLoaded(groupPartition(g.name, n)) })
}

// stop ends the expiry loop and every group's timers (broker shutdown,
// after all connections are closed).
func (gc *groupCoordinator) stop() {
	select {
	case <-gc.quit:
		return
	default:
		close(gc.quit)
	}
	if gc.started.Load() {
		<-gc.done
	}
	for _, g := range gc.list() {
		g.stop()
	}
}

func (g *group) stop() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.stopped = true
	if g.rebalance != nil {
		g.rebalance.Stop()
	}
}

// expireLoop loads and unloads the groups of offsets partitions whose
// leadership changed, and removes members whose session expired and pending
// member ids never used. It is the coordinator's only background goroutine.
func (gc *groupCoordinator) expireLoop() {
	defer close(gc.done)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-gc.quit:
			return
		case <-gc.wake:
			if err := gc.reconcileDirty(); err != nil {
				gc.b.log.Error("taking over consumer groups", "err", err)
			}
		case now := <-tick.C:
			for _, g := range gc.list() {
				g.expire(now)
			}
		}
	}
}

func (g *group) expire(now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.cg != nil {
		g.expireConsumer(now)
		g.expireOffsets(now)
		return
	}
	for id, m := range g.members {
		// A member waiting in JoinGroup is kept alive by the rebalance
		// timeout instead (as in Kafka).
		if m.join == nil && now.Sub(m.lastSession) > m.sessionTimeout {
			g.gc.b.log.Info("group member session expired", "group", g.name, "member", id)
			g.removeMember(id)
		}
	}
	for id, at := range g.pending {
		if now.After(at) {
			delete(g.pending, id)
		}
	}
	g.expireOffsets(now)
}

// expireOffsets applies offsets.retention.minutes as Kafka 2.1+ does: an
// offset of an Empty group expires once both the group has been Empty and
// the offset has gone uncommitted for the retention period (a standalone
// consumer that keeps committing keeps its offsets). A group left with no
// offsets and no members is deleted. g.mu held.
func (g *group) expireOffsets(now time.Time) {
	retention := g.gc.b.cfg.OffsetsRetention
	if !g.emptyLocked() || retention <= 0 || now.Sub(time.UnixMilli(g.stateMs)) < retention ||
		now.Sub(g.lastExpiryScan) < min(time.Second, retention/2) {
		return
	}
	g.lastExpiryScan = now
	var recs []kvRecord
	var expired []topicPartition
	for tp, oc := range g.offsets {
		if now.Sub(time.UnixMilli(oc.commitMs)) >= retention {
			recs = append(recs, kvRecord{key: offsetKey(g.name, tp)})
			expired = append(expired, tp)
		}
	}
	dead := len(expired) == len(g.offsets)
	if dead && g.cg != nil {
		recs = append(recs, g.consumerTombstones()...)
	} else if dead {
		recs = append(recs, kvRecord{key: groupKey(g.name)})
	}
	if code := g.gc.writeGroupRecords(g.name, recs); code != 0 {
		g.gc.b.log.Error("expiring group offsets", "group", g.name, "error_code", code)
		return
	}
	for _, tp := range expired {
		delete(g.offsets, tp)
	}
	if len(expired) > 0 {
		g.gc.b.log.Info("group offsets expired", "group", g.name, "offsets", len(expired))
	}
	if dead {
		g.state = groupDead
		// Removing from the map takes gc.mu, which is ordered before g.mu.
		go g.gc.removeIfDead(g.name)
	}
}

func (gc *groupCoordinator) removeIfDead(name string) {
	gc.mu.Lock()
	defer gc.mu.Unlock()
	if g := gc.groups[name]; g != nil {
		if g.isDead() {
			delete(gc.groups, name)
			gc.b.metrics.groups.Set(float64(len(gc.groups)))
		}
	}
}

func newMemberID(clientID string) string {
	var b [16]byte
	rand.Read(b[:]) //nolint:errcheck // crypto/rand does not fail on Linux
	if clientID == "" {
		clientID = "member"
	}
	return clientID + "-" + hex.EncodeToString(b[:4]) + "-" + hex.EncodeToString(b[4:6]) + "-" +
		hex.EncodeToString(b[6:8]) + "-" + hex.EncodeToString(b[8:10]) + "-" + hex.EncodeToString(b[10:])
}

// removeMember drops a member and rebalances if needed. g.mu held.
func (g *group) removeMember(id string) {
	m, ok := g.members[id]
	if !ok {
		return
	}
	delete(g.members, id)
	if m.join != nil {
		g.replyJoinError(m, errUnknownMemberID)
	}
	if m.sync != nil {
		g.replySyncError(m, errUnknownMemberID)
	}
	switch g.state {
	case groupStable, groupCompletingRebalance:
		g.prepareRebalance()
	case groupPreparingRebalance:
		g.maybeCompleteJoin()
	}
	if len(g.members) == 0 && g.state != groupPreparingRebalance {
		g.toEmpty()
	}
}

// toEmpty marks the group empty and records it. g.mu held.
func (g *group) toEmpty() {
	if g.state == groupEmpty {
		return
	}
	g.state = groupEmpty
	g.leader = ""
	g.stateMs = time.Now().UnixMilli()
	g.persistMetadata()
}

// prepareRebalance moves the group to PreparingRebalance: current members
// must rejoin within the largest rebalance timeout. g.mu held.
func (g *group) prepareRebalance() {
	if g.state == groupCompletingRebalance {
		for _, m := range g.members {
			if m.sync != nil {
				g.replySyncError(m, errRebalanceInProgress)
			}
		}
	}
	wasEmpty := g.state == groupEmpty
	g.state = groupPreparingRebalance
	g.stateMs = time.Now().UnixMilli()
	var timeout time.Duration
	for _, m := range g.members {
		timeout = max(timeout, m.rebalanceTimeout)
	}
	delay := g.gc.b.cfg.GroupInitialRebalanceDelay
	if wasEmpty && delay > 0 {
		// group.initial.rebalance.delay.ms: wait a little for more
		// members of a new group, extended per join up to the
		// rebalance timeout.
		g.initialDeadline = time.Now().Add(timeout)
		timeout = min(delay, timeout)
	} else {
		g.initialDeadline = time.Time{}
	}
	g.armRebalance(timeout)
}

func (g *group) armRebalance(d time.Duration) {
	if g.rebalance != nil {
		g.rebalance.Stop()
	}
	gen := g.generation
	g.rebalance = time.AfterFunc(d, func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		if !g.stopped && g.state == groupPreparingRebalance && g.generation == gen {
			g.completeJoin()
		}
	})
}

// maybeCompleteJoin completes the join phase early once every member has
// rejoined (not during the initial delay). g.mu held.
func (g *group) maybeCompleteJoin() {
	if g.state != groupPreparingRebalance || !g.initialDeadline.IsZero() {
		return
	}
	for _, m := range g.members {
		if m.join == nil {
			return
		}
	}
	g.completeJoin()
}

// completeJoin ends PreparingRebalance: members that did not rejoin are
// dropped, a protocol is chosen, the generation advances and every waiting
// JoinGroup is answered (the leader gets the member list). g.mu held.
func (g *group) completeJoin() {
	if g.rebalance != nil {
		g.rebalance.Stop()
	}
	for id, m := range g.members {
		if m.join == nil {
			delete(g.members, id)
		}
	}
	g.generation++
	g.initialDeadline = time.Time{}
	if len(g.members) == 0 {
		g.protocol = ""
		g.state = groupPreparingRebalance // so toEmpty records it
		g.toEmpty()
		return
	}
	g.protocol = g.chooseProtocol()
	if _, ok := g.members[g.leader]; !ok {
		ids := make([]string, 0, len(g.members))
		for id := range g.members {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		g.leader = ids[0]
	}
	g.state = groupCompletingRebalance
	g.stateMs = time.Now().UnixMilli()
	now := time.Now()
	for _, m := range g.members {
		r := m.join
		m.join = nil
		m.lastSession = now
		req := r.kreq.(*kmsg.JoinGroupRequest)
		resp := req.ResponseKind().(*kmsg.JoinGroupResponse)
		g.fillJoinResponse(resp, m)
		r.reply(resp)
	}
}

func (g *group) fillJoinResponse(resp *kmsg.JoinGroupResponse, m *member) {
	resp.Generation = g.generation
	resp.ProtocolType = kmsg.StringPtr(g.protocolType)
	resp.Protocol = kmsg.StringPtr(g.protocol)
	resp.LeaderID = g.leader
	resp.MemberID = m.id
	if m.id == g.leader {
		ids := make([]string, 0, len(g.members))
		for id := range g.members {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			o := g.members[id]
			jm := kmsg.NewJoinGroupResponseMember()
			jm.MemberID, jm.InstanceID = o.id, o.instanceID
			jm.ProtocolMetadata = o.metadataFor(g.protocol)
			resp.Members = append(resp.Members, jm)
		}
	}
}

func (m *member) metadataFor(protocol string) []byte {
	for _, p := range m.protocols {
		if p.Name == protocol {
			return p.Metadata
		}
	}
	return nil
}

// chooseProtocol picks the protocol every member supports with the most
// votes, each member voting for its first supported choice (Kafka's rule).
func (g *group) chooseProtocol() string {
	var candidates []string
	first := true
	for _, m := range g.members {
		var names []string
		for _, p := range m.protocols {
			names = append(names, p.Name)
		}
		if first {
			candidates = names
			first = false
			continue
		}
		candidates = slices.DeleteFunc(candidates, func(c string) bool { return !slices.Contains(names, c) })
	}
	votes := map[string]int{}
	for _, m := range g.members {
		for _, p := range m.protocols {
			if slices.Contains(candidates, p.Name) {
				votes[p.Name]++
				break
			}
		}
	}
	best := ""
	for _, c := range candidates {
		if best == "" || votes[c] > votes[best] {
			best = c
		}
	}
	return best
}

// supportsProtocols reports whether protos share a protocol with every
// other current member (so adding or updating member self keeps a common
// protocol).
func (g *group) supportsProtocols(self, protoType string, protos []kmsg.JoinGroupRequestProtocol) bool {
	others := 0
	for id := range g.members {
		if id != self {
			others++
		}
	}
	if others == 0 {
		return len(protos) > 0
	}
	if protoType != g.protocolType {
		return false
	}
	for _, p := range protos {
		all := true
		for id, m := range g.members {
			if id != self && !hasProtocol(m, p.Name) {
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

func hasProtocol(m *member, name string) bool {
	for _, p := range m.protocols {
		if p.Name == name {
			return true
		}
	}
	return false
}

func (g *group) replyJoinError(m *member, code int16) {
	r := m.join
	m.join = nil
	resp := r.kreq.(*kmsg.JoinGroupRequest).ResponseKind().(*kmsg.JoinGroupResponse)
	resp.ErrorCode = code
	resp.Generation = -1
	resp.MemberID = m.id
	r.reply(resp)
}

func (g *group) replySyncError(m *member, code int16) {
	r := m.sync
	m.sync = nil
	resp := r.kreq.(*kmsg.SyncGroupRequest).ResponseKind().(*kmsg.SyncGroupResponse)
	resp.ErrorCode = code
	r.reply(resp)
}

// describe returns the group's state as DescribeGroups shows it.
func (g *group) describe() kmsg.DescribeGroupsResponseGroup {
	g.mu.Lock()
	defer g.mu.Unlock()
	d := kmsg.NewDescribeGroupsResponseGroup()
	d.Group = g.name
	d.State = g.state.String()
	d.ProtocolType = g.protocolType
	if g.state == groupStable || g.state == groupCompletingRebalance {
		d.Protocol = g.protocol
	}
	ids := make([]string, 0, len(g.members))
	for id := range g.members {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		m := g.members[id]
		dm := kmsg.NewDescribeGroupsResponseGroupMember()
		dm.MemberID, dm.InstanceID, dm.ClientID, dm.ClientHost = m.id, m.instanceID, m.clientID, m.clientHost
		if g.state == groupStable {
			dm.ProtocolMetadata = m.metadataFor(g.protocol)
			dm.MemberAssignment = m.assignment
		}
		d.Members = append(d.Members, dm)
	}
	return d
}

func (g *group) String() string { return fmt.Sprintf("group %s", g.name) }

// dropTopic deletes every committed offset of a deleted topic.
func (gc *groupCoordinator) dropTopic(topic string) {
	for _, g := range gc.list() {
		g.mu.Lock()
		var recs []kvRecord
		for tp := range g.offsets {
			if tp.topic == topic {
				recs = append(recs, kvRecord{key: offsetKey(g.name, tp)})
			}
		}
		if code := gc.writeGroupRecords(g.name, recs); code == 0 {
			for tp := range g.offsets {
				if tp.topic == topic {
					delete(g.offsets, tp)
				}
			}
		}
		g.mu.Unlock()
	}
}
