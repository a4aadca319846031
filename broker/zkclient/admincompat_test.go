package zkclient

import (
	"context"
	"io"
	"log/slog"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/osprey-kafka/osprey/admin"
	"github.com/osprey-kafka/osprey/broker/metastore/zk"
	"github.com/osprey-kafka/osprey/broker/zkdata"
	"github.com/osprey-kafka/osprey/internal/testenv"
)

// TestReadableByConsoleZooKeeperReader writes a cluster's layout through
// Client on ZooKeeper and reads it back with the console's ZooKeeper reader
// (admin package), which decodes with broker/zkdata's codec, as Client
// writes with it: the reader's mapping must keep every field.
func TestReadableByConsoleZooKeeperReader(t *testing.T) {
	addr, chroot := testenv.ZooKeeperChroot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := zk.Connect(ctx, zk.Config{Servers: []string{addr}, Chroot: chroot, SessionTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c := NewClient(s)
	ok(t, c.EnsurePaths(ctx))
	for _, id := range []int32{1, 2} {
		ok(t, c.RegisterBroker(ctx, zkdata.BrokerRegistration{ID: id, JMXPort: -1, Timestamp: 1700000000000 + int64(id), Rack: "r1",
			Endpoints: []zkdata.Endpoint{{Listener: "PLAINTEXT", SecurityProtocol: "PLAINTEXT", Host: "k" + string(rune('0'+id)), Port: 9090 + id}}}))
	}
	e, err := c.ElectController(ctx, 2, time.UnixMilli(1700000001000))
	ok(t, err)
	_, err = c.ClusterID(ctx, "zk-cluster")
	ok(t, err)
	ok(t, c.CreateTopic(ctx, "orders", zkdata.TopicAssignment{ID: mustID(t, "cMr3GpVESX2L3byPGf93lQ"), Partitions: map[int32]zkdata.PartitionAssignment{
		0: {Replicas: []int32{1, 2}},
		1: {Replicas: []int32{2, 1, 3}, Adding: []int32{3}},
	}}, nil))
	ok(t, c.CreatePartitionState(ctx, zkdata.TopicPartition{Topic: "orders", Partition: 0}, zkdata.PartitionState{Leader: 1, LeaderEpoch: 3, ControllerEpoch: e.Epoch, ISR: []int32{1, 2}}, e.EpochZkVersion))
	ok(t, c.CreatePartitionState(ctx, zkdata.TopicPartition{Topic: "orders", Partition: 1}, zkdata.PartitionState{Leader: 2, ControllerEpoch: e.Epoch, ISR: []int32{2}}, e.EpochZkVersion))
	ok(t, c.WriteReassignment(ctx, []zkdata.Reassignment{{Topic: "orders", Partition: 1, Replicas: []int32{2, 3}}}))
	ok(t, c.WritePreferredElection(ctx, []zkdata.TopicPartition{{Topic: "orders", Partition: 0}}))
	ok(t, c.RequestTopicDeletion(ctx, "old"))

	ac, err := admin.New(admin.Config{Name: "zk", Bootstrap: []string{"127.0.0.1:1"}, ZooKeeper: addr + chroot},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	ok(t, err)
	defer ac.Close()
	z, err := ac.ZooKeeper()
	ok(t, err)
	brokers, err := z.Brokers(ctx)
	if err != nil || len(brokers) != 2 {
		t.Fatalf("brokers %+v %v", brokers, err)
	}
	b := brokers[1]
	if b.ID != 2 || b.Host != "k2" || b.Port != 9092 || b.Rack != "r1" || b.JMXPort != -1 ||
		b.Registered.UnixMilli() != 1700000000002 || !slices.Equal(b.Endpoints, []string{"PLAINTEXT://k2:9092"}) {
		t.Fatalf("broker 2 %+v", b)
	}
	ctl, err := z.Controller(ctx)
	if err != nil || ctl.BrokerID != 2 || ctl.Epoch != int64(e.Epoch) || ctl.Since.UnixMilli() != 1700000001000 {
		t.Fatalf("controller %+v %v", ctl, err)
	}
	if id, err := z.ClusterID(ctx); err != nil || id != "zk-cluster" {
		t.Fatalf("cluster id %q %v", id, err)
	}
	tp, err := z.Topic(ctx, "orders")
	if err != nil || tp.TopicID != "cMr3GpVESX2L3byPGf93lQ" || !slices.Equal(tp.Replicas[1], []int32{2, 1, 3}) || !slices.Equal(tp.Adding[1], []int32{3}) {
		t.Fatalf("topic %+v %v", tp, err)
	}
	states, err := z.PartitionStates(ctx, "orders")
	want := []admin.ZKPartitionState{
		{Partition: 0, Leader: 1, LeaderEpoch: 3, ControllerEpoch: e.Epoch, ISR: []int32{1, 2}},
		{Partition: 1, Leader: 2, ControllerEpoch: e.Epoch, ISR: []int32{2}},
	}
	if err != nil || !reflect.DeepEqual(states, want) {
		t.Fatalf("states %+v %v", states, err)
	}
	pending, err := z.Pending(ctx)
	if err != nil || len(pending.Reassignments) != 1 || !slices.Equal(pending.Reassignments[0].Replicas, []int32{2, 3}) ||
		len(pending.PreferredElection) != 1 || pending.PreferredElection[0].Topic != "orders" ||
		!slices.Equal(pending.DeleteTopics, []string{"old"}) {
		t.Fatalf("pending %+v %v", pending, err)
	}
}

func mustID(t *testing.T, s string) zkdata.TopicID {
	t.Helper()
	id, err := zkdata.ParseTopicID(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}
