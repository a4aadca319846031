package quorum

import (
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// The dynamic quorum's side of the simulation: the initial voters are formatted with the
// bootstrap voter set (as `storage format --initial-controllers` does), the other nodes join as
// observers that find the leader through the initial voters (controller.quorum.bootstrap.servers),
// and the simulator, as an admin client, asks the leader to add and remove voters.

// simAdmin is the node id the simulator's admin requests come from.
const simAdmin = -1

func (s *sim) dynamicConfig(sn *simNode, cfg *Config) {
	cfg.Voters = nil
	cfg.KRaftVersion = 1
	// A voter set of two needs both to commit: the one catching up through a snapshot must get
	// there within a healed phase, so the chunks are larger than in the static runs.
	cfg.SnapshotChunkBytes *= 16
	cfg.DirectoryID = dirOf(sn.id)
	cfg.Bootstrap = s.voters
	if int(sn.id) <= len(s.voters) {
		cfg.BootstrapVoters = voterSet(s.voters...)
	}
	cfg.SnapshotVoters = func(id OffsetAndEpoch) (VoterSet, error) {
		set, ok := s.snapVoters[id]
		if !ok {
			return nil, fmt.Errorf("snapshot %s has no voter set", id)
		}
		return set, nil
	}
}

// recordSnapshotVoters keeps the voter set a node's new snapshot carries. Two snapshots of one
// offset must carry the same set once a VotersRecord entry is below it; before the first leader
// wrote the bootstrap set into the log, a snapshot carries the set its node was formatted with
// (empty on a node that joined later), and the log after it brings the same VotersRecord to all.
func (s *sim) recordSnapshotVoters(sn *simNode, id OffsetAndEpoch) {
	set := sn.node.VotersAt(id.Offset)
	h := sn.node.history.sets
	fromBootstrap := h[0].offset < 0 && (len(h) == 1 || h[1].offset >= id.Offset)
	old, ok := s.snapVoters[id]
	switch {
	case !ok:
		s.snapVoters[id] = set
	case fromBootstrap:
	case s.snapFromLog[id] && !old.Equal(set):
		s.fail("node %d: snapshot %s carries voters %v, another node's carries %v", sn.id, id, set.IDs(), old.IDs())
	}
	if !fromBootstrap {
		s.snapVoters[id] = set
		s.snapFromLog[id] = true
	}
}

// maybeChangeVoters sends the leader an AddRaftVoter for a live non-voter or a RemoveRaftVoter
// for one of its voters (itself included) now and then. Most are refused (a change in
// progress, an observer not caught up, nothing committed in the epoch yet); that is the point.
func (s *sim) maybeChangeVoters() {
	l := s.leader()
	if l == nil || s.rng.Float64() >= 0.01 {
		return
	}
	if s.healed && s.phaseEnd.Sub(s.clock.Now()) < 3*time.Second {
		// The end of a healed phase checks liveness: a leader removed just before it would
		// still be handing over.
		return
	}
	set := l.Voters()
	s.adminCorr++
	m := Message{From: simAdmin, To: l.ID(), Correlation: s.adminCorr}
	if s.rng.IntN(2) == 0 && len(set) > 1 {
		id := set[s.rng.IntN(len(set))].ID
		req := kmsg.NewPtrRemoveRaftVoterRequest()
		req.ClusterID = l.clusterID()
		req.VoterID, req.VoterDirectoryID = id, dirOf(id)
		m.Request = req
		if id == l.ID() {
			s.leaderRemovals[s.adminCorr] = true
		}
		s.event("admin: remove voter %d (leader %d epoch %d, voters %v)", id, l.ID(), l.Epoch(), set.IDs())
	} else {
		var cands []int32
		for _, sn := range s.nodes {
			if _, ok := set.Get(sn.id); !ok && sn.node != nil {
				cands = append(cands, sn.id)
			}
		}
		if len(cands) == 0 {
			return
		}
		id := cands[s.rng.IntN(len(cands))]
		req := addVoter(id).Request.(*kmsg.AddRaftVoterRequest)
		req.ClusterID = l.clusterID()
		m.Request = req
		s.event("admin: add voter %d (leader %d epoch %d, voters %v)", id, l.ID(), l.Epoch(), set.IDs())
	}
	l.Step(m)
}

func (s *sim) adminAnswer(m Message) {
	code, _ := answerCode([]Message{m})
	switch r := m.Response.(type) {
	case *kmsg.AddRaftVoterResponse:
		if code == 0 {
			s.stats.votersAdded++
		}
	case *kmsg.RemoveRaftVoterResponse:
		if code == 0 {
			s.stats.votersRemoved++
			if s.leaderRemovals[m.Correlation] {
				s.stats.leadersRemoved++
			}
		}
	default:
		s.fail("node %d sent the admin client a %T", m.From, r)
	}
	if code != 0 {
		s.stats.voterChangesRefused++
	}
	s.event("admin: node %d answered %v", m.From, kerr.ErrorForCode(code))
}

// checkVoterChanges: no log holds more than one voter set above the committed prefix (the
// leader writes a change only when every earlier one is committed).
func (s *sim) checkVoterChanges() {
	committed := int64(len(s.committed))
	for _, sn := range s.nodes {
		if sn.node == nil {
			continue
		}
		n := 0
		for off := max(committed, sn.log.StartOffset()); off < sn.log.EndOffset(); off++ {
			if e := sn.log.Entry(off); e.Control && e.ControlType == ControlKRaftVoters {
				n++
			}
		}
		if n > 1 {
			s.fail("node %d: %d uncommitted voter changes in its log above the committed offset %d", sn.id, n, committed)
		}
	}
}
