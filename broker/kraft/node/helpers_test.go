package node

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/osprey-kafka/osprey/broker/kraft/image"
	"github.com/osprey-kafka/osprey/broker/kraft/metadata"
	"github.com/osprey-kafka/osprey/broker/kraft/metaprops"
	"github.com/osprey-kafka/osprey/internal/testenv"
)

// testSM is a tiny controller: CreateTopics writes a TopicRecord and one PartitionRecord per
// topic, BrokerRegistration registers (fenced), BrokerHeartbeat unfences a broker that no
// longer wants to be fenced and grants controlled shutdown at once.
type testSM struct {
	mu        sync.Mutex
	activated int
}

func (s *testSM) Activate(time.Time, image.Image) {
	s.mu.Lock()
	s.activated++
	s.mu.Unlock()
}

func (s *testSM) Tick(time.Time, image.Image) []image.VersionedRecord { return nil }

func (s *testSM) Handle(_ time.Time, img image.Image, req kmsg.Request) ([]image.VersionedRecord, kmsg.Response, error) {
	switch r := req.(type) {
	case *kmsg.CreateTopicsRequest:
		return createTopics(img, r)
	case *kmsg.BrokerRegistrationRequest:
		resp := r.ResponseKind().(*kmsg.BrokerRegistrationResponse)
		epoch := int64(1)
		if b, ok := img.Broker(r.BrokerID); ok {
			epoch = b.Epoch + 1
		}
		rec := &metadata.RegisterBrokerRecord{BrokerID: r.BrokerID, IncarnationID: r.IncarnationID, BrokerEpoch: epoch, Fenced: true, Rack: r.Rack}
		for _, l := range r.Listeners {
			rec.EndPoints = append(rec.EndPoints, metadata.Endpoint{Name: l.Name, Host: l.Host, Port: l.Port, SecurityProtocol: l.SecurityProtocol})
		}
		for _, f := range r.Features {
			rec.Features = append(rec.Features, metadata.Feature{Name: f.Name, MinSupportedVersion: f.MinSupportedVersion, MaxSupportedVersion: f.MaxSupportedVersion})
		}
		resp.BrokerEpoch = epoch
		return []image.VersionedRecord{{Record: rec, Version: 3}}, resp, nil
	case *kmsg.BrokerHeartbeatRequest:
		return heartbeat(img, r)
	case *kmsg.ControllerRegistrationRequest:
		rec := &metadata.RegisterControllerRecord{ControllerID: r.ControllerID, IncarnationID: r.IncarnationID}
		for _, l := range r.Listeners {
			rec.EndPoints = append(rec.EndPoints, metadata.Endpoint{Name: l.Name, Host: l.Host, Port: l.Port, SecurityProtocol: l.SecurityProtocol})
		}
		return []image.VersionedRecord{{Record: rec}}, r.ResponseKind(), nil
	}
	return nil, nil, fmt.Errorf("test controller: api key %d not served", req.Key())
}

func createTopics(img image.Image, r *kmsg.CreateTopicsRequest) ([]image.VersionedRecord, kmsg.Response, error) {
	resp := r.ResponseKind().(*kmsg.CreateTopicsResponse)
	var recs []image.VersionedRecord
	for _, t := range r.Topics {
		rt := kmsg.NewCreateTopicsResponseTopic()
		rt.Topic = t.Topic
		if _, ok := img.Topic(t.Topic); ok {
			rt.ErrorCode = kerr.TopicAlreadyExists.Code
		} else {
			id, err := metadata.RandomUuid(rand.Reader)
			if err != nil {
				return nil, nil, err
			}
			rt.TopicID = id
			recs = append(recs,
				image.VersionedRecord{Record: &metadata.TopicRecord{Name: t.Topic, TopicID: id}},
				image.VersionedRecord{Record: &metadata.PartitionRecord{TopicID: id, Replicas: []int32{1}, Isr: []int32{1}, Leader: 1}})
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return recs, resp, nil
}

func heartbeat(img image.Image, r *kmsg.BrokerHeartbeatRequest) ([]image.VersionedRecord, kmsg.Response, error) {
	resp := r.ResponseKind().(*kmsg.BrokerHeartbeatResponse)
	b, ok := img.Broker(r.BrokerID)
	switch {
	case !ok:
		resp.ErrorCode = kerr.BrokerIDNotRegistered.Code
		return nil, resp, nil
	case b.Epoch != r.BrokerEpoch:
		resp.ErrorCode = kerr.StaleBrokerEpoch.Code
		return nil, resp, nil
	}
	var recs []image.VersionedRecord
	resp.IsFenced = b.Fenced
	if b.Fenced && !r.WantFence && r.CurrentMetadataOffset >= 0 {
		recs = append(recs, image.VersionedRecord{Record: &metadata.UnfenceBrokerRecord{ID: b.ID, Epoch: b.Epoch}})
		resp.IsFenced = false
	}
	resp.IsCaughtUp = !r.WantFence
	resp.ShouldShutdown = r.WantShutdown
	return recs, resp, nil
}

// testCluster is three controllers (1-3) and a broker-only observer (4) on 127.0.0.1, each
// with a metadata directory formatted as `osprey storage format` formats it.
type testCluster struct {
	t         *testing.T
	clusterID string
	voters    []Voter
	dirs      map[int32]string
	nodes     map[int32]*Node
	sms       map[int32]StateMachine
	newSM     func(id int32) StateMachine
	tune      func(*Config)
}

const observerID = 4

var controllerIDs = []int32{1, 2, 3}

func newTestCluster(t *testing.T) *testCluster {
	t.Helper()
	return newTestClusterWith(t, nil, nil)
}

// newTestClusterWith is newTestCluster with the controllers' state machines from newSM (nil:
// a testSM each) and each node's Config passed through tune (when not nil).
func newTestClusterWith(t *testing.T, newSM func(id int32) StateMachine, tune func(*Config)) *testCluster {
	t.Helper()
	id, err := metadata.RandomUuid(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	c := &testCluster{t: t, clusterID: id.String(), dirs: map[int32]string{}, nodes: map[int32]*Node{}, sms: map[int32]StateMachine{}, newSM: newSM, tune: tune}
	lns := map[int32]net.Listener{}
	for _, id := range controllerIDs {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns[id] = ln
		port := ln.Addr().(*net.TCPAddr).Port
		c.voters = append(c.voters, Voter{ID: id, Host: "127.0.0.1", Port: port})
	}
	for _, id := range append(controllerIDs, observerID) {
		c.dirs[id] = formatDir(t, c.clusterID, id)
	}
	t.Cleanup(func() {
		for id := range c.nodes {
			c.stop(id)
		}
	})
	for _, id := range controllerIDs {
		c.start(id, lns[id])
	}
	c.start(observerID, nil)
	return c
}

// formatDir formats a new metadata directory for node id as `osprey storage format` does for
// a static quorum.
func formatDir(t *testing.T, clusterID string, id int32) string {
	t.Helper()
	dir := t.TempDir()
	err := metaprops.Format(metaprops.FormatOptions{ClusterID: clusterID, NodeID: id, Directories: []string{dir}, MetadataLogDir: dir,
		ControllerListenerName: "CONTROLLER"})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func (c *testCluster) config(id int32, ln net.Listener) Config {
	cfg := Config{
		NodeID:               id,
		ClusterID:            c.clusterID,
		Broker:               true,
		Voters:               c.voters,
		MetadataDir:          c.dirs[id],
		ControllerListener:   ln,
		ElectionTimeout:      150 * time.Millisecond,
		FetchTimeout:         400 * time.Millisecond,
		ElectionBackoffMax:   100 * time.Millisecond,
		QuorumRequestTimeout: 300 * time.Millisecond,
		SegmentBytes:         1 << 16,
		ControllerTick:       20 * time.Millisecond,
		RequestTimeout:       2 * time.Second,
		Logger:               testLogger(),
	}
	if id != observerID {
		cfg.Controller = true
		cfg.StateMachine = c.sm(id)
	}
	if c.tune != nil {
		c.tune(&cfg)
	}
	return cfg
}

// sm is controller id's state machine, kept across its restarts.
func (c *testCluster) sm(id int32) StateMachine {
	if c.sms[id] == nil {
		if c.newSM != nil {
			c.sms[id] = c.newSM(id)
		} else {
			c.sms[id] = &testSM{}
		}
	}
	return c.sms[id]
}

// start starts node id; a controller with a nil ln listens again on its voter address.
func (c *testCluster) start(id int32, ln net.Listener) *Node {
	t := c.t
	t.Helper()
	if ln == nil && id != observerID {
		var err error
		if ln, err = net.Listen("tcp", c.voters[id-1].Addr()); err != nil {
			t.Fatalf("node %d: listen again on %s: %v", id, c.voters[id-1].Addr(), err)
		}
	}
	n, err := Start(context.Background(), c.config(id, ln))
	if err != nil {
		t.Fatalf("node %d: %v", id, err)
	}
	c.nodes[id] = n
	return n
}

func (c *testCluster) stop(id int32) {
	if n := c.nodes[id]; n != nil {
		if err := n.Close(); err != nil {
			c.t.Errorf("node %d: close: %v", id, err)
		}
		delete(c.nodes, id)
	}
}

// leader waits until every running node knows the same leader, in an epoch above after, and
// returns it.
func (c *testCluster) leader(after int32) (int32, int32) {
	c.t.Helper()
	var leader, epoch int32
	testenv.WaitFor(c.t, 15*time.Second, func() error {
		leader, epoch = -1, -1
		for id, n := range c.nodes {
			l, e := n.Quorum()
			if l < 0 || e <= after {
				return fmt.Errorf("node %d knows leader %d in epoch %d", id, l, e)
			}
			if leader >= 0 && (l != leader || e != epoch) {
				return fmt.Errorf("nodes disagree: leader %d epoch %d vs leader %d epoch %d", leader, epoch, l, e)
			}
			leader, epoch = l, e
		}
		return nil
	})
	return leader, epoch
}

// waitAll waits until every running node's image satisfies pred.
func (c *testCluster) waitAll(what string, pred func(image.Image) bool) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for id, n := range c.nodes {
		if _, err := n.WaitFor(ctx, pred); err != nil {
			c.t.Fatalf("node %d: waiting for %s: %v", id, what, err)
		}
	}
}

func hasTopic(name string) func(image.Image) bool {
	return func(img image.Image) bool { _, ok := img.Topic(name); return ok }
}

// createTopic sends CreateTopics for name through node from and checks the answer.
func createTopic(t *testing.T, from *Node, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	req := kmsg.NewPtrCreateTopicsRequest()
	req.Version = 7
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = name, 1, 1
	req.Topics = append(req.Topics, rt)
	resp, err := from.ControllerRequest(ctx, req)
	if err != nil {
		t.Fatalf("CreateTopics %s from node %d: %v", name, from.ID(), err)
	}
	r := resp.(*kmsg.CreateTopicsResponse)
	if len(r.Topics) != 1 || r.Topics[0].ErrorCode != 0 {
		t.Fatalf("CreateTopics %s from node %d: %+v", name, from.ID(), r.Topics)
	}
}

// testLogger writes the nodes' logs to stderr when OSPREY_TEST_LOG is set.
func testLogger() *slog.Logger {
	if os.Getenv("OSPREY_TEST_LOG") == "" {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
}
