package quorum

import (
	"fmt"
	"slices"

	"github.com/osprey-kafka/osprey/broker/kraft/metadata"
)

// Dynamic quorums (KIP-853, kraft.version 1). The voter set is not configuration but data: it
// starts from the bootstrap voter set (`storage format --standalone / --initial-controllers`
// writes it as a VotersRecord in the 0-0 checkpoint) or from the latest snapshot's VotersRecord,
// and every VotersRecord control entry in the log replaces it. As in Kafka, a replica uses the
// newest voter set in its log as soon as it has it, committed or not: the leader writes at most
// one uncommitted change at a time and each change adds or removes a single voter, so any
// majority of the old set and any majority of the new one overlap. A truncation that removes a
// VotersRecord entry brings back the set before it.

// Endpoint is one listener of a voter: where the other replicas reach it.
type Endpoint struct {
	Name string
	Host string
	Port uint16
}

// Voter is one member of the voter set: its node id, the directory id of its metadata log
// directory (so that a replaced disk is a different voter), its listeners and the kraft.version
// range it supports.
type Voter struct {
	ID              int32
	DirectoryID     [16]byte
	Endpoints       []Endpoint
	MinKRaftVersion int16
	MaxKRaftVersion int16
}

// VoterSet is a set of voters ordered by id, at most one per id.
type VoterSet []Voter

// IDs are the voters' ids, in order.
func (s VoterSet) IDs() []int32 {
	out := make([]int32, len(s))
	for i, v := range s {
		out[i] = v.ID
	}
	return out
}

// Get returns the voter with id.
func (s VoterSet) Get(id int32) (Voter, bool) {
	i, ok := slices.BinarySearchFunc(s, id, func(v Voter, id int32) int { return int(v.ID) - int(id) })
	if !ok {
		return Voter{}, false
	}
	return s[i], true
}

// With returns the set with v added (or replacing the voter of the same id).
func (s VoterSet) With(v Voter) VoterSet {
	out := slices.Clone(s)
	i, ok := slices.BinarySearchFunc(out, v.ID, func(v Voter, id int32) int { return int(v.ID) - int(id) })
	if ok {
		out[i] = v
		return out
	}
	return slices.Insert(out, i, v)
}

// Without returns the set without the voter id.
func (s VoterSet) Without(id int32) VoterSet {
	return slices.DeleteFunc(slices.Clone(s), func(v Voter) bool { return v.ID == id })
}

// Equal tells whether two sets hold the same voters with the same directories and endpoints.
func (s VoterSet) Equal(t VoterSet) bool {
	return slices.EqualFunc(s, t, func(a, b Voter) bool {
		return a.ID == b.ID && a.DirectoryID == b.DirectoryID && slices.Equal(a.Endpoints, b.Endpoints) &&
			a.MinKRaftVersion == b.MinKRaftVersion && a.MaxKRaftVersion == b.MaxKRaftVersion
	})
}

// NewVoterSet orders voters by id and rejects an id named twice.
func NewVoterSet(voters []Voter) (VoterSet, error) {
	s := VoterSet(slices.Clone(voters))
	slices.SortFunc(s, func(a, b Voter) int { return int(a.ID) - int(b.ID) })
	for i := 1; i < len(s); i++ {
		if s[i].ID == s[i-1].ID {
			return nil, fmt.Errorf("quorum: voter set names node %d twice", s[i].ID)
		}
	}
	return s, nil
}

// MarshalVoters encodes the set as a VotersRecord (control type 6, version 0): the value of the
// control record a dynamic quorum's log and snapshots carry.
func MarshalVoters(s VoterSet) []byte {
	r := metadata.VotersRecord{Version: 0}
	for _, v := range s {
		rv := metadata.VotersRecordVoter{
			VoterID:          v.ID,
			VoterDirectoryID: metadata.Uuid(v.DirectoryID),
			KRaftVersionFeature: metadata.KRaftVersionFeature{
				MinSupportedVersion: v.MinKRaftVersion,
				MaxSupportedVersion: v.MaxKRaftVersion,
			},
		}
		for _, ep := range v.Endpoints {
			rv.Endpoints = append(rv.Endpoints, metadata.VoterEndpoint{Name: ep.Name, Host: ep.Host, Port: ep.Port})
		}
		r.Voters = append(r.Voters, rv)
	}
	b, err := metadata.MarshalControl(&r, 0)
	if err != nil {
		// Every field of version 0 is set above; nothing here can be out of range.
		panic(fmt.Sprintf("quorum: encode VotersRecord: %v", err))
	}
	return b
}

// UnmarshalVoters reads a VotersRecord value back into a voter set.
func UnmarshalVoters(b []byte) (VoterSet, error) {
	c, err := metadata.UnmarshalControl(metadata.ControlKRaftVoters, b, 0)
	if err != nil {
		return nil, fmt.Errorf("quorum: decode VotersRecord: %w", err)
	}
	r := c.(*metadata.VotersRecord)
	voters := make([]Voter, 0, len(r.Voters))
	for _, rv := range r.Voters {
		v := Voter{
			ID:              rv.VoterID,
			DirectoryID:     [16]byte(rv.VoterDirectoryID),
			MinKRaftVersion: rv.KRaftVersionFeature.MinSupportedVersion,
			MaxKRaftVersion: rv.KRaftVersionFeature.MaxSupportedVersion,
		}
		for _, ep := range rv.Endpoints {
			v.Endpoints = append(v.Endpoints, Endpoint{Name: ep.Name, Host: ep.Host, Port: ep.Port})
		}
		voters = append(voters, v)
	}
	return NewVoterSet(voters)
}

// kraftVersionValue is the KRaftVersionRecord a dynamic quorum's leader writes with the
// bootstrap voter set.
func kraftVersionValue(v int16) []byte {
	b, err := metadata.MarshalControl(&metadata.KRaftVersionRecord{Version: 0, KRaftVersion: v}, 0)
	if err != nil {
		panic(fmt.Sprintf("quorum: encode KRaftVersionRecord: %v", err))
	}
	return b
}

// votersAt is one voter set and the offset of the entry that set it: -1 for the bootstrap set,
// a snapshot's end offset minus one for a snapshot's set.
type votersAt struct {
	offset int64
	set    VoterSet
}

// voterHistory is the voter sets of a dynamic quorum's log, oldest first; the last is in force.
// Kafka's VoterSetHistory.
type voterHistory struct {
	sets []votersAt
}

func (h *voterHistory) latest() votersAt { return h.sets[len(h.sets)-1] }

// add records the set of the VotersRecord entry at offset.
func (h *voterHistory) add(offset int64, s VoterSet) {
	h.sets = append(h.sets, votersAt{offset: offset, set: s})
}

// truncate forgets the sets of entries at or above offset (the log was cut there); the
// first set (bootstrap or snapshot) always stays.
func (h *voterHistory) truncate(offset int64) {
	i := len(h.sets)
	for i > 1 && h.sets[i-1].offset >= offset {
		i--
	}
	h.sets = h.sets[:i]
}

// reset starts over from the set of a snapshot ending at end (or the bootstrap set, end 0).
func (h *voterHistory) reset(end int64, s VoterSet) {
	h.sets = []votersAt{{offset: end - 1, set: s}}
}

// compact drops sets that entries after offset-1 have replaced (the log before offset is gone).
func (h *voterHistory) compact(offset int64) {
	i := 0
	for i+1 < len(h.sets) && h.sets[i+1].offset < offset {
		i++
	}
	h.sets = h.sets[i:]
}

// at is the voter set in force after the entry at offset-1 (the set a snapshot ending at offset
// must carry).
func (h *voterHistory) at(offset int64) VoterSet {
	s := h.sets[0].set
	for _, v := range h.sets {
		if v.offset < offset {
			s = v.set
		}
	}
	return s
}

// uncommitted counts the sets written at or above hw: never more than one.
func (h *voterHistory) uncommitted(hw int64) int {
	n := 0
	for _, v := range h.sets {
		if v.offset >= hw {
			n++
		}
	}
	return n
}
