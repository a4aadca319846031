package broker

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"

	"github.com/osprey-kafka/osprey/broker/kraft/metaprops"
)

// kraftDirs is every directory a KRaft node keeps data in: log.dirs and
// metadata.log.dir, each once.
func (c Config) kraftDirs() []string {
	dirs := slices.Clone(c.LogDirs)
	if md := c.MetadataDir(); md != "" && !slices.Contains(dirs, md) {
		dirs = append(dirs, md)
	}
	return dirs
}

// checkFormatted verifies, before a KRaft node opens anything, that every
// directory was formatted by `osprey storage format` (or kafka-storage.sh) for
// this node and one cluster, as Kafka's MetaPropertiesEnsemble.verify does,
// and returns the cluster id. The node never formats a directory itself: a
// missing meta.properties is a node that was not set up, or a disk that was
// replaced, and silently starting empty would lose the metadata.
func checkFormatted(cfg Config) (string, error) {
	dirs := cfg.kraftDirs()
	if len(dirs) == 0 {
		return "", errors.New("property log.dirs: a KRaft node needs a log directory (log.dirs or metadata.log.dir)")
	}
	clusterID, from := "", ""
	for _, dir := range dirs {
		m, err := metaprops.Read(dir)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return "", fmt.Errorf("log directory %s is not formatted (no meta.properties): run "+
				"`osprey storage format -t <cluster-id> -c <server.properties>` for this node first "+
				"(`osprey storage random-uuid` makes a cluster id; use the same one on every node)", dir)
		case err != nil:
			return "", fmt.Errorf("log directory %s: %w", dir, err)
		case m.Version != 1:
			return "", fmt.Errorf("log directory %s has a version %d meta.properties (ZooKeeper mode): a KRaft node needs "+
				"version 1; format a new directory with `osprey storage format`, or run this node in ZooKeeper mode", dir, m.Version)
		case m.NodeID != cfg.NodeID:
			return "", fmt.Errorf("log directory %s was formatted for node.id=%d, but this node has node.id=%d: "+
				"fix node.id or give this node its own directories", dir, m.NodeID, cfg.NodeID)
		case clusterID != "" && m.ClusterID != clusterID:
			return "", fmt.Errorf("log directory %s belongs to cluster %s but %s belongs to cluster %s: "+
				"every directory of a node must be formatted with the same -t <cluster-id>", dir, m.ClusterID, from, clusterID)
		}
		clusterID, from = m.ClusterID, dir
	}
	return clusterID, nil
}
