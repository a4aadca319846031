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
// group's coordinator; share-partition state (which records are acquired,
// acknowledged, archived) and share sessions live on the leader of each
// topic partition, as in Kafka. Both are kept in memory: a restart or a
// leadership change loses the share-partition state, and its records are
// delivered again from the log end offset the new leader starts at.

// shareCoordinator owns this broker's share groups, share-partitions and
// share sessions. mu guards all three maps and everything they hold; no
// I/O is done under it.
type shareCoordinator struct {
	mu       sync.Mutex
	groups   map[string]*shareGroup
	parts    map[sharePartKey]*sharegroup.Partition
	sessions map[shareSessionKey]*shareSession
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

// partitionLocked returns the share-partition, creating it with its
// start offset at the log end (share.auto.offset.reset=latest, Kafka's
// default). s.mu held.
func (s *shareCoordinator) partitionLocked(k sharePartKey, cfg sharegroup.Config, logEnd int64) *sharegroup.Partition {
	if s.parts == nil {
		s.parts = map[sharePartKey]*sharegroup.Partition{}
	}
	p := s.parts[k]
	if p == nil {
		p = sharegroup.New(cfg, logEnd)
		s.parts[k] = p
	}
	return p
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
	if !b.cfg.Share.Enable {
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
