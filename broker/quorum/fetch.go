package quorum

import (
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Fetch: followers and observers pull from the leader. Each fetch names the follower's epoch, its
// log end offset and the epoch of its last entry. The leader fences a fetch from another epoch,
// and checks the follower's log against its own: if the follower's last epoch ends earlier in the
// leader's log (or is not there), the leader answers with the diverging epoch and where it ends,
// and the follower truncates to that point and fetches again. Otherwise the fetch offset is the
// follower's acknowledged log end, which the leader counts toward the high watermark.

// fetchRequestVersion is the Fetch version whose fields the quorum fills (topic IDs, ReplicaState,
// ClusterId: v13+ with KIP-595's tagged fields).
const fetchRequestVersion = 16

func (n *Node) fetchRequest() *kmsg.FetchRequest {
	req := kmsg.NewPtrFetchRequest()
	req.Version = fetchRequestVersion
	req.ClusterID = n.clusterID()
	req.ReplicaID = -1
	req.ReplicaState.ID = n.id
	req.ReplicaState.Epoch = -1
	req.MaxWaitMillis = int32(n.cfg.FetchBackoff / time.Millisecond)
	t := kmsg.NewFetchRequestTopic()
	t.Topic = MetadataTopic
	t.TopicID = MetadataTopicID
	p := kmsg.NewFetchRequestTopicPartition()
	p.CurrentLeaderEpoch = n.epoch
	p.FetchOffset = n.log.EndOffset()
	p.LastFetchedEpoch = n.lastEpoch()
	p.LogStartOffset = n.log.StartOffset()
	p.PartitionMaxBytes = 1 << 20
	p.HighWatermark = n.hw
	p.ReplicaDirectoryID = n.cfg.DirectoryID
	t.Partitions = append(t.Partitions, p)
	req.Topics = append(req.Topics, t)
	return req
}

func (n *Node) sendFetch() {
	corr := n.nextCorrelation()
	n.follow.inflight = corr
	n.follow.sentAt = n.now()
	if n.follow.snap != nil {
		n.send(n.follow.target, corr, n.fetchSnapshotRequest(), nil)
		return
	}
	n.send(n.follow.target, corr, n.fetchRequest(), nil)
}

// maybeFetch keeps one fetch outstanding at a time, sending the next after an answer (at once when
// it carried entries, after FetchBackoff when empty) or after a request timeout without one.
func (n *Node) maybeFetch() {
	now := n.now()
	if n.follow.inflight != 0 {
		if now.Sub(n.follow.sentAt) < n.cfg.RequestTimeout {
			return
		}
		n.follow.inflight = 0
	}
	if !now.Before(n.follow.nextFetch) {
		n.sendFetch()
	}
}

// discoverLeader is how an observer without a leader it hears from finds one, as Kafka's observer
// does (KafkaRaftClient's pollUnattachedAsObserver, and pollFollowerAsObserver once the fetch
// timeout has passed): it fetches from a voter chosen at random, one request at a time, and asks
// the next FetchBackoff after an answer that named no leader to follow, or a request timeout
// after a request that got none. Any voter answers with the epoch and leader it knows: one of a
// newer epoch makes this node follow that epoch's leader, and the leader it follows, answering
// after all, makes it an ordinary follower again. A follower keeps its leader meanwhile, so that
// the answer of a leader that resigned (it names itself for its epoch) does not make it follow that
// leader again for another fetch timeout.
//
// An observer of a dynamic quorum that knows no voter yet (it is joining) asks the bootstrap
// servers instead.
func (n *Node) discoverLeader() {
	now := n.now()
	if n.follow.inflight != 0 {
		if now.Sub(n.follow.sentAt) < n.cfg.RequestTimeout {
			return
		}
		n.follow.inflight = 0
	}
	if now.Before(n.follow.nextFetch) {
		return
	}
	ask := n.voters
	if len(ask) == 0 {
		ask = n.cfg.Bootstrap
	}
	if len(ask) == 0 {
		return
	}
	n.follow.target = ask[n.cfg.Rand.IntN(len(ask))]
	n.follow.snap = nil
	n.sendFetch()
}

func fetchPartitionShapeOK(req *kmsg.FetchRequest) bool {
	if len(req.Topics) != 1 || len(req.Topics[0].Partitions) != 1 {
		return false
	}
	t := req.Topics[0]
	return (t.Topic == MetadataTopic || t.TopicID == MetadataTopicID) && t.Partitions[0].Partition == 0
}

func (n *Node) handleFetchRequest(m Message, req *kmsg.FetchRequest) {
	resp := kmsg.NewPtrFetchResponse()
	resp.Version = req.Version
	if code := n.requestError(req.ClusterID, fetchPartitionShapeOK(req)); code != 0 {
		resp.ErrorCode = code
		n.send(m.From, m.Correlation, nil, resp)
		return
	}
	p := req.Topics[0].Partitions[0]
	rp := kmsg.NewFetchResponseTopicPartition()
	rp.HighWatermark = -1
	switch {
	case p.CurrentLeaderEpoch < n.epoch:
		rp.ErrorCode = kerr.FencedLeaderEpoch.Code
	case p.CurrentLeaderEpoch > n.epoch:
		rp.ErrorCode = kerr.UnknownLeaderEpoch.Code
	case n.state != Leader:
		rp.ErrorCode = kerr.NotLeaderForPartition.Code
	case p.FetchOffset < 0:
		rp.ErrorCode = kerr.OffsetOutOfRange.Code
	default:
		n.serveFetch(req.ReplicaState.ID, p, &rp)
	}
	rp.CurrentLeader.LeaderID = n.leaderID
	rp.CurrentLeader.LeaderEpoch = n.epoch
	t := kmsg.NewFetchResponseTopic()
	t.Topic = MetadataTopic
	t.TopicID = MetadataTopicID
	t.Partitions = append(t.Partitions, rp)
	resp.Topics = append(resp.Topics, t)
	if ep, ok := n.leaderEndpoint(); ok {
		// A joining replica knows the leader by id only (it asked a bootstrap server): the
		// answer says where the leader listens, as Kafka's NodeEndpoints do.
		b := kmsg.NewFetchResponseBroker()
		b.NodeID, b.Host, b.Port = n.leaderID, ep.Host, int32(ep.Port)
		resp.Brokers = append(resp.Brokers, b)
	}
	n.send(m.From, m.Correlation, nil, resp)
}

// leaderEndpoint is the first listener of the current leader in a dynamic quorum's voter set.
func (n *Node) leaderEndpoint() (Endpoint, bool) {
	if !n.dynamic || n.leaderID < 0 {
		return Endpoint{}, false
	}
	v, ok := n.history.latest().set.Get(n.leaderID)
	if !ok || len(v.Endpoints) == 0 {
		return Endpoint{}, false
	}
	return v.Endpoints[0], true
}

// serveFetch answers a fetch of the leader's epoch: a diverging epoch, or entries from the fetch
// offset, which it records as the replica's acknowledged end.
func (n *Node) serveFetch(replica int32, p kmsg.FetchRequestTopicPartition, rp *kmsg.FetchResponseTopicPartition) {
	now := n.now()
	r := n.leaderReplica(replica)
	r.DirectoryID = p.ReplicaDirectoryID
	if r.Voter {
		n.lead.beginAcked[replica] = true
	}
	rp.HighWatermark = n.hw
	if id, ok := n.snapshotForFetch(p.FetchOffset, p.LastFetchedEpoch); ok {
		// The log no longer holds what the replica needs next: it loads a snapshot first.
		r.LastFetch = now
		rp.SnapshotID.EndOffset, rp.SnapshotID.Epoch = id.Offset, id.Epoch
		return
	}
	if p.FetchOffset > 0 || p.LastFetchedEpoch > 0 {
		end := n.endOffsetForEpoch(p.LastFetchedEpoch)
		if end.Epoch != p.LastFetchedEpoch || p.FetchOffset > end.Offset {
			// The replica is in touch (check quorum counts it) but its offset is not yet valid.
			r.LastFetch = now
			rp.DivergingEpoch.Epoch = end.Epoch
			rp.DivergingEpoch.EndOffset = end.Offset
			return
		}
	}
	r.recordFetch(p.FetchOffset, n.log.EndOffset(), now)
	if r.Voter {
		n.maybeAdvanceHighWatermark()
		rp.HighWatermark = n.hw
	}
	entries, err := n.log.Read(p.FetchOffset, n.cfg.MaxFetchEntries)
	if err != nil {
		n.fail(fmt.Errorf("read for a fetch at %d: %w", p.FetchOffset, err))
		rp.ErrorCode = kerr.UnknownServerError.Code
		return
	}
	rp.RecordBatches = encodeEntries(nil, entries)
}

// leaderReplica is the leader's state of a replica, created at its first fetch.
func (n *Node) leaderReplica(id int32) *ReplicaState {
	r := n.lead.replicas[id]
	if r == nil {
		r = &ReplicaState{ID: id, Voter: n.isVoter(id), EndOffset: -1}
		n.lead.replicas[id] = r
	}
	return r
}

func (n *Node) handleFetchResponse(m Message, resp *kmsg.FetchResponse) {
	if m.Correlation == 0 || m.Correlation != n.follow.inflight {
		return // late, duplicated, or for a fetch this node has given up on
	}
	n.follow.inflight = 0
	now := n.now()
	n.follow.nextFetch = now.Add(n.cfg.FetchBackoff)
	if resp.ErrorCode != 0 || len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		return
	}
	p := resp.Topics[0].Partitions[0]
	epoch, state := n.epoch, n.state
	if p.CurrentLeader.LeaderEpoch >= 0 {
		n.observeEpoch(p.CurrentLeader.LeaderEpoch, p.CurrentLeader.LeaderID)
		if n.fatal != nil || n.epoch != epoch || n.state != state {
			return // a new epoch or leader; following it sent a fresh fetch
		}
	}
	if p.ErrorCode != 0 || m.From != n.leaderID || p.CurrentLeader.LeaderEpoch != n.epoch {
		return
	}
	switch n.state {
	case Follower:
	case Prospective:
		// The leader answered after all: follow it again and drop the pre-vote round.
		n.state = Follower
		n.cand = candidateState{}
	default:
		return
	}
	n.follow.fetchDeadline = now.Add(n.cfg.FetchTimeout)
	if p.DivergingEpoch.EndOffset >= 0 {
		n.truncateToDivergence(OffsetAndEpoch{Offset: p.DivergingEpoch.EndOffset, Epoch: p.DivergingEpoch.Epoch})
		if n.fatal == nil {
			n.sendFetch()
		}
		return
	}
	if p.SnapshotID.EndOffset >= 0 && p.SnapshotID.Epoch >= 0 {
		if n.cfg.Snapshots == nil {
			n.cfg.Logger.Error("quorum: the leader sent a snapshot id, and this node keeps no snapshots", "node", n.id, "leader", m.From)
			return
		}
		n.follow.snap = &snapshotFetch{id: OffsetAndEpoch{Offset: p.SnapshotID.EndOffset, Epoch: p.SnapshotID.Epoch}}
		n.sendFetch()
		return
	}
	entries, err := decodeEntries(p.RecordBatches)
	if err != nil {
		n.cfg.Logger.Warn("quorum: dropping a fetch answer with bad record batches", "node", n.id, "from", m.From, "err", err)
		return
	}
	if len(entries) > 0 {
		if entries[0].Offset != n.log.EndOffset() {
			return
		}
		for _, e := range entries {
			if e.Epoch > n.epoch {
				n.fail(fmt.Errorf("leader %d of epoch %d sent an entry of epoch %d", m.From, n.epoch, e.Epoch))
				return
			}
		}
		if err := n.log.Append(entries); err != nil {
			n.fail(fmt.Errorf("append fetched entries: %w", err))
			return
		}
		n.noteAppended(entries)
		if n.fatal != nil {
			return
		}
	}
	if hw := min(p.HighWatermark, n.log.EndOffset()); hw > n.hw {
		n.hw = hw
	}
	if len(entries) > 0 {
		n.sendFetch()
	}
}

// truncateToDivergence cuts the log back to where it agrees with the leader's: the end of the
// diverging epoch in the leader's log, or the end of this log's largest epoch at or below it.
// Committed entries are never cut; needing to is a protocol violation.
func (n *Node) truncateToDivergence(d OffsetAndEpoch) {
	mine := n.endOffsetForEpoch(d.Epoch)
	to := mine.Offset
	if mine.Epoch == d.Epoch {
		to = min(to, d.Offset)
	}
	if to < n.hw {
		n.fail(fmt.Errorf("leader's diverging epoch %s would truncate to %d, below the high watermark %d", d, to, n.hw))
		return
	}
	if err := n.log.Truncate(to); err != nil {
		n.fail(fmt.Errorf("truncate to %d: %w", to, err))
		return
	}
	n.noteTruncated(to)
}
