package node

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"github.com/osprey-kafka/osprey/broker/kraft/bootstrap"
	"github.com/osprey-kafka/osprey/broker/kraft/metadata"
	"github.com/osprey-kafka/osprey/broker/kraft/metaprops"
	"github.com/osprey-kafka/osprey/broker/kraft/snapshot"
	"github.com/osprey-kafka/osprey/broker/quorum"
)

// openStorage checks meta.properties, reads bootstrap.checkpoint and opens the metadata log,
// in that order, so that an unformatted or foreign directory is refused before anything is
// written to it.
func (n *Node) openStorage() error {
	dir := n.cfg.MetadataDir
	mp, err := metaprops.Read(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("node: the metadata log directory %s is not formatted (no %s): "+
			"run `osprey storage format -t <cluster-id> -c <server.properties>` first", dir, metaprops.FileName)
	case err != nil:
		return fmt.Errorf("node: metadata log directory %s: %w", dir, err)
	}
	if mp.Version != 1 {
		return fmt.Errorf("node: %s has version=%d, a ZooKeeper-mode directory; a KRaft node needs one "+
			"formatted by `osprey storage format`", filepath.Join(dir, metaprops.FileName), mp.Version)
	}
	if mp.NodeID != n.cfg.NodeID {
		return fmt.Errorf("node: %s has node.id=%d but this node is node.id=%d: format the directory for this "+
			"node with `osprey storage format` or fix node.id", filepath.Join(dir, metaprops.FileName), mp.NodeID, n.cfg.NodeID)
	}
	if n.cfg.ClusterID != "" && mp.ClusterID != n.cfg.ClusterID {
		return fmt.Errorf("node: %s has cluster.id=%s but this node is configured for cluster %s: format the "+
			"directory for this cluster with `osprey storage format -t %s` or fix the cluster id",
			filepath.Join(dir, metaprops.FileName), mp.ClusterID, n.cfg.ClusterID, n.cfg.ClusterID)
	}
	n.clusterID = mp.ClusterID
	if mp.DirectoryID != nil {
		n.dirID = *mp.DirectoryID
	}
	if n.boot, err = bootstrap.ReadDir(dir); err != nil {
		return fmt.Errorf("node: bootstrap metadata of %s: %w", dir, err)
	}
	if err := n.readVoterCheckpoint(); err != nil {
		return err
	}
	opts := quorum.StorageLogOptions{SegmentBytes: n.cfg.SegmentBytes, Logger: n.cfg.Logger}
	if n.cfg.MetadataManager != nil {
		n.qlog, err = quorum.OpenStorageLogOn(n.cfg.MetadataManager, opts)
	} else {
		n.qlog, err = quorum.OpenStorageLog(dir, opts)
	}
	if err != nil {
		return fmt.Errorf("node: %w", err)
	}
	if n.snaps, err = n.openSnapshots(); err == nil {
		err = n.loadLatestSnapshot()
	}
	if err != nil {
		return errors.Join(err, n.qlog.Close())
	}
	return nil
}

// stateStore is the quorum-state file in the metadata partition's directory, where Kafka keeps
// it: data_version 0 with the static voters (kraft.version 0), or 1 (kraft.version 1).
func (n *Node) stateStore(version int16, voters []int32) *quorum.FileStore {
	return &quorum.FileStore{
		Path:    filepath.Join(n.cfg.MetadataDir, metaprops.MetadataPartitionDir, quorum.QuorumStateFile),
		Version: version,
		Voters:  voters,
	}
}

// readVoterCheckpoint decides the kind of quorum: dynamic (kraft.version 1) without
// controller.quorum.voters, or when `storage format --standalone / --initial-controllers` wrote
// the voter-set checkpoint (0-0) in __cluster_metadata-0, whose voter set the quorum then
// starts from; static otherwise. A node formatted with --no-initial-controllers has no
// checkpoint and learns the voter set from the leader's log.
func (n *Node) readVoterCheckpoint() error {
	path := filepath.Join(n.cfg.MetadataDir, metaprops.MetadataPartitionDir, snapshot.BootstrapFileName)
	s, err := snapshot.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		n.dynamic = len(n.cfg.Voters) == 0
		return nil
	case err != nil:
		return fmt.Errorf("node: the voter-set checkpoint: %w", err)
	}
	if s.KRaftVersion == nil || s.KRaftVersion.KRaftVersion < 1 || s.Voters == nil {
		n.dynamic = len(n.cfg.Voters) == 0
		return nil
	}
	if n.bootVoters, err = votersOf(s.Voters); err != nil {
		return fmt.Errorf("node: the voter-set checkpoint %s: %w", path, err)
	}
	n.dynamic = true
	if len(n.cfg.Voters) > 0 {
		n.log.Warn("controller.quorum.voters is ignored: the metadata log directory was formatted for a dynamic quorum (kraft.version 1)",
			"checkpoint", path)
	}
	return nil
}

// votersOf is the quorum's voter set of a VotersRecord read from a checkpoint.
func votersOf(r *metadata.VotersRecord) (quorum.VoterSet, error) {
	b, err := metadata.MarshalControl(r, 0)
	if err != nil {
		return nil, err
	}
	return quorum.UnmarshalVoters(b)
}
