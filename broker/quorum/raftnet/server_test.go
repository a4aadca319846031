package raftnet

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/osprey-kafka/osprey/broker/kafkawire"
	"github.com/osprey-kafka/osprey/broker/quorum"
	"github.com/osprey-kafka/osprey/internal/testenv"
)

// testNode is one node of a loopback cluster: its metadata log dir survives restarts.
type testNode struct {
	id    int32
	dir   string
	addr  string
	srv   *Server
	log   *quorum.StorageLog
	snaps *quorum.FileSnapshots
}

type testCluster struct {
	t     *testing.T
	nodes map[int32]*testNode
	peers map[int32]string
}

var testVoters = []int32{1, 2, 3}

func newTestCluster(t *testing.T) *testCluster {
	c := &testCluster{t: t, nodes: map[int32]*testNode{}, peers: map[int32]string{}}
	lns := map[int32]net.Listener{}
	for _, id := range testVoters {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns[id] = ln
		c.peers[id] = ln.Addr().String()
		c.nodes[id] = &testNode{id: id, dir: t.TempDir(), addr: ln.Addr().String()}
	}
	for _, id := range testVoters {
		c.start(id, lns[id])
	}
	t.Cleanup(func() {
		for _, id := range testVoters {
			c.stop(id)
		}
	})
	return c
}

// start opens the node's log and quorum-state from its directory and starts it; ln nil listens
// again on the node's address.
func (c *testCluster) start(id int32, ln net.Listener) {
	t := c.t
	n := c.nodes[id]
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", n.addr); err != nil {
			t.Fatalf("node %d: listen again on %s: %v", id, n.addr, err)
		}
	}
	l, err := quorum.OpenStorageLog(n.dir, quorum.StorageLogOptions{SegmentBytes: 1 << 16})
	if err != nil {
		t.Fatal(err)
	}
	snaps, err := quorum.OpenFileSnapshots(filepath.Join(n.dir, quorum.MetadataTopic+"-0"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Config{
		Node: quorum.Config{
			NodeID:             id,
			Voters:             testVoters,
			ClusterID:          "raftnet-test",
			ElectionTimeout:    150 * time.Millisecond,
			FetchTimeout:       400 * time.Millisecond,
			ElectionBackoffMax: 100 * time.Millisecond,
			RequestTimeout:     300 * time.Millisecond,
			FetchBackoff:       10 * time.Millisecond,
			SnapshotChunkBytes: 1000,
			Log:                l,
			Snapshots:          snaps,
			Store:              &quorum.FileStore{Path: filepath.Join(n.dir, quorum.MetadataTopic+"-0", quorum.QuorumStateFile), Voters: testVoters},
		},
		Listener:     ln,
		Peers:        c.peers,
		TickInterval: 5 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	n.srv, n.log, n.snaps = srv, l, snaps
}

func (c *testCluster) stop(id int32) {
	n := c.nodes[id]
	if n.srv == nil {
		return
	}
	n.srv.Stop()
	if err := n.log.Close(); err != nil {
		c.t.Errorf("node %d: close log: %v", id, err)
	}
	n.srv, n.log = nil, nil
}

// status is what the test reads of a node, on its driver goroutine.
type status struct {
	state  quorum.State
	epoch  int32
	leader int32
	hw     int64
	start  int64
	leo    int64
	data   [][]byte // client entries' payloads, in log order
}

func (c *testCluster) status(id int32) (status, error) {
	n := c.nodes[id]
	if n.srv == nil {
		return status{}, fmt.Errorf("node %d is stopped", id)
	}
	var st status
	var rerr error
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := n.srv.Do(ctx, func(node *quorum.Node) {
		st = status{state: node.State(), epoch: node.Epoch(), leader: node.LeaderID(), hw: node.HighWatermark(), leo: node.Log().EndOffset()}
		st.start = node.Log().StartOffset()
		es, err := node.Log().Read(st.start, int(st.leo-st.start))
		if err != nil {
			rerr = err
			return
		}
		for _, e := range es {
			if !e.Control {
				st.data = append(st.data, e.Data)
			}
		}
	})
	return st, errors.Join(err, rerr)
}

// leader waits until the running nodes agree on a leader of one epoch above minEpoch.
func (c *testCluster) leader(running []int32, minEpoch int32) (id, epoch int32) {
	c.t.Helper()
	testenv.WaitFor(c.t, 10*time.Second, func() error {
		id, epoch = -1, -1
		for _, n := range running {
			st, err := c.status(n)
			if err != nil {
				return err
			}
			if st.epoch <= minEpoch || (epoch >= 0 && st.epoch != epoch) || st.leader < 0 || (id >= 0 && st.leader != id) {
				return fmt.Errorf("no agreed leader yet: node %d is %s in epoch %d with leader %d", n, st.state, st.epoch, st.leader)
			}
			id, epoch = st.leader, st.epoch
		}
		if st, _ := c.status(id); st.state != quorum.Leader {
			return fmt.Errorf("node %d is named leader but is %s", id, st.state)
		}
		return nil
	})
	return id, epoch
}

// appendAt appends payloads at the leader; it fails the test if leader is not the leader.
func (c *testCluster) appendAt(leader int32, payloads ...[]byte) int64 {
	c.t.Helper()
	var off int64
	var aerr error
	if err := c.nodes[leader].srv.Do(context.Background(), func(n *quorum.Node) { off, aerr = n.Append(payloads...) }); err != nil || aerr != nil {
		c.t.Fatalf("append at node %d: %v %v", leader, err, aerr)
	}
	return off
}

// waitCommitted waits until every node in ids holds want as its client entries, with the high
// watermark at its log end.
func (c *testCluster) waitCommitted(ids []int32, want [][]byte) {
	c.t.Helper()
	testenv.WaitFor(c.t, 10*time.Second, func() error {
		for _, id := range ids {
			st, err := c.status(id)
			if err != nil {
				return err
			}
			if !slices.EqualFunc(st.data, want, bytes.Equal) {
				return fmt.Errorf("node %d holds %d client entries %q, want %q", id, len(st.data), st.data, want)
			}
			if st.hw != st.leo {
				return fmt.Errorf("node %d: high watermark %d, log end %d", id, st.hw, st.leo)
			}
		}
		return nil
	})
}

// checkDisk opens a stopped node's metadata log dir and quorum-state file and checks them.
func (c *testCluster) checkDisk(id int32, want [][]byte, wantState quorum.ElectionState) {
	c.t.Helper()
	n := c.nodes[id]
	l, err := quorum.OpenStorageLog(n.dir, quorum.StorageLogOptions{})
	if err != nil {
		c.t.Fatal(err)
	}
	defer l.Close()
	es, err := l.Read(0, int(l.EndOffset()))
	if err != nil {
		c.t.Fatal(err)
	}
	var got [][]byte
	for _, e := range es {
		if !e.Control {
			got = append(got, e.Data)
		}
	}
	if !slices.EqualFunc(got, want, bytes.Equal) {
		c.t.Fatalf("node %d's log on disk holds %q, want %q", id, got, want)
	}
	st, ok, err := (&quorum.FileStore{Path: filepath.Join(n.dir, quorum.MetadataTopic+"-0", quorum.QuorumStateFile)}).Read()
	if err != nil || !ok || st != wantState {
		c.t.Fatalf("node %d's quorum-state: %v (found %v, %v), want %v", id, st, ok, err, wantState)
	}
}

func payloads(from, to int) [][]byte {
	var out [][]byte
	for i := from; i < to; i++ {
		out = append(out, fmt.Appendf(nil, "record %d", i))
	}
	return out
}

func TestLoopbackQuorum(t *testing.T) {
	before := runtime.NumGoroutine()
	c := newTestCluster(t)

	leader, epoch := c.leader(testVoters, 0)
	want := payloads(0, 5)
	c.appendAt(leader, want[:2]...)
	c.appendAt(leader, want[2:]...)
	c.waitCommitted(testVoters, want)

	// The leader goes away: the other two elect one of themselves, keeping what was committed.
	c.stop(leader)
	var rest []int32
	for _, id := range testVoters {
		if id != leader {
			rest = append(rest, id)
		}
	}
	newLeader, newEpoch := c.leader(rest, epoch)
	if newLeader == leader {
		t.Fatalf("the stopped node %d is still the leader", leader)
	}
	c.waitCommitted(rest, want)
	want = append(want, payloads(5, 8)...)
	c.appendAt(newLeader, want[5:]...)
	c.waitCommitted(rest, want)

	// The old leader's directory holds what it had: the first entries and its election state.
	c.checkDisk(leader, want[:5], quorum.ElectionState{Epoch: epoch, LeaderID: leader, VotedID: leader})

	// The old leader restarts from its directories and catches up as a follower.
	c.start(leader, nil)
	if l, e := c.leader(testVoters, epoch); l != newLeader || e != newEpoch {
		t.Fatalf("after the restart the leader is %d in epoch %d, want %d in epoch %d", l, e, newLeader, newEpoch)
	}
	c.waitCommitted(testVoters, want)

	// DescribeQuorum on the wire, as an admin client sends it: the leader lists the three voters
	// at the nodes' log end offsets.
	testenv.WaitFor(t, 10*time.Second, func() error {
		resp, err := describeQuorum(c.nodes[newLeader].addr)
		if err != nil {
			return err
		}
		if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
			return fmt.Errorf("DescribeQuorum answer has %d topics", len(resp.Topics))
		}
		p := resp.Topics[0].Partitions[0]
		if p.ErrorCode != 0 || p.LeaderID != newLeader || p.LeaderEpoch != newEpoch {
			return fmt.Errorf("DescribeQuorum: error %d, leader %d epoch %d; want leader %d epoch %d", p.ErrorCode, p.LeaderID, p.LeaderEpoch, newLeader, newEpoch)
		}
		if len(p.CurrentVoters) != len(testVoters) {
			return fmt.Errorf("DescribeQuorum lists %d voters", len(p.CurrentVoters))
		}
		for _, v := range p.CurrentVoters {
			st, err := c.status(v.ReplicaID)
			if err != nil {
				return err
			}
			if v.LogEndOffset != st.leo {
				return fmt.Errorf("DescribeQuorum: voter %d at %d, its log ends at %d", v.ReplicaID, v.LogEndOffset, st.leo)
			}
		}
		return nil
	})

	for _, id := range testVoters {
		c.stop(id)
	}
	testenv.WaitFor(t, 5*time.Second, func() error {
		if n := runtime.NumGoroutine(); n > before {
			return fmt.Errorf("%d goroutines after Stop, %d before the cluster started", n, before)
		}
		return nil
	})
}

// describeQuorum sends DescribeQuorum v2 to addr on a connection of its own.
func describeQuorum(addr string) (*kmsg.DescribeQuorumResponse, error) {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	return describeQuorumOn(conn)
}

// describeQuorumOn sends DescribeQuorum v2 on conn and reads the answer.
func describeQuorumOn(conn net.Conn) (*kmsg.DescribeQuorumResponse, error) {
	if err := conn.SetDeadline(time.Now().Add(2 * time.Second)); err != nil {
		return nil, err
	}
	req := kmsg.NewPtrDescribeQuorumRequest()
	req.Version = 2
	rt := kmsg.NewDescribeQuorumRequestTopic()
	rt.Topic = quorum.MetadataTopic
	rt.Partitions = append(rt.Partitions, kmsg.NewDescribeQuorumRequestTopicPartition())
	req.Topics = append(req.Topics, rt)
	frame := kmsg.NewRequestFormatter(kmsg.FormatterClientID("test-admin")).AppendRequest(nil, req, 42)
	if _, err := conn.Write(frame); err != nil {
		return nil, err
	}
	b, err := kafkawire.ReadFrame(bufio.NewReader(conn), kafkawire.MinResponseFrame, 1<<20)
	if err != nil {
		return nil, err
	}
	resp, err := kafkawire.ParseResponse(b, req, 42)
	if err != nil {
		return nil, err
	}
	return resp.(*kmsg.DescribeQuorumResponse), nil
}
