package node

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"github.com/osprey-kafka/osprey/broker/kraft/bootstrap"
	"github.com/osprey-kafka/osprey/broker/kraft/metaprops"
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
// it, at data_version 0 (a static voter set, kraft.version 0).
func (n *Node) stateStore(voters []int32) *quorum.FileStore {
	return &quorum.FileStore{
		Path:   filepath.Join(n.cfg.MetadataDir, metaprops.MetadataPartitionDir, quorum.QuorumStateFile),
		Voters: voters,
	}
}
