package quorum

import (
	"errors"
	"fmt"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// The Node's side of snapshots (see SnapshotStore):
//
//   - The log start: a log whose prefix was deleted starts at the end offset of a snapshot the
//     store holds, whose epoch stands in for the missing entries' (lastEpoch, endOffsetForEpoch).
//   - The leader answers a fetch that the log cannot serve — below the log start, at the start
//     with another last epoch, or with a last epoch older than the start's — with the id of its
//     latest snapshot (Fetch's SnapshotId), as Kafka's validateOffsetAndEpoch does, and serves
//     FetchSnapshot (key 59): a chunk of at most MaxBytes from Position, with the snapshot's
//     Size. A voter fetching a snapshot is in touch with the leader for check quorum.
//   - A follower told of a snapshot fetches it chunk by chunk, one request outstanding as with
//     Fetch, into its store; with the last chunk it freezes the snapshot, restarts its log empty
//     at the snapshot's end (everything below is committed, so the high watermark moves there
//     too), drops its older snapshots and goes back to Fetch. SNAPSHOT_NOT_FOUND or
//     POSITION_OUT_OF_RANGE (the leader deleted it, or changed) sends it back to Fetch, which
//     names the current one.
//   - The owner writes snapshots of committed state into the store and calls DeletePrefix to
//     let the log before one go.

// snapshotFetch is a follower's copy in progress of the leader's snapshot.
type snapshotFetch struct {
	id  OffsetAndEpoch
	pos int64
}

// fetchSnapshotVersion is the FetchSnapshot version the node sends (v1 adds the replica's
// directory id and the leader's endpoints, both tagged).
const fetchSnapshotVersion = 1

// startSnapshotEpoch is the epoch of the snapshot at the log start: the epoch of the entry
// before the first one the log holds. false when the log starts at 0 or no snapshot is there.
func (n *Node) startSnapshotEpoch() (int32, bool) {
	start := n.log.StartOffset()
	if start == 0 || n.cfg.Snapshots == nil {
		return 0, false
	}
	for _, id := range n.cfg.Snapshots.List() {
		if id.Offset == start {
			return id.Epoch, true
		}
	}
	return 0, false
}

// lastEpoch is the epoch of the last entry, or of the snapshot at the start of an empty log.
func (n *Node) lastEpoch() int32 {
	if n.log.EndOffset() > n.log.StartOffset() {
		return n.log.LastEpoch()
	}
	if e, ok := n.startSnapshotEpoch(); ok {
		return e
	}
	return n.log.LastEpoch()
}

// endOffsetForEpoch is Log.EndOffsetForEpoch with the snapshot at the log start standing for
// the entries below it.
func (n *Node) endOffsetForEpoch(epoch int32) OffsetAndEpoch {
	r := n.log.EndOffsetForEpoch(epoch)
	start := n.log.StartOffset()
	if start > 0 && r.Offset <= start {
		if se, ok := n.startSnapshotEpoch(); ok && se <= epoch {
			return OffsetAndEpoch{Offset: start, Epoch: se}
		}
	}
	return r
}

// snapshotForFetch says whether a fetch at offset with lastEpoch must load a snapshot first,
// and which: the latest.
func (n *Node) snapshotForFetch(offset int64, lastEpoch int32) (OffsetAndEpoch, bool) {
	se, ok := n.startSnapshotEpoch()
	if !ok {
		return OffsetAndEpoch{}, false
	}
	start := n.log.StartOffset()
	if offset < start || (offset == start && lastEpoch != se) || lastEpoch < se {
		return latestSnapshot(n.cfg.Snapshots)
	}
	return OffsetAndEpoch{}, false
}

func (n *Node) fetchSnapshotRequest() *kmsg.FetchSnapshotRequest {
	req := kmsg.NewPtrFetchSnapshotRequest()
	req.Version = fetchSnapshotVersion
	req.ClusterID = n.clusterID()
	req.ReplicaID = n.id
	req.MaxBytes = int32(n.cfg.SnapshotChunkBytes)
	t := kmsg.NewFetchSnapshotRequestTopic()
	t.Topic = MetadataTopic
	p := kmsg.NewFetchSnapshotRequestTopicPartition()
	p.CurrentLeaderEpoch = n.epoch
	p.SnapshotID.EndOffset = n.follow.snap.id.Offset
	p.SnapshotID.Epoch = n.follow.snap.id.Epoch
	p.Position = n.follow.snap.pos
	t.Partitions = append(t.Partitions, p)
	req.Topics = append(req.Topics, t)
	return req
}

func fetchSnapshotShapeOK(req *kmsg.FetchSnapshotRequest) bool {
	return len(req.Topics) == 1 && req.Topics[0].Topic == MetadataTopic &&
		len(req.Topics[0].Partitions) == 1 && req.Topics[0].Partitions[0].Partition == 0
}

func (n *Node) handleFetchSnapshotRequest(m Message, req *kmsg.FetchSnapshotRequest) {
	resp := kmsg.NewPtrFetchSnapshotResponse()
	resp.Version = req.Version
	if code := n.requestError(req.ClusterID, fetchSnapshotShapeOK(req)); code != 0 {
		resp.ErrorCode = code
		n.send(m.From, m.Correlation, nil, resp)
		return
	}
	p := req.Topics[0].Partitions[0]
	rp := kmsg.NewFetchSnapshotResponseTopicPartition()
	rp.SnapshotID.EndOffset, rp.SnapshotID.Epoch = p.SnapshotID.EndOffset, p.SnapshotID.Epoch
	switch {
	case p.CurrentLeaderEpoch < n.epoch:
		rp.ErrorCode = kerr.FencedLeaderEpoch.Code
	case p.CurrentLeaderEpoch > n.epoch:
		rp.ErrorCode = kerr.UnknownLeaderEpoch.Code
	case n.state != Leader:
		rp.ErrorCode = kerr.NotLeaderForPartition.Code
	default:
		n.serveSnapshotChunk(req.ReplicaID, req.MaxBytes, p, &rp)
	}
	rp.CurrentLeader.LeaderID = n.leaderID
	rp.CurrentLeader.LeaderEpoch = n.epoch
	t := kmsg.NewFetchSnapshotResponseTopic()
	t.Topic = MetadataTopic
	t.Partitions = append(t.Partitions, rp)
	resp.Topics = append(resp.Topics, t)
	n.send(m.From, m.Correlation, nil, resp)
}

// serveSnapshotChunk answers one FetchSnapshot of the leader's epoch.
func (n *Node) serveSnapshotChunk(replica, maxBytes int32, p kmsg.FetchSnapshotRequestTopicPartition, rp *kmsg.FetchSnapshotResponseTopicPartition) {
	r := n.leaderReplica(replica)
	r.LastFetch = n.now() // in touch with the leader, for check quorum; its log end is unchanged
	if r.Voter {
		n.lead.beginAcked[replica] = true
	}
	if n.cfg.Snapshots == nil {
		rp.ErrorCode = kerr.SnapshotNotFound.Code
		return
	}
	if p.Position < 0 {
		rp.ErrorCode = kerr.PositionOutOfRange.Code
		return
	}
	id := OffsetAndEpoch{Offset: p.SnapshotID.EndOffset, Epoch: p.SnapshotID.Epoch}
	limit := n.cfg.SnapshotChunkBytes
	if maxBytes > 0 {
		limit = min(limit, int(maxBytes))
	}
	chunk, size, err := n.cfg.Snapshots.Read(id, p.Position, limit)
	switch {
	case errors.Is(err, ErrSnapshotNotFound):
		rp.ErrorCode = kerr.SnapshotNotFound.Code
	case err == nil && p.Position >= size:
		rp.ErrorCode = kerr.PositionOutOfRange.Code
	case err != nil && p.Position > size:
		rp.ErrorCode = kerr.PositionOutOfRange.Code
	case err != nil:
		n.cfg.Logger.Warn("quorum: reading a snapshot for FetchSnapshot", "node", n.id, "snapshot", id.String(), "err", err)
		rp.ErrorCode = kerr.UnknownServerError.Code
	default:
		rp.Size, rp.Position, rp.Bytes = size, p.Position, chunk
	}
}

func (n *Node) handleFetchSnapshotResponse(m Message, resp *kmsg.FetchSnapshotResponse) {
	if m.Correlation == 0 || m.Correlation != n.follow.inflight {
		return
	}
	n.follow.inflight = 0
	now := n.now()
	n.follow.nextFetch = now.Add(n.cfg.FetchBackoff)
	if resp.ErrorCode != 0 || len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		return
	}
	p := resp.Topics[0].Partitions[0]
	epoch, state := n.epoch, n.state
	if p.CurrentLeader.LeaderEpoch > 0 {
		n.observeEpoch(p.CurrentLeader.LeaderEpoch, p.CurrentLeader.LeaderID)
		if n.fatal != nil || n.epoch != epoch || n.state != state {
			return
		}
	}
	switch p.ErrorCode {
	case 0:
	case kerr.SnapshotNotFound.Code, kerr.PositionOutOfRange.Code:
		n.follow.snap = nil // back to Fetch, which names the leader's current snapshot
		return
	default:
		return
	}
	sf := n.follow.snap
	if sf == nil || m.From != n.leaderID || p.CurrentLeader.LeaderEpoch != n.epoch {
		return
	}
	switch n.state {
	case Follower:
	case Prospective:
		n.state = Follower
		n.cand = candidateState{}
	default:
		return
	}
	n.follow.fetchDeadline = now.Add(n.cfg.FetchTimeout)
	if (OffsetAndEpoch{Offset: p.SnapshotID.EndOffset, Epoch: p.SnapshotID.Epoch}) != sf.id || p.Position != sf.pos {
		return // not the chunk asked for; the next request asks again
	}
	if err := n.cfg.Snapshots.WriteChunk(sf.id, sf.pos, p.Bytes); err != nil {
		n.cfg.Logger.Warn("quorum: writing a fetched snapshot chunk; starting over", "node", n.id, "snapshot", sf.id.String(), "err", err)
		n.follow.snap = nil
		return
	}
	sf.pos += int64(len(p.Bytes))
	switch {
	case sf.pos >= p.Size:
		n.installSnapshot(sf.id)
	case len(p.Bytes) > 0:
		n.sendFetch()
	}
}

// installSnapshot finishes a fetched snapshot: frozen in the store, the log restarted at its
// end, the older snapshots gone.
func (n *Node) installSnapshot(id OffsetAndEpoch) {
	n.follow.snap = nil
	if id.Offset < n.hw {
		// Never sent by a correct leader: the follower's committed entries reach past it.
		n.cfg.Logger.Warn("quorum: fetched snapshot ends below the high watermark; ignoring it", "node", n.id, "snapshot", id.String(), "hw", n.hw)
		n.cfg.Snapshots.Delete(id)
		return
	}
	if err := n.cfg.Snapshots.Freeze(id); err != nil {
		n.cfg.Logger.Warn("quorum: freezing a fetched snapshot; starting over", "node", n.id, "snapshot", id.String(), "err", err)
		return
	}
	if err := n.log.Reset(id.Offset); err != nil {
		n.fail(fmt.Errorf("restart the log at snapshot %s: %w", id, err))
		return
	}
	n.hw = id.Offset
	n.noteSnapshotLoaded(id)
	if n.fatal != nil {
		return
	}
	n.deleteSnapshotsBefore(id.Offset)
	n.cfg.Logger.Info("quorum: loaded the leader's snapshot", "node", n.id, "snapshot", id.String(), "leader", n.leaderID, "epoch", n.epoch)
	n.sendFetch()
}

func (n *Node) deleteSnapshotsBefore(offset int64) {
	for _, old := range n.cfg.Snapshots.List() {
		if old.Offset < offset {
			if err := n.cfg.Snapshots.Delete(old); err != nil {
				n.cfg.Logger.Warn("quorum: deleting an old snapshot", "node", n.id, "snapshot", old.String(), "err", err)
			}
		}
	}
}

// DeletePrefix lets the log before snapshot id go, with the snapshots older than id: id must be
// a complete snapshot in Config.Snapshots, at a committed offset the log holds (or its start)
// and with the epoch of the entry before it. Entries below id are served from then on by
// sending the snapshot.
func (n *Node) DeletePrefix(id OffsetAndEpoch) error {
	if n.fatal != nil {
		return n.fatal
	}
	if n.cfg.Snapshots == nil {
		return errors.New("quorum: DeletePrefix without a snapshot store")
	}
	if !slices.Contains(n.cfg.Snapshots.List(), id) {
		return fmt.Errorf("quorum: DeletePrefix: snapshot %s is not in the store", id)
	}
	start, end := n.log.StartOffset(), n.log.EndOffset()
	switch {
	case id.Offset > n.hw:
		return fmt.Errorf("quorum: DeletePrefix: snapshot %s is past the high watermark %d", id, n.hw)
	case id.Offset < start:
		return fmt.Errorf("quorum: DeletePrefix: snapshot %s is below the log start %d", id, start)
	case id.Offset > end:
		return fmt.Errorf("quorum: DeletePrefix: snapshot %s is past the log end %d", id, end)
	case id.Offset == start:
		n.deleteSnapshotsBefore(id.Offset)
		return nil
	}
	last, err := n.log.Read(id.Offset-1, 1)
	if err != nil {
		return fmt.Errorf("quorum: DeletePrefix: %w", err)
	}
	if len(last) != 1 || last[0].Epoch != id.Epoch {
		return fmt.Errorf("quorum: DeletePrefix: snapshot %s does not end at an entry of its epoch", id)
	}
	if err := n.log.DeletePrefix(id.Offset); err != nil {
		n.fail(fmt.Errorf("delete the log before %s: %w", id, err))
		return n.fatal
	}
	if n.dynamic {
		n.history.compact(id.Offset)
	}
	n.deleteSnapshotsBefore(id.Offset)
	return nil
}

// reconcileSnapshots, on start, brings the log in line with the snapshots after a crash: a
// snapshot fetched past the log (or over a diverging tail) restarts the log at its end, and a
// start the log did not record moves up to the snapshot it was deleted for.
func (n *Node) reconcileSnapshots() error {
	ids := n.cfg.Snapshots.List()
	start, end := n.log.StartOffset(), n.log.EndOffset()
	if len(ids) == 0 {
		if start > 0 {
			return fmt.Errorf("quorum: the log starts at %d but no snapshot covers the entries below it", start)
		}
		return nil
	}
	latest := ids[len(ids)-1]
	diverges := false
	if at := latest.Offset - 1; at >= start && at < end {
		e, err := n.log.Read(at, 1)
		if err != nil {
			return fmt.Errorf("quorum: reading the log at snapshot %s: %w", latest, err)
		}
		diverges = len(e) == 1 && e[0].Epoch != latest.Epoch
	}
	if latest.Offset > end || diverges {
		n.cfg.Logger.Info("quorum: restarting the log at the latest snapshot", "node", n.id, "snapshot", latest.String(), "log_start", start, "log_end", end)
		if err := n.log.Reset(latest.Offset); err != nil {
			return fmt.Errorf("quorum: restart the log at snapshot %s: %w", latest, err)
		}
		return nil
	}
	if start == 0 {
		return nil
	}
	i := slices.IndexFunc(ids, func(id OffsetAndEpoch) bool { return id.Offset >= start })
	if i < 0 {
		return fmt.Errorf("quorum: the log starts at %d, past every snapshot", start)
	}
	if ids[i].Offset > start {
		if err := n.log.DeletePrefix(ids[i].Offset); err != nil {
			return fmt.Errorf("quorum: moving the log start to snapshot %s: %w", ids[i], err)
		}
	}
	return nil
}
