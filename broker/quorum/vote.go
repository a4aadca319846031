package quorum

import (
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Vote: KIP-595's election with KIP-996's pre-vote in front of it. A voter that has no leader for
// an election timeout (or loses its leader for a fetch timeout) becomes prospective: in its current
// epoch it asks the voters whether they would vote for it (PreVote), which changes nothing on
// their side. With a majority of yes it becomes candidate: it bumps the epoch, votes for itself
// (persisted first) and asks for real votes. A voter grants at most one vote per epoch (persisted
// before the answer leaves), and only to a candidate whose log is at least as up to date as its
// own: a larger last epoch, or the same last epoch and an end offset at least as large. A voter
// that still hears from its leader refuses pre-votes. A majority of votes makes the candidate
// leader.

// becomeProspective starts a pre-vote round in the current epoch. A follower that turns
// prospective keeps its leader and goes on fetching from it.
func (n *Node) becomeProspective() {
	if !n.canStand() {
		if n.state == Candidate || n.state == Prospective {
			// No longer a voter (a dynamic quorum's set changed under it): wait as an
			// observer, which looks for the leader, instead of standing forever.
			n.becomeUnattached(n.epoch)
		}
		return
	}
	n.state = Prospective
	n.dropLeadership()
	n.lead = nil
	n.cand = newRound(n.id)
	n.electionDeadline = n.now().Add(n.randomElectionTimeout())
	if n.countVoters(n.cand.granted) >= n.majority() {
		n.becomeCandidate()
		return
	}
	n.resendVotes()
}

func (n *Node) becomeCandidate() {
	if !n.canStand() {
		return
	}
	n.setEpoch(n.epoch + 1)
	n.state = Candidate
	n.votedID, n.votedDir = n.id, n.cfg.DirectoryID
	if !n.persist() {
		return
	}
	n.cand = newRound(n.id)
	n.electionDeadline = n.now().Add(n.randomElectionTimeout())
	if n.countVoters(n.cand.granted) >= n.majority() {
		n.becomeLeader()
		return
	}
	n.resendVotes()
}

// resendVotes asks every voter that has not answered this round, at most once per request timeout.
func (n *Node) resendVotes() {
	now := n.now()
	for _, v := range n.voters {
		if v == n.id || n.cand.granted[v] || n.cand.rejected[v] {
			continue
		}
		if at, ok := n.cand.sentAt[v]; ok && now.Sub(at) < n.cfg.RequestTimeout {
			continue
		}
		n.cand.sentAt[v] = now
		corr := n.nextCorrelation()
		n.cand.corrs[corr] = true
		n.send(v, corr, n.voteRequest(v, n.state == Prospective), nil)
	}
}

func (n *Node) voteRequest(to int32, preVote bool) *kmsg.VoteRequest {
	req := kmsg.NewPtrVoteRequest()
	req.ClusterID = n.clusterID()
	req.VoterID = -1
	t := kmsg.NewVoteRequestTopic()
	t.Topic = MetadataTopic
	p := kmsg.NewVoteRequestTopicPartition()
	p.CandidateEpoch = n.epoch
	p.CandidateID = n.id
	p.LastOffsetEpoch = n.lastEpoch()
	p.LastOffset = n.log.EndOffset()
	p.PreVote = preVote
	p.CandidateDirectoryID = n.cfg.DirectoryID
	p.VoterDirectoryID = n.voterDirectory(to)
	t.Partitions = append(t.Partitions, p)
	req.Topics = append(req.Topics, t)
	return req
}

func (n *Node) handleVoteRequest(m Message, req *kmsg.VoteRequest) {
	resp := kmsg.NewPtrVoteResponse()
	if code := n.requestError(req.ClusterID, len(req.Topics) == 1 && req.Topics[0].Topic == MetadataTopic && len(req.Topics[0].Partitions) == 1); code != 0 {
		resp.ErrorCode = code
		n.send(m.From, m.Correlation, nil, resp)
		return
	}
	p := req.Topics[0].Partitions[0]
	last := OffsetAndEpoch{Offset: p.LastOffset, Epoch: p.LastOffsetEpoch}
	rp := kmsg.NewVoteResponseTopicPartition()
	switch {
	case !n.dynamic && (!n.isVoter(p.CandidateID) || !n.IsVoter()), !n.isAddressee(p.VoterDirectoryID):
		// In a dynamic quorum a replica may not have the newest voter set yet: it answers any
		// candidate, which counts only the votes of its own voters.
		rp.ErrorCode = kerr.InconsistentVoterSet.Code
	case p.CandidateEpoch < n.epoch:
		rp.ErrorCode = kerr.FencedLeaderEpoch.Code
	case p.PreVote:
		// A pre-vote changes nothing here: no epoch, no vote, no timer.
		rp.VoteGranted = n.canGrantPreVote(last)
	default:
		if p.CandidateEpoch > n.epoch {
			n.becomeUnattached(p.CandidateEpoch)
		}
		if n.fatal == nil && n.canGrant(p.CandidateID, last) {
			if n.votedID < 0 {
				n.votedID, n.votedDir = p.CandidateID, p.CandidateDirectoryID
				n.state = Voted
				if !n.persist() {
					return
				}
			}
			n.state = Voted
			// A granted vote restarts the election timer: the candidate gets its chance to win.
			n.electionDeadline = n.now().Add(n.randomElectionTimeout())
			rp.VoteGranted = true
		}
	}
	rp.LeaderID = n.leaderID
	rp.LeaderEpoch = n.epoch
	t := kmsg.NewVoteResponseTopic()
	t.Topic = MetadataTopic
	t.Partitions = append(t.Partitions, rp)
	resp.Topics = append(resp.Topics, t)
	n.send(m.From, m.Correlation, nil, resp)
}

// canGrant is KIP-595's vote rule in the node's current epoch: one vote per epoch (a repeated
// request from the candidate already voted for is granted again), none while a leader or a
// candidate of the epoch is known, and only to a candidate whose log is at least as up to date as
// this node's.
func (n *Node) canGrant(candidate int32, last OffsetAndEpoch) bool {
	switch n.state {
	case Unattached, Voted, Prospective:
	default:
		return false
	}
	if n.votedID >= 0 && n.votedID != candidate {
		return false
	}
	return n.logNotBehind(last)
}

// canGrantPreVote: would this node vote for a candidate with that log, were it to stand? Not
// while this node leads, or follows a leader it still hears from: a follower whose fetch timeout
// has run out no longer does (an observer stays a follower then, looking for the leader, and a
// dynamic quorum may count it as a voter before it knows it is one).
func (n *Node) canGrantPreVote(last OffsetAndEpoch) bool {
	switch {
	case n.state == Leader:
		return false
	case n.state == Follower && n.now().Before(n.follow.fetchDeadline):
		return false
	}
	return n.logNotBehind(last)
}

func (n *Node) logNotBehind(last OffsetAndEpoch) bool {
	mine := OffsetAndEpoch{Offset: n.log.EndOffset(), Epoch: n.lastEpoch()}
	return !last.less(mine)
}

func (n *Node) handleVoteResponse(m Message, resp *kmsg.VoteResponse) {
	if resp.ErrorCode != 0 || len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		return
	}
	p := resp.Topics[0].Partitions[0]
	n.observeEpoch(p.LeaderEpoch, p.LeaderID)
	if n.fatal != nil || !n.isVoter(m.From) || !n.cand.corrs[m.Correlation] || p.ErrorCode != 0 {
		return
	}
	switch {
	case n.state == Prospective && p.LeaderEpoch <= n.epoch:
	case n.state == Candidate && p.LeaderEpoch == n.epoch:
	default:
		return
	}
	if p.VoteGranted {
		n.cand.granted[m.From] = true
		if n.countVoters(n.cand.granted) >= n.majority() {
			if n.state == Prospective {
				n.becomeCandidate()
			} else {
				n.becomeLeader()
			}
		}
		return
	}
	n.cand.rejected[m.From] = true
	if n.countVoters(n.cand.rejected) >= n.majority() {
		// This round is lost; try again after a random backoff rather than the full timeout.
		backoff := time.Duration(n.cfg.Rand.Int64N(int64(n.cfg.ElectionBackoffMax)))
		if d := n.now().Add(backoff); d.Before(n.electionDeadline) {
			n.electionDeadline = d
		}
	}
}

// countVoters counts the members of set that are voters now: a prospective keeps fetching, so
// the voter set may change during its round.
func (n *Node) countVoters(set map[int32]bool) int {
	c := 0
	for id, ok := range set {
		if ok && n.isVoter(id) {
			c++
		}
	}
	return c
}
