package broker

import (
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/osprey-kafka/osprey/broker/kraft/metaprops"
)

// newKRaftTestCluster is n combined KRaft nodes (process.roles=broker,controller)
// in this process, each formatted as `osprey storage format` does, with its
// data listener and CONTROLLER listener on fixed loopback ports so that a
// restarted node comes back where the voters string says it is.
func newKRaftTestCluster(t *testing.T, n int, opts ...testBrokerOpt) *testCluster {
	t.Helper()
	return newKRaftTestClusterLogging(t, n, nil, opts...)
}

// newKRaftTestClusterLogging is newKRaftTestCluster with the brokers also
// logging to also (nil: the test log only).
func newKRaftTestClusterLogging(t *testing.T, n int, also slog.Handler, opts ...testBrokerOpt) *testCluster {
	t.Helper()
	return newKRaftTestClusterFeatures(t, n, also, nil, opts...)
}

// newKRaftTestClusterFeatures is newKRaftTestClusterLogging formatted with
// features as `osprey storage format --feature name=level` sets them.
func newKRaftTestClusterFeatures(t *testing.T, n int, also slog.Handler, features map[string]int16, opts ...testBrokerOpt) *testCluster {
	t.Helper()
	c := &testCluster{t: t, brokers: make([]*Broker, n), also: also}
	ports := freePorts(t, 2*n)
	var voters []string
	for i := 0; i < n; i++ {
		voters = append(voters, fmt.Sprintf("%d@127.0.0.1:%d", i+1, ports[n+i]))
	}
	const clusterID = "T3NwcmV5S1JhZnRUZXN0MQ"
	for i := 0; i < n; i++ {
		props := map[string]string{
			"process.roles":                         "broker,controller",
			"node.id":                               strconv.Itoa(i + 1),
			"controller.quorum.voters":              strings.Join(voters, ","),
			"controller.listener.names":             "CONTROLLER",
			"listeners":                             fmt.Sprintf("PLAINTEXT://127.0.0.1:%d,CONTROLLER://127.0.0.1:%d", ports[i], ports[n+i]),
			"log.dirs":                              t.TempDir(),
			"broker.session.timeout.ms":             "3000",
			"broker.heartbeat.interval.ms":          "300",
			"controller.quorum.election.timeout.ms": "500",
			"controller.quorum.fetch.timeout.ms":    "1000",
		}
		cfg, err := ConfigFromProperties(props, testLogger(t))
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
		err = metaprops.Format(metaprops.FormatOptions{ClusterID: clusterID, NodeID: cfg.NodeID,
			Directories: cfg.LogDirs, MetadataLogDir: cfg.MetadataDir(), ControllerListenerName: "CONTROLLER",
			Features: features})
		if err != nil {
			t.Fatalf("formatting node %d: %v", i+1, err)
		}
		c.cfgs = append(c.cfgs, cfg)
	}
	c.startAll()
	return c
}

// freePorts returns n distinct free loopback ports.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var out []int
	var lns []net.Listener
	for i := 0; i < n; i++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		out = append(out, ln.Addr().(*net.TCPAddr).Port)
	}
	for _, ln := range lns {
		ln.Close()
	}
	return out
}
