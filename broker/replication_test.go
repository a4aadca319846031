package broker

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/osprey-kafka/osprey/broker/metastore"
	"github.com/osprey-kafka/osprey/broker/metastore/local"
	"github.com/osprey-kafka/osprey/broker/metastore/zk"
	"github.com/osprey-kafka/osprey/internal/testenv"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// testCluster is n brokers in this process sharing one metadata store.
type testCluster struct {
	t         *testing.T
	connector metastore.Connector
	cfgs      []Config

	mu      sync.Mutex
	brokers []*Broker // nil while stopped

	also slog.Handler // if set, brokers log to it as well as to the test log
}

// teeHandler sends records to two handlers.
type teeHandler struct{ a, b slog.Handler }

func (h teeHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.a.Enabled(ctx, l) || h.b.Enabled(ctx, l)
}
func (h teeHandler) Handle(ctx context.Context, r slog.Record) error {
	if h.a.Enabled(ctx, r.Level) {
		_ = h.a.Handle(ctx, r.Clone())
	}
	if h.b.Enabled(ctx, r.Level) {
		return h.b.Handle(ctx, r)
	}
	return nil
}
func (h teeHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return teeHandler{h.a.WithAttrs(as), h.b.WithAttrs(as)}
}
func (h teeHandler) WithGroup(g string) slog.Handler {
	return teeHandler{h.a.WithGroup(g), h.b.WithGroup(g)}
}

func localConnector(t *testing.T) metastore.Connector {
	srv := local.NewServer()
	t.Cleanup(func() { srv.Close() })
	return srv.Connector(6 * time.Second)
}

func zkConnector(t *testing.T) metastore.Connector {
	addr, chroot := testenv.ZooKeeperChroot(t)
	return zk.Connector(zk.Config{Servers: []string{addr}, Chroot: chroot, SessionTimeout: 4 * time.Second})
}

func newTestCluster(t *testing.T, n int, connector metastore.Connector, opts ...testBrokerOpt) *testCluster {
	c := &testCluster{t: t, connector: connector, brokers: make([]*Broker, n)}
	for i := 0; i < n; i++ {
		cfg := testConfig(withDir(t.TempDir()))
		cfg.BrokerID = int32(i + 1)
		cfg.ReplicaLagTimeMax = 2 * time.Second
		cfg.OffsetsTopicPartitions = 3
		cfg.OffsetsTopicReplicationFactor = int16(min(n, 3))
		cfg.AutoLeaderRebalance = false
		for _, o := range opts {
			o(&cfg)
		}
		c.cfgs = append(c.cfgs, cfg)
	}
	c.startAll()
	return c
}

// startAll starts every broker at once, stops them at cleanup, and waits
// until every one sees them all.
func (c *testCluster) startAll() {
	var wg sync.WaitGroup
	for i := range c.brokers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.start(i)
		}()
	}
	wg.Wait()
	c.t.Cleanup(func() {
		for i := range c.brokers {
			c.stop(i)
		}
	})
	c.waitBrokers(len(c.brokers))
}

func (c *testCluster) start(i int) {
	logger := testLogger(c.t)
	if c.also != nil {
		logger = slog.New(teeHandler{logger.Handler(), c.also})
	}
	b, err := New(c.cfgs[i], WithLogger(logger.With("test_broker", i+1)), WithMetaStore(c.connector))
	if err != nil {
		c.t.Errorf("new broker: %v", err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := b.Start(ctx); err != nil {
		c.t.Errorf("start broker %d: %v", i+1, err)
		return
	}
	c.mu.Lock()
	c.brokers[i] = b
	// A restarted broker keeps its address, as a real one does.
	c.cfgs[i].Listeners = []string{"PLAINTEXT://" + b.Addr()}
	c.mu.Unlock()
}

func (c *testCluster) stop(i int) {
	c.mu.Lock()
	b := c.brokers[i]
	c.brokers[i] = nil
	c.mu.Unlock()
	if b != nil {
		b.Close()
	}
}

// byID returns the running broker with that id, or nil.
func (c *testCluster) byID(id int32) *Broker {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, b := range c.brokers {
		if b != nil && b.cfg.BrokerID == id {
			return b
		}
	}
	return nil
}

func (c *testCluster) indexOf(id int32) int { return int(id) - 1 }

// any returns a running broker.
func (c *testCluster) any() *Broker {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, b := range c.brokers {
		if b != nil {
			return b
		}
	}
	c.t.Fatal("no broker running")
	return nil
}

func (c *testCluster) addrs() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, b := range c.brokers {
		if b != nil {
			out = append(out, b.Addr())
		}
	}
	return out
}

// waitBrokers waits until every running broker sees n live brokers.
func (c *testCluster) waitBrokers(n int) {
	c.t.Helper()
	testenv.WaitFor(c.t, 30*time.Second, func() error {
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, b := range c.brokers {
			if b == nil {
				continue
			}
			if got := len(b.cluster.Brokers()); got != n {
				return fmt.Errorf("broker %d sees %d brokers, want %d", b.cfg.BrokerID, got, n)
			}
		}
		return nil
	})
}

// partition returns partition p of topic as seen by a running broker.
func (c *testCluster) partition(topic string, p int32) PartitionInfo {
	t, ok := c.any().cluster.Topic(topic)
	if !ok || int(p) >= len(t.Partitions) {
		return PartitionInfo{Leader: -1}
	}
	return t.Partitions[p]
}

// waitISR waits until every partition of topic has the full ISR.
func (c *testCluster) waitFullISR(topic string, within time.Duration) {
	c.t.Helper()
	testenv.WaitFor(c.t, within, func() error {
		t, ok := c.any().cluster.Topic(topic)
		if !ok {
			return fmt.Errorf("no topic %s", topic)
		}
		for _, p := range t.Partitions {
			if len(p.ISR) != len(p.Replicas) || p.Leader < 0 {
				return fmt.Errorf("partition %d: leader %d replicas %v isr %v", p.Partition, p.Leader, p.Replicas, p.ISR)
			}
		}
		return nil
	})
}

func (c *testCluster) admin() *kadm.Client {
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.addrs()...))
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(cl.Close)
	return kadm.NewClient(cl)
}

// ackLog records what the producer got acknowledged.
type ackLog struct {
	mu      sync.Mutex
	acked   map[int32]map[int64]string // partition → offset → value
	errs    int
	lastErr error
}

// producer writes values "p<partition>-<n>" with increasing n to every
// partition until stop, through an idempotent acks=all franz-go producer.
func runProducer(t *testing.T, seeds []string, topic string, partitions int32, stop <-chan struct{}) (*ackLog, func()) {
	al := &ackLog{acked: map[int32]map[int64]string{}}
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.DefaultProduceTopic(topic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerLinger(5*time.Millisecond), kgo.MaxBufferedRecords(2000),
		kgo.RetryBackoffFn(func(int) time.Duration { return 100 * time.Millisecond }))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		n := 0
		for {
			select {
			case <-stop:
				return
			default:
			}
			for p := int32(0); p < partitions; p++ {
				v := "p" + strconv.Itoa(int(p)) + "-" + strconv.Itoa(n)
				cl.Produce(context.Background(), &kgo.Record{Partition: p, Value: []byte(v)}, func(r *kgo.Record, err error) {
					al.mu.Lock()
					defer al.mu.Unlock()
					if err != nil {
						al.errs++
						al.lastErr = err
						return
					}
					if al.acked[r.Partition] == nil {
						al.acked[r.Partition] = map[int64]string{}
					}
					al.acked[r.Partition][r.Offset] = string(r.Value)
				})
			}
			n++
			time.Sleep(2 * time.Millisecond) // pace the load so failures land while it runs
		}
	}()
	return al, func() {
		<-done
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		if err := cl.Flush(ctx); err != nil {
			t.Errorf("flushing producer: %v", err)
		}
		cl.Close()
	}
}

// status says how far the producer got, for failure messages.
func (al *ackLog) status() string {
	n := al.count()
	al.mu.Lock()
	defer al.mu.Unlock()
	return fmt.Sprintf("%d acknowledged, %d failed (last error: %v)", n, al.errs, al.lastErr)
}

func (al *ackLog) count() int {
	al.mu.Lock()
	defer al.mu.Unlock()
	n := 0
	for _, m := range al.acked {
		n += len(m)
	}
	return n
}

// consumeEverything reads every partition of topic from the start to its end.
func consumeEverything(t *testing.T, seeds []string, topic string, partitions int32) map[int32][]*kgo.Record {
	t.Helper()
	offsets := map[int32]kgo.Offset{}
	for p := int32(0); p < partitions; p++ {
		offsets[p] = kgo.NewOffset().AtStart()
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: offsets}))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx := testCtx(t, 60*time.Second)
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int32][]*kgo.Record{}
	remaining := 0
	ends.Each(func(o kadm.ListedOffset) { remaining += int(o.Offset) })
	got := 0
	for got < remaining {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consumed %d of %d records", got, remaining)
		}
		fs.EachRecord(func(r *kgo.Record) {
			out[r.Partition] = append(out[r.Partition], r)
			got++
		})
	}
	return out
}

// checkExactlyOnce: every acknowledged record is in the log at its offset,
// each value once per partition, in production order.
func checkExactlyOnce(t *testing.T, al *ackLog, got map[int32][]*kgo.Record) {
	t.Helper()
	al.mu.Lock()
	defer al.mu.Unlock()
	total := 0
	for p, acked := range al.acked {
		byOffset := map[int64]string{}
		seen := map[string]bool{}
		last := -1
		for _, r := range got[p] {
			v := string(r.Value)
			if seen[v] {
				t.Fatalf("partition %d: value %s twice (offset %d)", p, v, r.Offset)
			}
			seen[v] = true
			byOffset[r.Offset] = v
			n, _ := strconv.Atoi(v[len("p"+strconv.Itoa(int(p))+"-"):])
			if n <= last {
				t.Fatalf("partition %d: value %s at offset %d after n=%d: out of order", p, v, r.Offset, last)
			}
			last = n
		}
		for off, v := range acked {
			if byOffset[off] != v {
				t.Fatalf("partition %d: acknowledged %s at offset %d, log has %q", p, v, off, byOffset[off])
			}
			total++
		}
	}
	t.Logf("%d acknowledged records checked, %d produce errors", total, al.errs)
}

func TestClusterFailoverLocal(t *testing.T) {
	testClusterFailover(t, newTestCluster(t, 3, localConnector(t)))
}
func TestClusterFailoverZooKeeper(t *testing.T) {
	testClusterFailover(t, newTestCluster(t, 3, zkConnector(t)))
}
func TestClusterFailoverKRaft(t *testing.T) { testClusterFailover(t, newKRaftTestCluster(t, 3)) }

// A 3-broker cluster, RF 3 with min.insync.replicas=2: an idempotent
// acks=all producer keeps writing while the leader is killed and restarted,
// twice; the ISR shrinks and recovers, the controller moves when its broker
// dies, and afterwards every acknowledged record is there exactly once.
// Brokers learn the new leaders from the controller's LeaderAndIsr and
// UpdateMetadata requests only (they do not watch partition states).
func testClusterFailover(t *testing.T, c *testCluster) {
	adm := c.admin()
	ctx := testCtx(t, 3*time.Minute)
	const topic, parts = "orders", 3
	if _, err := adm.CreateTopic(ctx, parts, 3, map[string]*string{"min.insync.replicas": kadm.StringPtr("2")}, topic); err != nil {
		t.Fatalf("create topic: %v", err)
	}
	c.waitFullISR(topic, 20*time.Second)
	stop := make(chan struct{})
	al, wait := runProducer(t, c.addrs(), topic, parts, stop)
	progress := func(n int) {
		t.Helper()
		start := al.count()
		testenv.WaitFor(t, 30*time.Second, func() error {
			if got := al.count() - start; got < n {
				return fmt.Errorf("%d records acknowledged, want %d", got, n)
			}
			return nil
		})
	}
	progress(200)
	for round := 0; round < 2; round++ {
		leader := c.partition(topic, 0).Leader
		controller := c.any().cluster.ControllerID()
		c.stop(c.indexOf(leader))
		testenv.WaitFor(t, 10*time.Second, func() error {
			p := c.partition(topic, 0)
			if p.Leader < 0 || p.Leader == leader || slices.Contains(p.ISR, leader) {
				return fmt.Errorf("partition 0: leader %d isr %v after broker %d died", p.Leader, p.ISR, leader)
			}
			return nil
		})
		if controller == leader {
			testenv.WaitFor(t, 10*time.Second, func() error {
				if id := c.any().cluster.ControllerID(); id < 0 || id == leader {
					return fmt.Errorf("controller %d", id)
				}
				return nil
			})
		}
		progress(200)
		c.start(c.indexOf(leader))
		c.waitFullISR(topic, 30*time.Second)
		progress(200)
	}
	close(stop)
	wait()
	checkExactlyOnce(t, al, consumeEverything(t, c.addrs(), topic, parts))
}
