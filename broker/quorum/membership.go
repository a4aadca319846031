package quorum

import (
	"fmt"
	"slices"
)

// The node's side of the dynamic voter set: the history follows every change of the log
// (appends, truncations, snapshots) and the node's voter ids follow the history's latest set.

// loadVoters builds the history on start: the snapshot's set when the log starts after one
// (else the bootstrap set), then every VotersRecord entry the log holds.
func (n *Node) loadVoters() error {
	start, end := n.log.StartOffset(), n.log.EndOffset()
	if start > 0 {
		set, err := n.cfg.SnapshotVoters(n.snapshotAt(start))
		if err != nil {
			return fmt.Errorf("quorum: reading the voter set of the snapshot at %d: %w", start, err)
		}
		n.history.reset(start, set)
	}
	const chunk = 1024
	for off := start; off < end; {
		entries, err := n.log.Read(off, chunk)
		if err != nil {
			return fmt.Errorf("quorum: reading the log for voter sets at %d: %w", off, err)
		}
		if len(entries) == 0 {
			break
		}
		if err := n.addVoterEntries(entries); err != nil {
			return err
		}
		off = entries[len(entries)-1].Offset + 1
	}
	n.votersChanged()
	return nil
}

// snapshotAt is the id of the complete snapshot ending at offset (the one the log starts at).
func (n *Node) snapshotAt(offset int64) OffsetAndEpoch {
	for _, id := range n.cfg.Snapshots.List() {
		if id.Offset == offset {
			return id
		}
	}
	return OffsetAndEpoch{Offset: offset, Epoch: -1}
}

// addVoterEntries records the VotersRecord entries among entries (just appended to the log).
func (n *Node) addVoterEntries(entries []Entry) error {
	for _, e := range entries {
		if !e.Control || e.ControlType != ControlKRaftVoters {
			continue
		}
		set, err := UnmarshalVoters(e.Data)
		if err != nil {
			return fmt.Errorf("quorum: the VotersRecord at offset %d: %w", e.Offset, err)
		}
		n.history.add(e.Offset, set)
	}
	return nil
}

// noteAppended follows the voter set through entries appended to the log.
func (n *Node) noteAppended(entries []Entry) {
	if !n.dynamic {
		return
	}
	before := len(n.history.sets)
	if err := n.addVoterEntries(entries); err != nil {
		n.fail(err)
		return
	}
	if len(n.history.sets) != before {
		n.votersChanged()
	}
}

// noteTruncated rolls the voter set back when the log was cut at offset.
func (n *Node) noteTruncated(offset int64) {
	if !n.dynamic {
		return
	}
	before := len(n.history.sets)
	n.history.truncate(offset)
	if len(n.history.sets) != before {
		n.votersChanged()
	}
}

// noteSnapshotLoaded restarts the history from the snapshot the log now starts at.
func (n *Node) noteSnapshotLoaded(id OffsetAndEpoch) {
	if !n.dynamic {
		return
	}
	set, err := n.cfg.SnapshotVoters(id)
	if err != nil {
		n.fail(fmt.Errorf("read the voter set of snapshot %s: %w", id, err))
		return
	}
	n.history.reset(id.Offset, set)
	n.votersChanged()
}

// votersChanged makes the history's latest set the one in force. A leader starts tracking new
// voters (their fetches now count toward the high watermark) and stops counting removed ones.
func (n *Node) votersChanged() {
	n.voters = n.history.latest().set.IDs()
	if n.state != Leader || n.lead == nil {
		return
	}
	for id, r := range n.lead.replicas {
		r.Voter = n.isVoter(id)
	}
	for _, v := range n.voters {
		if n.lead.replicas[v] == nil {
			n.lead.replicas[v] = &ReplicaState{ID: v, Voter: true, EndOffset: -1}
		}
	}
}

// KRaftVersion is the quorum's kraft.version: 0 static, 1 dynamic.
func (n *Node) KRaftVersion() int16 {
	if n.dynamic {
		return 1
	}
	return 0
}

// Voters is the voter set in force (the newest in the log, committed or not). A static quorum's
// voters carry only their ids.
func (n *Node) Voters() VoterSet {
	if n.dynamic {
		return slices.Clone(n.history.latest().set)
	}
	out := make(VoterSet, len(n.voters))
	for i, id := range n.voters {
		out[i] = Voter{ID: id}
	}
	return out
}

// VotersAt is the voter set after the entries below offset: the set a snapshot ending at offset
// carries. Offset must be at or above the log start.
func (n *Node) VotersAt(offset int64) VoterSet {
	if !n.dynamic {
		return n.Voters()
	}
	return slices.Clone(n.history.at(offset))
}

// UncommittedVoterChanges counts the voter sets written in the log at or above the high
// watermark; the leader never lets it exceed one.
func (n *Node) UncommittedVoterChanges() int {
	if !n.dynamic {
		return 0
	}
	return n.history.uncommitted(n.hw)
}

// voterDirectory is the directory id of voter id in the set in force (zero when unknown or
// static): requests to a voter name it, so that a replica on a replaced disk can tell.
func (n *Node) voterDirectory(id int32) [16]byte {
	if !n.dynamic {
		return [16]byte{}
	}
	v, _ := n.history.latest().set.Get(id)
	return v.DirectoryID
}

// isAddressee: a request naming a voter directory was meant for this node's directory.
func (n *Node) isAddressee(dir [16]byte) bool {
	return dir == [16]byte{} || n.cfg.DirectoryID == [16]byte{} || dir == n.cfg.DirectoryID
}

// canStand tells whether this node may run for leader: a voter, or, in a dynamic quorum, a
// node that the newest voter set (not yet committed as far as this node knows) removes but the
// set before it holds. Without the latter a removal written by a leader that then crashed could
// leave the only log holding it with a node that will not stand, and the remaining voters, who
// never got the removal, needing that node's vote which their shorter logs cannot win. Safety
// does not depend on it: a candidate counts only the votes of its newest voter set, its own
// included only when it is in it.
func (n *Node) canStand() bool {
	if n.IsVoter() {
		return true
	}
	if !n.dynamic || len(n.history.sets) < 2 {
		return false
	}
	latest := n.history.latest()
	if latest.offset < n.hw {
		return false
	}
	_, ok := n.history.sets[len(n.history.sets)-2].set.Get(n.id)
	return ok
}
