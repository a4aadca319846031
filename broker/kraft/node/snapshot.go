package node

import (
	"fmt"
	"path/filepath"
	"slices"
	"time"

	"github.com/osprey-kafka/osprey/broker/kraft/image"
	"github.com/osprey-kafka/osprey/broker/kraft/metadata"
	"github.com/osprey-kafka/osprey/broker/kraft/metaprops"
	"github.com/osprey-kafka/osprey/broker/kraft/snapshot"
	"github.com/osprey-kafka/osprey/broker/quorum"
)

// Snapshots of the metadata image, as Kafka's SnapshotGenerator and log cleaning do:
//
//   - Every node writes one when the records it replayed since its last snapshot pass
//     SnapshotMaxBytes (metadata.log.max.record.bytes.between.snapshots), or SnapshotInterval
//     (metadata.log.max.snapshot.interval.ms) after the last one when anything was replayed: the
//     committed image's records (image.Image.Records) framed as Kafka's checkpoint files
//     (broker/kraft/snapshot), `<offset>-<epoch>.checkpoint` in __cluster_metadata-0, written to
//     a .checkpoint.part, fsynced and renamed. The offset is the end of the last replayed entry,
//     the epoch that entry's. Writing runs on a goroutine of its own from an immutable image, so
//     replay goes on meanwhile; a snapshot due while one is being written waits for the next.
//   - Retention: once a node has two snapshots it lets the log before the older one go (and any
//     older snapshot), so the log always covers at least one snapshot interval and a follower
//     that fell behind by less than that catches up from the log. (Kafka keeps
//     metadata.log.retention.bytes, 100 MiB, and metadata.log.retention.ms, 7 days, of snapshots
//     and log instead.)
//   - On start a node loads its latest snapshot and replays the log from there; when the quorum
//     restarts its log at a snapshot fetched from the leader (FetchSnapshot), the replay loads
//     that snapshot with image.NewSnapshotDelta, so Watch subscribers see what changed.

// Kafka's defaults for the snapshot triggers.
const (
	defaultSnapshotMaxBytes = 20 << 20
	defaultSnapshotInterval = time.Hour
)

// snapshotJob is an image to write as snapshot id.
type snapshotJob struct {
	img image.Image
	id  quorum.OffsetAndEpoch
}

// snapshotState is the replay goroutine's account of what it replayed since the last snapshot.
type snapshotState struct {
	bytes int64 // record bytes replayed since the last snapshot was handed to the writer
	last  time.Time
	jobs  chan snapshotJob // cap 1: the writer goroutine's
}

func (n *Node) openSnapshots() (*quorum.FileSnapshots, error) {
	s, err := quorum.OpenFileSnapshots(filepath.Join(n.cfg.MetadataDir, metaprops.MetadataPartitionDir))
	if err != nil {
		return nil, fmt.Errorf("node: %w", err)
	}
	return s, nil
}

// loadLatestSnapshot starts the node's image at its latest snapshot, before the replay runs.
func (n *Node) loadLatestSnapshot() error {
	ids := n.snaps.List()
	if len(ids) == 0 {
		return nil
	}
	id := ids[len(ids)-1]
	d, err := n.snapshotDelta(image.Empty(), id)
	if err != nil {
		return err
	}
	n.img, n.next = d.Apply(), id.Offset
	n.log.Info("metadata image loaded from a snapshot", "snapshot", id.String())
	return nil
}

// snapshotDelta reads snapshot id into a snapshot delta on prev.
func (n *Node) snapshotDelta(prev image.Image, id quorum.OffsetAndEpoch) (*image.Delta, error) {
	s, err := snapshot.ReadFile(n.snaps.Path(id))
	if err != nil {
		return nil, fmt.Errorf("node: loading metadata snapshot %s: %w", id, err)
	}
	d := image.NewSnapshotDelta(prev)
	for i, raw := range s.Records {
		rec, _, err := metadata.Unmarshal(raw)
		if err == nil {
			err = d.Replay(rec)
		}
		if err != nil {
			return nil, fmt.Errorf("node: metadata snapshot %s, record %d: %w", id, i, err)
		}
	}
	return d, nil
}

// loadSnapshotAt replays the snapshot the quorum restarted its log at (start) over the
// current image and publishes it.
func (n *Node) loadSnapshotAt(start int64) error {
	i := slices.IndexFunc(n.snaps.List(), func(id quorum.OffsetAndEpoch) bool { return id.Offset == start })
	if i < 0 {
		return fmt.Errorf("node: the metadata log starts at %d and no snapshot is there", start)
	}
	id := n.snaps.List()[i]
	base, _ := n.committed()
	d, err := n.snapshotDelta(base, id)
	if err != nil {
		return err
	}
	n.publish(d, id.Offset)
	n.snap.bytes, n.snap.last = 0, time.Now()
	n.log.Info("metadata image loaded from the leader's snapshot", "snapshot", id.String())
	return nil
}

// replayed counts entries the replay published, and hands the image to the snapshot writer
// when one is due.
func (n *Node) replayed(img image.Image, entries []quorum.Entry) {
	for _, e := range entries {
		n.snap.bytes += int64(len(e.Data))
	}
	last := entries[len(entries)-1]
	now := time.Now()
	due := n.snap.bytes >= n.cfg.SnapshotMaxBytes ||
		n.cfg.SnapshotInterval > 0 && n.snap.bytes > 0 && now.Sub(n.snap.last) >= n.cfg.SnapshotInterval
	if !due {
		return
	}
	select {
	case n.snap.jobs <- snapshotJob{img: img, id: quorum.OffsetAndEpoch{Offset: last.Offset + 1, Epoch: last.Epoch}}:
		n.snap.bytes, n.snap.last = 0, now
	default: // the writer is busy with the previous one
	}
}

// runSnapshotWriter writes the snapshots the replay hands it, one at a time.
func (n *Node) runSnapshotWriter() {
	defer n.wg.Done()
	for {
		select {
		case <-n.ctx.Done():
			return
		case job := <-n.snap.jobs:
			if err := n.writeSnapshot(job); err != nil && n.ctx.Err() == nil {
				n.log.Error("metadata snapshot not written", "snapshot", job.id.String(), "err", err)
			}
		}
	}
}

func (n *Node) writeSnapshot(job snapshotJob) error {
	start := time.Now()
	recs, err := job.img.Records()
	if err != nil {
		return err
	}
	raw := make([][]byte, len(recs))
	for i, r := range recs {
		if raw[i], err = metadata.Marshal(r.Record, r.Version); err != nil {
			return err
		}
	}
	ms := start.UnixMilli()
	opts := snapshot.Options{Epoch: job.id.Epoch, LastContainedLogTimestamp: ms, NowMs: ms}
	if n.dynamic {
		// A dynamic quorum's snapshot carries the voter set in force at its end, as Kafka's
		// do: the log before it, and the VotersRecord entries in it, may be deleted.
		var voters quorum.VoterSet
		if err := n.srv.Do(n.ctx, func(q *quorum.Node) { voters = q.VotersAt(job.id.Offset) }); err != nil {
			return err
		}
		opts.KRaftVersion, opts.Voters = 1, votersRecord(voters)
	}
	data, err := snapshot.Append(nil, opts, raw)
	if err != nil {
		return err
	}
	if err := n.snaps.Write(job.id, data); err != nil {
		return err
	}
	n.log.Info("metadata snapshot written", "snapshot", job.id.String(), "records", len(raw), "bytes", len(data), "took", time.Since(start).String())
	ids := n.snaps.List()
	if len(ids) < 2 {
		return nil
	}
	keep := ids[len(ids)-2]
	var derr error
	if err := n.srv.Do(n.ctx, func(q *quorum.Node) { derr = q.DeletePrefix(keep) }); err != nil {
		return err
	}
	if derr != nil {
		return fmt.Errorf("deleting the metadata log before snapshot %s: %w", keep, derr)
	}
	return nil
}

// snapshotVoters is quorum.Config.SnapshotVoters: the voter set of snapshot id's VotersRecord.
func (n *Node) snapshotVoters(id quorum.OffsetAndEpoch) (quorum.VoterSet, error) {
	s, err := snapshot.ReadFile(n.snaps.Path(id))
	if err != nil {
		return nil, err
	}
	if s.Voters == nil {
		return nil, fmt.Errorf("snapshot %s has no VotersRecord, which a dynamic quorum's snapshot needs", id)
	}
	return votersOf(s.Voters)
}

// votersRecord is the VotersRecord (version 0) of a voter set.
func votersRecord(set quorum.VoterSet) *metadata.VotersRecord {
	r := &metadata.VotersRecord{Version: 0}
	for _, v := range set {
		rv := metadata.VotersRecordVoter{
			VoterID:          v.ID,
			VoterDirectoryID: metadata.Uuid(v.DirectoryID),
			KRaftVersionFeature: metadata.KRaftVersionFeature{
				MinSupportedVersion: v.MinKRaftVersion, MaxSupportedVersion: v.MaxKRaftVersion,
			},
		}
		for _, ep := range v.Endpoints {
			rv.Endpoints = append(rv.Endpoints, metadata.VoterEndpoint{Name: ep.Name, Host: ep.Host, Port: ep.Port})
		}
		r.Voters = append(r.Voters, rv)
	}
	return r
}
