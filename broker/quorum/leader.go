package quorum

import (
	"fmt"
	"slices"
	"time"
)

// The leader: it starts its epoch with a control entry, tells the voters with BeginQuorumEpoch,
// appends client entries, and moves the high watermark to the largest offset a majority of voters
// has, but only once that offset is past the start of its epoch. Entries of earlier epochs are
// committed by being below a committed entry of the current epoch, never by counting replicas,
// since a later leader could overwrite an old-epoch entry that a majority holds (Raft §5.4.2).

type leaderState struct {
	epochStart int64
	replicas   map[int32]*ReplicaState
	// beginAcked: voters known to have learned of this epoch (they answered BeginQuorumEpoch or
	// fetched); beginSentAt spaces the retries to the others.
	beginAcked  map[int32]bool
	beginSentAt map[int32]time.Time
	// quorumCheckAt: when check quorum's timer last restarted, the moment a majority of the
	// voters (this leader among them) had fetched since the restart before (leaderTick).
	quorumCheckAt time.Time
	// pending is the voter change written and not yet committed (reconfig.go), or nil.
	pending *pendingChange
}

// ReplicaState is the leader's view of one replica, as DescribeQuorum reports it.
type ReplicaState struct {
	ID    int32
	Voter bool
	// DirectoryID is the directory id the replica sent with its last fetch (zero before one, or
	// from a replica that does not send it).
	DirectoryID [16]byte
	// EndOffset is the replica's log end offset from its last valid fetch, -1 before one.
	EndOffset    int64
	LastFetch    time.Time
	LastCaughtUp time.Time
	// leaderEndAtLastFetch is the leader's log end when this replica last fetched: reaching it
	// in the next fetch means the replica was caught up at the time of that last fetch.
	leaderEndAtLastFetch int64
}

// recordFetch updates a replica's state for a valid fetch at offset, with Kafka's notion of caught
// up: at the leader's log end now, or at the end the leader had at the replica's previous fetch
// (then it was caught up as of that fetch).
func (r *ReplicaState) recordFetch(offset, leaderEnd int64, now time.Time) {
	r.EndOffset = offset
	switch {
	case offset >= leaderEnd:
		r.LastCaughtUp = now
	case r.leaderEndAtLastFetch > 0 && offset >= r.leaderEndAtLastFetch && r.LastFetch.After(r.LastCaughtUp):
		r.LastCaughtUp = r.LastFetch
	}
	r.leaderEndAtLastFetch = leaderEnd
	r.LastFetch = now
}

func (n *Node) becomeLeader() {
	n.state = Leader
	n.leaderID = n.id
	if !n.persist() {
		return
	}
	now := n.now()
	ls := &leaderState{
		epochStart:    n.log.EndOffset(),
		replicas:      map[int32]*ReplicaState{},
		beginAcked:    map[int32]bool{n.id: true},
		beginSentAt:   map[int32]time.Time{},
		quorumCheckAt: now,
	}
	for _, v := range n.voters {
		ls.replicas[v] = &ReplicaState{ID: v, Voter: true, EndOffset: -1}
	}
	if ls.replicas[n.id] == nil {
		// A dynamic quorum's leader elected by the voters of a set that removes it (canStand).
		ls.replicas[n.id] = &ReplicaState{ID: n.id, EndOffset: -1}
	}
	n.lead = ls
	// The first entry of the epoch is a LEADER_CHANGE control record, as in Kafka.
	granting := make([]int32, 0, len(n.cand.granted))
	for v := range n.cand.granted {
		granting = append(granting, v)
	}
	slices.Sort(granting)
	start := []Entry{{Offset: ls.epochStart, Epoch: n.epoch, Control: true, ControlType: ControlLeaderChange, Data: leaderChangeValue(n.id, n.voters, granting)}}
	if n.dynamic && len(n.history.sets) == 1 && n.history.sets[0].offset < 0 {
		// The voter set is still the bootstrap one, which is in no log or snapshot a replica
		// can fetch: as Kafka's leader does, write it (with kraft.version) into the log, so that
		// a joining observer learns the voters and later snapshots carry them.
		start = append(start,
			Entry{Offset: ls.epochStart + 1, Epoch: n.epoch, Control: true, ControlType: ControlKRaftVersion, Data: kraftVersionValue(1)},
			Entry{Offset: ls.epochStart + 2, Epoch: n.epoch, Control: true, ControlType: ControlKRaftVoters, Data: MarshalVoters(n.history.latest().set)})
	}
	if err := n.log.Append(start); err != nil {
		n.fail(fmt.Errorf("append the epoch's first entry: %w", err))
		return
	}
	n.noteAppended(start)
	n.updateOwnReplica()
	n.leaderTick()
}

func (n *Node) updateOwnReplica() {
	self := n.lead.replicas[n.id]
	self.EndOffset = n.log.EndOffset()
	self.LastFetch = n.now()
	self.LastCaughtUp = n.now()
	n.maybeAdvanceHighWatermark()
}

// maybeAdvanceHighWatermark sets the high watermark to the offset a majority of voters has reached,
// when that is past the epoch's first entry and above the current one.
func (n *Node) maybeAdvanceHighWatermark() {
	if len(n.voters) == 0 {
		return
	}
	ends := make([]int64, 0, len(n.voters))
	for _, v := range n.voters {
		ends = append(ends, n.lead.replicas[v].EndOffset)
	}
	slices.Sort(ends)
	slices.Reverse(ends)
	candidate := ends[n.majority()-1]
	if candidate > n.lead.epochStart && candidate > n.hw {
		n.hw = candidate
	}
}

func (n *Node) leaderTick() {
	now := n.now()
	// BeginQuorumEpoch goes to voters that have not acknowledged the epoch, and again to voters
	// that have stopped fetching: one stranded in a higher epoch (a candidacy nobody joined) never
	// learns of this leader otherwise, and its answer tells this leader to step up to that epoch.
	for _, v := range n.voters {
		if v == n.id || n.lead.beginAcked[v] && now.Sub(n.lead.replicas[v].LastFetch) < n.cfg.FetchTimeout/2 {
			continue
		}
		if at, ok := n.lead.beginSentAt[v]; ok && now.Sub(at) < n.cfg.RequestTimeout {
			continue
		}
		n.lead.beginSentAt[v] = now
		n.send(v, n.nextCorrelation(), n.beginQuorumEpochRequest(v), nil)
	}
	// Check quorum, as Kafka's LeaderState does it: the timer restarts each time a majority of
	// the voters has fetched since it last restarted, and a leader whose timer reaches 1.5× the
	// fetch timeout resigns. A leader cut off from the other voters thus stops leading at most
	// 1.5× the fetch timeout after the cut, and stops answering as leader the observers that
	// still reach it, which then look for the new leader (fetch.go, discoverLeader).
	fetched := 0
	for _, v := range n.voters {
		if v == n.id || n.lead.replicas[v].LastFetch.After(n.lead.quorumCheckAt) {
			fetched++
		}
	}
	if fetched >= n.majority() {
		n.lead.quorumCheckAt = now
	} else if now.Sub(n.lead.quorumCheckAt) >= n.cfg.FetchTimeout*3/2 {
		n.cfg.Logger.Info("quorum: leader has not heard from a majority of voters; resigning", "node", n.id, "epoch", n.epoch)
		n.resign()
		return
	}
	n.finishVoterChange()
}

// Append adds client entries at the leader and returns the offset of the first. The entries are
// committed once the high watermark passes them.
func (n *Node) Append(data ...[]byte) (int64, error) {
	if n.fatal != nil {
		return 0, n.fatal
	}
	if n.state != Leader {
		return 0, ErrNotLeader
	}
	first := n.log.EndOffset()
	entries := make([]Entry, len(data))
	for i, d := range data {
		entries[i] = Entry{Offset: first + int64(i), Epoch: n.epoch, Data: d}
	}
	if err := n.log.Append(entries); err != nil {
		n.fail(fmt.Errorf("append client entries: %w", err))
		return 0, n.fatal
	}
	n.noteAppended(entries)
	n.updateOwnReplica()
	return first, nil
}

// Replicas is the leader's view of every replica that has fetched in this epoch (voters always),
// ordered by id; nil on a node that is not the leader.
func (n *Node) Replicas() []ReplicaState {
	if n.state != Leader {
		return nil
	}
	out := make([]ReplicaState, 0, len(n.lead.replicas))
	for _, r := range n.lead.replicas {
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b ReplicaState) int { return int(a.ID) - int(b.ID) })
	return out
}
