package zkclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	gozk "github.com/go-zookeeper/zk"

	"github.com/osprey-kafka/osprey/broker/metastore"
	"github.com/osprey-kafka/osprey/broker/metastore/local"
	"github.com/osprey-kafka/osprey/broker/metastore/metastoretest"
	"github.com/osprey-kafka/osprey/broker/metastore/zk"
	"github.com/osprey-kafka/osprey/broker/zkdata"
	"github.com/osprey-kafka/osprey/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// opener opens sessions on one fresh store.
type opener func(t *testing.T) metastore.Session

type backend struct {
	name string
	new  func(t *testing.T) (opener, rawReader)
}

// rawReader reads a znode's bytes bypassing metastore (nil for local).
type rawReader func(t *testing.T, path string) []byte

var backends = []backend{
	{"local", func(t *testing.T) (opener, rawReader) {
		srv := local.NewServer()
		t.Cleanup(func() { _ = srv.Close() })
		return func(t *testing.T) metastore.Session {
			s, err := srv.NewSession(10*time.Second, local.WithChroot("/kafka"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Close() })
			return s
		}, nil
	}},
	{"zk", func(t *testing.T) (opener, rawReader) {
		addr, chroot := testenv.ZooKeeperChroot(t)
		open := func(t *testing.T) metastore.Session {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			s, err := zk.Connect(ctx, zk.Config{Servers: []string{addr}, Chroot: chroot, SessionTimeout: 10 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Close() })
			return s
		}
		read := func(t *testing.T, path string) []byte {
			// go-zookeeper directly, as CMAK/EFAK-style tools read.
			conn, _, err := gozk.Connect([]string{addr}, 10*time.Second, gozk.WithLogInfo(false))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			data, _, err := conn.Get(chroot + path)
			if err != nil {
				t.Fatalf("raw get %s: %v", chroot+path, err)
			}
			return data
		}
		return open, read
	}},
}

func forBackends(t *testing.T, fn func(t *testing.T, open opener, raw rawReader)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			open, raw := b.new(t)
			fn(t, open, raw)
		})
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func ok(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestEnsurePaths(t *testing.T) {
	forBackends(t, func(t *testing.T, open opener, _ rawReader) {
		ctx := ctxT(t)
		c := NewClient(open(t))
		ok(t, c.EnsurePaths(ctx))
		ok(t, c.EnsurePaths(ctx))
		for _, p := range zkdata.PersistentPaths {
			exists, st, err := c.Session().Exists(ctx, p)
			if err != nil || !exists || st.EphemeralOwner != 0 {
				t.Fatalf("%s: %v %+v %v", p, exists, st, err)
			}
		}
	})
}

func TestBrokerRegistration(t *testing.T) {
	forBackends(t, func(t *testing.T, open opener, raw rawReader) {
		ctx := ctxT(t)
		s1, s2 := open(t), open(t)
		c1, c2 := NewClient(s1), NewClient(s2)
		ok(t, c1.EnsurePaths(ctx))
		ids, ch, err := c2.WatchBrokerIDs(ctx)
		if err != nil || len(ids) != 0 {
			t.Fatal(ids, err)
		}
		reg := zkdata.BrokerRegistration{ID: 1, JMXPort: -1, Timestamp: 1700000000000,
			Endpoints: []zkdata.Endpoint{{Listener: "PLAINTEXT", SecurityProtocol: "PLAINTEXT", Host: "127.0.0.1", Port: 9092}}}
		ok(t, c1.RegisterBroker(ctx, reg))
		if ev := metastoretest.WaitEvent(t, ch); ev.Type != metastore.EventNodeChildrenChanged {
			t.Fatalf("event %+v", ev)
		}
		// A retry by the same session is fine; another session is refused.
		reg.Timestamp++
		ok(t, c1.RegisterBroker(ctx, reg))
		if err := c2.RegisterBroker(ctx, reg); !errors.Is(err, ErrBrokerRegistered) {
			t.Fatalf("second registration: %v", err)
		}
		ok(t, c2.RegisterBroker(ctx, zkdata.BrokerRegistration{ID: 10, JMXPort: -1, Endpoints: reg.Endpoints}))
		got, st, err := c2.Broker(ctx, 1)
		if err != nil || got.Timestamp != reg.Timestamp || st.EphemeralOwner != s1.ID() {
			t.Fatalf("broker 1: %+v %+v %v", got, st, err)
		}
		if raw != nil {
			if b := raw(t, "/brokers/ids/1"); string(b) != string(zkdata.EncodeBroker(reg)) {
				t.Fatalf("raw bytes %s", b)
			} else {
				// Field by field, as a tool decoding the documented JSON sees it.
				var m map[string]any
				ok(t, json.Unmarshal(b, &m))
				if m["version"] != 5.0 || m["host"] != "127.0.0.1" || m["port"] != 9092.0 || m["jmx_port"] != -1.0 ||
					m["timestamp"] != "1700000000001" || !reflect.DeepEqual(m["endpoints"], []any{"PLAINTEXT://127.0.0.1:9092"}) ||
					!reflect.DeepEqual(m["listener_security_protocol_map"], map[string]any{"PLAINTEXT": "PLAINTEXT"}) {
					t.Fatalf("broker JSON fields: %v", m)
				}
			}
		}
		ids, err = c2.BrokerIDs(ctx)
		if err != nil || !slices.Equal(ids, []int32{1, 10}) {
			t.Fatalf("ids %v %v", ids, err)
		}
		ok(t, s1.Close())
		all, err := c2.Brokers(ctx)
		if err != nil || len(all) != 1 || all[0].ID != 10 {
			t.Fatalf("brokers after close: %+v %v", all, err)
		}
		seq1, err := c2.NextBrokerSequenceID(ctx)
		ok(t, err)
		seq2, err := c2.NextBrokerSequenceID(ctx)
		if err != nil || seq2 != seq1+1 {
			t.Fatalf("sequence ids %d %d %v", seq1, seq2, err)
		}
	})
}

func TestControllerElectionAndFencing(t *testing.T) {
	forBackends(t, func(t *testing.T, open opener, raw rawReader) {
		ctx := ctxT(t)
		s1, s2 := open(t), open(t)
		c1, c2 := NewClient(s1), NewClient(s2)
		ok(t, c1.EnsurePaths(ctx))
		_, present, ch, err := c2.WatchController(ctx)
		if err != nil || present {
			t.Fatal(present, err)
		}
		e1, err := c1.ElectController(ctx, 1, time.UnixMilli(1704032949256))
		if err != nil || e1.Epoch != 1 {
			t.Fatalf("first election: %+v %v", e1, err)
		}
		if ev := metastoretest.WaitEvent(t, ch); ev.Type != metastore.EventNodeCreated {
			t.Fatalf("event %+v", ev)
		}
		if raw != nil {
			if got := string(raw(t, zkdata.ControllerPath)); got != `{"version":2,"brokerid":1,"timestamp":"1704032949256","kraftControllerEpoch":-1}` {
				t.Fatalf("raw /controller %s", got)
			}
			if got := string(raw(t, zkdata.ControllerEpochPath)); got != "1" {
				t.Fatalf("raw /controller_epoch %q", got)
			}
		}
		// Losing, and retrying after winning.
		if _, err := c2.ElectController(ctx, 2, time.Now()); !errors.Is(err, ErrControllerMoved) {
			t.Fatalf("second candidate: %v", err)
		}
		again, err := c1.ElectController(ctx, 1, time.Now())
		if err != nil || again != e1 {
			t.Fatalf("retry by the controller: %+v %v", again, err)
		}
		reg, present, ch, err := c2.WatchController(ctx)
		if err != nil || !present || reg.BrokerID != 1 {
			t.Fatal(reg, present, err)
		}
		// The controller writes behind its fence.
		tp := zkdata.TopicPartition{Topic: "t", Partition: 0}
		ok(t, c1.CreateTopic(ctx, "t", zkdata.TopicAssignment{Partitions: map[int32]zkdata.PartitionAssignment{0: {Replicas: []int32{1, 2}}}}, nil))
		ok(t, c1.CreatePartitionState(ctx, tp, zkdata.PartitionState{Leader: 1, ControllerEpoch: e1.Epoch, ISR: []int32{1, 2}}, e1.EpochZkVersion))

		// Controller 1 dies; 2 takes over with epoch 2.
		ok(t, s1.Close())
		if ev := metastoretest.WaitEvent(t, ch); ev.Type != metastore.EventNodeDeleted {
			t.Fatalf("event %+v", ev)
		}
		e2, err := c2.ElectController(ctx, 2, time.Now())
		if err != nil || e2.Epoch != 2 || e2.EpochZkVersion == e1.EpochZkVersion {
			t.Fatalf("failover election: %+v %v", e2, err)
		}
		// The old controller comes back with its stale fence: refused.
		stale := NewClient(open(t))
		_, err = stale.UpdatePartitionState(ctx, tp, zkdata.PartitionState{Leader: 2, LeaderEpoch: 1, ControllerEpoch: e1.Epoch, ISR: []int32{2}}, 0, e1.EpochZkVersion)
		if !errors.Is(err, ErrControllerMoved) {
			t.Fatalf("stale controller write: %v", err)
		}
		st, zst, err := c2.PartitionState(ctx, tp)
		if err != nil || st.Leader != 1 || zst.Version != 0 {
			t.Fatalf("state after fenced write: %+v %+v %v", st, zst, err)
		}
		v, err := c2.UpdatePartitionState(ctx, tp, zkdata.PartitionState{Leader: 2, LeaderEpoch: 1, ControllerEpoch: e2.Epoch, ISR: []int32{2}}, 0, e2.EpochZkVersion)
		if err != nil || v != 1 {
			t.Fatalf("new controller write: %d %v", v, err)
		}
		// A conditional update with a stale partition version fails as such.
		_, err = c2.UpdatePartitionState(ctx, tp, zkdata.PartitionState{Leader: 1, ControllerEpoch: e2.Epoch, ISR: []int32{1}}, 0, e2.EpochZkVersion)
		if !errors.Is(err, metastore.ErrBadVersion) || errors.Is(err, ErrControllerMoved) {
			t.Fatalf("stale partition version: %v", err)
		}
		if raw != nil {
			if got := string(raw(t, zkdata.PartitionStatePath("t", 0))); got != `{"controller_epoch":2,"leader":2,"version":1,"leader_epoch":1,"isr":[2]}` {
				t.Fatalf("raw state %s", got)
			}
		}
		ok(t, c2.Resign(ctx))
		if _, _, err := c2.Controller(ctx); !errors.Is(err, metastore.ErrNoNode) {
			t.Fatalf("after resign: %v", err)
		}
	})
}

func TestTopicsConfigsAndDeletion(t *testing.T) {
	forBackends(t, func(t *testing.T, open opener, raw rawReader) {
		ctx := ctxT(t)
		c := NewClient(open(t))
		ok(t, c.EnsurePaths(ctx))
		names, ch, err := c.WatchTopicNames(ctx)
		if err != nil || len(names) != 0 {
			t.Fatal(names, err)
		}
		a := zkdata.TopicAssignment{ID: mustID(t, "cMr3GpVESX2L3byPGf93lQ"), Partitions: map[int32]zkdata.PartitionAssignment{
			0: {Replicas: []int32{2, 3, 1}}, 1: {Replicas: []int32{3, 1, 2}}, 2: {Replicas: []int32{1, 2, 3}}}}
		ok(t, c.CreateTopic(ctx, "demo", a, map[string]string{"retention.ms": "1000"}))
		metastoretest.WaitEvent(t, ch)
		if err := c.CreateTopic(ctx, "demo", a, nil); !errors.Is(err, ErrTopicExists) {
			t.Fatalf("duplicate create: %v", err)
		}
		if raw != nil {
			if got := string(raw(t, "/brokers/topics/demo")); got != `{"partitions":{"0":[2,3,1],"1":[3,1,2],"2":[1,2,3]},"topic_id":"cMr3GpVESX2L3byPGf93lQ","adding_replicas":{},"removing_replicas":{},"version":3}` {
				t.Fatalf("raw topic %s", got)
			}
			if got := string(raw(t, "/config/topics/demo")); got != `{"version":1,"config":{"retention.ms":"1000"}}` {
				t.Fatalf("raw config %s", got)
			}
		}
		got, st, tch, err := c.WatchTopic(ctx, "demo")
		if err != nil || len(got.Partitions) != 3 || got.ID != a.ID {
			t.Fatal(got, err)
		}
		// Reassignment in progress: adding/removing replicas.
		p0 := got.Partitions[0]
		p0.Replicas, p0.Adding, p0.Removing = []int32{2, 3, 1, 4}, []int32{4}, []int32{1}
		got.Partitions[0] = p0
		nst, err := c.SetTopicAssignment(ctx, "demo", got, st.Version, metastore.AnyVersion)
		if err != nil || nst.Version != st.Version+1 {
			t.Fatal(nst, err)
		}
		metastoretest.WaitEvent(t, tch)
		if _, err := c.SetTopicAssignment(ctx, "demo", got, st.Version, metastore.AnyVersion); !errors.Is(err, metastore.ErrBadVersion) {
			t.Fatalf("stale assignment write: %v", err)
		}
		back, _, err := c.Topic(ctx, "demo")
		if err != nil || !reflect.DeepEqual(back.Partitions[0].Adding, []int32{4}) {
			t.Fatal(back, err)
		}

		cfg, err := c.TopicConfig(ctx, "demo")
		if err != nil || cfg["retention.ms"] != "1000" {
			t.Fatal(cfg, err)
		}
		if cfg, err := c.TopicConfig(ctx, "nope"); err != nil || len(cfg) != 0 {
			t.Fatal(cfg, err)
		}
		changes, cch, err := c.WatchConfigChanges(ctx)
		if err != nil || len(changes) != 0 {
			t.Fatal(changes, err)
		}
		p, err := c.SetTopicConfig(ctx, "demo", map[string]string{"cleanup.policy": "compact"})
		if err != nil || p != "/config/changes/config_change_0000000000" {
			t.Fatal(p, err)
		}
		metastoretest.WaitEvent(t, cch)
		typ, name, err := c.ConfigChange(ctx, "config_change_0000000000")
		if err != nil || typ != "topics" || name != "demo" {
			t.Fatal(typ, name, err)
		}

		// Deletion request, then the controller's cleanup.
		dels, dch, err := c.WatchTopicDeletions(ctx)
		if err != nil || len(dels) != 0 {
			t.Fatal(dels, err)
		}
		ok(t, c.RequestTopicDeletion(ctx, "demo"))
		ok(t, c.RequestTopicDeletion(ctx, "demo"))
		metastoretest.WaitEvent(t, dch)
		ok(t, c.CreatePartitionState(ctx, zkdata.TopicPartition{Topic: "demo", Partition: 0}, zkdata.PartitionState{Leader: 2, ISR: []int32{2}}, metastore.AnyVersion))
		ok(t, c.DeleteTopic(ctx, "demo", metastore.AnyVersion))
		for _, p := range []string{zkdata.TopicPath("demo"), zkdata.TopicConfigPath("demo"), zkdata.DeleteTopicPath("demo")} {
			if exists, _, err := c.Session().Exists(ctx, p); err != nil || exists {
				t.Fatalf("%s after deletion: %v %v", p, exists, err)
			}
		}
	})
}

func TestAdminRequests(t *testing.T) {
	forBackends(t, func(t *testing.T, open opener, raw rawReader) {
		ctx := ctxT(t)
		tool, ctl := NewClient(open(t)), NewClient(open(t))
		rs, present, ch, err := ctl.WatchReassignment(ctx)
		if err != nil || present || rs != nil {
			t.Fatal(rs, present, err)
		}
		want := []zkdata.Reassignment{{Topic: "t", Partition: 0, Replicas: []int32{2, 3}}}
		ok(t, tool.WriteReassignment(ctx, want))
		if err := tool.WriteReassignment(ctx, want); !errors.Is(err, ErrAdminRequestExists) {
			t.Fatalf("second reassignment: %v", err)
		}
		if ev := metastoretest.WaitEvent(t, ch); ev.Type != metastore.EventNodeCreated {
			t.Fatal(ev)
		}
		rs, present, ch, err = ctl.WatchReassignment(ctx)
		if err != nil || !present || !reflect.DeepEqual(rs, want) {
			t.Fatal(rs, present, err)
		}
		if raw != nil {
			if got := string(raw(t, zkdata.ReassignPartitionsPath)); got != `{"version":1,"partitions":[{"topic":"t","partition":0,"replicas":[2,3]}]}` {
				t.Fatalf("raw reassignment %s", got)
			}
		}
		ok(t, ctl.DeleteReassignment(ctx, metastore.AnyVersion))
		if ev := metastoretest.WaitEvent(t, ch); ev.Type != metastore.EventNodeDeleted {
			t.Fatal(ev)
		}
		// A request written by a tool with its own JSON (CMAK style) is read.
		_, err = tool.Session().Create(ctx, zkdata.ReassignPartitionsPath, []byte(`{"partitions":[{"topic":"t","partition":1,"replicas":[1],"log_dirs":["any"]}],"version":1}`), metastore.Persistent)
		ok(t, err)
		rs, present, _, err = ctl.WatchReassignment(ctx)
		if err != nil || !present || !reflect.DeepEqual(rs, []zkdata.Reassignment{{Topic: "t", Partition: 1, Replicas: []int32{1}}}) {
			t.Fatal(rs, present, err)
		}

		tps := []zkdata.TopicPartition{{Topic: "t", Partition: 0}, {Topic: "t", Partition: 1}}
		ok(t, tool.WritePreferredElection(ctx, tps))
		got, present, _, err := ctl.WatchPreferredElection(ctx)
		if err != nil || !present || !reflect.DeepEqual(got, tps) {
			t.Fatal(got, present, err)
		}
		ok(t, ctl.DeletePreferredElection(ctx, metastore.AnyVersion))
		ok(t, ctl.DeletePreferredElection(ctx, metastore.AnyVersion)) // missing: fine

		ok(t, ctl.EnsurePaths(ctx))
		names, ich, err := ctl.WatchIsrChanges(ctx)
		if err != nil || len(names) != 0 {
			t.Fatal(names, err)
		}
		n, err := tool.NotifyIsrChange(ctx, tps)
		if err != nil || n != "isr_change_0000000000" {
			t.Fatal(n, err)
		}
		metastoretest.WaitEvent(t, ich)
		back, err := ctl.IsrChange(ctx, n)
		if err != nil || !reflect.DeepEqual(back, tps) {
			t.Fatal(back, err)
		}
		ok(t, ctl.DeleteIsrChanges(ctx, []string{n}, metastore.AnyVersion))
	})
}

func TestClusterIDAndProducerIDs(t *testing.T) {
	forBackends(t, func(t *testing.T, open opener, raw rawReader) {
		ctx := ctxT(t)
		c1, c2 := NewClient(open(t)), NewClient(open(t))
		id, err := c1.ClusterID(ctx, "eQzK4lYlQ9y8P21IScOl_g")
		if err != nil || id != "eQzK4lYlQ9y8P21IScOl_g" {
			t.Fatal(id, err)
		}
		if id, err := c2.ClusterID(ctx, "other"); err != nil || id != "eQzK4lYlQ9y8P21IScOl_g" {
			t.Fatal(id, err)
		}
		if raw != nil {
			if got := string(raw(t, zkdata.ClusterIDPath)); got != `{"version":"1","id":"eQzK4lYlQ9y8P21IScOl_g"}` {
				t.Fatalf("raw cluster id %s", got)
			}
		}
		first, err := c1.AllocateProducerIDs(ctx, 1, 1000)
		if err != nil || first != (zkdata.ProducerIDBlock{Broker: 1, Start: 0, End: 999}) {
			t.Fatal(first, err)
		}
		// Concurrent allocations from two brokers get disjoint blocks.
		var mu sync.Mutex
		var blocks []zkdata.ProducerIDBlock
		var wg sync.WaitGroup
		for i, c := range []*Client{c1, c2, c1, c2} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				b, err := c.AllocateProducerIDs(ctx, int32(i%2+1), 1000)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				blocks = append(blocks, b)
				mu.Unlock()
			}()
		}
		wg.Wait()
		slices.SortFunc(blocks, func(a, b zkdata.ProducerIDBlock) int { return int(a.Start - b.Start) })
		for i, b := range blocks {
			if b.Start != int64(1000*(i+1)) || b.End != b.Start+999 {
				t.Fatalf("blocks %+v", blocks)
			}
		}
		if raw != nil {
			if got := string(raw(t, zkdata.ProducerIDBlockPath)); got != fmt.Sprintf(`{"version":1,"broker":%d,"block_start":"4000","block_end":"4999"}`, blocks[3].Broker) {
				t.Fatalf("raw producer id block %s", got)
			}
		}
	})
}

func TestBatchReads(t *testing.T) {
	forBackends(t, func(t *testing.T, open opener, _ rawReader) {
		ctx := ctxT(t)
		c := NewClient(open(t))
		ok(t, c.EnsurePaths(ctx))
		var tps []zkdata.TopicPartition
		for _, topic := range []string{"a", "b"} {
			a := zkdata.TopicAssignment{Partitions: map[int32]zkdata.PartitionAssignment{}}
			for p := int32(0); p < 40; p++ {
				a.Partitions[p] = zkdata.PartitionAssignment{Replicas: []int32{p % 3, (p + 1) % 3}}
			}
			ok(t, c.CreateTopic(ctx, topic, a, nil))
			for p := int32(0); p < 40; p++ {
				tp := zkdata.TopicPartition{Topic: topic, Partition: p}
				tps = append(tps, tp)
				if p%10 == 9 {
					continue // no state yet
				}
				ok(t, c.CreatePartitionState(ctx, tp, zkdata.PartitionState{Leader: p % 3, LeaderEpoch: p, ISR: []int32{p % 3}}, metastore.AnyVersion))
			}
		}
		states, err := c.PartitionStates(ctx, tps)
		if err != nil || len(states) != 72 {
			t.Fatalf("%d states, %v", len(states), err)
		}
		if s := states[zkdata.TopicPartition{Topic: "b", Partition: 17}]; s.State.LeaderEpoch != 17 || s.State.Leader != 2 || s.Version != 0 {
			t.Fatalf("b-17: %+v", s)
		}
		if _, found := states[zkdata.TopicPartition{Topic: "a", Partition: 9}]; found {
			t.Fatal("a partition without state reported")
		}
		topics, err := c.Topics(ctx, []string{"a", "missing", "b"})
		if err != nil || len(topics) != 2 || len(topics["b"].Assignment.Partitions) != 40 {
			t.Fatalf("%v %v", topics, err)
		}
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := c.PartitionStates(cancelled, tps); !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled batch: %v", err)
		}
	})
}
