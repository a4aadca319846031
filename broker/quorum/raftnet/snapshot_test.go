package raftnet

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/osprey-kafka/osprey/broker/quorum"
	"github.com/osprey-kafka/osprey/internal/testenv"
)

// TestLoopbackSnapshotCatchUp: a follower kept down while the leader snapshots and deletes the
// log prefix it would need comes back through FetchSnapshot on the wire (in chunks of 1,000
// bytes), then fetches the entries after the snapshot.
func TestLoopbackSnapshotCatchUp(t *testing.T) {
	c := newTestCluster(t)
	leader, _ := c.leader(testVoters, 0)
	var down int32
	var up []int32
	for _, id := range testVoters {
		if id != leader && down == 0 {
			down = id
		} else {
			up = append(up, id)
		}
	}
	c.stop(down)

	want := payloads(0, 300)
	c.appendAt(leader, want...)
	c.waitCommitted(up, want)

	// The leader snapshots its committed state (opaque to the quorum: random bytes here) and
	// lets the log before it go.
	data := make([]byte, 4500)
	for i := range data {
		data[i] = byte(rand.IntN(256))
	}
	var id quorum.OffsetAndEpoch
	var derr error
	err := c.nodes[leader].srv.Do(context.Background(), func(n *quorum.Node) {
		es, err := n.Log().Read(n.HighWatermark()-1, 1)
		if err != nil {
			derr = err
			return
		}
		id = quorum.OffsetAndEpoch{Offset: n.HighWatermark(), Epoch: es[0].Epoch}
		if derr = c.nodes[leader].snaps.Write(id, data); derr == nil {
			derr = n.DeletePrefix(id)
		}
	})
	if err != nil || derr != nil {
		t.Fatalf("snapshot at the leader: %v %v", err, derr)
	}
	more := payloads(300, 320)
	c.appendAt(leader, more...)

	c.start(down, nil)
	testenv.WaitFor(t, 10*time.Second, func() error {
		st, err := c.status(down)
		if err != nil {
			return err
		}
		if st.start != id.Offset {
			return fmt.Errorf("node %d's log starts at %d, want %d (the snapshot)", down, st.start, id.Offset)
		}
		if !slices.EqualFunc(st.data, more, bytes.Equal) || st.hw != st.leo {
			return fmt.Errorf("node %d holds %d entries after the snapshot (hw %d, end %d), want %d", down, len(st.data), st.hw, st.leo, len(more))
		}
		return nil
	})
	got, size, err := c.nodes[down].snaps.Read(id, 0, len(data)+1)
	if err != nil || size != int64(len(data)) || !bytes.Equal(got, data) {
		t.Fatalf("node %d's copy of snapshot %s: %d bytes, size %d, %v; want the leader's %d bytes", down, id, len(got), size, err, len(data))
	}
}
