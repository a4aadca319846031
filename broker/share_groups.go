package broker

import (
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/osprey-kafka/osprey/broker/acl"
	"github.com/osprey-kafka/osprey/broker/sharegroup"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Share groups (KIP-932). Membership (ShareGroupHeartbeat) lives with the
// group's coordinator (FindCoordinator GROUP); share-partition state
// (which records are acquired, acknowledged, archived) and share sessions
// live on the leader of each topic partition, as in Kafka. The leader
// loads a share-partition's durable state from the share coordinator
// (__share_group_state, share_state.go) when it first serves it at its
// leader epoch and writes it back after each change (share_partitions.go),
// so acknowledged and archived records and delivery counts survive a
// restart and a leadership change. Membership is kept in memory: members
// rejoin a restarted coordinator.

// shareCoordinator owns this broker's share groups, share-partitions and
// share sessions. mu guards the maps and everything they hold; no I/O is
// done under it.
type shareCoordinator struct {
	mu       sync.Mutex
	groups   map[string]*shareGroup
	parts    map[sharePartKey]*sharegroup.Partition
	sessions map[shareSessionKey]*shareSession
	// loaded says at which leader epoch each share-partition of parts was
	// read from the share coordinator and what was last written back.
	loaded map[sharePartKey]shareLoad

	// loadMu serialises loads of share-partitions (reads from the share
	// coordinator); it is taken before mu, never while mu is held.
	loadMu sync.Mutex
	// writeMu serialises the writes of share-partition state, so that a
	// later write never carries an older state than an earlier one. Taken
	// before mu, never while mu is held.
	writeMu sync.Mutex
}

// shareLoad is where a share-partition's durable state stands.
type shareLoad struct {
	leaderEpoch int32  // the leader epoch the state was read at
	stateEpoch  int32  // the state epoch read (moved by offset resets)
	written     uint64 // the Partition.Version last written
}

type sharePartKey struct {
	group     string
	topic     [16]byte
	partition int32
}

type shareSessionKey struct{ group, member string }

// shareSession is the set of partitions a member fetches from this
// broker and the epoch its next request must carry.
type shareSession struct {
	epoch int32
	parts map[sharePartKey]struct{}
}

// shareGroup is one share group's membership.
type shareGroup struct {
	name    string
	epoch   int32 // group epoch: moved by every membership or subscription change
	members map[string]*shareMember
}

type shareMember struct {
	id         string
	epoch      int32
	rack       *string
	clientID   string
	clientHost string
	topics     []string             // subscribed topic names, sorted
	assigned   map[[16]byte][]int32 // the target assignment
	sent       map[[16]byte][]int32 // the assignment last sent to the member
	lastSeen   time.Time
}

// state is the group's state as ListGroups and ShareGroupDescribe name
// it. b.shares.mu held.
func (g *shareGroup) state() string {
	if len(g.members) == 0 {
		return "Empty"
	}
	return "Stable"
}

// expire removes the members of every group whose session timed out and
// releases their records. s.mu held.
func (s *shareCoordinator) expireLocked(now time.Time, timeout time.Duration) {
	for _, g := range s.groups {
		changed := false
		for id, m := range g.members {
			if now.Sub(m.lastSeen) > timeout {
				delete(g.members, id)
				s.dropMemberLocked(g.name, id)
				changed = true
			}
		}
		if changed {
			g.epoch++
		}
	}
}

// dropMemberLocked releases the member's records and closes its share
// session. s.mu held.
func (s *shareCoordinator) dropMemberLocked(group, member string) {
	delete(s.sessions, shareSessionKey{group, member})
	for k, p := range s.parts {
		if k.group == group {
			p.ReleaseMember(member)
		}
	}
}

// assign recomputes every member's partitions: per topic, its partitions
// are spread round-robin over the members subscribed to it, and when there
// are more members than partitions the members are spread over the
// partitions instead, so that every partition has a member and every
// member a partition (several members may share a partition; the
// share-partition hands each record to one of them at a time). The
// assignment moves with the group epoch; a member takes it with its next
// heartbeat. s.mu held.
func (g *shareGroup) assign(topicOf func(string) (id [16]byte, partitions int32, ok bool)) {
	ids := make([]string, 0, len(g.members))
	subs := map[string][]string{}
	for id, m := range g.members {
		ids = append(ids, id)
		m.assigned = map[[16]byte][]int32{}
	}
	sort.Strings(ids)
	for _, id := range ids {
		for _, t := range g.members[id].topics {
			subs[t] = append(subs[t], id)
		}
	}
	for topic, members := range subs {
		tid, n, ok := topicOf(topic)
		if !ok || n == 0 {
			continue
		}
		if len(members) <= int(n) {
			for p := int32(0); p < n; p++ {
				m := g.members[members[int(p)%len(members)]]
				m.assigned[tid] = append(m.assigned[tid], p)
			}
			continue
		}
		for i, id := range members {
			m := g.members[id]
			m.assigned[tid] = append(m.assigned[tid], int32(i%int(n)))
		}
	}
}

// sameAssignment reports whether two assignments are equal.
func sameAssignment(a, b map[[16]byte][]int32) bool {
	if len(a) != len(b) {
		return false
	}
	for t, ps := range a {
		if !slices.Equal(ps, b[t]) {
			return false
		}
	}
	return true
}

// partitionLocked returns the share-partition if it was loaded at
// leaderEpoch, else nil (the next request loads it). s.mu held.
func (s *shareCoordinator) partitionLocked(k sharePartKey, leaderEpoch int32) *sharegroup.Partition {
	if l, ok := s.loaded[k]; !ok || l.leaderEpoch != leaderEpoch {
		return nil
	}
	return s.parts[k]
}

// dropPartitionLocked forgets a share-partition's in-memory state; the
// next request reads it from the share coordinator again. s.mu held.
func (s *shareCoordinator) dropPartitionLocked(k sharePartKey) {
	delete(s.parts, k)
	delete(s.loaded, k)
}

// nextSessionEpoch is the epoch after e (1 after the largest).
func nextSessionEpoch(e int32) int32 {
	if e == 1<<31-1 {
		return 1
	}
	return e + 1
}

// ackCode maps a share-partition's acknowledgement error to Kafka's code.
func ackCode(err error) int16 {
	switch err {
	case nil:
		return 0
	case sharegroup.ErrInvalidRequest:
		return kerr.InvalidRequest.Code
	default:
		return kerr.InvalidRecordState.Code
	}
}

// listShareGroups is ListGroups' answer for share groups: protocol type
// and group type "share", filtered as the request asks and by DESCRIBE on
// the group unless seeAll.
func (b *Broker) listShareGroups(r *request, req *kmsg.ListGroupsRequest, seeAll bool) []kmsg.ListGroupsResponseGroup {
	if !b.shareGroupsEnabled() {
		return nil
	}
	match := func(filter []string, v string) bool {
		return len(filter) == 0 || slices.ContainsFunc(filter, func(s string) bool { return strings.EqualFold(s, v) })
	}
	s := &b.shares
	s.mu.Lock()
	s.expireLocked(time.Now(), b.cfg.Share.SessionTimeout)
	type listed struct{ name, state string }
	var gs []listed
	for _, g := range s.groups {
		gs = append(gs, listed{g.name, g.state()})
	}
	s.mu.Unlock()
	var out []kmsg.ListGroupsResponseGroup
	for _, g := range gs {
		if (!seeAll && !r.authorizeGroup(acl.OpDescribe, g.name)) || !match(req.StatesFilter, g.state) || !match(req.TypesFilter, "share") {
			continue
		}
		lg := kmsg.NewListGroupsResponseGroup()
		lg.Group, lg.ProtocolType, lg.GroupState, lg.GroupType = g.name, "share", g.state, "share"
		out = append(out, lg)
	}
	return out
}
