package node

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/osprey-kafka/osprey/broker/kraft/image"
	"github.com/osprey-kafka/osprey/broker/kraft/metadata"
	"github.com/osprey-kafka/osprey/broker/kraft/metaprops"
	"github.com/osprey-kafka/osprey/broker/kraft/snapshot"
	"github.com/osprey-kafka/osprey/broker/quorum"
	"github.com/osprey-kafka/osprey/internal/testenv"
)

// logStart is node id's metadata log start and end, read on its quorum driver.
func (c *testCluster) logStart(id int32) (start, end int64) {
	c.t.Helper()
	if err := c.nodes[id].srv.Do(context.Background(), func(q *quorum.Node) {
		start, end = q.Log().StartOffset(), q.Log().EndOffset()
	}); err != nil {
		c.t.Fatal(err)
	}
	return start, end
}

// imageBytes is an image's snapshot records, marshalled: equal images give equal bytes.
func imageBytes(t *testing.T, img image.Image) []byte {
	t.Helper()
	recs, err := img.Records()
	if err != nil {
		t.Fatal(err)
	}
	var b []byte
	for _, r := range recs {
		raw, err := metadata.Marshal(r.Record, r.Version)
		if err != nil {
			t.Fatal(err)
		}
		b = append(b, raw...)
	}
	return b
}

// waitSameImage waits until every running node has replayed to the same offset as node ref,
// and checks that their images at that offset equal ref's (each read with its offset at once:
// the log may move on between reads, a controller registering after its restart).
func (c *testCluster) waitSameImage(ref int32) {
	c.t.Helper()
	testenv.WaitFor(c.t, 15*time.Second, func() error {
		want, wantNext := c.nodes[ref].committed()
		wantBytes := imageBytes(c.t, want)
		for id, n := range c.nodes {
			img, next := n.committed()
			if next != wantNext {
				return fmt.Errorf("node %d replayed to %d, node %d to %d", id, next, ref, wantNext)
			}
			if !bytes.Equal(imageBytes(c.t, img), wantBytes) {
				c.t.Fatalf("node %d's image at offset %d differs from node %d's", id, next, ref)
			}
		}
		return nil
	})
}

// TestSnapshotCatchUp: with a small snapshot threshold, the nodes that stay up write snapshots
// and delete the log before them; a controller and the broker-only observer kept down meanwhile
// come back through FetchSnapshot (their logs restart past where they ended) with the same image
// as the leader, and a restart loads the node's own snapshot from disk.
func TestSnapshotCatchUp(t *testing.T) {
	c := newTestClusterWith(t, nil, func(cfg *Config) { cfg.SnapshotMaxBytes = 2000 })
	leader, _ := c.leader(0)
	createTopic(t, c.nodes[leader], "first")
	c.waitAll("topic first", hasTopic("first"))
	down := controllerIDs[0]
	if down == leader {
		down = controllerIDs[1]
	}
	_, downEnd := c.logStart(down)
	_, obsEnd := c.logStart(observerID)
	c.stop(down)
	c.stop(observerID)

	const topics = 60
	for i := range topics {
		createTopic(t, c.nodes[leader], fmt.Sprintf("t%d", i))
	}
	last := fmt.Sprintf("t%d", topics-1)
	c.waitAll("the topics", hasTopic(last))
	testenv.WaitFor(t, 15*time.Second, func() error {
		start, _ := c.logStart(leader)
		if start <= max(downEnd, obsEnd) {
			return fmt.Errorf("the leader's log starts at %d; the stopped nodes' logs end at %d and %d", start, downEnd, obsEnd)
		}
		return nil
	})
	leaderStart, _ := c.logStart(leader)

	c.start(down, nil)
	c.start(observerID, nil)
	c.waitAll("the topics after the restart", hasTopic(last))
	for _, id := range []int32{down, observerID} {
		if start, _ := c.logStart(id); start < leaderStart {
			t.Errorf("node %d's log starts at %d, below the leader's start %d when it came back: not through a snapshot", id, start, leaderStart)
		}
	}
	c.waitSameImage(leader)

	// The fetched snapshot is a Kafka checkpoint file in __cluster_metadata-0.
	start, _ := c.logStart(down)
	var id quorum.OffsetAndEpoch
	for _, s := range c.nodes[down].snaps.List() {
		if s.Offset == start {
			id = s
		}
	}
	path := filepath.Join(c.dirs[down], metaprops.MetadataPartitionDir, fmt.Sprintf("%020d-%010d.checkpoint", id.Offset, id.Epoch))
	s, err := snapshot.ReadFile(path)
	if err != nil || len(s.Records) == 0 {
		t.Fatalf("node %d's snapshot at its log start %d: %v, %d records", down, start, err, len(s.Records))
	}
	if _, err := os.Stat(path + ".part"); !os.IsNotExist(err) {
		t.Errorf("a partial snapshot copy is left: %v", err)
	}

	// Restarted, the node starts from its own snapshot and the log after it.
	c.stop(down)
	n := c.start(down, nil)
	if n.Offset() < start-1 {
		t.Errorf("node %d restarted at offset %d, before its snapshot at %d", down, n.Offset(), start)
	}
	createTopic(t, c.nodes[leader], "after")
	c.waitAll("topic after", hasTopic("after"))
	c.waitSameImage(leader)
}
