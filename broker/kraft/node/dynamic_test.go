package node

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/osprey-kafka/osprey/broker/kraft/image"
	"github.com/osprey-kafka/osprey/broker/kraft/metadata"
	"github.com/osprey-kafka/osprey/broker/kraft/metaprops"
	"github.com/osprey-kafka/osprey/broker/kraft/snapshot"
	"github.com/osprey-kafka/osprey/broker/quorum"
	"github.com/osprey-kafka/osprey/internal/testenv"
)

// dynamicCluster is controllers of a dynamic quorum (KIP-853) on 127.0.0.1: node 1 formatted
// with --standalone, the others with --no-initial-controllers, each started with node 1's
// listener as controller.quorum.bootstrap.servers and no controller.quorum.voters.
type dynamicCluster struct {
	t         *testing.T
	clusterID string
	addrs     map[int32]string
	dirs      map[int32]string
	nodes     map[int32]*Node
	sms       map[int32]StateMachine
	// snapshotBytes is each node's SnapshotMaxBytes (0: the default).
	snapshotBytes int64
}

func newDynamicCluster(t *testing.T, ids ...int32) *dynamicCluster {
	t.Helper()
	return newDynamicClusterSnapshotting(t, 0, ids...)
}

func newDynamicClusterSnapshotting(t *testing.T, snapshotBytes int64, ids ...int32) *dynamicCluster {
	t.Helper()
	cid, err := metadata.RandomUuid(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	c := &dynamicCluster{t: t, clusterID: cid.String(), addrs: map[int32]string{}, dirs: map[int32]string{},
		nodes: map[int32]*Node{}, sms: map[int32]StateMachine{}, snapshotBytes: snapshotBytes}
	lns := map[int32]net.Listener{}
	for _, id := range ids {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns[id], c.addrs[id] = ln, ln.Addr().String()
	}
	for _, id := range ids {
		dir := t.TempDir()
		opts := metaprops.FormatOptions{ClusterID: c.clusterID, NodeID: id, Directories: []string{dir}, MetadataLogDir: dir,
			ControllerListenerName: "CONTROLLER"}
		if id == ids[0] {
			dirID, err := metadata.RandomUuid(rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			port := lns[id].Addr().(*net.TCPAddr).Port
			opts.InitialControllers = []metaprops.Voter{{ID: id, Host: "127.0.0.1", Port: port, DirectoryID: dirID}}
		}
		if err := metaprops.Format(opts); err != nil {
			t.Fatal(err)
		}
		c.dirs[id] = dir
	}
	t.Cleanup(func() {
		for id := range c.nodes {
			c.stop(id)
		}
	})
	for _, id := range ids {
		c.start(id, lns[id])
	}
	return c
}

func (c *dynamicCluster) start(id int32, ln net.Listener) {
	c.t.Helper()
	if c.sms[id] == nil {
		c.sms[id] = &testSM{}
	}
	n, err := Start(context.Background(), Config{
		NodeID: id, ClusterID: c.clusterID, Controller: true, StateMachine: c.sms[id],
		BootstrapServers: []string{c.addrs[1]}, MetadataDir: c.dirs[id], ControllerListener: ln,
		ElectionTimeout: 150 * time.Millisecond, FetchTimeout: 400 * time.Millisecond,
		ElectionBackoffMax: 100 * time.Millisecond, QuorumRequestTimeout: 300 * time.Millisecond,
		SegmentBytes: 1 << 16, SnapshotMaxBytes: c.snapshotBytes, ControllerTick: 20 * time.Millisecond, RequestTimeout: 2 * time.Second,
		Logger: testLogger(),
	})
	if err != nil {
		c.t.Fatalf("node %d: %v", id, err)
	}
	c.nodes[id] = n
}

func (c *dynamicCluster) stop(id int32) {
	if n := c.nodes[id]; n != nil {
		if err := n.Close(); err != nil {
			c.t.Errorf("node %d: close: %v", id, err)
		}
		delete(c.nodes, id)
	}
}

func (c *dynamicCluster) dirID(id int32) metadata.Uuid {
	c.t.Helper()
	mp, err := metaprops.Read(c.dirs[id])
	if err != nil || mp.DirectoryID == nil {
		c.t.Fatalf("node %d meta.properties: %v", id, err)
	}
	return *mp.DirectoryID
}

// addVoter sends AddRaftVoter for id through node via, until the leader accepts it (it answers
// REQUEST_TIMED_OUT while the node has not caught up or another change is in progress).
func (c *dynamicCluster) addVoter(via, id int32) {
	c.t.Helper()
	host, port, _ := strings.Cut(c.addrs[id], ":")
	var p uint16
	fmt.Sscan(port, &p)
	req := kmsg.NewPtrAddRaftVoterRequest()
	req.Version, req.TimeoutMillis, req.AckWhenCommitted = 1, 5000, true
	req.VoterID, req.VoterDirectoryID = id, c.dirID(id)
	l := kmsg.NewAddRaftVoterRequestListener()
	l.Name, l.Host, l.Port = "CONTROLLER", host, p
	req.Listeners = append(req.Listeners, l)
	c.voterChange(via, req, fmt.Sprintf("AddRaftVoter %d", id))
}

func (c *dynamicCluster) removeVoter(via, id int32) {
	c.t.Helper()
	req := kmsg.NewPtrRemoveRaftVoterRequest()
	req.VoterID, req.VoterDirectoryID = id, c.dirID(id)
	c.voterChange(via, req, fmt.Sprintf("RemoveRaftVoter %d", id))
}

func (c *dynamicCluster) voterChange(via int32, req kmsg.Request, what string) {
	c.t.Helper()
	testenv.WaitFor(c.t, 20*time.Second, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		resp, err := c.nodes[via].QuorumRequest(ctx, req)
		if err != nil {
			return err
		}
		switch code := voterChangeError(resp); code {
		case 0:
			return nil
		case kerr.RequestTimedOut.Code:
			return fmt.Errorf("%s: %w", what, kerr.ErrorForCode(code))
		default:
			c.t.Fatalf("%s: %v", what, kerr.ErrorForCode(code))
		}
		return nil
	})
}

// waitVoters waits until DescribeQuorum asked through node via lists exactly want as voters.
func (c *dynamicCluster) waitVoters(via int32, want ...int32) *kmsg.DescribeQuorumResponseTopicPartition {
	c.t.Helper()
	var p kmsg.DescribeQuorumResponseTopicPartition
	testenv.WaitFor(c.t, 20*time.Second, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		resp, err := c.nodes[via].DescribeQuorum(ctx)
		if err != nil {
			return err
		}
		p = resp.Topics[0].Partitions[0]
		var got []int32
		for _, v := range p.CurrentVoters {
			got = append(got, v.ReplicaID)
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			return fmt.Errorf("DescribeQuorum voters %v, want %v", got, want)
		}
		return nil
	})
	return &p
}

// A dynamic quorum on running nodes: a standalone controller and three that join as observers
// through controller.quorum.bootstrap.servers; AddRaftVoter makes 2 and 3 voters, a 4th is
// added and removed again (DescribeQuorum checked after each step); the leader stops, another
// voter takes over with the records committed before, and the old leader, restarted, recovers
// the voter set from its own log.
func TestDynamicQuorum(t *testing.T) {
	c := newDynamicCluster(t, 1, 2, 3, 4)
	c.waitVoters(4, 1)
	createTopic(t, c.nodes[2], "before")
	av := kmsg.NewPtrApiVersionsResponse()
	c.nodes[3].FillFeatures(av)
	if !slices.ContainsFunc(av.FinalizedFeatures, func(f kmsg.ApiVersionsResponseFinalizedFeature) bool {
		return f.Name == "kraft.version" && f.MaxVersionLevel == 1
	}) {
		t.Errorf("ApiVersions finalized features %+v, want kraft.version 1", av.FinalizedFeatures)
	}

	c.addVoter(4, 2)
	c.waitVoters(4, 1, 2)
	c.addVoter(3, 3)
	p := c.waitVoters(4, 1, 2, 3)
	if len(p.Observers) == 0 {
		t.Errorf("DescribeQuorum lists no observer; node 4 fetches as one")
	}
	c.addVoter(2, 4)
	c.waitVoters(1, 1, 2, 3, 4)
	c.removeVoter(3, 4)
	c.waitVoters(2, 1, 2, 3)

	for _, id := range []int32{1, 2, 3, 4} {
		st, err := os.ReadFile(filepath.Join(c.dirs[id], metaprops.MetadataPartitionDir, quorum.QuorumStateFile))
		if err != nil || !strings.Contains(string(st), `"data_version":1`) || !strings.Contains(string(st), `"votedDirectoryId"`) {
			t.Errorf("node %d quorum-state %s (%v), want data_version 1", id, st, err)
		}
	}

	leader, epoch := c.nodes[2].Quorum()
	c.stop(leader)
	var others []int32
	for _, id := range []int32{1, 2, 3} {
		if id != leader {
			others = append(others, id)
		}
	}
	testenv.WaitFor(t, 20*time.Second, func() error {
		l, e := c.nodes[others[0]].Quorum()
		if e <= epoch || !slices.Contains(others, l) {
			return fmt.Errorf("node %d knows leader %d in epoch %d; want one of %v after epoch %d", others[0], l, e, others, epoch)
		}
		return nil
	})
	createTopic(t, c.nodes[others[1]], "after")
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for _, id := range others {
		if _, err := c.nodes[id].WaitFor(ctx, func(img image.Image) bool { return hasTopic("before")(img) && hasTopic("after")(img) }); err != nil {
			t.Fatalf("node %d: %v", id, err)
		}
	}
	c.waitVoters(others[0], 1, 2, 3)

	// The old leader comes back: its log and quorum-state give it the voter set again.
	ln, err := net.Listen("tcp", c.addrs[leader])
	if err != nil {
		t.Fatal(err)
	}
	c.start(leader, ln)
	if _, err := c.nodes[leader].WaitFor(ctx, hasTopic("after")); err != nil {
		t.Fatalf("restarted node %d: %v", leader, err)
	}
	c.waitVoters(leader, 1, 2, 3)
}

// A dynamic quorum's snapshots carry the voter set (KRaftVersionRecord and VotersRecord after
// the header), so a node whose log before its snapshot is gone still knows the voters when it
// restarts.
func TestDynamicQuorumSnapshotCarriesVoters(t *testing.T) {
	c := newDynamicClusterSnapshotting(t, 300, 1, 2)
	c.addVoter(2, 2)
	c.waitVoters(2, 1, 2)
	for i := range 12 {
		createTopic(t, c.nodes[1], fmt.Sprintf("t%d", i))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if _, err := c.nodes[2].WaitFor(ctx, hasTopic("t11")); err != nil {
		t.Fatal(err)
	}
	var start int64
	testenv.WaitFor(t, 15*time.Second, func() error {
		if err := c.nodes[2].srv.Do(ctx, func(q *quorum.Node) { start = q.Log().StartOffset() }); err != nil {
			return err
		}
		if start == 0 {
			return errors.New("node 2 has not deleted its log before a snapshot yet")
		}
		return nil
	})
	ids := c.nodes[2].snaps.List()
	s, err := snapshot.ReadFile(c.nodes[2].snaps.Path(ids[len(ids)-1]))
	if err != nil {
		t.Fatal(err)
	}
	if s.KRaftVersion == nil || s.KRaftVersion.KRaftVersion != 1 || s.Voters == nil || len(s.Voters.Voters) != 2 {
		t.Fatalf("node 2's snapshot %s: kraft.version %+v, voters %+v; want 1 and nodes 1 and 2", ids[len(ids)-1], s.KRaftVersion, s.Voters)
	}

	c.stop(2)
	ln, err := net.Listen("tcp", c.addrs[2])
	if err != nil {
		t.Fatal(err)
	}
	c.start(2, ln)
	var voters []int32
	if err := c.nodes[2].srv.Do(ctx, func(q *quorum.Node) { start, voters = q.Log().StartOffset(), q.Voters().IDs() }); err != nil {
		t.Fatal(err)
	}
	if start == 0 || !slices.Equal(voters, []int32{1, 2}) {
		t.Fatalf("restarted node 2: log start %d, voters %v; want a log after a snapshot and voters [1 2]", start, voters)
	}
	createTopic(t, c.nodes[2], "after-restart")
	c.waitVoters(2, 1, 2)
}

// A node that knows neither voters nor bootstrap servers is refused, naming both keys; a
// bootstrap server that is not host:port is refused naming it.
func TestQuorumConfigRefusals(t *testing.T) {
	base := Config{NodeID: 1, Controller: true, StateMachine: &testSM{}, MetadataDir: t.TempDir()}
	_, err := Start(context.Background(), base)
	if err == nil || !strings.Contains(err.Error(), "controller.quorum.voters") || !strings.Contains(err.Error(), "controller.quorum.bootstrap.servers") {
		t.Errorf("no voters nor bootstrap servers: %v; want a refusal naming both keys", err)
	}
	bad := base
	bad.BootstrapServers = []string{"controller-1"}
	if _, err := Start(context.Background(), bad); err == nil || !strings.Contains(err.Error(), `"controller-1"`) {
		t.Errorf("bootstrap server without a port: %v; want a refusal naming it", err)
	}
}

// A controller of a dynamic quorum registers (KIP-919) its listeners in the voter set once it
// is a voter, and before that the address it listens on, localhost for a wildcard one.
func TestDynamicControllerEndpoints(t *testing.T) {
	ln, err := net.Listen("tcp", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := uint16(ln.Addr().(*net.TCPAddr).Port)
	n := &Node{cfg: Config{NodeID: 5, ControllerListener: ln}}
	if got := n.controllerEndpoints(); len(got) != 1 || got[0].Host != "localhost" || got[0].Port != port {
		t.Errorf("an observer controller registers %+v, want CONTROLLER localhost:%d", got, port)
	}
	n.voters = quorum.VoterSet{{ID: 5, Endpoints: []quorum.Endpoint{{Name: "CONTROLLER", Host: "c5.example", Port: 9093}}}}
	if got := n.controllerEndpoints(); len(got) != 1 || got[0].Host != "c5.example" || got[0].Port != 9093 {
		t.Errorf("a voter registers %+v, want its voter-set listener c5.example:9093", got)
	}
}
