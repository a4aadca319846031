package collector

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/osprey-kafka/osprey/admin"
	"github.com/twmb/franz-go/pkg/kfake"
)

func TestZooKeeperStateInSnapshot(t *testing.T) {
	addr := os.Getenv("OSPREY_TEST_ZK")
	if addr == "" {
		t.Skip("OSPREY_TEST_ZK is not set: run `make services-start` and `. .cache/services/env.sh` (make test does both)")
	}
	conn, _, err := zk.Connect([]string{addr}, 10*time.Second, zk.WithLogInfo(false))
	if err != nil {
		t.Fatal(err)
	}
	chroot := fmt.Sprintf("/osprey-collector-%d", rand.Uint64())
	nodes := []struct{ p, data string }{
		{chroot, ""}, {chroot + "/brokers", ""}, {chroot + "/brokers/ids", ""},
		{chroot + "/brokers/ids/0", `{"version":4,"host":"h0","port":9092,"endpoints":["PLAINTEXT://h0:9092"],"timestamp":"1"}`},
		{chroot + "/brokers/ids/1", `{"version":4,"host":"h1","port":9092,"endpoints":["PLAINTEXT://h1:9092"],"timestamp":"1"}`},
		{chroot + "/controller", `{"version":1,"brokerid":1,"timestamp":"1700000000000"}`},
		{chroot + "/controller_epoch", "4"},
		{chroot + "/admin", ""}, {chroot + "/admin/delete_topics", ""}, {chroot + "/admin/delete_topics/gone", ""},
	}
	for _, n := range nodes {
		if _, err := conn.Create(n.p, []byte(n.data), 0, zk.WorldACL(zk.PermAll)); err != nil {
			t.Fatalf("create %s: %v", n.p, err)
		}
	}
	t.Cleanup(func() {
		for i := len(nodes) - 1; i >= 0; i-- {
			_ = conn.Delete(nodes[i].p, -1)
		}
		conn.Close()
	})

	kc, err := kfake.NewCluster(kfake.NumBrokers(2))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kc.Close)
	ac, err := admin.New(admin.Config{Name: "zkc", Bootstrap: kc.ListenAddrs(), ZooKeeper: addr + chroot}, quiet())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ac.Close() })
	col, err := New(Config{}, ac, nil, quiet())
	if err != nil {
		t.Fatal(err)
	}
	s := col.PollNow(testCtx(t))
	z := s.Cluster.ZooKeeper
	if z == nil {
		t.Fatal("no ZooKeeper state in the snapshot")
	}
	if z.Error != "" || !z.Connected || z.Controller != 1 || z.ControllerEpoch != 4 ||
		!slices.Equal(z.RegisteredBrokers, []int32{0, 1}) || !slices.Equal(z.PendingDeletes, []string{"gone"}) {
		t.Fatalf("zookeeper info %+v", z)
	}
	if len(z.Ensemble) != 1 || !z.Ensemble[0].OK || z.Ensemble[0].Mode != "standalone" || z.Ensemble[0].NodeCount < int64(len(nodes)) {
		t.Fatalf("ensemble %+v", z.Ensemble)
	}
	if s.Cluster.Name != "zkc" {
		t.Errorf("cluster name defaults to the client's: %q", s.Cluster.Name)
	}
}
