package quorum

import (
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Config configures a Node. The durations carry Apache Kafka's controller.quorum.* names.
type Config struct {
	NodeID int32
	// Voters is the static voter set (controller.quorum.voters) of a kraft.version 0 quorum. A
	// node not in it is an observer.
	Voters    []int32
	ClusterID string

	// KRaftVersion is the quorum's kraft.version: 0, the static voter set Voters; 1, a dynamic
	// voter set (KIP-853) that starts from BootstrapVoters, or from the latest snapshot's, and
	// follows the VotersRecord entries of the log (see voters.go).
	KRaftVersion int16
	// BootstrapVoters is a dynamic quorum's first voter set (the 0-0 checkpoint `storage format`
	// writes); empty on a node that joins a running quorum and learns the set from the leader.
	BootstrapVoters VoterSet
	// Bootstrap (controller.quorum.bootstrap.servers) are the nodes an observer asks for the
	// leader while it knows no voter.
	Bootstrap []int32
	// SnapshotVoters reads the voter set a snapshot carries (its VotersRecord). A dynamic quorum
	// with Snapshots needs it: the log before a snapshot, and the voter changes in it, are gone.
	SnapshotVoters func(id OffsetAndEpoch) (VoterSet, error)
	// DirectoryID is the directory id of this node's metadata log directory (meta.properties),
	// sent in Fetch so that the leader can tell a replaced disk from the voter it knew.
	DirectoryID [16]byte

	// ElectionTimeout (controller.quorum.election.timeout.ms): a voter with no leader starts an
	// election (pre-vote first) after a random time in [ElectionTimeout, 2×ElectionTimeout).
	ElectionTimeout time.Duration
	// FetchTimeout (controller.quorum.fetch.timeout.ms): a follower that has had no answer from the
	// leader for this long starts an election (a voter) or looks for the leader again (an observer).
	// A leader that has not heard from a majority of voters for 1.5× this long resigns.
	FetchTimeout time.Duration
	// ElectionBackoffMax (controller.quorum.election.backoff.max.ms) bounds the random pause of a
	// prospective or candidate that a majority refused, and spaces the preferred successors of a
	// resigned leader.
	ElectionBackoffMax time.Duration
	// RequestTimeout (controller.quorum.request.timeout.ms): an unanswered request is sent again.
	RequestTimeout time.Duration
	// FetchBackoff is the pause after an empty fetch answer; it stands in for the leader holding the
	// fetch open (Kafka's long poll), which the deterministic core does not do.
	FetchBackoff time.Duration
	// MaxFetchEntries bounds the entries in one fetch answer.
	MaxFetchEntries int
	// SnapshotChunkBytes bounds the bytes of one FetchSnapshot answer, and the MaxBytes a
	// follower asks for (default 1 MiB).
	SnapshotChunkBytes int

	// Snapshots holds the node's snapshots; nil keeps none (the log then always starts at 0).
	Snapshots SnapshotStore

	Log       Log
	Store     StateStore
	Transport Transport
	Clock     Clock
	Rand      *rand.Rand
	Logger    *slog.Logger
}

func (c *Config) setDefaults() {
	if c.ElectionTimeout <= 0 {
		c.ElectionTimeout = time.Second
	}
	if c.FetchTimeout <= 0 {
		c.FetchTimeout = 2 * time.Second
	}
	if c.ElectionBackoffMax <= 0 {
		c.ElectionBackoffMax = time.Second
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = 2 * time.Second
	}
	if c.FetchBackoff <= 0 {
		c.FetchBackoff = 50 * time.Millisecond
	}
	if c.MaxFetchEntries <= 0 {
		c.MaxFetchEntries = 100
	}
	if c.SnapshotChunkBytes <= 0 {
		c.SnapshotChunkBytes = 1 << 20
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// ErrNotLeader is returned by Append and Resign on a node that is not the leader.
var ErrNotLeader = errors.New("quorum: this node is not the leader")

// Node is one replica of the quorum. It is not safe for concurrent use: its owner calls Step, Tick,
// Append and Resign one at a time (see the package comment).
type Node struct {
	cfg    Config
	id     int32
	voters []int32 // sorted; in a dynamic quorum, the ids of history's latest set
	log    Log

	// dynamic: kraft.version 1; history is then the voter sets of the log, the last in force.
	dynamic bool
	history voterHistory

	state    State
	epoch    int32
	leaderID int32
	votedID  int32
	votedDir [16]byte // the directory id votedID stood with
	// hw is the high watermark: entries below it are committed. It is not persisted; a restarted
	// node learns it again from the leader.
	hw int64

	// electionDeadline: when an unattached, voted, candidate or resigned voter stands (next) for
	// election; for a resigned leader that is no longer a voter, when it starts looking for the
	// next leader.
	electionDeadline time.Time

	cand   candidateState
	lead   *leaderState
	follow followerState

	corr int32
	// fatal is set when the node finds its own state contradicting the protocol (for example a
	// truncation below the high watermark); the node then stops acting.
	fatal error
}

// candidateState is one round of (pre-)vote requests, of a prospective or a candidate.
type candidateState struct {
	granted  map[int32]bool
	rejected map[int32]bool
	sentAt   map[int32]time.Time
	// corrs are the correlations of this round's requests; only their answers count, so that a
	// pre-vote answer is never taken for a vote, nor an old round's answer for this one's.
	corrs map[int32]bool
}

func newRound(self int32) candidateState {
	return candidateState{granted: map[int32]bool{self: true}, rejected: map[int32]bool{}, sentAt: map[int32]time.Time{}, corrs: map[int32]bool{}}
}

type followerState struct {
	// fetchDeadline: the follower gives up on the leader if no answer arrives before it.
	fetchDeadline time.Time
	// inflight is the correlation of the outstanding fetch (0: none); answers to any other are
	// dropped, so that a late or duplicated answer cannot truncate or append at a wrong place.
	inflight int32
	target   int32
	// snap is the leader's snapshot being copied; while it is set the follower sends
	// FetchSnapshot instead of Fetch.
	snap      *snapshotFetch
	sentAt    time.Time
	nextFetch time.Time
}

// New starts a node from its persisted log and election state.
func New(cfg Config) (*Node, error) {
	cfg.setDefaults()
	if cfg.Log == nil || cfg.Store == nil || cfg.Transport == nil || cfg.Clock == nil || cfg.Rand == nil {
		return nil, errors.New("quorum: Config needs Log, Store, Transport, Clock and Rand")
	}
	n := &Node{cfg: cfg, id: cfg.NodeID, log: cfg.Log, leaderID: -1, votedID: -1, dynamic: cfg.KRaftVersion >= 1}
	if n.dynamic {
		if cfg.Snapshots != nil && cfg.SnapshotVoters == nil {
			return nil, errors.New("quorum: a dynamic quorum with snapshots needs Config.SnapshotVoters")
		}
		bootstrap, err := NewVoterSet(cfg.BootstrapVoters)
		if err != nil {
			return nil, err
		}
		n.history.reset(0, bootstrap)
	} else {
		if len(cfg.Voters) == 0 {
			return nil, errors.New("quorum: the voter set is empty")
		}
		voters := slices.Clone(cfg.Voters)
		slices.Sort(voters)
		if len(slices.Compact(slices.Clone(voters))) != len(voters) {
			return nil, fmt.Errorf("quorum: voter set %v names a node twice", cfg.Voters)
		}
		n.voters = voters
	}
	st, ok, err := cfg.Store.Read()
	if err != nil {
		return nil, err
	}
	if !ok {
		st = ElectionState{Epoch: 0, LeaderID: -1, VotedID: -1}
	}
	if !n.dynamic {
		// A static voter set never changes, so a stored leader or vote outside it is a wrong
		// file; in a dynamic quorum they may have been voters when they were stored.
		if err := n.checkStoredState(st); err != nil {
			return nil, err
		}
	}
	n.epoch, n.leaderID, n.votedID, n.votedDir = st.Epoch, st.LeaderID, st.VotedID, st.VotedDirectoryID
	if cfg.Snapshots != nil {
		if err := n.reconcileSnapshots(); err != nil {
			return nil, err
		}
	}
	if n.dynamic {
		if err := n.loadVoters(); err != nil {
			return nil, err
		}
	}
	// Everything below the log start is in a snapshot, so committed.
	n.hw = n.log.StartOffset()
	now := n.now()
	if last := n.lastEpoch(); last > n.epoch {
		// The log holds entries of an epoch the election state never recorded (the state file was
		// lost or is older than the log). Kafka starts unattached in the log's epoch; so do we.
		cfg.Logger.Warn("quorum: election state is behind the log; starting unattached in the log's epoch",
			"state_epoch", n.epoch, "log_epoch", last)
		n.becomeUnattached(last)
		return n, n.fatal
	}
	switch {
	case n.leaderID == n.id:
		// A leader that restarts cannot know what it acknowledged; it resigns the epoch.
		n.state = Resigned
		n.electionDeadline = now.Add(n.randomElectionTimeout())
	case n.leaderID >= 0:
		n.state = Follower
		n.startFollowing(n.leaderID)
	case n.votedID == n.id:
		n.state = Candidate
		n.cand = newRound(n.id)
		n.electionDeadline = now.Add(n.randomElectionTimeout())
	case n.votedID >= 0:
		n.state = Voted
		n.electionDeadline = now.Add(n.randomElectionTimeout())
	default:
		n.state = Unattached
		n.electionDeadline = now.Add(n.randomElectionTimeout())
	}
	return n, nil
}

func (n *Node) checkStoredState(st ElectionState) error {
	for _, id := range []int32{st.LeaderID, st.VotedID} {
		if id >= 0 && !n.isVoter(id) {
			return fmt.Errorf("quorum: the stored election state (%s) names node %d, which is not in the voter set %v", st, id, n.voters)
		}
	}
	if st.VotedID >= 0 && st.VotedID == n.id && !n.isVoter(n.id) {
		return fmt.Errorf("quorum: the stored election state (%s) has this observer voting for itself", st)
	}
	return nil
}

// ID is the node's id.
func (n *Node) ID() int32 { return n.id }

// State is the node's role in its current epoch.
func (n *Node) State() State { return n.state }

// Epoch is the node's current epoch.
func (n *Node) Epoch() int32 { return n.epoch }

// LeaderID is the current epoch's leader, or -1 when unknown.
func (n *Node) LeaderID() int32 { return n.leaderID }

// VotedID is whom the node voted for in the current epoch, or -1.
func (n *Node) VotedID() int32 { return n.votedID }

// HighWatermark is the offset below which every entry is committed.
func (n *Node) HighWatermark() int64 { return n.hw }

// Log is the node's log; callers read it and must not write to it.
func (n *Node) Log() Log { return n.log }

// IsVoter tells whether this node is in the voter set.
func (n *Node) IsVoter() bool { return n.isVoter(n.id) }

// Err is the protocol violation that stopped the node, or nil.
func (n *Node) Err() error { return n.fatal }

func (n *Node) isVoter(id int32) bool {
	_, ok := slices.BinarySearch(n.voters, id)
	return ok
}

func (n *Node) majority() int { return len(n.voters)/2 + 1 }

func (n *Node) now() time.Time { return n.cfg.Clock.Now() }

func (n *Node) randomElectionTimeout() time.Duration {
	t := n.cfg.ElectionTimeout
	return t + time.Duration(n.cfg.Rand.Int64N(int64(t)))
}

func (n *Node) nextCorrelation() int32 {
	n.corr++
	if n.corr <= 0 {
		n.corr = 1
	}
	return n.corr
}

func (n *Node) send(to int32, corr int32, req kmsg.Request, resp kmsg.Response) {
	n.cfg.Transport.Send(Message{From: n.id, To: to, Correlation: corr, Request: req, Response: resp})
}

func (n *Node) fail(err error) {
	if n.fatal == nil {
		n.fatal = fmt.Errorf("quorum node %d: %w", n.id, err)
		n.cfg.Logger.Error("quorum: node stopped on a protocol violation", "err", n.fatal)
	}
}

// persist writes the election state; a node that cannot persist stops, since acting on an
// unpersisted vote or epoch could elect two leaders.
func (n *Node) persist() bool {
	if err := n.cfg.Store.Write(ElectionState{Epoch: n.epoch, LeaderID: n.leaderID, VotedID: n.votedID, VotedDirectoryID: n.votedDir}); err != nil {
		n.fail(err)
		return false
	}
	return true
}

// setEpoch moves to a new epoch, forgetting the old epoch's leader and vote. Epochs never go back.
func (n *Node) setEpoch(epoch int32) {
	if epoch < n.epoch {
		n.fail(fmt.Errorf("epoch would go back from %d to %d", n.epoch, epoch))
		return
	}
	if epoch > n.epoch {
		n.epoch, n.leaderID, n.votedID, n.votedDir = epoch, -1, -1, [16]byte{}
	}
	n.dropLeadership()
	n.lead = nil
	n.follow = followerState{}
}

func (n *Node) becomeUnattached(epoch int32) {
	// A node that was already waiting for an election keeps its deadline: otherwise a candidate
	// that cannot win (its log is behind) would, by bumping the epoch again and again, keep pushing
	// back the elections of the nodes that can.
	keep := n.state == Unattached || n.state == Voted || n.state == Candidate || n.state == Resigned || n.state == Prospective
	n.setEpoch(epoch)
	n.state = Unattached
	if n.votedID >= 0 {
		n.state = Voted // the same epoch, in which this node has already voted
	}
	n.leaderID = -1
	if !n.persist() {
		return
	}
	if !keep || n.electionDeadline.IsZero() {
		n.electionDeadline = n.now().Add(n.randomElectionTimeout())
	}
}

func (n *Node) becomeFollower(epoch, leader int32) {
	n.setEpoch(epoch)
	n.state = Follower
	n.leaderID = leader
	if !n.persist() {
		return
	}
	n.startFollowing(leader)
}

func (n *Node) startFollowing(leader int32) {
	n.follow = followerState{fetchDeadline: n.now().Add(n.cfg.FetchTimeout), target: leader}
	n.sendFetch()
}

// observeEpoch reacts to a peer's view of the epoch and leader (from any request or response):
// a higher epoch is joined, and a leader learned for the current epoch is followed.
func (n *Node) observeEpoch(epoch, leader int32) {
	switch {
	case epoch > n.epoch:
		if leader >= 0 && leader != n.id {
			n.becomeFollower(epoch, leader)
		} else {
			n.becomeUnattached(epoch)
		}
	case epoch == n.epoch && leader >= 0 && leader != n.id:
		switch n.state {
		case Prospective:
			// A prospective that gave up on this very leader waits for a real answer from it
			// (a successful fetch) rather than for hearsay.
			if leader != n.leaderID {
				n.becomeFollower(epoch, leader)
			}
		case Unattached, Voted, Candidate:
			n.becomeFollower(epoch, leader)
		case Leader, Resigned:
			n.fail(fmt.Errorf("node %d claims to lead epoch %d, which this node leads", leader, epoch))
		case Follower:
			if n.leaderID != leader {
				n.fail(fmt.Errorf("epoch %d has two leaders: %d and %d", epoch, n.leaderID, leader))
			}
		}
	}
}

// Tick runs the node's timers against the clock. The owner calls it whenever time has moved.
func (n *Node) Tick() {
	if n.fatal != nil {
		return
	}
	now := n.now()
	switch n.state {
	case Unattached, Voted, Resigned:
		if !n.canStand() && n.state != Resigned {
			// An observer with no leader asks the voters at once, as Kafka's does; a resigned
			// leader that is no longer a voter waits out its election timeout first.
			n.discoverLeader()
			return
		}
		if now.Before(n.electionDeadline) {
			return
		}
		if n.canStand() {
			n.becomeProspective()
		} else {
			n.discoverLeader()
		}
	case Candidate, Prospective:
		if !now.Before(n.electionDeadline) {
			n.becomeProspective()
			return
		}
		n.resendVotes()
		if n.state == Prospective && n.leaderID >= 0 && n.leaderID != n.id && n.follow.target == n.leaderID {
			n.maybeFetch() // the leader may only have been slow: an answer makes this a follower again
		}
	case Leader:
		n.leaderTick()
	case Follower:
		switch {
		case now.Before(n.follow.fetchDeadline):
			n.maybeFetch()
		case n.canStand():
			n.becomeProspective()
		default:
			// An observer that has lost its leader stays its follower and asks the voters who
			// leads now (Kafka's pollFollowerAsObserver).
			n.discoverLeader()
		}
	}
}

// Step hands the node one delivered message.
func (n *Node) Step(m Message) {
	if n.fatal != nil || m.To != n.id {
		return
	}
	switch r := m.Request.(type) {
	case *kmsg.VoteRequest:
		n.handleVoteRequest(m, r)
	case *kmsg.BeginQuorumEpochRequest:
		n.handleBeginQuorumEpochRequest(m, r)
	case *kmsg.EndQuorumEpochRequest:
		n.handleEndQuorumEpochRequest(m, r)
	case *kmsg.FetchRequest:
		n.handleFetchRequest(m, r)
	case *kmsg.FetchSnapshotRequest:
		n.handleFetchSnapshotRequest(m, r)
	case *kmsg.AddRaftVoterRequest:
		n.handleAddRaftVoter(m, r)
	case *kmsg.RemoveRaftVoterRequest:
		n.handleRemoveRaftVoter(m, r)
	case *kmsg.UpdateRaftVoterRequest:
		n.handleUpdateRaftVoter(m, r)
	}
	switch r := m.Response.(type) {
	case *kmsg.VoteResponse:
		n.handleVoteResponse(m, r)
	case *kmsg.BeginQuorumEpochResponse:
		n.handleBeginQuorumEpochResponse(m, r)
	case *kmsg.EndQuorumEpochResponse:
		// Nothing to do: the resigned leader waits for the next epoch either way.
	case *kmsg.FetchResponse:
		n.handleFetchResponse(m, r)
	case *kmsg.FetchSnapshotResponse:
		n.handleFetchSnapshotResponse(m, r)
	}
	if n.fatal == nil {
		n.finishVoterChange()
	}
}

func (n *Node) clusterOK(id *string) bool {
	return id == nil || *id == "" || n.cfg.ClusterID == "" || *id == n.cfg.ClusterID
}

// requestError is the top-level error code for a quorum request: another cluster's request first, then
// one not addressed to exactly the metadata partition (shapeOK false); 0 when the request may proceed.
func (n *Node) requestError(clusterID *string, shapeOK bool) int16 {
	switch {
	case !n.clusterOK(clusterID):
		return kerr.InconsistentClusterID.Code
	case !shapeOK:
		return kerr.InvalidRequest.Code
	}
	return 0
}

func (n *Node) clusterID() *string {
	if n.cfg.ClusterID == "" {
		return nil
	}
	s := n.cfg.ClusterID
	return &s
}
