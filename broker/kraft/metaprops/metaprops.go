// Package metaprops reads and writes a KRaft node's meta.properties, the file
// that marks a log directory as formatted, and formats directories as Apache
// Kafka's `kafka-storage.sh format` does (MetaProperties,
// MetaPropertiesEnsemble and Formatter in apache/kafka's metadata module).
//
// The file is byte-compatible with what Kafka writes on Java 18 and later
// (the apache/kafka images run Java 21): an empty comment line, a date
// comment line, then the keys in sorted order:
//
//	#
//	#Sun Dec 06 01:49:45 UTC 2026
//	cluster.id=<22-character base64url Uuid>
//	directory.id=<22-character base64url Uuid>
//	node.id=<id>
//	version=1
//
// Kafka on Java 17 writes the same lines in hash order (node.id,
// directory.id, version, cluster.id); readers do not depend on the order.
package metaprops

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/osprey-kafka/osprey/broker/kraft/metadata"

	"github.com/osprey-kafka/osprey/internal/atomicfile"
)

// FileName is the file's name in each log directory.
const FileName = "meta.properties"

// The keys of meta.properties.
const (
	keyVersion     = "version"
	keyClusterID   = "cluster.id"
	keyNodeID      = "node.id"
	keyBrokerID    = "broker.id"
	keyDirectoryID = "directory.id"
)

// MetaProperties is one directory's meta.properties. Version 1 is KRaft's
// (node.id); version 0 is ZooKeeper mode's (broker.id).
type MetaProperties struct {
	Version     int
	ClusterID   string
	NodeID      int32 // node.id, or broker.id in a version 0 file; -1 = absent
	DirectoryID *metadata.Uuid
}

// dateLayout is java.util.Date.toString's layout, which
// java.util.Properties.store writes as the second comment line.
const dateLayout = "Mon Jan 02 15:04:05 MST 2006"

// Marshal renders m as Kafka's Properties.store(writer, "") does.
func (m MetaProperties) Marshal(now time.Time) []byte {
	props := map[string]string{keyVersion: strconv.Itoa(m.Version)}
	if m.ClusterID != "" {
		props[keyClusterID] = m.ClusterID
	}
	if m.NodeID >= 0 {
		if m.Version == 0 {
			props[keyBrokerID] = strconv.Itoa(int(m.NodeID))
		} else {
			props[keyNodeID] = strconv.Itoa(int(m.NodeID))
		}
	}
	if m.DirectoryID != nil {
		props[keyDirectoryID] = m.DirectoryID.String()
	}
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b bytes.Buffer
	b.WriteString("#\n#" + now.Format(dateLayout) + "\n")
	for _, k := range keys {
		b.WriteString(k + "=" + props[k] + "\n")
	}
	return b.Bytes()
}

// Parse reads a meta.properties body as Kafka's MetaProperties.Builder does:
// version defaults to 0, node.id (broker.id in version 0) must be an integer,
// directory.id a Uuid; a version 1 file must have cluster.id and node.id.
func Parse(body []byte) (MetaProperties, error) {
	props := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		ln := strings.TrimLeft(sc.Text(), " \t\f")
		if ln == "" || ln[0] == '#' || ln[0] == '!' {
			continue
		}
		i := strings.IndexAny(ln, "=:")
		if i < 0 {
			props[strings.TrimSpace(ln)] = ""
			continue
		}
		props[strings.TrimSpace(ln[:i])] = strings.TrimSpace(ln[i+1:])
	}
	if err := sc.Err(); err != nil {
		return MetaProperties{}, err
	}
	m := MetaProperties{NodeID: -1}
	if v, ok := props[keyVersion]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || (n != 0 && n != 1) {
			return m, fmt.Errorf("version=%q: want 0 or 1", v)
		}
		m.Version = n
	}
	m.ClusterID = props[keyClusterID]
	idKey := keyNodeID
	if m.Version == 0 {
		idKey = keyBrokerID
	}
	if v, ok := props[idKey]; ok {
		n, err := strconv.ParseInt(v, 10, 32)
		if err != nil || n < 0 {
			return m, fmt.Errorf("%s=%q: not a node id", idKey, v)
		}
		m.NodeID = int32(n)
	}
	if v, ok := props[keyDirectoryID]; ok {
		u, err := metadata.ParseUuid(v)
		if err != nil {
			return m, fmt.Errorf("unable to read directory.id as a Uuid: %w", err)
		}
		m.DirectoryID = &u
	}
	if m.Version == 1 {
		if m.ClusterID == "" {
			return m, errors.New("cluster.id was not found")
		}
		if m.NodeID < 0 {
			return m, errors.New("node.id was not found")
		}
	}
	return m, nil
}

// Read reads dir's meta.properties. A directory without one (or a missing
// directory) gives an error matching os.ErrNotExist.
func Read(dir string) (MetaProperties, error) {
	path := filepath.Join(dir, FileName)
	body, err := os.ReadFile(path)
	if err != nil {
		return MetaProperties{}, err
	}
	m, err := Parse(body)
	if err != nil {
		return m, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// Write writes dir/meta.properties as Kafka's PropertiesUtils does: to a
// .tmp file first, fsynced, then renamed over the old one, then the
// directory fsynced.
func Write(dir string, m MetaProperties, now time.Time) error {
	return atomicfile.Write(filepath.Join(dir, FileName), m.Marshal(now), 0o644)
}
