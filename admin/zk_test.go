package admin

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/osprey-kafka/osprey/internal/testenv"
)

// zkServer returns the test ZooKeeper address from OSPREY_TEST_ZK, which
// `make test` (deploy/scripts/services.sh) provides.
func zkServer(t *testing.T) string {
	t.Helper()
	addr := os.Getenv("OSPREY_TEST_ZK")
	if addr == "" {
		t.Skip("OSPREY_TEST_ZK is not set: run `make services-start` and `. .cache/services/env.sh` (make test does both)")
	}
	return addr
}

// seedKafkaLayout writes a ZooKeeper-mode Kafka layout under a fresh chroot
// and returns the chroot; the tree is removed by t.Cleanup.
func seedKafkaLayout(t *testing.T, addr string, nodes map[string]string) string {
	t.Helper()
	conn, _, err := zk.Connect([]string{addr}, 10*time.Second, zk.WithLogInfo(false))
	if err != nil {
		t.Fatal(err)
	}
	chroot := fmt.Sprintf("/osprey-test-%d", rand.Uint64())
	paths := []string{chroot}
	for p := range nodes {
		paths = append(paths, chroot+p)
	}
	slices.Sort(paths) // parents before children
	created := []string{}
	ensure := func(p, data string) {
		if ok, _, err := conn.Exists(p); err != nil {
			t.Fatal(err)
		} else if ok {
			if data != "" {
				if _, err := conn.Set(p, []byte(data), -1); err != nil {
					t.Fatal(err)
				}
			}
			return
		}
		if _, err := conn.Create(p, []byte(data), 0, zk.WorldACL(zk.PermAll)); err != nil {
			t.Fatalf("create %s: %v", p, err)
		}
		created = append(created, p)
	}
	for _, p := range paths {
		// Create missing intermediate nodes.
		for i := 1; i < len(p); i++ {
			if p[i] == '/' {
				ensure(p[:i], "")
			}
		}
		ensure(p, nodes[p[len(chroot):]])
	}
	t.Cleanup(func() {
		for i := len(created) - 1; i >= 0; i-- {
			_ = conn.Delete(created[i], -1)
		}
		conn.Close()
	})
	return chroot
}

func kafkaLayout() map[string]string {
	return map[string]string{
		"/brokers/ids/1":         `{"version":5,"host":"k1","port":9092,"jmx_port":-1,"timestamp":"1700000000000","endpoints":["PLAINTEXT://k1:9092"],"listener_security_protocol_map":{"PLAINTEXT":"PLAINTEXT"},"rack":"r1","features":{}}`,
		"/brokers/ids/2":         `{"features":{},"endpoints":["SASL_SSL://k2:9093"],"host":null,"port":-1,"version":5,"timestamp":"1700000000001"}`,
		"/controller":            `{"version":2,"brokerid":2,"timestamp":"1700000001000","kraftControllerEpoch":-1}`,
		"/controller_epoch":      "7",
		"/cluster/id":            `{"version":"1","id":"zk-cluster"}`,
		"/brokers/topics/orders": `{"version":3,"partitions":{"0":[1,2],"1":[2,1]},"adding_replicas":{"1":[3]},"removing_replicas":{},"topic_id":"cMr3GpVESX2L3byPGf93lQ"}`,
		"/brokers/topics/orders/partitions/0/state": `{"controller_epoch":7,"leader":1,"version":1,"leader_epoch":3,"isr":[1,2]}`,
		"/brokers/topics/orders/partitions/1/state": `{"controller_epoch":7,"leader":2,"version":1,"leader_epoch":1,"isr":[2]}`,
		"/admin/reassign_partitions":                `{"version":1,"partitions":[{"topic":"orders","partition":1,"replicas":[2,3]}]}`,
		"/admin/preferred_replica_election":         `{"version":1,"partitions":[{"topic":"orders","partition":0}]}`,
		"/admin/delete_topics/old":                  "",
	}
}

func TestZooKeeperReader(t *testing.T) {
	addr := zkServer(t)
	chroot := seedKafkaLayout(t, addr, kafkaLayout())
	c, err := New(Config{Name: "zk", Bootstrap: []string{"127.0.0.1:1"}, ZooKeeper: addr + chroot}, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := ctxT(t)
	z, err := c.ZooKeeper()
	if err != nil {
		t.Fatal(err)
	}
	brokers, err := z.Brokers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(brokers) != 2 || brokers[0].ID != 1 || brokers[0].Host != "k1" || brokers[0].Rack != "r1" || brokers[0].Registered.UnixMilli() != 1700000000000 {
		t.Fatalf("brokers %+v", brokers)
	}
	if brokers[1].Host != "k2" || brokers[1].Port != 9093 {
		t.Fatalf("broker 2 address from endpoints: %+v", brokers[1])
	}
	ctl, err := z.Controller(ctx)
	if err != nil || ctl.BrokerID != 2 || ctl.Epoch != 7 {
		t.Fatalf("controller %+v %v", ctl, err)
	}
	if id, err := z.ClusterID(ctx); err != nil || id != "zk-cluster" {
		t.Fatalf("cluster id %q %v", id, err)
	}
	topics, err := z.Topics(ctx)
	if err != nil || !slices.Equal(topics, []string{"orders"}) {
		t.Fatalf("topics %v %v", topics, err)
	}
	tp, err := z.Topic(ctx, "orders")
	if err != nil || !slices.Equal(tp.Replicas[1], []int32{2, 1}) || !slices.Equal(tp.Adding[1], []int32{3}) {
		t.Fatalf("topic %+v %v", tp, err)
	}
	states, err := z.PartitionStates(ctx, "orders")
	if err != nil || len(states) != 2 || states[1].Leader != 2 || !slices.Equal(states[1].ISR, []int32{2}) || states[0].LeaderEpoch != 3 {
		t.Fatalf("states %+v %v", states, err)
	}
	data, st, err := z.Get(ctx, "/controller_epoch")
	if err != nil || string(data) != "7" || st.Version != 0 || st.Created.IsZero() || st.EphemeralOwner != 0 {
		t.Fatalf("get /controller_epoch: %q %+v %v", data, st, err)
	}
	if _, _, err := z.Get(ctx, "/nope"); !IsNoNode(err) {
		t.Fatalf("missing node: %v", err)
	}
	if kids, err := z.Children(ctx, "/brokers"); err != nil || !slices.Equal(kids, []string{"ids", "topics"}) {
		t.Fatalf("children of /brokers: %v %v", kids, err)
	}
	p, err := z.Pending(ctx)
	if err != nil || len(p.Reassignments) != 1 || !slices.Equal(p.Reassignments[0].Replicas, []int32{2, 3}) ||
		len(p.PreferredElection) != 1 || !slices.Equal(p.DeleteTopics, []string{"old"}) {
		t.Fatalf("pending %+v %v", p, err)
	}
}

func TestZooKeeperSessionReusedAndClosed(t *testing.T) {
	addr := zkServer(t)
	chroot := seedKafkaLayout(t, addr, kafkaLayout())
	fds := func() int {
		ents, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Fatal(err)
		}
		return len(ents)
	}
	base := fds()
	c, err := New(Config{Name: "zk", Bootstrap: []string{"127.0.0.1:1"}, ZooKeeper: addr + chroot}, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t)
	var first *ZK
	for i := 0; i < 200; i++ {
		z, err := c.ZooKeeper()
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = z
		} else if z != first {
			t.Fatal("a new ZooKeeper session was opened")
		}
		if _, err := z.Brokers(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if got := fds(); got > base+2 {
		t.Errorf("fds after 200 reads: %d, before: %d (one ZooKeeper connection expected)", got, base)
	}
	_ = c.Close()
	testenv.WaitFor(t, 5*time.Second, func() error {
		if got := fds(); got > base {
			return fmt.Errorf("fds after Close: %d, before: %d", got, base)
		}
		return nil
	})
	if _, err := c.ZooKeeper(); err == nil {
		t.Error("ZooKeeper() after Close succeeded")
	}
}
