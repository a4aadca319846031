package quorum

import (
	"bytes"
	"slices"
)

// simSM is a simulated node's state machine: the data of the committed client entries in log
// order, one per line. It lives in memory and is lost in a crash; a restarted node loads its
// latest snapshot and applies the committed entries after it.
type simSM struct {
	next  int64 // the offset of the next entry to apply
	state []byte
}

// stateAt is the state machine's state after the committed entries below offset: what any
// replica's snapshot at offset must hold.
func (s *sim) stateAt(offset int64) []byte {
	if offset > int64(len(s.committed)) {
		s.fail("state at %d asked, with only %d entries seen committed", offset, len(s.committed))
	}
	var b []byte
	for _, e := range s.committed[:offset] {
		if !e.Control {
			b = append(append(b, e.Data...), '\n')
		}
	}
	return b
}

// restartSM starts a (re)started node's state machine from its latest snapshot.
func (s *sim) restartSM(sn *simNode) {
	sn.sm = simSM{}
	if id, ok := latestSnapshot(sn.snaps); ok {
		s.loadSnapshot(sn, id, "restart")
	}
}

// loadSnapshot replaces the node's state with snapshot id's, which must equal the committed
// state at its offset, with the epoch of the committed entry before it.
func (s *sim) loadSnapshot(sn *simNode, id OffsetAndEpoch, why string) {
	data, ok := sn.snaps.Get(id)
	if !ok {
		s.fail("node %d (%s): snapshot %s is not in its store", sn.id, why, id)
	}
	if want := s.stateAt(id.Offset); !bytes.Equal(data, want) {
		s.fail("node %d (%s): snapshot %s holds %d bytes of state, the committed state at %d is %d bytes (or differs)", sn.id, why, id, len(data), id.Offset, len(want))
	}
	if e := s.committed[id.Offset-1].Epoch; e != id.Epoch {
		s.fail("node %d (%s): snapshot %s, but the committed entry at %d has epoch %d", sn.id, why, id, id.Offset-1, e)
	}
	sn.sm = simSM{next: id.Offset, state: bytes.Clone(data)}
	s.stats.snapshotLoads++
}

// checkStartSnapshot: a node whose log starts past 0 holds the snapshot at its start, and it is
// the committed state there (a new leader serves it to whoever is behind).
func (s *sim) checkStartSnapshot(sn *simNode, what string) {
	start := sn.log.StartOffset()
	if start == 0 {
		return
	}
	i := slices.IndexFunc(sn.snaps.List(), func(id OffsetAndEpoch) bool { return id.Offset == start })
	if i < 0 {
		s.fail("node %d (%s): its log starts at %d and no snapshot is there", sn.id, what, start)
	}
	id := sn.snaps.List()[i]
	if data, _ := sn.snaps.Get(id); !bytes.Equal(data, s.stateAt(start)) {
		s.fail("node %d (%s): the snapshot %s at its log start is not the committed state there", sn.id, what, id)
	}
}

// runStateMachines applies each live node's newly committed entries (after loading the snapshot
// its log restarted at, when it fetched one), and at random writes snapshots and deletes log
// prefixes, as a KRaft node's owner does.
func (s *sim) runStateMachines() {
	for _, sn := range s.nodes {
		n := sn.node
		if n == nil {
			continue
		}
		start := sn.log.StartOffset()
		if sn.sm.next < start {
			i := slices.IndexFunc(sn.snaps.List(), func(id OffsetAndEpoch) bool { return id.Offset == start })
			if i < 0 {
				s.fail("node %d: its log restarted at %d, past its state machine (%d), without a snapshot there", sn.id, start, sn.sm.next)
			}
			s.loadSnapshot(sn, sn.snaps.List()[i], "fetched")
		}
		for hw := min(n.HighWatermark(), sn.log.EndOffset()); sn.sm.next < hw; sn.sm.next++ {
			if e := sn.log.Entry(sn.sm.next); !e.Control {
				sn.sm.state = append(append(sn.sm.state, e.Data...), '\n')
			}
		}
		s.maybeSnapshot(sn)
	}
}

func (s *sim) maybeSnapshot(sn *simNode) {
	n := sn.node
	start := sn.log.StartOffset()
	latest, _ := latestSnapshot(sn.snaps)
	if s.rng.Float64() < 0.01 && sn.sm.next > start && sn.sm.next > latest.Offset {
		id := OffsetAndEpoch{Offset: sn.sm.next, Epoch: sn.log.Entry(sn.sm.next - 1).Epoch}
		sn.snaps.Put(id, sn.sm.state)
		s.stats.snapshotsWritten++
		if s.dynamic {
			s.recordSnapshotVoters(sn, id)
		}
	}
	if s.rng.Float64() >= 0.006 {
		return
	}
	var ok []OffsetAndEpoch
	for _, id := range sn.snaps.List() {
		if id.Offset >= start && id.Offset <= n.HighWatermark() && id.Offset <= sn.log.EndOffset() {
			ok = append(ok, id)
		}
	}
	if len(ok) == 0 {
		return
	}
	id := ok[s.rng.IntN(len(ok))]
	if err := n.DeletePrefix(id); err != nil {
		s.fail("node %d: DeletePrefix(%s): %v", sn.id, id, err)
	}
	s.stats.prefixDeletes++
	s.event("node %d deleted its log before snapshot %s", sn.id, id)
}
