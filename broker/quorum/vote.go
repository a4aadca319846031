package quorum

import (
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Vote: KIP-595's election. A voter with no leader for an election timeout bumps the epoch, votes
// for itself (persisted first) and asks every other voter. A voter grants at most one vote per
// epoch (persisted before the answer leaves), and only to a candidate whose log is at least as up
// to date as its own: a larger last epoch, or the same last epoch and an end offset at least as
// large. A majority of grants makes the candidate leader.

func (n *Node) becomeCandidate() {
	if !n.IsVoter() {
		return
	}
	n.setEpoch(n.epoch + 1)
	n.state = Candidate
	n.votedID = n.id
	if !n.persist() {
		return
	}
	n.cand = candidateState{granted: map[int32]bool{n.id: true}, rejected: map[int32]bool{}, sentAt: map[int32]time.Time{}}
	n.electionDeadline = n.now().Add(n.randomElectionTimeout())
	if n.majority() == 1 {
		n.becomeLeader()
		return
	}
	n.resendVotes()
}

// resendVotes asks every voter that has not answered, at most once per request timeout.
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
		n.send(v, n.nextCorrelation(), n.voteRequest(), nil)
	}
}

func (n *Node) voteRequest() *kmsg.VoteRequest {
	req := kmsg.NewPtrVoteRequest()
	req.ClusterID = n.clusterID()
	req.VoterID = -1
	t := kmsg.NewVoteRequestTopic()
	t.Topic = MetadataTopic
	p := kmsg.NewVoteRequestTopicPartition()
	p.CandidateEpoch = n.epoch
	p.CandidateID = n.id
	p.LastOffsetEpoch = n.log.LastEpoch()
	p.LastOffset = n.log.EndOffset()
	t.Partitions = append(t.Partitions, p)
	req.Topics = append(req.Topics, t)
	return req
}

func (n *Node) handleVoteRequest(m Message, req *kmsg.VoteRequest) {
	resp := kmsg.NewPtrVoteResponse()
	if !n.clusterOK(req.ClusterID) {
		resp.ErrorCode = kerr.InconsistentClusterID.Code
		n.send(m.From, m.Correlation, nil, resp)
		return
	}
	if len(req.Topics) != 1 || req.Topics[0].Topic != MetadataTopic || len(req.Topics[0].Partitions) != 1 {
		resp.ErrorCode = kerr.InvalidRequest.Code
		n.send(m.From, m.Correlation, nil, resp)
		return
	}
	p := req.Topics[0].Partitions[0]
	rp := kmsg.NewVoteResponseTopicPartition()
	switch {
	case !n.isVoter(p.CandidateID) || !n.IsVoter():
		rp.ErrorCode = kerr.InconsistentVoterSet.Code
	case p.CandidateEpoch < n.epoch:
		rp.ErrorCode = kerr.FencedLeaderEpoch.Code
	default:
		if p.CandidateEpoch > n.epoch {
			n.becomeUnattached(p.CandidateEpoch)
		}
		if n.fatal == nil && n.canGrant(p.CandidateID, OffsetAndEpoch{Offset: p.LastOffset, Epoch: p.LastOffsetEpoch}) {
			if n.state == Unattached {
				n.state = Voted
				n.votedID = p.CandidateID
				if !n.persist() {
					return
				}
			}
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
// request from the candidate already voted for is granted again) and only to a candidate whose log
// is at least as up to date as this node's.
func (n *Node) canGrant(candidate int32, last OffsetAndEpoch) bool {
	switch n.state {
	case Unattached:
	case Voted:
		if n.votedID != candidate {
			return false
		}
	default:
		return false
	}
	mine := OffsetAndEpoch{Offset: n.log.EndOffset(), Epoch: n.log.LastEpoch()}
	return !last.less(mine)
}

func (n *Node) handleVoteResponse(m Message, resp *kmsg.VoteResponse) {
	if resp.ErrorCode != 0 || len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		return
	}
	p := resp.Topics[0].Partitions[0]
	n.observeEpoch(p.LeaderEpoch, p.LeaderID)
	if n.fatal != nil || n.state != Candidate || p.LeaderEpoch != n.epoch || !n.isVoter(m.From) {
		return
	}
	if p.ErrorCode != 0 {
		return
	}
	if p.VoteGranted {
		n.cand.granted[m.From] = true
		if len(n.cand.granted) >= n.majority() {
			n.becomeLeader()
		}
		return
	}
	n.cand.rejected[m.From] = true
	if len(n.cand.rejected) >= n.majority() {
		// This epoch is lost; stand again after a random backoff rather than the full timeout.
		backoff := time.Duration(n.cfg.Rand.Int64N(int64(n.cfg.ElectionBackoffMax)))
		if d := n.now().Add(backoff); d.Before(n.electionDeadline) {
			n.electionDeadline = d
		}
	}
}
