package chaos

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/osprey-kafka/osprey/broker/kraft/metadata"
	"github.com/osprey-kafka/osprey/broker/kraft/metaprops"
	"github.com/osprey-kafka/osprey/internal/testenv"
)

// Metadata modes the suite runs every fault in.
const (
	modeZooKeeper = "zookeeper"
	modeKRaft     = "kraft"
)

// Timings the faults are measured against: a paused or cut-off leader is
// out for longer than both.
const (
	sessionTimeout = 4 * time.Second // zookeeper.session.timeout.ms, broker.session.timeout.ms
	replicaLagMax  = 3 * time.Second // replica.lag.time.max.ms
	brokerPort     = 9092
	controllerPort = 9093
	zkPort         = 2181
	numBrokers     = 3
	metaHost       = 2  // metadata server i's (ZooKeeper or KRaft controller) address is .(1+i)
	firstBroker    = 11 // broker i's address is .(10+i)
)

// quorumFetchTimeout is controller.quorum.fetch.timeout.ms (Kafka's default),
// which sets KRaft's timings in a quorum split (checkKRaftSplitTimes).
const quorumFetchTimeout = 2 * time.Second

// member is one server of the cluster: a broker, the ZooKeeper server or
// the KRaft controller, each in its own namespace.
type member struct {
	id      int32 // broker id / node id; 0 for ZooKeeper
	name    string
	ns      string
	ip      string
	port    int
	dir     string
	cfgPath string
	proc    *proc
}

func (m *member) addr() string { return net.JoinHostPort(m.ip, strconv.Itoa(m.port)) }

// cluster is three brokers and one or three metadata servers (ZooKeeper
// servers, or KRaft controller-only nodes) on a test network.
type cluster struct {
	t         testing.TB
	mode      string
	net       *network
	dir       string
	metas     []*member // ZooKeeper servers (ids 1..n) or KRaft controllers (ids 101..100+n)
	brokers   []*member
	clusterID string   // KRaft
	self      string   // this test binary, run as the nodes
	mounts    []string // tmpfs log dirs, unmounted by close
}

// layout is what a fault needs of its cluster.
type layout struct {
	quorum int // metadata servers: 1, or 3 for a quorum that can split
	diskMB int // >0: each broker's log dir is a tmpfs of this size
}

// newCluster starts a cluster in mode laid out as l and waits until every
// broker lists all three as registered. Everything it started is stopped
// (and unmounted) by t.Cleanup, before the network is removed.
func newCluster(t testing.TB, mode string, l layout) *cluster {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	c := &cluster{t: t, mode: mode, net: newNetwork(t), dir: t.TempDir(), self: self}
	t.Cleanup(c.close)
	for i := 1; i <= l.quorum; i++ {
		m := c.addMember(int32(i), "meta-"+strconv.Itoa(i), byte(metaHost+i-1))
		m.port = zkPort
		if mode == modeKRaft {
			m.id, m.port = 100+int32(i), controllerPort
		}
		c.metas = append(c.metas, m)
	}
	if mode == modeKRaft {
		u, err := metadata.RandomUuid(nil)
		if err != nil {
			t.Fatal(err)
		}
		c.clusterID = u.String()
	}
	for i := 1; i <= numBrokers; i++ {
		m := c.addMember(int32(i), "broker-"+strconv.Itoa(i), byte(firstBroker+i-1))
		m.port = brokerPort
		c.brokers = append(c.brokers, m)
		if l.diskMB > 0 {
			c.mountSmallDisk(m, l.diskMB)
		}
	}
	for _, m := range c.metas {
		c.startMeta(m)
	}
	if mode == modeZooKeeper {
		for _, m := range c.metas {
			waitFor(t, 90*time.Second, m.name+" serving", c.zkServing(m))
		}
	}
	for _, m := range c.brokers {
		c.writeNodeConfig(m)
		c.startNode(m)
	}
	testenv.WaitFor(t, 90*time.Second, c.allRegistered)
	return c
}

func (c *cluster) addMember(id int32, name string, host byte) *member {
	m := &member{id: id, name: name, ip: c.net.ip(host), dir: filepath.Join(c.dir, name)}
	m.ns = c.net.addSpace(name, host)
	m.cfgPath = filepath.Join(c.dir, name+".properties")
	if err := os.MkdirAll(m.dir, 0o755); err != nil {
		c.t.Fatal(err)
	}
	return m
}

// close stops every server; on failure it prints the end of each log.
func (c *cluster) close() {
	for _, m := range append(slices.Clone(c.brokers), c.metas...) {
		if m.proc == nil {
			continue
		}
		m.proc.stop(5 * time.Second)
		if c.t.Failed() {
			c.t.Logf("---- last lines of %s (%s):\n%s", m.name, m.proc.logPath, m.proc.logTail(40))
		}
	}
	for _, dir := range c.mounts {
		if _, err := sh("umount", dir); err != nil {
			c.t.Errorf("chaos teardown: %v", err)
		}
	}
}

// mountSmallDisk puts broker m's log dir on a tmpfs of sizeMB, so that a
// fault can fill it.
func (c *cluster) mountSmallDisk(m *member, sizeMB int) {
	c.t.Helper()
	dir := filepath.Join(m.dir, "data")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		c.t.Fatal(err)
	}
	// The source names the owner, so that removeStale can find the mounts
	// of a test process that was killed before its clean-up.
	src := nsPrefix + strconv.Itoa(os.Getpid())
	if _, err := sh("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%dm", sizeMB), src, dir); err != nil {
		c.t.Fatal(err)
	}
	c.mounts = append(c.mounts, dir)
}

// startMeta starts (or restarts, keeping its data) metadata server m; a
// ZooKeeper server is not waited for (an ensemble serves once a majority
// runs).
func (c *cluster) startMeta(m *member) {
	c.t.Helper()
	if c.mode == modeKRaft {
		c.writeNodeConfig(m)
		c.startNode(m)
		return
	}
	c.startZooKeeper(m)
}

// startZooKeeper runs Debian's ZooKeeper 3.8 the way
// deploy/scripts/services.sh does, with a short tick so that the brokers'
// 4 s sessions are allowed; with several servers, as an ensemble.
func (c *cluster) startZooKeeper(m *member) {
	c.t.Helper()
	data := filepath.Join(m.dir, "data")
	cfg := fmt.Sprintf("tickTime=500\ninitLimit=10\nsyncLimit=4\ndataDir=%s\nclientPort=%d\n"+
		"clientPortAddress=%s\nmaxClientCnxns=0\n4lw.commands.whitelist=*\nadmin.enableServer=false\n",
		data, m.port, m.ip)
	if len(c.metas) > 1 {
		for _, o := range c.metas {
			cfg += fmt.Sprintf("server.%d=%s:2888:3888\n", o.id, o.ip)
		}
		if err := os.MkdirAll(data, 0o755); err != nil {
			c.t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(data, "myid"), []byte(strconv.Itoa(int(m.id))+"\n"), 0o644); err != nil {
			c.t.Fatal(err)
		}
	}
	if err := os.WriteFile(m.cfgPath, []byte(cfg), 0o644); err != nil {
		c.t.Fatal(err)
	}
	cp := "/usr/share/java/zookeeper.jar"
	if _, err := os.Stat(cp); err != nil {
		c.t.Fatalf("ZooKeeper jar %s not found: run deploy/scripts/install-deps.sh", cp)
	}
	if _, err := os.Stat("/usr/share/java/slf4j-simple.jar"); err == nil {
		cp += ":/usr/share/java/slf4j-simple.jar"
	}
	p, err := startProc(m.name, m.ns, filepath.Join(c.dir, m.name+".log"), nil,
		"java", "-Xms32m", "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
		"-Djava.net.preferIPv4Stack=true", "-Dzookeeper.admin.enableServer=false",
		"-Dorg.slf4j.simpleLogger.showDateTime=true",
		"-cp", cp, "org.apache.zookeeper.server.quorum.QuorumPeerMain", m.cfgPath)
	if err != nil {
		c.t.Fatal(err)
	}
	m.proc = p
}

// zkServing is a condition: ZooKeeper server m runs and serves requests.
func (c *cluster) zkServing(m *member) func() error {
	return func() error {
		if m.proc.exited() {
			c.t.Fatalf("%s exited:\n%s", m.name, m.proc.logTail(30))
		}
		_, err := zkMode(m.addr())
		return err
	}
}

// metaConnect is zookeeper.connect: every ZooKeeper server.
func (c *cluster) metaConnect() string {
	var out []string
	for _, m := range c.metas {
		out = append(out, m.addr())
	}
	return strings.Join(out, ",")
}

// voters is controller.quorum.voters: every controller's id@host:port.
func (c *cluster) voters() string {
	var out []string
	for _, m := range c.metas {
		out = append(out, fmt.Sprintf("%d@%s", m.id, m.addr()))
	}
	return strings.Join(out, ",")
}

// nodeProperties are a broker's or the controller's server.properties.
func (c *cluster) nodeProperties(m *member) map[string]string {
	props := map[string]string{
		"log.dirs":                         filepath.Join(m.dir, "data"),
		"num.partitions":                   "3",
		"default.replication.factor":       "3",
		"min.insync.replicas":              "2",
		"unclean.leader.election.enable":   "false",
		"offsets.topic.replication.factor": "3",
		"offsets.topic.num.partitions":     "3",
		"group.initial.rebalance.delay.ms": "0",
		"replica.lag.time.max.ms":          strconv.Itoa(int(replicaLagMax.Milliseconds())),
	}
	if c.mode == modeZooKeeper {
		props["broker.id"] = strconv.Itoa(int(m.id))
		props["listeners"] = "PLAINTEXT://" + m.addr()
		props["zookeeper.connect"] = c.metaConnect()
		props["zookeeper.session.timeout.ms"] = strconv.Itoa(int(sessionTimeout.Milliseconds()))
		return props
	}
	props["node.id"] = strconv.Itoa(int(m.id))
	props["controller.listener.names"] = "CONTROLLER"
	props["controller.quorum.voters"] = c.voters()
	props["listener.security.protocol.map"] = "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT"
	props["broker.session.timeout.ms"] = strconv.Itoa(int(sessionTimeout.Milliseconds()))
	props["broker.heartbeat.interval.ms"] = "500"
	props["controller.quorum.fetch.timeout.ms"] = strconv.Itoa(int(quorumFetchTimeout.Milliseconds()))
	if slices.Contains(c.metas, m) {
		props["process.roles"] = "controller"
		props["listeners"] = "CONTROLLER://" + m.addr()
	} else {
		props["process.roles"] = "broker"
		props["listeners"] = "PLAINTEXT://" + m.addr()
		props["advertised.listeners"] = "PLAINTEXT://" + m.addr()
		props["inter.broker.listener.name"] = "PLAINTEXT"
	}
	return props
}

// writeNodeConfig writes m's server.properties and, in KRaft mode, formats
// its directories before the first start.
func (c *cluster) writeNodeConfig(m *member) {
	c.t.Helper()
	props := c.nodeProperties(m)
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s\n", k, props[k])
	}
	if err := os.WriteFile(m.cfgPath, []byte(b.String()), 0o644); err != nil {
		c.t.Fatal(err)
	}
	if c.mode != modeKRaft {
		return
	}
	if _, err := metaprops.Read(props["log.dirs"]); err == nil {
		return
	}
	err := metaprops.Format(metaprops.FormatOptions{ClusterID: c.clusterID, NodeID: m.id,
		Directories: []string{props["log.dirs"]}, MetadataLogDir: props["log.dirs"],
		ControllerListenerName: "CONTROLLER"})
	if err != nil {
		c.t.Fatalf("formatting %s: %v", m.name, err)
	}
}

// startNode runs this test binary as node m in m's namespace and waits
// until it accepts connections.
func (c *cluster) startNode(m *member) {
	c.t.Helper()
	p, err := startProc(m.name, m.ns, filepath.Join(c.dir, m.name+".log"), []string{envChild + "=" + m.cfgPath}, c.self)
	if err != nil {
		c.t.Fatal(err)
	}
	m.proc = p
	testenv.WaitFor(c.t, 60*time.Second, func() error {
		if p.exited() {
			c.t.Fatalf("%s exited during start-up:\n%s", m.name, p.logTail(30))
		}
		conn, err := net.DialTimeout("tcp", m.addr(), 500*time.Millisecond)
		if err != nil {
			return err
		}
		return conn.Close()
	})
}

func (c *cluster) broker(id int32) *member { return c.brokers[id-1] }

func (c *cluster) bootstrap() []string {
	var out []string
	for _, m := range c.brokers {
		out = append(out, m.addr())
	}
	return out
}

// others are the addresses of every server but m (what a partition cuts m
// off from).
func (c *cluster) others(m *member) []string {
	var out []string
	for _, b := range append(slices.Clone(c.metas), c.brokers...) {
		if b != m {
			out = append(out, b.ip)
		}
	}
	return out
}

// allRegistered succeeds when every broker's Metadata lists all brokers
// (asked with a fresh client each time: a client caches metadata).
func (c *cluster) allRegistered() error {
	for _, m := range c.brokers {
		if err := c.brokersSeenBy(m, numBrokers); err != nil {
			return err
		}
	}
	return nil
}

func (c *cluster) brokersSeenBy(m *member, n int) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(m.addr()), kgo.DialTimeout(time.Second))
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	md, err := kadm.NewClient(cl).BrokerMetadata(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", m.name, err)
	}
	if len(md.Brokers) < n {
		return fmt.Errorf("%s lists %d brokers", m.name, len(md.Brokers))
	}
	return nil
}

// controller is the controller's broker id as the first broker that
// answers says (ZooKeeper mode); 0 if none answers.
func (c *cluster) controller() int32 {
	for _, m := range c.brokers {
		cl, err := kgo.NewClient(kgo.SeedBrokers(m.addr()), kgo.DialTimeout(time.Second))
		if err != nil {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		md, err := kadm.NewClient(cl).BrokerMetadata(ctx)
		cancel()
		cl.Close()
		if err == nil && md.Controller > 0 {
			return md.Controller
		}
	}
	return 0
}

// partitionState is what broker m says about a topic's partition.
func (c *cluster) partitionState(m *member, topic string, part int32) (kadm.PartitionDetail, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(m.addr()), kgo.DialTimeout(time.Second))
	if err != nil {
		return kadm.PartitionDetail{}, err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	md, err := kadm.NewClient(cl).Metadata(ctx, topic)
	if err != nil {
		return kadm.PartitionDetail{}, fmt.Errorf("%s: %w", m.name, err)
	}
	td, ok := md.Topics[topic]
	if !ok || td.Err != nil {
		return kadm.PartitionDetail{}, fmt.Errorf("%s: topic %s: %v", m.name, topic, td.Err)
	}
	pd, ok := td.Partitions[part]
	if !ok {
		return kadm.PartitionDetail{}, fmt.Errorf("%s: no partition %d", m.name, part)
	}
	return pd, nil
}

// createTopic creates topic with parts partitions on all three brokers and
// waits until every broker sees each partition led with a full ISR.
func (c *cluster) createTopic(topic string, parts int32) {
	c.t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.bootstrap()...))
	if err != nil {
		c.t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := kadm.NewClient(cl).CreateTopic(ctx, parts, numBrokers, map[string]*string{"min.insync.replicas": new("2")}, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		c.t.Fatalf("creating %s: %v", topic, err)
	}
	testenv.WaitFor(c.t, 60*time.Second, func() error { return c.fullISR(topic, parts) })
}

// fullISR succeeds when every broker reports every partition of topic with
// a leader and all replicas in sync.
func (c *cluster) fullISR(topic string, parts int32) error {
	for _, m := range c.brokers {
		for p := int32(0); p < parts; p++ {
			pd, err := c.partitionState(m, topic, p)
			if err != nil {
				return err
			}
			if pd.Err != nil || pd.Leader < 1 || len(pd.ISR) != numBrokers {
				return fmt.Errorf("%s: %s/%d leader %d isr %v err %v", m.name, topic, p, pd.Leader, pd.ISR, pd.Err)
			}
		}
	}
	return nil
}

// quorumLeader is the metadata quorum's leader: the ZooKeeper server in
// mode leader, or the KRaft controller DescribeQuorum names (asked through
// a broker, which forwards it). Nil while there is none; with one server,
// that server.
func (c *cluster) quorumLeader() *member {
	if len(c.metas) == 1 {
		return c.metas[0]
	}
	if c.mode == modeZooKeeper {
		for _, m := range c.metas {
			if mode, err := zkMode(m.addr()); err == nil && mode == "leader" {
				return m
			}
		}
		return nil
	}
	cl, err := kgo.NewClient(clientOpts(c.bootstrap()...)...)
	if err != nil {
		return nil
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req := kmsg.NewPtrDescribeQuorumRequest()
	rt := kmsg.NewDescribeQuorumRequestTopic()
	rt.Topic = "__cluster_metadata"
	rp := kmsg.NewDescribeQuorumRequestTopicPartition()
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil || resp.ErrorCode != 0 || len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		return nil
	}
	p := resp.Topics[0].Partitions[0]
	for _, m := range c.metas {
		if p.ErrorCode == 0 && m.id == p.LeaderID {
			return m
		}
	}
	return nil
}

// zkMode is what ZooKeeper at addr answers srvr with as its mode
// (standalone, leader, follower); an error while it does not serve.
func zkMode(addr string) (string, error) {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := io.WriteString(conn, "srvr"); err != nil {
		return "", err
	}
	out, err := io.ReadAll(conn)
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(out), "\n") {
		if mode, ok := strings.CutPrefix(line, "Mode: "); ok {
			return strings.TrimSpace(mode), nil
		}
	}
	return "", errors.New("ZooKeeper at " + addr + " not serving")
}
