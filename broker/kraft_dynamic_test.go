package broker

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/osprey-kafka/osprey/broker/kraft/metadata"
	"github.com/osprey-kafka/osprey/broker/kraft/metaprops"
	"github.com/osprey-kafka/osprey/internal/testenv"
)

// A dynamic quorum (KIP-853) end to end through a broker: controller 101
// formatted with --standalone, 102-104 with --no-initial-controllers, all
// started with controller.quorum.bootstrap.servers and no
// controller.quorum.voters, and a broker-only node. An admin client talking
// to the broker adds 102 and 103 with AddRaftVoter (DescribeQuorum: 3
// voters), adds 104 and removes it again (4, then 3); the leader is stopped,
// another voter takes over, and a topic created before is still there.
// The CONTROLLER listener is SASL_PLAINTEXT with PLAIN, so the bootstrap
// servers, the voters added and the forwarded voter changes all
// authenticate.
func TestKRaftDynamicQuorum(t *testing.T) {
	const m = 4
	ports := freePorts(t, m+1)
	ctlAddr := func(j int) string { return fmt.Sprintf("127.0.0.1:%d", ports[1+j]) }
	const clusterID = "T3NwcmV5RHluYW1pY1F1bw"
	props := func(roles string, id int, listeners string) map[string]string {
		return map[string]string{
			"process.roles":                                    roles,
			"node.id":                                          strconv.Itoa(id),
			"controller.quorum.bootstrap.servers":              ctlAddr(0),
			"controller.listener.names":                        "CONTROLLER",
			"listeners":                                        listeners,
			"log.dirs":                                         t.TempDir(),
			"broker.session.timeout.ms":                        "3000",
			"broker.heartbeat.interval.ms":                     "300",
			"controller.quorum.election.timeout.ms":            "500",
			"controller.quorum.fetch.timeout.ms":               "1000",
			"listener.security.protocol.map":                   "PLAINTEXT:PLAINTEXT,CONTROLLER:SASL_PLAINTEXT",
			"sasl.mechanism.controller.protocol":               "PLAIN",
			"listener.name.controller.sasl.enabled.mechanisms": "PLAIN",
			"listener.name.controller.plain.sasl.jaas.config":  controllerJAAS("ctl-secret"),
		}
	}
	format := func(cfg Config, voters []metaprops.Voter) {
		t.Helper()
		err := metaprops.Format(metaprops.FormatOptions{ClusterID: clusterID, NodeID: cfg.NodeID,
			Directories: cfg.LogDirs, MetadataLogDir: cfg.MetadataDir(), ControllerListenerName: "CONTROLLER", InitialControllers: voters})
		if err != nil {
			t.Fatalf("formatting node %d: %v", cfg.NodeID, err)
		}
	}
	ctlIDs := []int32{101, 102, 103, 104}
	ctls := startControllers(t, m, func(j int) Config {
		cfg, err := ConfigFromProperties(props("controller", int(ctlIDs[j]), "CONTROLLER://"+ctlAddr(j)), testLogger(t))
		if err != nil {
			t.Fatal(err)
		}
		var voters []metaprops.Voter // --no-initial-controllers
		if j == 0 {
			// --standalone: this controller alone, at its listener, with a new directory id.
			dir, err := metadata.RandomUuid(rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			voters = []metaprops.Voter{{ID: cfg.NodeID, Host: "127.0.0.1", Port: ports[1], DirectoryID: dir}}
		}
		format(cfg, voters)
		return cfg
	})
	c := &testCluster{t: t, brokers: make([]*Broker, 1)}
	cfg, err := ConfigFromProperties(props("broker", 1, fmt.Sprintf("PLAINTEXT://127.0.0.1:%d", ports[0])), testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.OffsetsTopicPartitions, cfg.OffsetsTopicReplicationFactor = 3, 1
	format(cfg, nil)
	c.cfgs = append(c.cfgs, cfg)
	c.startAll()

	cl, err := kgo.NewClient(kgo.SeedBrokers(c.addrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := testCtx(t, 2*time.Minute)
	if _, err := c.admin().CreateTopic(ctx, 1, 1, nil, "before"); err != nil {
		t.Fatal(err)
	}

	dirID := func(j int) metadata.Uuid {
		mp, err := metaprops.Read(ctls[j].cfg.MetadataDir())
		if err != nil || mp.DirectoryID == nil {
			t.Fatalf("controller %d meta.properties: %v", ctlIDs[j], err)
		}
		return *mp.DirectoryID
	}
	// change sends req through the broker until the leader takes it
	// (REQUEST_TIMED_OUT while the controller catches up as an observer).
	change := func(what string, req kmsg.Request) {
		t.Helper()
		testenv.WaitFor(t, 30*time.Second, func() error {
			resp, err := cl.Request(ctx, req)
			if err != nil {
				return err
			}
			var code int16
			switch r := resp.(type) {
			case *kmsg.AddRaftVoterResponse:
				code = r.ErrorCode
			case *kmsg.RemoveRaftVoterResponse:
				code = r.ErrorCode
			}
			if code == kerr.RequestTimedOut.Code || code == kerr.NotLeaderForPartition.Code {
				return fmt.Errorf("%s: %w", what, kerr.ErrorForCode(code))
			}
			if code != 0 {
				t.Fatalf("%s: %v", what, kerr.ErrorForCode(code))
			}
			return nil
		})
	}
	add := func(j int) {
		req := kmsg.NewPtrAddRaftVoterRequest()
		req.Version, req.TimeoutMillis, req.AckWhenCommitted = 1, 10000, true
		req.VoterID, req.VoterDirectoryID = ctlIDs[j], dirID(j)
		l := kmsg.NewAddRaftVoterRequestListener()
		l.Name, l.Host, l.Port = "CONTROLLER", "127.0.0.1", uint16(ports[1+j])
		req.Listeners = append(req.Listeners, l)
		change(fmt.Sprintf("AddRaftVoter %d", ctlIDs[j]), req)
	}
	remove := func(j int) {
		req := kmsg.NewPtrRemoveRaftVoterRequest()
		req.VoterID, req.VoterDirectoryID = ctlIDs[j], dirID(j)
		change(fmt.Sprintf("RemoveRaftVoter %d", ctlIDs[j]), req)
	}
	voters := func(want ...int32) (leader, epoch int32) {
		t.Helper()
		testenv.WaitFor(t, 30*time.Second, func() error {
			resp, err := describeQuorumVia(ctx, cl)
			if err != nil {
				return err
			}
			p := resp.Topics[0].Partitions[0]
			var got []int32
			for _, v := range p.CurrentVoters {
				got = append(got, v.ReplicaID)
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				return fmt.Errorf("DescribeQuorum voters %v (leader %d), want %v", got, p.LeaderID, want)
			}
			leader, epoch = p.LeaderID, p.LeaderEpoch
			return nil
		})
		return leader, epoch
	}

	voters(101)
	add(1)
	add(2)
	voters(101, 102, 103)
	add(3)
	voters(101, 102, 103, 104)
	remove(3)
	leader, epoch := voters(101, 102, 103)

	j := slices.Index(ctlIDs, leader)
	if err := ctls[j].Close(); err != nil {
		t.Fatal(err)
	}
	ctls[j] = nil
	testenv.WaitFor(t, 30*time.Second, func() error {
		resp, err := describeQuorumVia(ctx, cl)
		if err != nil {
			return err
		}
		p := resp.Topics[0].Partitions[0]
		if p.LeaderEpoch <= epoch || p.LeaderID == leader || !slices.Contains([]int32{101, 102, 103}, p.LeaderID) {
			return fmt.Errorf("leader %d in epoch %d; want another voter than %d after epoch %d", p.LeaderID, p.LeaderEpoch, leader, epoch)
		}
		return nil
	})
	if _, err := c.admin().CreateTopic(ctx, 1, 1, nil, "after"); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, 20*time.Second, func() error {
		td, err := c.admin().ListTopics(ctx, "before", "after")
		if err != nil {
			return err
		}
		for _, name := range []string{"before", "after"} {
			if d, ok := td[name]; !ok || d.Err != nil {
				return fmt.Errorf("topic %s not listed: %v", name, errors.Join(d.Err))
			}
		}
		return nil
	})
}

// describeQuorumVia sends DescribeQuorum v2 of the metadata partition through cl.
func describeQuorumVia(ctx context.Context, cl *kgo.Client) (*kmsg.DescribeQuorumResponse, error) {
	dq := kmsg.NewPtrDescribeQuorumRequest()
	dq.Version = 2
	rt := kmsg.NewDescribeQuorumRequestTopic()
	rt.Topic = "__cluster_metadata"
	rt.Partitions = []kmsg.DescribeQuorumRequestTopicPartition{kmsg.NewDescribeQuorumRequestTopicPartition()}
	dq.Topics = append(dq.Topics, rt)
	resp, err := dq.RequestWith(ctx, cl)
	if err != nil {
		return nil, err
	}
	if resp.ErrorCode != 0 || len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		return nil, fmt.Errorf("DescribeQuorum: error %v, %d topics", kerr.ErrorForCode(resp.ErrorCode), len(resp.Topics))
	}
	if code := resp.Topics[0].Partitions[0].ErrorCode; code != 0 {
		return nil, fmt.Errorf("DescribeQuorum: %w", kerr.ErrorForCode(code))
	}
	return resp, nil
}

// A KRaft broker lists AddRaftVoter and RemoveRaftVoter (which it forwards
// to the quorum leader) but not UpdateRaftVoter, as Kafka's brokers do; a
// ZooKeeper-mode broker lists none of them.
func TestRaftVoterAPIsListedInKRaftModeOnly(t *testing.T) {
	keys := func(kraft bool) map[int16]bool {
		out := map[int16]bool{}
		for _, k := range supportedAPIs(kraft) {
			out[k.ApiKey] = true
		}
		return out
	}
	if k := keys(true); !k[80] || !k[81] || k[82] {
		t.Errorf("KRaft mode lists AddRaftVoter %v, RemoveRaftVoter %v, UpdateRaftVoter %v; want true, true, false", k[80], k[81], k[82])
	}
	if k := keys(false); k[80] || k[81] || k[82] {
		t.Errorf("ZooKeeper mode lists AddRaftVoter %v, RemoveRaftVoter %v, UpdateRaftVoter %v; want none", k[80], k[81], k[82])
	}
}

// A KRaft file without controller.quorum.voters and without
// controller.quorum.bootstrap.servers is refused naming both keys; with both
// set it is accepted, as Kafka's KafkaConfig accepts it (the static voters
// then rule, unless the directory was formatted with a voter set).
func TestQuorumKeysValidation(t *testing.T) {
	base := func() map[string]string {
		return map[string]string{
			"process.roles":             "controller",
			"node.id":                   "1",
			"controller.listener.names": "CONTROLLER",
			"listeners":                 "CONTROLLER://127.0.0.1:9093",
			"log.dirs":                  t.TempDir(),
		}
	}
	_, err := ConfigFromProperties(base(), testLogger(t))
	if err == nil || !strings.Contains(err.Error(), "controller.quorum.voters") || !strings.Contains(err.Error(), "controller.quorum.bootstrap.servers") {
		t.Errorf("neither key: %v; want a refusal naming both", err)
	}
	both := base()
	both["controller.quorum.voters"] = "1@127.0.0.1:9093"
	both["controller.quorum.bootstrap.servers"] = "127.0.0.1:9093"
	cfg, err := ConfigFromProperties(both, testLogger(t))
	if err != nil {
		t.Fatalf("both keys: %v; want them accepted", err)
	}
	if nc := cfg.nodeConfig("", testLogger(t)); len(nc.Voters) != 1 || len(nc.BootstrapServers) != 1 {
		t.Errorf("node config voters %v, bootstrap servers %v; want both passed on", nc.Voters, nc.BootstrapServers)
	}
}
