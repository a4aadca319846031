package quorum

import "fmt"

// State is a replica's role in its current epoch, as in KIP-595.
type State int

const (
	// Unattached: the epoch's leader is unknown and this node has not voted in it.
	Unattached State = iota
	// Voted: this node voted for another candidate in the epoch and waits for a leader.
	Voted
	// Candidate: this node stands in the epoch and has voted for itself.
	Candidate
	// Leader: this node won the epoch; it appends entries and advances the high watermark.
	Leader
	// Follower: the epoch's leader is known; this node fetches from it.
	Follower
	// Resigned: this node led the epoch and gave it up (graceful shutdown, lost quorum, or a
	// restart); it waits for the next epoch.
	Resigned
	// Prospective: this voter lost its leader (or never had one) and asks the voters whether they
	// would elect it (KIP-996 pre-vote) before it bumps the epoch. It changes no one's state, so a
	// voter cut off from the others cannot disrupt the quorum with ever higher epochs.
	Prospective
)

func (s State) String() string {
	switch s {
	case Unattached:
		return "unattached"
	case Voted:
		return "voted"
	case Candidate:
		return "candidate"
	case Leader:
		return "leader"
	case Follower:
		return "follower"
	case Resigned:
		return "resigned"
	case Prospective:
		return "prospective"
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// ElectionState is what a node persists before it acts on an epoch change or a vote: the epoch,
// the epoch's leader (-1 when unknown) and whom this node voted for in it (-1 when nobody), with
// the directory id that candidate stood with (zero when none or not known; quorum-state keeps it
// from data_version 1 on).
type ElectionState struct {
	Epoch            int32
	LeaderID         int32
	VotedID          int32
	VotedDirectoryID [16]byte
}

func (e ElectionState) String() string {
	return fmt.Sprintf("epoch %d leader %d voted %d", e.Epoch, e.LeaderID, e.VotedID)
}
