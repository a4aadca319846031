package quorum

import (
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// BeginQuorumEpoch and EndQuorumEpoch: a new leader announces itself to the voters (until each
// answers or fetches), and a leader that gives up its epoch tells the voters, naming the preferred
// successors (most caught up first) so that the best of them stands first.

func (n *Node) beginQuorumEpochRequest(to int32) *kmsg.BeginQuorumEpochRequest {
	req := kmsg.NewPtrBeginQuorumEpochRequest()
	req.ClusterID = n.clusterID()
	req.VoterID = -1
	t := kmsg.NewBeginQuorumEpochRequestTopic()
	t.Topic = MetadataTopic
	p := kmsg.NewBeginQuorumEpochRequestTopicPartition()
	p.LeaderID = n.id
	p.LeaderEpoch = n.epoch
	p.VoterDirectoryID = n.voterDirectory(to)
	t.Partitions = append(t.Partitions, p)
	req.Topics = append(req.Topics, t)
	return req
}

func (n *Node) handleBeginQuorumEpochRequest(m Message, req *kmsg.BeginQuorumEpochRequest) {
	resp := kmsg.NewPtrBeginQuorumEpochResponse()
	if code := n.requestError(req.ClusterID, len(req.Topics) == 1 && req.Topics[0].Topic == MetadataTopic && len(req.Topics[0].Partitions) == 1); code != 0 {
		resp.ErrorCode = code
		n.send(m.From, m.Correlation, nil, resp)
		return
	}
	p := req.Topics[0].Partitions[0]
	rp := kmsg.NewBeginQuorumEpochResponseTopicPartition()
	switch {
	case !n.dynamic && !n.isVoter(p.LeaderID), !n.isAddressee(p.VoterDirectoryID):
		// A dynamic quorum's replica may not know yet that the leader was added; but a
		// request meant for another directory (this node's disk was replaced) is refused.
		rp.ErrorCode = kerr.InconsistentVoterSet.Code
	case p.LeaderEpoch < n.epoch:
		rp.ErrorCode = kerr.FencedLeaderEpoch.Code
	default:
		n.observeEpoch(p.LeaderEpoch, p.LeaderID)
	}
	rp.LeaderID = n.leaderID
	rp.LeaderEpoch = n.epoch
	t := kmsg.NewBeginQuorumEpochResponseTopic()
	t.Topic = MetadataTopic
	t.Partitions = append(t.Partitions, rp)
	resp.Topics = append(resp.Topics, t)
	n.send(m.From, m.Correlation, nil, resp)
}

func (n *Node) handleBeginQuorumEpochResponse(m Message, resp *kmsg.BeginQuorumEpochResponse) {
	if resp.ErrorCode != 0 || len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		return
	}
	p := resp.Topics[0].Partitions[0]
	n.observeEpoch(p.LeaderEpoch, p.LeaderID)
	if n.state == Leader && p.ErrorCode == 0 && p.LeaderEpoch == n.epoch {
		n.lead.beginAcked[m.From] = true
	}
}

// Resign gives up the leadership gracefully (before a shutdown): the node stops accepting
// entries, tells the voters with EndQuorumEpoch, and waits for the next epoch.
func (n *Node) Resign() error {
	if n.state != Leader {
		return ErrNotLeader
	}
	n.resign()
	return nil
}

func (n *Node) resign() {
	successors := make([]*ReplicaState, 0, len(n.voters))
	for _, v := range n.voters {
		if v != n.id {
			successors = append(successors, n.lead.replicas[v])
		}
	}
	slices.SortStableFunc(successors, func(a, b *ReplicaState) int {
		switch {
		case a.EndOffset > b.EndOffset:
			return -1
		case a.EndOffset < b.EndOffset:
			return 1
		}
		return 0
	})
	n.state = Resigned
	n.dropLeadership()
	n.lead = nil
	n.electionDeadline = n.now().Add(n.randomElectionTimeout())
	req := kmsg.NewPtrEndQuorumEpochRequest()
	req.ClusterID = n.clusterID()
	t := kmsg.NewEndQuorumEpochRequestTopic()
	t.Topic = MetadataTopic
	p := kmsg.NewEndQuorumEpochRequestTopicPartition()
	p.LeaderID = n.id
	p.LeaderEpoch = n.epoch
	for _, r := range successors {
		p.PreferredSuccessors = append(p.PreferredSuccessors, r.ID)
	}
	t.Partitions = append(t.Partitions, p)
	req.Topics = append(req.Topics, t)
	for _, r := range successors {
		n.send(r.ID, n.nextCorrelation(), req, nil)
	}
}

func (n *Node) handleEndQuorumEpochRequest(m Message, req *kmsg.EndQuorumEpochRequest) {
	resp := kmsg.NewPtrEndQuorumEpochResponse()
	if code := n.requestError(req.ClusterID, len(req.Topics) == 1 && req.Topics[0].Topic == MetadataTopic && len(req.Topics[0].Partitions) == 1); code != 0 {
		resp.ErrorCode = code
		n.send(m.From, m.Correlation, nil, resp)
		return
	}
	p := req.Topics[0].Partitions[0]
	rp := kmsg.NewEndQuorumEpochResponseTopicPartition()
	switch {
	case p.LeaderEpoch < n.epoch:
		rp.ErrorCode = kerr.FencedLeaderEpoch.Code
	case p.LeaderEpoch > n.epoch:
		n.observeEpoch(p.LeaderEpoch, -1)
	case n.state == Follower && n.leaderID == p.LeaderID && n.canStand():
		// The leader is leaving: forget it (so that this node grants pre-votes) and stand sooner
		// than the fetch timeout, the most caught-up preferred successor first and the others
		// spaced after it, so that they rarely split the vote.
		pos := slices.Index(p.PreferredSuccessors, n.id)
		if pos < 0 {
			pos = len(p.PreferredSuccessors)
		}
		var wait time.Duration
		if pos > 0 {
			wait = n.cfg.ElectionBackoffMax*time.Duration(pos)/time.Duration(max(1, len(p.PreferredSuccessors))) +
				time.Duration(n.cfg.Rand.Int64N(int64(n.cfg.ElectionBackoffMax)))
		}
		n.becomeUnattached(n.epoch)
		n.electionDeadline = n.now().Add(wait)
	}
	rp.LeaderID = n.leaderID
	rp.LeaderEpoch = n.epoch
	t := kmsg.NewEndQuorumEpochResponseTopic()
	t.Topic = MetadataTopic
	t.Partitions = append(t.Partitions, rp)
	resp.Topics = append(resp.Topics, t)
	n.send(m.From, m.Correlation, nil, resp)
}
