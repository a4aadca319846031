// Package cgroup is the consumer group protocol of KIP-848 (Kafka 4's
// "consumer" groups) as pure logic: member and group epochs, the target
// assignment computed by a server-side assignor, and the reconciliation
// that moves each member from its current assignment to its target one
// without ever handing a partition to a member while another member may
// still own it (revoke before assign).
//
// Nothing here does I/O, starts goroutines or takes locks: a Group is owned
// by its caller (the broker's group, under its mutex), time comes in as an
// argument, topic metadata through the Metadata interface, and the changes
// that must be made durable are collected for the caller to write
// (TakeChanges).
package cgroup

import (
	"cmp"
	"slices"
	"time"
)

// TopicID is a topic's UUID.
type TopicID [16]byte

// TP is one partition of a topic, by id.
type TP struct {
	Topic     TopicID
	Partition int32
}

// Set is a set of partitions.
type Set map[TP]struct{}

// Clone returns a copy of s (never nil).
func (s Set) Clone() Set {
	out := make(Set, len(s))
	for tp := range s {
		out[tp] = struct{}{}
	}
	return out
}

// Equal reports whether s and o hold the same partitions.
func (s Set) Equal(o Set) bool {
	if len(s) != len(o) {
		return false
	}
	for tp := range s {
		if _, ok := o[tp]; !ok {
			return false
		}
	}
	return true
}

// Has reports whether tp is in s.
func (s Set) Has(tp TP) bool { _, ok := s[tp]; return ok }

// TopicPartitions is a set grouped by topic, partitions sorted.
type TopicPartitions struct {
	Topic      TopicID
	Partitions []int32
}

// Grouped returns s grouped by topic, topics and partitions sorted.
func (s Set) Grouped() []TopicPartitions {
	by := map[TopicID][]int32{}
	for tp := range s {
		by[tp.Topic] = append(by[tp.Topic], tp.Partition)
	}
	out := make([]TopicPartitions, 0, len(by))
	for id, ps := range by {
		slices.Sort(ps)
		out = append(out, TopicPartitions{Topic: id, Partitions: ps})
	}
	slices.SortFunc(out, func(a, b TopicPartitions) int { return compareIDs(a.Topic, b.Topic) })
	return out
}

// SetOf builds a set from grouped partitions.
func SetOf(tps []TopicPartitions) Set {
	s := Set{}
	for _, t := range tps {
		for _, p := range t.Partitions {
			s[TP{t.Topic, p}] = struct{}{}
		}
	}
	return s
}

func compareIDs(a, b TopicID) int {
	for i := range a {
		if c := cmp.Compare(a[i], b[i]); c != 0 {
			return c
		}
	}
	return 0
}

// Topic is what the group needs to know about a topic.
type Topic struct {
	Name       string
	ID         TopicID
	Partitions int32
}

// Metadata is the cluster's topics as the coordinator sees them now. Its
// methods are called with the group's owner lock held: they must not block
// on anything that may wait for that lock.
type Metadata interface {
	// Topic returns the topic by name.
	Topic(name string) (Topic, bool)
	// TopicNames lists every topic (regex subscriptions match against it).
	TopicNames() []string
}

// TopicAuthorizer is a Metadata that also knows who sent the heartbeat
// being handled. As Kafka's coordinator resolves a group's regular
// expressions with the request context of the member whose heartbeat
// triggered the resolution and keeps only the topics that member may
// DESCRIBE, a topic that only a regex subscription brings in is dropped
// when MayDescribe says no. Topics subscribed by name are checked before
// the heartbeat reaches the group.
type TopicAuthorizer interface {
	MayDescribe(topic string) bool
}

// MemberState is a member's reconciliation state; the values are Kafka's
// (the State field of ConsumerGroupCurrentMemberAssignmentValue).
type MemberState int8

const (
	// MemberStable: the member has its target assignment.
	MemberStable MemberState = 0
	// MemberUnrevoked: the member must give partitions up before it
	// moves on; it keeps its epoch until it reports them gone.
	MemberUnrevoked MemberState = 1
	// MemberUnreleased: the member has its new epoch but waits for
	// partitions other members still own.
	MemberUnreleased MemberState = 2
)

func (s MemberState) String() string {
	switch s {
	case MemberStable:
		return "STABLE"
	case MemberUnrevoked:
		return "UNREVOKED_PARTITIONS"
	case MemberUnreleased:
		return "UNRELEASED_PARTITIONS"
	}
	return "UNKNOWN"
}

// Epochs a member sends: 0 joins, -1 leaves, -2 leaves for now (a static
// member that will come back with the same instance id).
const (
	JoinEpoch        int32 = 0
	LeaveEpoch       int32 = -1
	StaticLeaveEpoch int32 = -2
)

// Member is one member of a consumer group.
type Member struct {
	ID         string
	InstanceID *string
	RackID     *string
	ClientID   string
	ClientHost string

	// Epoch is the member epoch the member must send; PrevEpoch the one
	// before its last bump (a member that missed the bump's response
	// comes back with it).
	Epoch, PrevEpoch int32
	State            MemberState

	SubscribedNames  []string
	SubscribedRegex  *string
	ServerAssignor   *string
	RebalanceTimeout time.Duration

	// Assigned is what the member has been given and may use;
	// Revoking what it must give up and may still be using.
	Assigned, Revoking Set
	// Since is, per assigned partition, the member epoch at which the
	// member got it: an offset commit from an older epoch is accepted for
	// a partition held since that epoch or before.
	Since map[TP]int32

	LastHeartbeat  time.Time
	RevokeDeadline time.Time // zero unless State is MemberUnrevoked (consumer protocol only)

	// Classic is set for a member of the classic protocol (classic.go).
	Classic *Classic
}

// Owns reports whether the member may be using tp (assigned or still
// being revoked).
func (m *Member) Owns(tp TP) bool { return m.Assigned.Has(tp) || m.Revoking.Has(tp) }

// Reconciling reports whether the member has not reached its target yet.
func (m *Member) Reconciling(assignmentEpoch int32) bool {
	return m.State != MemberStable || m.Epoch != assignmentEpoch
}
