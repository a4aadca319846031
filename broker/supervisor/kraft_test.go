package supervisor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/osprey-kafka/osprey/broker/kraft/metaprops"
	"github.com/osprey-kafka/osprey/internal/testenv"
)

// kraftTestProperties make fencing, elections and ISR changes take seconds
// rather than Kafka's defaults.
func kraftTestProperties() map[string]string {
	return map[string]string{
		"replica.lag.time.max.ms":               "2000",
		"offsets.topic.num.partitions":          "3",
		"broker.session.timeout.ms":             "3000",
		"broker.heartbeat.interval.ms":          "300",
		"controller.quorum.election.timeout.ms": "500",
		"controller.quorum.fetch.timeout.ms":    "1000",
	}
}

// describeQuorum asks broker id for the metadata quorum (DescribeQuorum,
// which a KRaft broker answers from the quorum leader).
func describeQuorum(ctx context.Context, cl *kgo.Client, id int32) (kmsg.DescribeQuorumResponseTopicPartition, error) {
	req := kmsg.NewPtrDescribeQuorumRequest()
	rt := kmsg.NewDescribeQuorumRequestTopic()
	rt.Topic = "__cluster_metadata"
	rp := kmsg.NewDescribeQuorumRequestTopicPartition()
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	rctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	resp, err := req.RequestWith(rctx, cl.Broker(int(id)))
	if err != nil {
		return kmsg.DescribeQuorumResponseTopicPartition{}, err
	}
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		return kmsg.DescribeQuorumResponseTopicPartition{}, err
	}
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		return kmsg.DescribeQuorumResponseTopicPartition{}, fmt.Errorf("DescribeQuorum answer %+v", resp)
	}
	p := resp.Topics[0].Partitions[0]
	return p, kerr.ErrorForCode(p.ErrorCode)
}

// voter returns the voter with that id from a DescribeQuorum answer.
func voter(p kmsg.DescribeQuorumResponseTopicPartition, id int32) (kmsg.DescribeQuorumResponseTopicPartitionReplicaState, bool) {
	for _, v := range p.CurrentVoters {
		if v.ReplicaID == id {
			return v, true
		}
	}
	return kmsg.DescribeQuorumResponseTopicPartitionReplicaState{}, false
}

// brokerIDs are the ids of the nodes with the broker role.
func brokerIDs(c *Cluster) []int32 {
	var out []int32
	for _, s := range c.Status() {
		if slices.Contains(s.Roles, "broker") {
			out = append(out, s.ID)
		}
	}
	return out
}

// quorumFrom asks each running broker but skip in turn until one answers.
func quorumFrom(ctx context.Context, c *Cluster, cl *kgo.Client, skip int32) (kmsg.DescribeQuorumResponseTopicPartition, error) {
	var errs []error
	for _, id := range brokerIDs(c) {
		if id == skip || state(c, id).State != StateRunning {
			continue
		}
		p, err := describeQuorum(ctx, cl, id)
		if err == nil {
			return p, nil
		}
		errs = append(errs, fmt.Errorf("broker %d: %w", id, err))
	}
	return kmsg.DescribeQuorumResponseTopicPartition{}, errors.Join(errs...)
}

// Three combined KRaft nodes in this process: roles in the status, the
// ZooKeeper-mode exercise (kill, start, restart under traffic), and a
// restart of the whole cluster keeps its id, ports and data.
func TestKRaftInProcessCluster(t *testing.T) {
	dir := t.TempDir()
	opts := Options{Brokers: 3, KRaft: true, DataDir: dir, Properties: kraftTestProperties()}
	c := newTestSupervisor(t, opts)
	for _, s := range c.Status() {
		if !slices.Equal(s.Roles, []string{"broker", "controller"}) || s.ControllerAddr == "" {
			t.Fatalf("node %d: roles %v controller listener %q, want a combined node", s.ID, s.Roles, s.ControllerAddr)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, MetadataFile)); err == nil {
		t.Fatal("a KRaft cluster saved an in-process metadata store")
	}
	exercise(t, c, func(s BrokerStatus) bool { return s.PID == os.Getpid() })
	st, err := ReadState(dir)
	if err != nil {
		t.Fatal(err)
	}
	ports := c.BootstrapServers()
	if err := c.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	mp, err := metaprops.Read(c.Status()[0].DataDir)
	if err != nil || !st.KRaft || mp.ClusterID != st.ClusterID || mp.NodeID != 1 {
		t.Fatalf("meta.properties %+v (%v), cluster.json kraft=%v cluster id %q", mp, err, st.KRaft, st.ClusterID)
	}
	c2 := newTestSupervisor(t, opts)
	if c2.BootstrapServers() != ports {
		t.Fatalf("ports changed across restarts: %s → %s", ports, c2.BootstrapServers())
	}
	if st2, _ := ReadState(dir); st2 == nil || st2.ClusterID != st.ClusterID {
		t.Fatalf("cluster id changed across restarts: %q → %+v", st.ClusterID, st2)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(c2.BootstrapServers(), ",")...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	testenv.WaitFor(t, 30*time.Second, func() error {
		ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, "sup")
		if err != nil {
			return err
		}
		o, _ := ends.Lookup("sup", 0)
		if o.Err == nil && o.Offset != 200 {
			t.Fatalf("after a cluster restart: end offset %+v, want 200", o)
		}
		return o.Err
	})
}

// Three controller-only nodes and three broker-only nodes in this process:
// the brokers register; a killed broker is fenced (no longer listed) and
// unfenced when back; killing the quorum leader elects another controller
// and the cluster keeps serving.
func TestKRaftSplitInProcess(t *testing.T) {
	c := newTestSupervisor(t, Options{Brokers: 3, KRaft: true, Controllers: 3, Properties: kraftTestProperties()})
	if got, want := c.IDs(), []int32{1, 2, 3, 101, 102, 103}; !slices.Equal(got, want) {
		t.Fatalf("ids %v, want %v", got, want)
	}
	for _, s := range c.Status() {
		want := []string{"broker"}
		if s.ID > ControllerIDBase {
			want = []string{"controller"}
		}
		if !slices.Equal(s.Roles, want) || s.State != StateRunning {
			t.Fatalf("node %+v, want roles %v running", s, want)
		}
	}
	if bs := c.BootstrapServers(); strings.Count(bs, ",") != 2 {
		t.Fatalf("bootstrap servers %q: want the 3 brokers only", bs)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(c.BootstrapServers(), ",")...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	// A fresh client each time: a client answers Metadata from its cache
	// for a while.
	listed := func() []int32 {
		cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(c.BootstrapServers(), ",")...))
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		md, err := kadm.NewClient(cl).BrokerMetadata(ctx)
		if err != nil {
			return nil
		}
		ids := md.Brokers.NodeIDs()
		slices.Sort(ids)
		return ids
	}
	if err := c.KillBroker(2); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, 30*time.Second, func() error {
		if ids := listed(); !slices.Equal(ids, []int32{1, 3}) {
			return fmt.Errorf("brokers listed %v, want [1 3] (2 fenced)", ids)
		}
		return nil
	})
	if err := c.StartBroker(ctx, 2); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, 30*time.Second, func() error {
		if ids := listed(); !slices.Equal(ids, []int32{1, 2, 3}) {
			return fmt.Errorf("brokers listed %v, want [1 2 3]", ids)
		}
		return nil
	})
	q, err := quorumFrom(ctx, c, cl, -1)
	if err != nil {
		t.Fatal(err)
	}
	old := q.LeaderID
	if old <= ControllerIDBase {
		t.Fatalf("quorum leader %d is not a controller node", old)
	}
	if err := c.KillBroker(old); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, 30*time.Second, func() error {
		q, err := quorumFrom(ctx, c, cl, -1)
		if err != nil {
			return err
		}
		if q.LeaderID == old || q.LeaderID < 0 {
			return fmt.Errorf("quorum leader %d", q.LeaderID)
		}
		return nil
	})
	// The new active controller serves a topic creation.
	testenv.WaitFor(t, 30*time.Second, func() error {
		_, err := adm.CreateTopic(ctx, 1, 3, nil, "after-failover")
		if errors.Is(err, kerr.TopicAlreadyExists) {
			return nil
		}
		return err
	})
	if err := c.StartBroker(ctx, old); err != nil {
		t.Fatal(err)
	}
	if s := state(c, old); s.State != StateRunning || s.PID != os.Getpid() {
		t.Fatalf("controller after restart: %+v", s)
	}
}

// The issue's end-to-end test: three combined nodes as `osprey broker
// --config` child processes, formatted with `osprey storage format`, files
// in the design documents' layout; kcat and franz-go produce and consume;
// an idempotent acks=all producer writes to an RF 3, min.insync.replicas=2
// topic while the quorum leader's process is SIGKILLed and restarted three
// times: a different leader is elected each time, the old one rejoins as a
// caught-up follower, and every acknowledged record is read back exactly
// once, in order.
func TestKRaftChildProcessControllerFailover(t *testing.T) {
	c := newTestSupervisor(t, Options{Brokers: 3, KRaft: true, Mode: ChildProcess, Properties: kraftTestProperties()})
	checkDesignFile(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	seeds := strings.Split(c.BootstrapServers(), ",")
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	if _, err := adm.CreateTopic(ctx, 1, 3, nil, "kc"); err != nil {
		t.Fatal(err)
	}
	kcatRoundTrip(t, ctx, seeds[0])
	if _, err := adm.CreateTopic(ctx, 1, 3, map[string]*string{"min.insync.replicas": kadm.StringPtr("2")}, "load"); err != nil {
		t.Fatal(err)
	}
	ld := startLoad(t, ctx, seeds, "load")
	ld.progress(200)
	for round := 0; round < 3; round++ {
		q, err := quorumFrom(ctx, c, cl, -1)
		if err != nil {
			t.Fatal(err)
		}
		old, epoch := q.LeaderID, q.LeaderEpoch
		pid := state(c, old).PID
		if err := c.KillBroker(old); err != nil {
			t.Fatal(err)
		}
		if ProcessAlive(pid) {
			t.Fatalf("pid %d alive after SIGKILL", pid)
		}
		testenv.WaitFor(t, 30*time.Second, func() error {
			q, err := quorumFrom(ctx, c, cl, old)
			if err != nil {
				return err
			}
			if q.LeaderID < 0 || q.LeaderID == old || q.LeaderEpoch <= epoch {
				return fmt.Errorf("quorum leader %d epoch %d (killed %d at epoch %d)", q.LeaderID, q.LeaderEpoch, old, epoch)
			}
			return nil
		})
		ld.progress(100)
		if err := c.StartBroker(ctx, old); err != nil {
			t.Fatal(err)
		}
		testenv.WaitFor(t, 60*time.Second, func() error {
			q, err := quorumFrom(ctx, c, cl, -1)
			if err != nil {
				return err
			}
			v, ok := voter(q, old)
			switch {
			case q.LeaderID == old:
				return fmt.Errorf("node %d leads again at epoch %d", old, q.LeaderEpoch)
			case !ok:
				return fmt.Errorf("node %d is not among the voters %+v", old, q.CurrentVoters)
			case v.LogEndOffset < q.HighWatermark:
				return fmt.Errorf("follower %d at %d, high watermark %d", old, v.LogEndOffset, q.HighWatermark)
			}
			md, err := adm.Metadata(ctx, "load")
			if err != nil {
				return err
			}
			if p := md.Topics["load"].Partitions[0]; len(p.ISR) != 3 {
				return fmt.Errorf("isr %v", p.ISR)
			}
			return nil
		})
		t.Logf("round %d: killed quorum leader %d (epoch %d); it rejoined as a follower", round+1, old, epoch)
		ld.progress(100)
	}
	ld.stopAndCheck(adm)
}

// checkDesignFile checks a node's server.properties has the design
// documents' KRaft keys and its directory was formatted by the CLI.
func checkDesignFile(t *testing.T, c *Cluster) {
	t.Helper()
	s := c.Status()[0]
	data, err := os.ReadFile(s.ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	for _, want := range []string{"process.roles=broker,controller", "node.id=1", "controller.listener.names=CONTROLLER",
		"listeners=PLAINTEXT://" + s.Addr + ",CONTROLLER://" + s.ControllerAddr, "inter.broker.listener.name=PLAINTEXT",
		"advertised.listeners=PLAINTEXT://" + s.Addr, "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
		"log.dirs=" + s.DataDir} {
		if !slices.Contains(lines, want) {
			t.Fatalf("server.properties lacks %q:\n%s", want, data)
		}
	}
	if !slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, "controller.quorum.voters=1@") }) {
		t.Fatalf("server.properties has no controller.quorum.voters:\n%s", data)
	}
	st, err := ReadState(filepath.Dir(s.ConfigPath))
	if err != nil {
		t.Fatal(err)
	}
	if mp, err := metaprops.Read(s.DataDir); err != nil || mp.ClusterID != st.ClusterID || mp.Version != 1 {
		t.Fatalf("meta.properties %+v (%v), cluster id %q", mp, err, st.ClusterID)
	}
}

// kcatRoundTrip produces three keyed records with kcat (librdkafka) and
// reads them back with kcat and with franz-go.
func kcatRoundTrip(t *testing.T, ctx context.Context, addr string) {
	t.Helper()
	kcat, err := exec.LookPath("kcat")
	if err != nil {
		t.Fatalf("kcat not found (apt-get install kcat): %v", err)
	}
	run := func(stdin string, args ...string) string {
		cmd := exec.CommandContext(ctx, kcat, args...)
		cmd.Stdin = strings.NewReader(stdin)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			t.Fatalf("kcat %v: %v\nstderr: %s", args, err, errb.String())
		}
		return out.String()
	}
	run("k1:one\nk2:two\nk3:three\n", "-b", addr, "-P", "-t", "kc", "-p", "0", "-K:", "-X", "enable.idempotence=true",
		"-X", "topic.request.required.acks=all")
	got := run("", "-b", addr, "-C", "-t", "kc", "-p", "0", "-o", "beginning", "-e", "-f", "%k=%s\n")
	if got != "k1=one\nk2=two\nk3=three\n" {
		t.Fatalf("kcat consumed %q", got)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{"kc": {0: kgo.NewOffset().AtStart()}}))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var vals []string
	for len(vals) < 3 && ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) { vals = append(vals, string(r.Key)+"="+string(r.Value)) })
	}
	if !slices.Equal(vals, []string{"k1=one", "k2=two", "k3=three"}) {
		t.Fatalf("franz-go consumed %v", vals)
	}
}
