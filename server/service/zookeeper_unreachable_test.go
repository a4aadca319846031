package service

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/osprey-kafka/osprey/admin"
	"github.com/osprey-kafka/osprey/alert"
	"github.com/osprey-kafka/osprey/broker/zkdata"
	"github.com/osprey-kafka/osprey/collector"
	"github.com/osprey-kafka/osprey/internal/testenv"
)

// zkOutageEnv is a console polling a ZooKeeper-mode cluster: kfake brokers, and the cluster's
// ZooKeeper a private server holding the Kafka layout (broker 0 registered, broker 0 controller).
type zkOutageEnv struct {
	t    *testing.T
	ctx  context.Context
	zks  *testenv.PrivateZooKeeper
	svc  *Service
	ev   *alert.Evaluator
	prod *kgo.Client
}

// The session timeout the console asks for: the smallest the server grants (two ticks of 2 s).
const zkOutageSession = 4 * time.Second

// TestZooKeeperUnreachable takes the cluster's ZooKeeper away twice for longer than the console's
// session timeout, hung (SIGSTOP) and dead (SIGKILL), while the console polls it and browses znodes.
// Meanwhile the ZooKeeper page keeps the last figures and says since when ZooKeeper is unreachable,
// the Kafka figures keep updating, the znode browser answers 503 zookeeper_unavailable within its
// deadline, zookeeper_down fires, and goroutines and open files stay near their level before the
// outage. When ZooKeeper is back (resumed; started again on the same data) everything recovers
// without a restart and goroutines return to that level.
func TestZooKeeperUnreachable(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a private ZooKeeper")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	e := newZKOutageEnv(t, ctx)

	// A baseline with everything up: the sessions, the producer's connections and the pools open.
	testenv.WaitFor(t, 30*time.Second, e.healthy)
	for range 3 {
		e.browse()
	}
	e.produce() // the producer's connections are part of the baseline
	var g0, f0 int
	testenv.WaitFor(t, 10*time.Second, e.settled(func(g, f int) bool { g0, f0 = g, f; return true }))
	nearBaseline := e.settled(func(g, f int) bool { return g <= g0+zkOutageTolerance && f <= f0+zkOutageTolerance })

	e.outage("hung (SIGSTOP)", e.zks.Pause, e.zks.Resume, nearBaseline)
	e.outage("dead (SIGKILL)", e.zks.Kill, func() { e.zks.Start(t) }, nearBaseline)
	t.Logf("after both outages: goroutines %d (baseline %d), open files %d (baseline %d)", runtime.NumGoroutine(), g0, testenv.OpenFDs(t), f0)
}

// zkOutageTolerance allows for the clients' background dials and timers in flight at any moment;
// a goroutine or connection left per poll or per request would exceed it within zkOutageRounds
// rounds of a poll and a request.
const (
	zkOutageTolerance = 10
	zkOutageRounds    = 20
)

func newZKOutageEnv(t *testing.T, ctx context.Context) *zkOutageEnv {
	zks := testenv.StartPrivateZooKeeper(t)
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "orders"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kc.Close)
	writeKafkaLayout(t, zks.Addr, kc.ListenAddrs()[0])
	prod, err := kgo.NewClient(kgo.SeedBrokers(kc.ListenAddrs()...), kgo.DefaultProduceTopic("orders"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(prod.Close)

	ev, err := alert.New(alert.Options{Store: newOpsTestStore(t), Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	if err := ev.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ev.Stop)
	if _, err := alert.NewService(ev).CreateRule(ctx, alert.RuleInput{Name: "zk", Kind: alert.KindZooKeeperDown, Severity: alert.SeverityCritical}); err != nil {
		t.Fatal(err)
	}
	// The test polls (PollNow reads ZooKeeper every time); the service's own cycles are an hour apart.
	svc := New(Options{Logger: quietLog(), Collector: collector.Config{OffsetsInterval: time.Hour, GroupsInterval: time.Hour,
		LogDirsInterval: time.Hour, ZKInterval: time.Hour, CallTimeout: 500 * time.Millisecond}})
	spec := ClusterSpec{Name: "zkc", Source: "config",
		Admin: admin.Config{Bootstrap: kc.ListenAddrs(), ZooKeeper: zks.Addr, ZKSessionTimeout: zkOutageSession}}
	if err := svc.AddCluster(ctx, spec); err != nil {
		t.Fatal(err)
	}
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Stop)
	return &zkOutageEnv{t: t, ctx: ctx, zks: zks, svc: svc, ev: ev, prod: prod}
}

// writeKafkaLayout registers broker 0 (at addr) and makes it the controller, as persistent znodes
// so they outlive the session writing them and a restart of the server.
func writeKafkaLayout(t *testing.T, zkAddr, addr string) {
	t.Helper()
	c, _, err := zk.Connect([]string{zkAddr}, 10*time.Second, zk.WithLogInfo(false))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ep, err := zkdata.ParseEndpoint("PLAINTEXT://"+addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UnixMilli()
	for _, n := range []struct {
		path string
		data []byte
	}{
		{zkdata.BrokersPath, nil},
		{zkdata.BrokerIDsPath, nil},
		{zkdata.BrokerPath(0), zkdata.EncodeBroker(zkdata.BrokerRegistration{ID: 0, JMXPort: -1, Timestamp: now, Endpoints: []zkdata.Endpoint{ep}})},
		{zkdata.ControllerPath, zkdata.EncodeController(zkdata.ControllerRegistration{BrokerID: 0, Timestamp: now, KRaftControllerEpoch: -1})},
		{zkdata.ControllerEpochPath, zkdata.EncodeControllerEpoch(1)},
	} {
		if _, err := c.Create(n.path, n.data, 0, zk.WorldACL(zk.PermAll)); err != nil {
			t.Fatalf("creating %s: %v", n.path, err)
		}
	}
}

// poll runs one cycle and feeds it to the alert evaluator. ZooKeeper is read beside the Kafka
// calls, each bounded by the call timeout, so no cycle waits for ZooKeeper longer than that.
func (e *zkOutageEnv) poll() *collector.Snapshot {
	e.t.Helper()
	began := time.Now()
	s, err := e.svc.PollNow(e.ctx, "zkc")
	if err != nil || s == nil {
		e.t.Fatalf("poll: %v", err)
	}
	if took := time.Since(began); took > 5*time.Second {
		e.t.Fatalf("a poll took %v", took)
	}
	if err := e.ev.Observe(e.ctx, s); err != nil {
		e.t.Fatal(err)
	}
	return s
}

func (e *zkOutageEnv) produce() {
	e.t.Helper()
	if err := e.prod.ProduceSync(e.ctx, &kgo.Record{Value: []byte("v")}).FirstErr(); err != nil {
		e.t.Fatal(err)
	}
}

func (e *zkOutageEnv) zkDownFiring() []alert.ActiveAlert {
	var out []alert.ActiveAlert
	for _, a := range e.ev.Active() {
		if a.Kind == alert.KindZooKeeperDown && a.State == "firing" {
			out = append(out, a)
		}
	}
	return out
}

// browse reads /brokers/ids through the znode browser and expects broker 0.
func (e *zkOutageEnv) browse() {
	e.t.Helper()
	v, err := e.svc.ZNode(e.ctx, "zkc", "/brokers/ids")
	if err != nil || !slices.Equal(v.Children, []string{"0"}) {
		e.t.Fatalf("browsing /brokers/ids: %+v, %v", v, err)
	}
}

// browseUnavailable browses while ZooKeeper is away: 503 zookeeper_unavailable within the
// request's deadline.
func (e *zkOutageEnv) browseUnavailable() {
	e.t.Helper()
	began := time.Now()
	_, err := e.svc.ZNode(e.ctx, "zkc", "/brokers/ids")
	took := time.Since(began)
	var ue *UserError
	if !errors.As(err, &ue) || ue.Status != http.StatusServiceUnavailable || ue.Code != "zookeeper_unavailable" {
		e.t.Fatalf("browsing with ZooKeeper away: %v, want 503 zookeeper_unavailable", err)
	}
	if took > zkRequestTimeout+time.Second {
		e.t.Fatalf("browsing with ZooKeeper away took %v", took)
	}
}

// healthy is the state with ZooKeeper up: connected, its figures current, the browser answering,
// nothing firing.
func (e *zkOutageEnv) healthy() error {
	s := e.poll()
	z := s.Cluster.ZooKeeper
	if z == nil || !z.Connected || z.UnreachableSince != nil || z.Controller != 0 || !slices.Equal(z.RegisteredBrokers, []int32{0}) {
		return fmt.Errorf("ZooKeeper not back yet: %+v", z)
	}
	if st, err := e.svc.ZooKeeperStatus("zkc"); err != nil || !st.Connected || st.UnreachableSince != nil || len(st.Items) != 1 || !st.Items[0].OK {
		return fmt.Errorf("ZooKeeper status %+v, %v", st, err)
	}
	if a := e.zkDownFiring(); len(a) != 0 {
		return fmt.Errorf("zookeeper_down still firing: %+v", a)
	}
	if _, err := e.svc.ZNode(e.ctx, "zkc", "/brokers/ids"); err != nil {
		return fmt.Errorf("browsing: %w", err)
	}
	return nil
}

func (e *zkOutageEnv) settled(ok func(g, f int) bool) func() error {
	return testenv.Until("goroutines and open files near the baseline", func() bool {
		return ok(runtime.NumGoroutine(), testenv.OpenFDs(e.t))
	})
}

func orderMessages(s *collector.Snapshot) int64 {
	for _, tp := range s.Topics {
		if tp.Name == "orders" {
			return tp.EndOffsetSum
		}
	}
	return -1
}

// outage takes ZooKeeper away with stop, checks the console through it for longer than the
// session timeout, brings it back with restart and waits for the recovery.
func (e *zkOutageEnv) outage(name string, stop, restart func(), nearBaseline func() error) {
	t := e.t
	t.Helper()
	var before *collector.Snapshot
	testenv.WaitFor(t, 10*time.Second, func() error {
		if before = e.poll(); before.Cluster.ZooKeeper == nil || !before.Cluster.ZooKeeper.Connected || before.Cluster.Partial {
			return fmt.Errorf("%s: the poll before the outage did not read everything: %+v", name, before.Cluster.Errors)
		}
		return nil
	})
	lastRead := before.Cluster.ZooKeeper.ReadAt
	downAt := time.Now()
	stop()
	var down *collector.Snapshot
	testenv.WaitFor(t, 10*time.Second, func() error {
		down = e.poll()
		if z := down.Cluster.ZooKeeper; z == nil || z.UnreachableSince == nil {
			return fmt.Errorf("%s: ZooKeeper not reported unreachable: %+v", name, z)
		}
		return nil
	})
	z := down.Cluster.ZooKeeper
	// The page keeps the last figures read, says since when ZooKeeper is unreachable, and the
	// Kafka side is not stale.
	if z.Connected || z.UnreachableSince.Before(downAt) || z.ReadAt.Before(lastRead) || !z.ReadAt.Before(downAt) ||
		z.Controller != 0 || !slices.Equal(z.RegisteredBrokers, []int32{0}) || z.Error == "" || down.Cluster.StaleSince != nil {
		t.Fatalf("%s: ZooKeeper in the snapshot %+v (stopped at %s, last read %s), stale since %v", name, z, downAt, lastRead, down.Cluster.StaleSince)
	}
	st, err := e.svc.ZooKeeperStatus("zkc")
	if err != nil || st.Connected || st.UnreachableSince == nil || !st.UnreachableSince.Equal(*z.UnreachableSince) || len(st.Items) != 1 || st.Items[0].OK {
		t.Fatalf("%s: ZooKeeper status %+v, %v", name, st, err)
	}
	if a := e.zkDownFiring(); len(a) != 1 || !strings.Contains(a[0].Summary, "is unreachable since") {
		t.Fatalf("%s: zookeeper_down alerts %+v", name, a)
	}
	// The Kafka figures keep updating.
	e.produce()
	want := orderMessages(before) + 1
	testenv.WaitFor(t, 10*time.Second, func() error {
		if got := orderMessages(e.poll()); got != want {
			return fmt.Errorf("%s: orders end offset %d, want %d", name, got, want)
		}
		return nil
	})
	// Past the session timeout, polling and browsing all the while: nothing piles up.
	n := 0
	testenv.WaitFor(t, 30*time.Second, func() error {
		e.poll()
		e.browseUnavailable()
		if n++; n < zkOutageRounds || time.Since(downAt) < 2*zkOutageSession {
			return fmt.Errorf("%s: still down for a while (%d rounds)", name, n)
		}
		return nil
	})
	testenv.WaitFor(t, 10*time.Second, nearBaseline)
	t.Logf("%s: %d rounds over %v, goroutines %d, open files %d", name, n, time.Since(downAt).Round(time.Millisecond), runtime.NumGoroutine(), testenv.OpenFDs(t))

	backAt := time.Now()
	restart()
	testenv.WaitFor(t, 30*time.Second, e.healthy)
	if z := e.poll().Cluster.ZooKeeper; z.ReadAt.Before(backAt) {
		t.Fatalf("%s: figures read at %s, before ZooKeeper came back at %s", name, z.ReadAt, backAt)
	}
	e.browse()
	t.Logf("%s: recovered %v after ZooKeeper came back", name, time.Since(backAt).Round(time.Millisecond))
	testenv.WaitFor(t, 15*time.Second, nearBaseline)
}

// A runtime cluster on an ensemble that does not answer (nothing listening; a server that
// accepts and never answers) is refused with 503 zookeeper_unavailable before any broker starts,
// within the probe's deadline, instead of waiting for brokers that cannot register.
func TestCreateRuntimeClusterZooKeeperUnreachable(t *testing.T) {
	hung, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer hung.Close() // its backlog completes the handshakes; nobody reads
	refused := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	svc := New(Options{Store: newOpsTestStore(t), Logger: quietLog(), DataDir: t.TempDir()})
	t.Cleanup(svc.Stop)
	who := Caller{Identity: Identity{Name: "test", Kind: "admin-token", Role: RoleAdmin}}
	for _, zkAddr := range []string{refused, hung.Addr().String()} {
		began := time.Now()
		_, err := svc.CreateRuntimeCluster(context.Background(), who, RuntimeRequest{Name: "rt", Brokers: 1, MetadataStore: "zookeeper", ZooKeeper: zkAddr})
		var ue *UserError
		if !errors.As(err, &ue) || ue.Status != http.StatusServiceUnavailable || ue.Code != "zookeeper_unavailable" {
			t.Fatalf("creating on %s: %v, want 503 zookeeper_unavailable", zkAddr, err)
		}
		if took := time.Since(began); took > zkProbeTimeout+time.Second {
			t.Fatalf("creating on %s took %v", zkAddr, took)
		}
		if _, err := svc.get("rt"); err == nil {
			t.Fatal("the refused cluster was registered")
		}
	}
}
