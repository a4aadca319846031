package broker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	gozk "github.com/go-zookeeper/zk"
	"github.com/osprey-kafka/osprey/broker/metastore"
	"github.com/osprey-kafka/osprey/broker/metastore/zk"
	"github.com/osprey-kafka/osprey/broker/zkclient"
	"github.com/osprey-kafka/osprey/broker/zkdata"
	"github.com/osprey-kafka/osprey/internal/testenv"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// hasLogDir reports whether broker id's log dir holds topic-partition.
func (c *testCluster) hasLogDir(id int32, topic string, p int32) bool {
	_, err := os.Stat(filepath.Join(c.cfgs[c.indexOf(id)].LogDirs[0], topic+"-"+strconv.Itoa(int(p))))
	return err == nil
}

// A reassignment under load moves both replicas of a partition to the two
// other brokers: progress shows in ListPartitionReassignments, every
// acknowledged record is on the new replicas, the old replicas' logs are
// deleted. A second reassignment whose new replica cannot catch up is
// cancelled and the original replicas come back.
func TestClusterReassignment(t *testing.T) {
	testClusterReassignment(t, newTestCluster(t, 4, localConnector(t)))
}

// testClusterReassignment runs on a cluster of 4 brokers, ids 1-4.
func testClusterReassignment(t *testing.T, c *testCluster) {
	adm := c.admin()
	ctx := testCtx(t, 2*time.Minute)
	const topic = "moving"
	if _, err := adm.CreateTopic(ctx, 1, 2, nil, topic); err != nil {
		t.Fatal(err)
	}
	c.waitFullISR(topic, 20*time.Second)
	original := c.partition(topic, 0).Replicas
	var target []int32
	for id := int32(1); id <= 4; id++ {
		if !slices.Contains(original, id) {
			target = append(target, id)
		}
	}
	stop := make(chan struct{})
	al, wait := runProducer(t, c.addrs(), topic, 1, stop)
	testenv.WaitFor(t, 20*time.Second, func() error {
		if al.count() < 300 {
			return fmt.Errorf("%d acknowledged", al.count())
		}
		return nil
	})
	req := kadm.AlterPartitionAssignmentsReq{}
	req.Assign(topic, 0, target)
	res, err := adm.AlterPartitionAssignments(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if err := res.Error(); err != nil {
		t.Fatalf("alter partition assignments: %v", err)
	}
	sawProgress := false
	testenv.WaitFor(t, 30*time.Second, func() error {
		lr, err := adm.ListPartitionReassignments(ctx, kadm.TopicsSet{topic: {0: {}}})
		if err != nil {
			return err
		}
		if r, ok := lr[topic][0]; ok {
			sawProgress = len(r.AddingReplicas) == 2 || sawProgress
			return fmt.Errorf("still reassigning: %+v", r)
		}
		if p := c.partition(topic, 0); !slices.Equal(p.Replicas, target) || len(p.ISR) != 2 {
			return fmt.Errorf("replicas %v isr %v, want %v", p.Replicas, p.ISR, target)
		}
		return nil
	})
	// The first reassignment completes quickly; its progress was either
	// seen or already over (the call returned with the move started).
	t.Logf("progress seen in ListPartitionReassignments: %v", sawProgress)
	testenv.WaitFor(t, 10*time.Second, func() error {
		for _, id := range original {
			if c.hasLogDir(id, topic, 0) {
				return fmt.Errorf("broker %d still has the old replica's log", id)
			}
		}
		return nil
	})
	testenv.WaitFor(t, 10*time.Second, func() error {
		if al.count() < 600 {
			return fmt.Errorf("%s; partition now %+v", al.status(), c.partition(topic, 0))
		}
		return nil
	})
	close(stop)
	wait()
	checkExactlyOnce(t, al, consumeEverything(t, c.addrs(), topic, 1))
	// Both new replicas hold the whole log.
	leader := c.byID(c.partition(topic, 0).Leader).data.get(topic, 0)
	for _, id := range target {
		p := c.byID(id).data.get(topic, 0)
		testenv.WaitFor(t, 10*time.Second, func() error {
			if p.log.LogEndOffset() != leader.log.LogEndOffset() || p.log.LogStartOffset() != 0 {
				return fmt.Errorf("broker %d log [%d, %d), leader's end %d", id, p.log.LogStartOffset(), p.log.LogEndOffset(), leader.log.LogEndOffset())
			}
			return nil
		})
	}

	// Cancel: add a replica on a broker that is then stopped, so it can
	// never join the ISR; cancelling restores the original replicas.
	now := c.partition(topic, 0).Replicas
	var extra int32
	for id := int32(1); id <= 4; id++ {
		if !slices.Contains(now, id) {
			extra = id
			break
		}
	}
	c.stop(c.indexOf(extra))
	c.waitBrokers(3)
	// In ZooKeeper mode the stopped broker is unknown now: the controller
	// refuses it. A KRaft broker stays registered (fenced) when it stops,
	// and Kafka's controller accepts a registered broker.
	if !c.cfgs[0].KRaft() {
		req = kadm.AlterPartitionAssignmentsReq{}
		req.Assign(topic, 0, append(slices.Clone(now), extra))
		res, err = adm.AlterPartitionAssignments(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if err := res.Error(); err == nil {
			t.Fatal("reassignment to a broker that is not registered accepted")
		}
	}
	// The returning broker's replica is held back by a follower throttle
	// of one byte a second (one batch, then nothing for as many seconds
	// as that batch has bytes), so it cannot catch up with the log
	// before it is stopped again, however fast the machine is.
	if res, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{
		{Name: "follower.replication.throttled.replicas", Value: kadm.StringPtr(fmt.Sprintf("0:%d", extra))}}, topic); err != nil || res[0].Err != nil {
		t.Fatalf("throttle: %v %v", err, res)
	}
	c.cfgs[c.indexOf(extra)].FollowerReplicationThrottle = 1
	c.start(c.indexOf(extra))
	c.waitBrokers(4)
	testenv.WaitFor(t, 10*time.Second, func() error {
		if tc, _ := c.byID(extra).cluster.Topic(topic); tc.Configs["follower.replication.throttled.replicas"] == "" {
			return fmt.Errorf("broker %d does not see the throttled replicas yet", extra)
		}
		return nil
	})
	req = kadm.AlterPartitionAssignmentsReq{}
	req.Assign(topic, 0, append(slices.Clone(now), extra))
	// Stop it again right after the move started: it never catches up.
	res, err = adm.AlterPartitionAssignments(ctx, req)
	if err != nil || res.Error() != nil {
		t.Fatalf("alter: %v %v", err, res.Error())
	}
	c.stop(c.indexOf(extra))
	lr, err := adm.ListPartitionReassignments(ctx, kadm.TopicsSet{topic: {0: {}}})
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := lr[topic][0]; !ok || !slices.Equal(r.AddingReplicas, []int32{extra}) {
		t.Fatalf("reassignment in progress: %+v", r)
	}
	creq := kadm.AlterPartitionAssignmentsReq{}
	creq.CancelAssign(topic, 0)
	cres, err := adm.AlterPartitionAssignments(ctx, creq)
	if err != nil {
		t.Fatal(err)
	}
	if err := cres.Error(); err != nil {
		t.Fatalf("cancel: %v", err)
	}
	testenv.WaitFor(t, 10*time.Second, func() error {
		p := c.partition(topic, 0)
		if !slices.Equal(p.Replicas, now) {
			return fmt.Errorf("replicas %v after cancel, want %v", p.Replicas, now)
		}
		lr, err := adm.ListPartitionReassignments(ctx, kadm.TopicsSet{topic: {0: {}}})
		if err != nil {
			return err
		}
		if _, ok := lr[topic][0]; ok {
			return errors.New("reassignment still listed")
		}
		return nil
	})
}

// kill stops the broker leading partition p of topic and waits for a new
// leader; it returns the stopped broker's id.
func (c *testCluster) killLeader(topic string, p int32) int32 {
	c.t.Helper()
	leader := c.partition(topic, p).Leader
	c.stop(c.indexOf(leader))
	testenv.WaitFor(c.t, 10*time.Second, func() error {
		if l := c.partition(topic, p).Leader; l < 0 || l == leader {
			return fmt.Errorf("leader %d", l)
		}
		return nil
	})
	return leader
}

func (c *testCluster) preferredLeaders(topic string) error {
	t, _ := c.any().cluster.Topic(topic)
	for _, p := range t.Partitions {
		if p.Leader != p.Replicas[0] {
			return fmt.Errorf("partition %d led by %d, preferred %d", p.Partition, p.Leader, p.Replicas[0])
		}
	}
	return nil
}

// After a failover the restarted broker gets leadership back from an
// ElectLeaders request (preferred), and the ZooKeeper request node works
// the same way.
func TestClusterPreferredElection(t *testing.T) {
	testClusterPreferredElection(t, newTestCluster(t, 3, localConnector(t)))
}

// testClusterPreferredElection runs on a cluster of 3 brokers, ids 1-3.
func testClusterPreferredElection(t *testing.T, c *testCluster) {
	adm := c.admin()
	ctx := testCtx(t, time.Minute)
	const topic = "pref"
	if _, err := adm.CreateTopic(ctx, 3, 3, nil, topic); err != nil {
		t.Fatal(err)
	}
	c.waitFullISR(topic, 20*time.Second)
	if err := c.preferredLeaders(topic); err != nil {
		t.Fatalf("new topic: %v", err)
	}
	dead := c.killLeader(topic, 0)
	c.start(c.indexOf(dead))
	c.waitFullISR(topic, 20*time.Second)
	if err := c.preferredLeaders(topic); err == nil {
		t.Fatal("leadership came back without an election (auto rebalance is off)")
	}
	res, err := adm.ElectLeaders(ctx, kadm.ElectPreferredReplica, kadm.TopicsSet{topic: {0: {}, 1: {}, 2: {}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, parts := range res {
		for p, r := range parts {
			if r.Err != nil && !strings.Contains(r.Err.Error(), "ELECTION_NOT_NEEDED") {
				t.Fatalf("partition %d: %v", p, r.Err)
			}
		}
	}
	testenv.WaitFor(t, 5*time.Second, func() error { return c.preferredLeaders(topic) })
}

// With auto.leader.rebalance.enable the controller returns leadership to
// the preferred replicas by itself.
func TestClusterAutoRebalance(t *testing.T) {
	c := newTestCluster(t, 3, localConnector(t), func(cfg *Config) {
		cfg.AutoLeaderRebalance = true
		cfg.LeaderImbalanceCheckInterval = time.Second
		cfg.LeaderImbalancePerBrokerPct = 0
	})
	adm := c.admin()
	ctx := testCtx(t, time.Minute)
	const topic = "auto"
	if _, err := adm.CreateTopic(ctx, 3, 3, nil, topic); err != nil {
		t.Fatal(err)
	}
	c.waitFullISR(topic, 20*time.Second)
	dead := c.killLeader(topic, 1)
	if err := c.preferredLeaders(topic); err == nil {
		t.Fatal("preferred leaders while the preferred broker is down")
	}
	c.start(c.indexOf(dead))
	testenv.WaitFor(t, 20*time.Second, func() error { return c.preferredLeaders(topic) })
}

// On real ZooKeeper: the znodes read with go-zookeeper match Kafka's JSON
// field by field; /admin/preferred_replica_election and
// /admin/reassign_partitions nodes written as CMAK writes them are carried
// out and removed; a deposed controller's fenced writes fail; kcat follows
// a leadership change.
func TestClusterZooKeeperCompat(t *testing.T) {
	addr, chroot := testenv.ZooKeeperChroot(t)
	conn := zk.Connector(zk.Config{Servers: []string{addr}, Chroot: chroot, SessionTimeout: 4 * time.Second})
	c := newTestCluster(t, 3, conn)
	adm := c.admin()
	ctx := testCtx(t, 2*time.Minute)
	const topic = "compat"
	if _, err := adm.CreateTopic(ctx, 2, 2, map[string]*string{"retention.ms": kadm.StringPtr("3600000")}, topic); err != nil {
		t.Fatal(err)
	}
	c.waitFullISR(topic, 20*time.Second)

	zc, _, err := gozk.Connect([]string{addr}, 5*time.Second, gozk.WithLogInfo(false))
	if err != nil {
		t.Fatal(err)
	}
	defer zc.Close()
	get := func(path string) map[string]any {
		t.Helper()
		data, _, err := zc.Get(chroot + path)
		if err != nil {
			t.Fatalf("get %s: %v", path, err)
		}
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatalf("%s is not JSON: %q", path, data)
		}
		return m
	}
	want := func(path string, m map[string]any, keys ...string) {
		t.Helper()
		for _, k := range keys {
			if _, ok := m[k]; !ok {
				t.Fatalf("%s lacks %q: %v", path, k, m)
			}
		}
	}
	for id := int32(1); id <= 3; id++ {
		path := "/brokers/ids/" + strconv.Itoa(int(id))
		m := get(path)
		want(path, m, "version", "host", "port", "jmx_port", "timestamp", "endpoints", "listener_security_protocol_map", "features")
		b := c.byID(id)
		if m["version"] != float64(5) || m["host"] != "127.0.0.1" || m["port"] != float64(b.advPort) ||
			m["endpoints"].([]any)[0] != "PLAINTEXT://127.0.0.1:"+strconv.Itoa(int(b.advPort)) {
			t.Fatalf("%s = %v", path, m)
		}
		if _, err := strconv.ParseInt(m["timestamp"].(string), 10, 64); err != nil {
			t.Fatalf("%s timestamp %v is not a decimal string", path, m["timestamp"])
		}
		_, st, _ := zc.Get(chroot + path)
		if st.EphemeralOwner == 0 {
			t.Fatalf("%s is not ephemeral", path)
		}
	}
	m := get("/controller")
	want("/controller", m, "version", "brokerid", "timestamp")
	if id := int32(m["brokerid"].(float64)); id != c.any().cluster.ControllerID() {
		t.Fatalf("/controller brokerid %d, view says %d", id, c.any().cluster.ControllerID())
	}
	epochData, _, err := zc.Get(chroot + "/controller_epoch")
	if err != nil {
		t.Fatal(err)
	}
	ctrlEpoch, err := strconv.Atoi(string(epochData))
	if err != nil || ctrlEpoch < 1 {
		t.Fatalf("/controller_epoch = %q", epochData)
	}
	m = get("/brokers/topics/" + topic)
	want("/brokers/topics", m, "version", "partitions", "topic_id", "adding_replicas", "removing_replicas")
	ti, _ := c.any().cluster.Topic(topic)
	if m["topic_id"] != zkdata.TopicID(ti.ID).String() || len(m["partitions"].(map[string]any)) != 2 {
		t.Fatalf("topic znode %v", m)
	}
	for p := 0; p < 2; p++ {
		path := fmt.Sprintf("/brokers/topics/%s/partitions/%d/state", topic, p)
		m = get(path)
		want(path, m, "version", "leader", "leader_epoch", "controller_epoch", "isr")
		pi := ti.Partitions[p]
		if int32(m["leader"].(float64)) != pi.Leader || len(m["isr"].([]any)) != len(pi.ISR) || m["controller_epoch"].(float64) > float64(ctrlEpoch) {
			t.Fatalf("%s = %v, view %+v", path, m, pi)
		}
	}
	m = get("/config/topics/" + topic)
	if m["version"] != float64(1) || m["config"].(map[string]any)["retention.ms"] != "3600000" {
		t.Fatalf("/config/topics/%s = %v", topic, m)
	}
	m = get("/cluster/id")
	if m["version"] != "1" || m["id"] != c.any().ClusterID() {
		t.Fatalf("/cluster/id = %v, cluster id %s", m, c.any().ClusterID())
	}

	// kcat: produce through a bootstrap list, fail the leader over, and
	// keep producing and consuming with the same bootstrap list.
	seeds := strings.Join(c.addrs(), ",")
	runKcat(t, ctx, "a1\na2\n", "-b", seeds, "-P", "-t", topic, "-p", "0")
	dead := c.killLeader(topic, 0)
	runKcat(t, ctx, "a3\n", "-b", seeds, "-P", "-t", topic, "-p", "0", "-X", "message.send.max.retries=20")
	out := runKcat(t, ctx, "", "-b", seeds, "-C", "-t", topic, "-p", "0", "-o", "beginning", "-e", "-q")
	if strings.Fields(out)[0] != "a1" || len(strings.Fields(out)) != 3 {
		t.Fatalf("kcat read %q after the failover", out)
	}
	c.start(c.indexOf(dead))
	c.waitFullISR(topic, 20*time.Second)

	// CMAK's preferred replica election node.
	if err := c.preferredLeaders(topic); err == nil {
		t.Fatal("leaders already preferred")
	}
	if _, err := zc.Create(chroot+"/admin/preferred_replica_election",
		[]byte(`{"version":1,"partitions":[{"topic":"`+topic+`","partition":0},{"topic":"`+topic+`","partition":1}]}`),
		0, gozk.WorldACL(gozk.PermAll)); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, 10*time.Second, func() error {
		if ok, _, _ := zc.Exists(chroot + "/admin/preferred_replica_election"); ok {
			return errors.New("/admin/preferred_replica_election not removed")
		}
		return c.preferredLeaders(topic)
	})

	// CMAK's reassignment node: partition 1 moves to the broker not
	// holding it.
	p1 := c.partition(topic, 1)
	var to int32
	for id := int32(1); id <= 3; id++ {
		if !slices.Contains(p1.Replicas, id) {
			to = id
		}
	}
	target := []int32{to, p1.Replicas[0]}
	js, _ := json.Marshal(map[string]any{"version": 1, "partitions": []any{map[string]any{"topic": topic, "partition": 1, "replicas": target}}})
	if _, err := zc.Create(chroot+"/admin/reassign_partitions", js, 0, gozk.WorldACL(gozk.PermAll)); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, 20*time.Second, func() error {
		if ok, _, _ := zc.Exists(chroot + "/admin/reassign_partitions"); ok {
			return errors.New("/admin/reassign_partitions not removed")
		}
		if p := c.partition(topic, 1); !slices.Equal(p.Replicas, target) {
			return fmt.Errorf("replicas %v, want %v", p.Replicas, target)
		}
		if c.hasLogDir(p1.Replicas[1], topic, 1) {
			return fmt.Errorf("broker %d still has the moved replica", p1.Replicas[1])
		}
		return nil
	})

	// A deposed controller: keep the current controller's election, move
	// the controller by stopping its broker, then try a write with the old
	// fence from a live session: it fails and changes nothing.
	ctrlID := c.any().cluster.ControllerID()
	old := c.byID(ctrlID).cluster.(*zkCluster).controllerHere()
	if old == nil {
		t.Fatal("the controller broker runs no controller")
	}
	oldElection := zkclient.Election{Epoch: old.epoch, EpochZkVersion: old.ezv}
	c.stop(c.indexOf(ctrlID))
	testenv.WaitFor(t, 15*time.Second, func() error {
		if id := c.any().cluster.ControllerID(); id < 0 || id == ctrlID {
			return fmt.Errorf("controller %d", id)
		}
		return nil
	})
	c.start(c.indexOf(ctrlID))
	c.waitBrokers(3)
	if id := c.any().cluster.ControllerID(); id == ctrlID {
		t.Fatalf("broker %d took the controller back", id)
	}
	live := c.byID(ctrlID).cluster.(*zkCluster)
	s, err := live.keeper.WaitSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	stale := newController(live, s, oldElection)
	tp := zkdata.TopicPartition{Topic: topic, Partition: 0}
	before, ver, err := zkclient.NewClient(s).PartitionState(ctx, tp)
	if err != nil {
		t.Fatal(err)
	}
	next := before
	next.Leader, next.LeaderEpoch = -1, before.LeaderEpoch+1
	if err := stale.writeState(ctx, tp, next, ver.Version, nil); !errors.Is(err, zkclient.ErrControllerMoved) {
		t.Fatalf("write with a stale controller epoch: %v, want ErrControllerMoved", err)
	}
	after, _, err := zkclient.NewClient(s).PartitionState(ctx, tp)
	if err != nil || after.Leader != before.Leader || after.LeaderEpoch != before.LeaderEpoch {
		t.Fatalf("state changed by a deposed controller: %+v → %+v (%v)", before, after, err)
	}
	var _ metastore.Session = s
}

// The group coordinator moves with the leadership of the group's
// __consumer_offsets partition, and the new coordinator serves the
// offsets committed through the old one (replicated log, reloaded).
func TestClusterGroupCoordinatorFailover(t *testing.T) {
	c := newTestCluster(t, 3, localConnector(t))
	adm := c.admin()
	ctx := testCtx(t, time.Minute)
	if _, err := adm.CreateTopic(ctx, 1, 3, nil, "gt"); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, 20*time.Second, func() error {
		if _, ok := c.any().cluster.Topic(offsetsTopic); !ok {
			return errors.New("no offsets topic yet")
		}
		return nil
	})
	c.waitFullISR(offsetsTopic, 20*time.Second)
	// A fresh client per attempt: franz-go keeps a dead coordinator cached
	// until its retries run out.
	var adms []*kadm.Client
	fresh := func() *kadm.Client {
		cl, err := kgo.NewClient(kgo.SeedBrokers(c.addrs()...))
		if err != nil {
			t.Fatal(err)
		}
		a := kadm.NewClient(cl)
		adms = append(adms, a)
		return a
	}
	defer func() {
		for _, a := range adms {
			a.Close()
		}
	}()
	commit := func(at int64) {
		t.Helper()
		testenv.WaitFor(t, 15*time.Second, func() error {
			adm := fresh()
			offs := kadm.Offsets{}
			offs.Add(kadm.Offset{Topic: "gt", Partition: 0, At: at, LeaderEpoch: -1})
			return adm.CommitAllOffsets(ctx, "g1", offs)
		})
	}
	fetched := func(want int64) {
		t.Helper()
		testenv.WaitFor(t, 15*time.Second, func() error {
			adm := fresh()
			res, err := adm.FetchOffsets(ctx, "g1")
			if err != nil {
				return err
			}
			if o, ok := res.Lookup("gt", 0); !ok || o.At != want {
				return fmt.Errorf("fetched %+v, want %d", o, want)
			}
			return nil
		})
	}
	part := groupPartition("g1", c.cfgs[0].OffsetsTopicPartitions)
	commit(42)
	first := c.killLeader(offsetsTopic, part)
	fetched(42)
	commit(43)
	c.start(c.indexOf(first))
	c.waitFullISR(offsetsTopic, 20*time.Second)
	c.killLeader(offsetsTopic, part)
	fetched(43)
}

// With both replicas down and the last in-sync one still down, the other
// replica does not lead on its return (clean election only) until an
// unclean ElectLeaders, or unclean.leader.election.enable on the topic.
// controllerPass returns once the controller has completed a whole pass
// that began after the call. Requests to the controller run between its
// passes, so of two requests the second is answered only after the pass
// that follows the first.
func (c *testCluster) controllerPass(ctx context.Context) {
	c.t.Helper()
	noop := func(context.Context) error { return nil }
	testenv.WaitFor(c.t, 20*time.Second, func() error {
		for _, b := range c.running() {
			zc, ok := b.cluster.(*zkCluster)
			if !ok {
				continue
			}
			if ctl := zc.controllerHere(); ctl != nil {
				for range 2 {
					if err := ctl.do(ctx, noop); err != nil {
						return fmt.Errorf("controller on broker %d: %w", b.cfg.BrokerID, err)
					}
				}
				return nil
			}
		}
		return errors.New("no controller running")
	})
}

func TestClusterUncleanElection(t *testing.T) {
	c := newTestCluster(t, 3, localConnector(t))
	adm := c.admin()
	ctx := testCtx(t, time.Minute)
	for _, topic := range []string{"unclean-api", "unclean-config"} {
		if _, err := adm.CreateTopic(ctx, 1, 2, nil, topic); err != nil {
			t.Fatal(err)
		}
		c.waitFullISR(topic, 20*time.Second)
		p := c.partition(topic, 0)
		lastISR, other := p.Replicas[0], p.Replicas[1]
		c.stop(c.indexOf(other))
		testenv.WaitFor(t, 10*time.Second, func() error {
			if p := c.partition(topic, 0); !slices.Equal(p.ISR, []int32{lastISR}) {
				return fmt.Errorf("isr %v", p.ISR)
			}
			return nil
		})
		// Every running broker's Metadata lists the stopped broker's
		// replica as offline. The ISR above is one broker's view; the
		// others learn of the stop from the controller's UpdateMetadata,
		// which may lag, so each is asked until it answers so.
		cl, err := kgo.NewClient(kgo.SeedBrokers(c.addrs()...))
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range c.running() {
			id := b.cfg.BrokerID
			testenv.WaitFor(t, 10*time.Second, func() error {
				mreq := kmsg.NewPtrMetadataRequest()
				mreq.Topics = []kmsg.MetadataRequestTopic{{Topic: kmsg.StringPtr(topic)}}
				kr, err := cl.Broker(int(id)).Request(ctx, mreq)
				if err != nil {
					return err
				}
				mresp := kr.(*kmsg.MetadataResponse)
				if len(mresp.Topics) != 1 || len(mresp.Topics[0].Partitions) != 1 {
					return fmt.Errorf("broker %d: metadata %+v", id, mresp.Topics)
				}
				if off := mresp.Topics[0].Partitions[0].OfflineReplicas; !slices.Equal(off, []int32{other}) {
					return fmt.Errorf("broker %d: offline replicas %v, want [%d]", id, off, other)
				}
				return nil
			})
		}
		cl.Close()
		c.stop(c.indexOf(lastISR))
		c.start(c.indexOf(other))
		c.waitBrokers(2)
		adm := c.admin()
		// The controller has had its chance: a whole pass with the stale
		// replica registered again, and the state it stores must show no
		// leader.
		c.controllerPass(ctx)
		sess, err := c.any().cluster.(*zkCluster).keeper.WaitSession(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st, _, err := zkclient.NewClient(sess).PartitionState(ctx, zkdata.TopicPartition{Topic: topic}); err != nil || st.Leader >= 0 {
			t.Fatalf("%s: out-of-sync replica %d elected cleanly: stored state %+v (%v)", topic, other, st, err)
		}
		// The brokers' views follow the stored state, which has no leader;
		// the restarted broker's may lag it for a moment.
		testenv.WaitFor(t, 10*time.Second, func() error {
			if p := c.partition(topic, 0); p.Leader >= 0 {
				return fmt.Errorf("%s: a broker's view has leader %d: %+v", topic, p.Leader, p)
			}
			return nil
		})
		if topic == "unclean-api" {
			res, err := adm.ElectLeaders(ctx, kadm.ElectLiveReplica, kadm.TopicsSet{topic: {0: {}}})
			if err != nil {
				t.Fatal(err)
			}
			if r := res[topic][0]; r.Err != nil {
				t.Fatalf("unclean election: %v", r.Err)
			}
		} else {
			if _, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Name: "unclean.leader.election.enable", Value: kadm.StringPtr("true")}}, topic); err != nil {
				t.Fatal(err)
			}
		}
		testenv.WaitFor(t, 10*time.Second, func() error {
			if p := c.partition(topic, 0); p.Leader != other {
				return fmt.Errorf("leader %d, want %d", p.Leader, other)
			}
			return nil
		})
		c.start(c.indexOf(lastISR))
		c.waitBrokers(3)
		c.waitFullISR(topic, 20*time.Second)
	}
}

// Topic administration through any broker reaches every broker: configs
// (and the logs' settings), added partitions, deletion with the data.
func TestClusterTopicAdmin(t *testing.T) {
	c := newTestCluster(t, 3, localConnector(t))
	adm := c.admin()
	ctx := testCtx(t, time.Minute)
	const topic = "admin"
	if _, err := adm.CreateTopic(ctx, 2, 2, nil, topic); err != nil {
		t.Fatal(err)
	}
	c.waitFullISR(topic, 20*time.Second)
	// Sent to any broker, right after the creation: one that has not heard of the topic yet still takes
	// it (existence is checked in the metadata store, as Kafka does).
	if res, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Name: "retention.ms", Value: kadm.StringPtr("123456")}}, topic); err != nil || res[0].Err != nil {
		t.Fatalf("alter configs: %v %+v", err, res)
	}
	testenv.WaitFor(t, 10*time.Second, func() error {
		for id := int32(1); id <= 3; id++ {
			b := c.byID(id)
			if ti, _ := b.cluster.Topic(topic); ti.Configs["retention.ms"] != "123456" {
				return fmt.Errorf("broker %d sees configs %v", id, ti.Configs)
			}
			for p := int32(0); p < 2; p++ {
				if lp := b.data.get(topic, p); lp != nil && lp.log.Config().RetentionMs != 123456 {
					return fmt.Errorf("broker %d log %d retention %d", id, p, lp.log.Config().RetentionMs)
				}
			}
		}
		return nil
	})
	if _, err := adm.CreatePartitions(ctx, 4, topic); err != nil { // adds 4
		t.Fatal(err)
	}
	// The answer comes once the receiving broker knows the new partitions' leaders (as in Kafka); the
	// other brokers learn them from the controller's requests a moment later.
	testenv.WaitFor(t, 20*time.Second, func() error {
		for id := int32(1); id <= 3; id++ {
			if ti, _ := c.byID(id).cluster.Topic(topic); len(ti.Partitions) != 6 || len(ti.Partitions[5].Replicas) != 2 {
				return fmt.Errorf("after CreatePartitions broker %d sees %+v", id, ti.Partitions)
			}
		}
		return nil
	})
	c.waitFullISR(topic, 20*time.Second)
	if _, err := adm.DeleteTopics(ctx, topic); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, 10*time.Second, func() error {
		for id := int32(1); id <= 3; id++ {
			if _, ok := c.byID(id).cluster.Topic(topic); ok {
				return fmt.Errorf("broker %d still sees the topic", id)
			}
			for p := int32(0); p < 6; p++ {
				if c.hasLogDir(id, topic, p) {
					return fmt.Errorf("broker %d still has %s-%d", id, topic, p)
				}
			}
		}
		return nil
	})
}

// A reassignment with the replication throttle (rates in
// /config/brokers/<default> as kafka-reassign-partitions.sh --zookeeper
// --throttle writes them, or set on each broker through
// IncrementalAlterConfigs as kafka-reassign-partitions.sh
// --bootstrap-server and Osprey's console do; throttled replicas "*" on
// the topic) copies no faster than the rate, and completes with the data
// intact.
func TestClusterReplicationThrottle(t *testing.T) {
	t.Run("zookeeper", func(t *testing.T) {
		testReplicationThrottle(t, func(ctx context.Context, c *testCluster, rate string) {
			s, err := c.any().cluster.(*zkCluster).keeper.WaitSession(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := zkclient.NewClient(s).SetEntityConfig(ctx, zkdata.ConfigTypeBroker, "<default>", map[string]string{
				"leader.replication.throttled.rate": rate, "follower.replication.throttled.rate": rate}); err != nil {
				t.Fatal(err)
			}
		})
	})
	t.Run("api", func(t *testing.T) {
		testReplicationThrottle(t, func(ctx context.Context, c *testCluster, rate string) {
			rs, err := c.admin().AlterBrokerConfigs(ctx, []kadm.AlterConfig{
				{Name: "leader.replication.throttled.rate", Value: kadm.StringPtr(rate)},
				{Name: "follower.replication.throttled.rate", Value: kadm.StringPtr(rate)}}, 1, 2)
			alterOK(t, "set rates", rs, err)
		})
	})
}

func testReplicationThrottle(t *testing.T, setRates func(ctx context.Context, c *testCluster, rate string)) {
	c := newTestCluster(t, 2, localConnector(t))
	adm := c.admin()
	ctx := testCtx(t, time.Minute)
	const topic = "throttled"
	if _, err := adm.CreateTopic(ctx, 1, 1, nil, topic); err != nil {
		t.Fatal(err)
	}
	c.waitFullISR(topic, 20*time.Second)
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.addrs()...), kgo.DefaultProduceTopic(topic), kgo.ProducerBatchMaxBytes(64<<10),
		kgo.ProducerBatchCompression(kgo.NoCompression()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	val := strings.Repeat("x", 10<<10)
	var recs []*kgo.Record
	for i := 0; i < 60; i++ { // 600 KiB
		recs = append(recs, &kgo.Record{Value: []byte(val)})
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	const rate = 200 << 10
	setRates(ctx, c, strconv.Itoa(rate))
	if _, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{
		{Name: "leader.replication.throttled.replicas", Value: kadm.StringPtr("*")},
		{Name: "follower.replication.throttled.replicas", Value: kadm.StringPtr("*")}}, topic); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, 5*time.Second, func() error {
		for id := int32(1); id <= 2; id++ {
			if c.byID(id).repl.followerThrottle.exceeded() || c.byID(id).repl.followerThrottle.currentRate() != rate {
				return fmt.Errorf("broker %d has not applied the rate", id)
			}
		}
		return nil
	})
	p := c.partition(topic, 0)
	other := int32(3) - p.Replicas[0]
	testenv.WaitFor(t, 5*time.Second, func() error {
		for id := int32(1); id <= 2; id++ {
			if ti, _ := c.byID(id).cluster.Topic(topic); ti.Configs["follower.replication.throttled.replicas"] != "*" {
				return fmt.Errorf("broker %d sees configs %v", id, ti.Configs)
			}
		}
		return nil
	})
	req := kadm.AlterPartitionAssignmentsReq{}
	req.Assign(topic, 0, []int32{p.Replicas[0], other})
	start := time.Now()
	if res, err := adm.AlterPartitionAssignments(ctx, req); err != nil || res.Error() != nil {
		t.Fatalf("alter: %v %v", err, res.Error())
	}
	testenv.WaitFor(t, 30*time.Second, func() error {
		p := c.partition(topic, 0)
		if len(p.Replicas) != 2 || len(p.ISR) != 2 {
			return fmt.Errorf("replicas %v isr %v", p.Replicas, p.ISR)
		}
		if r := c.any().cluster.(*zkCluster).reassigning(); len(r) > 0 {
			return fmt.Errorf("still reassigning: %v", r)
		}
		return nil
	})
	took := time.Since(start)
	// 600 KiB at 200 KiB/s with a one-second burst: at least ~2 s.
	if took < 1500*time.Millisecond {
		t.Fatalf("throttled reassignment of 600 KiB took %v", took)
	}
	t.Logf("throttled reassignment took %v", took)
	leader := c.byID(c.partition(topic, 0).Leader).data.get(topic, 0)
	follower := c.byID(other).data.get(topic, 0)
	if follower.log.LogEndOffset() != leader.log.LogEndOffset() {
		t.Fatalf("new replica ends at %d, leader at %d", follower.log.LogEndOffset(), leader.log.LogEndOffset())
	}
}
