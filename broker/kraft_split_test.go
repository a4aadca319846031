package broker

import (
	"context"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/osprey-kafka/osprey/broker/kraft/metaprops"
	"github.com/osprey-kafka/osprey/internal/testenv"
)

// splitControllerIDBase numbers the controller-only nodes of
// newKRaftSplitTestCluster 101, 102, …, so that broker ids stay 1..n as
// testCluster expects (the supervisor numbers them the same way).
const splitControllerIDBase = 100

// newKRaftSplitTestCluster is a KRaft cluster in this process with m
// controller-only nodes (process.roles=controller, the quorum's voters, ids
// 101..100+m) and n broker-only nodes (process.roles=broker, ids 1..n), each
// formatted as `osprey storage format` does. The testCluster holds the
// brokers; the controllers run until the test ends, after the brokers stop.
func newKRaftSplitTestCluster(t *testing.T, m, n int, opts ...testBrokerOpt) *testCluster {
	t.Helper()
	c, _ := newKRaftSplit(t, m, n, opts...)
	return c
}

// newKRaftSplit is newKRaftSplitTestCluster that also returns the
// controllers.
func newKRaftSplit(t *testing.T, m, n int, opts ...testBrokerOpt) (*testCluster, []*Controller) {
	t.Helper()
	return newKRaftSplitProps(t, m, n, nil, opts...)
}

// newKRaftSplitProps is newKRaftSplit with more server.properties keys per
// node (extra(id), nil for none), controllers and brokers alike.
func newKRaftSplitProps(t *testing.T, m, n int, extra func(id int) map[string]string, opts ...testBrokerOpt) (*testCluster, []*Controller) {
	t.Helper()
	ports := freePorts(t, m+n)
	var voters []string
	for j := 0; j < m; j++ {
		voters = append(voters, fmt.Sprintf("%d@127.0.0.1:%d", splitControllerIDBase+j+1, ports[n+j]))
	}
	const clusterID = "T3NwcmV5S1JhZnRTcGxpdA"
	common := func(roles string, id int, listeners string) map[string]string {
		props := map[string]string{
			"process.roles":                         roles,
			"node.id":                               strconv.Itoa(id),
			"controller.quorum.voters":              strings.Join(voters, ","),
			"controller.listener.names":             "CONTROLLER",
			"listeners":                             listeners,
			"log.dirs":                              t.TempDir(),
			"broker.session.timeout.ms":             "3000",
			"broker.heartbeat.interval.ms":          "300",
			"controller.quorum.election.timeout.ms": "500",
			"controller.quorum.fetch.timeout.ms":    "1000",
		}
		if extra != nil {
			maps.Copy(props, extra(id))
		}
		return props
	}
	format := func(cfg Config) {
		t.Helper()
		err := metaprops.Format(metaprops.FormatOptions{ClusterID: clusterID, NodeID: cfg.NodeID,
			Directories: cfg.LogDirs, MetadataLogDir: cfg.MetadataDir(), ControllerListenerName: "CONTROLLER"})
		if err != nil {
			t.Fatalf("formatting node %d: %v", cfg.NodeID, err)
		}
	}
	ctls := startControllers(t, m, func(j int) Config {
		id := splitControllerIDBase + j + 1
		cfg, err := ConfigFromProperties(common("controller", id, fmt.Sprintf("CONTROLLER://127.0.0.1:%d", ports[n+j])), testLogger(t))
		if err != nil {
			t.Fatal(err)
		}
		format(cfg)
		return cfg
	})

	c := &testCluster{t: t, brokers: make([]*Broker, n)}
	for i := 0; i < n; i++ {
		cfg, err := ConfigFromProperties(common("broker", i+1, fmt.Sprintf("PLAINTEXT://127.0.0.1:%d", ports[i])), testLogger(t))
		if err != nil {
			t.Fatal(err)
		}
		tc := testConfig()
		cfg.OffsetsTopicPartitions, cfg.GroupInitialRebalanceDelay, cfg.GroupMinSessionTimeout =
			3, tc.GroupInitialRebalanceDelay, tc.GroupMinSessionTimeout
		cfg.ReplicaLagTimeMax = 2 * time.Second
		cfg.OffsetsTopicReplicationFactor = int16(min(n, 3))
		cfg.AutoLeaderRebalance = false
		for _, o := range opts {
			o(&cfg)
		}
		format(cfg)
		c.cfgs = append(c.cfgs, cfg)
	}
	// startAll registers the brokers' cleanup after the controllers', so it
	// runs first: the brokers' controlled shutdown needs an active controller.
	c.startAll()
	return c, ctls
}

// startControllers starts m controller-only nodes (cfg(j) is the j-th's
// configuration, formatted) and closes them when the test ends.
func startControllers(t *testing.T, m int, cfg func(j int) Config) []*Controller {
	t.Helper()
	ctls := make([]*Controller, m)
	t.Cleanup(func() {
		for _, ctl := range ctls {
			if ctl != nil {
				ctl.Close()
			}
		}
	})
	for j := 0; j < m; j++ {
		c := cfg(j)
		ctl, err := NewController(c, testLogger(t).With("test_controller", c.NodeID))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		err = ctl.Start(ctx)
		cancel()
		if err != nil {
			t.Fatalf("start controller %d: %v", c.NodeID, err)
		}
		ctls[j] = ctl
	}
	return ctls
}

// On 3 controllers and 3 broker-only nodes the brokers register; a stopped
// broker is fenced in every controller's image and no longer listed by
// Metadata, and is unfenced and listed again once back.
func TestKRaftSplitFencing(t *testing.T) {
	c, ctls := newKRaftSplit(t, 3, 3)
	// The client talks to broker 1, which stays up.
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.byID(1).Addr()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	fenced := func(want bool) error {
		for _, ctl := range ctls {
			br, ok := ctl.node.Image().Broker(2)
			if !ok {
				return fmt.Errorf("controller %d: broker 2 not registered", ctl.cfg.NodeID)
			}
			if br.Fenced != want {
				return fmt.Errorf("controller %d: broker 2 fenced=%v, want %v", ctl.cfg.NodeID, br.Fenced, want)
			}
		}
		listed := false
		for _, bi := range c.any().cluster.Brokers() {
			listed = listed || bi.ID == 2
		}
		if listed == want {
			return fmt.Errorf("Metadata lists broker 2: %v (fenced %v)", listed, want)
		}
		// DescribeCluster v2 with IncludeFencedBrokers lists it either way,
		// saying whether it is fenced (KIP-1073).
		dc := kmsg.NewPtrDescribeClusterRequest()
		dc.Version, dc.IncludeFencedBrokers = 2, true
		resp, err := dc.RequestWith(testCtx(t, 10*time.Second), cl)
		if err != nil {
			return err
		}
		for _, b := range resp.Brokers {
			if b.NodeID == 2 {
				if b.IsFenced != want {
					return fmt.Errorf("DescribeCluster v2: broker 2 IsFenced=%v, want %v", b.IsFenced, want)
				}
				return nil
			}
		}
		return fmt.Errorf("DescribeCluster v2 with fenced brokers does not list broker 2")
	}
	// A broker is unfenced once it has caught up, shortly after it starts.
	testenv.WaitFor(t, 20*time.Second, func() error { return fenced(false) })
	c.stop(c.indexOf(2))
	testenv.WaitFor(t, 20*time.Second, func() error { return fenced(true) })
	c.start(c.indexOf(2))
	testenv.WaitFor(t, 20*time.Second, func() error { return fenced(false) })
}

// Reassignment on 3 controllers and 4 broker-only nodes: the ZooKeeper-mode
// test, run on KRaft.
func TestClusterReassignmentKRaft(t *testing.T) {
	testClusterReassignment(t, newKRaftSplitTestCluster(t, 3, 4))
}

// Preferred election on 3 controllers and 3 broker-only nodes: the
// ZooKeeper-mode test, run on KRaft.
func TestClusterPreferredElectionKRaft(t *testing.T) {
	testClusterPreferredElection(t, newKRaftSplitTestCluster(t, 3, 3))
}
