package supervisor

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/osprey-kafka/osprey/internal/testenv"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// ospreyBin is the osprey binary built once for the child-process tests.
var ospreyBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "osprey-supervisor-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ospreyBin = filepath.Join(dir, "osprey")
	build := exec.Command("go", "build", "-o", ospreyBin, "github.com/osprey-kafka/osprey/cmd/osprey")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building osprey:", err)
		os.Exit(1)
	}
	testenv.Main(m, func() { os.RemoveAll(dir) })
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func newTestSupervisor(t *testing.T, opts Options) *Cluster {
	t.Helper()
	if opts.DataDir == "" {
		opts.DataDir = t.TempDir()
	}
	opts.Logger = testLogger(t)
	opts.Binary = ospreyBin
	if opts.Properties == nil {
		opts.Properties = map[string]string{"replica.lag.time.max.ms": "2000", "offsets.topic.num.partitions": "3"}
	}
	c, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := c.Start(ctx); err != nil {
		// Deferred, so the logs are shown even if the wait below gives up.
		defer func() {
			for _, id := range c.IDs() {
				logs, _ := c.Logs(id, 3000)
				t.Logf("broker %d log:\n%s", id, logs)
			}
			c.Close()
		}()
		if os.Getenv("OSPREY_TEST_DUMP") != "" {
			var pids []int
			for _, st := range c.Status() {
				if st.PID > 0 && st.PID != os.Getpid() {
					_ = syscall.Kill(st.PID, syscall.SIGQUIT)
					pids = append(pids, st.PID)
				}
			}
			// A Go process exits once it has written its goroutine dump.
			testenv.WaitFor(t, 10*time.Second, testenv.Until("brokers to exit after their goroutine dumps", func() bool {
				return !slices.ContainsFunc(pids, ProcessAlive)
			}))
		}
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func state(c *Cluster, id int32) BrokerStatus {
	for _, s := range c.Status() {
		if s.ID == id {
			return s
		}
	}
	return BrokerStatus{}
}

// exercise creates an RF 3 topic, produces, kills the leader of partition
// 0, produces again, restarts it and reads everything back.
func exercise(t *testing.T, c *Cluster, wantPID func(BrokerStatus) bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(c.BootstrapServers(), ",")...), kgo.DefaultProduceTopic("sup"),
		kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	if _, err := adm.CreateTopic(ctx, 1, 3, nil, "sup"); err != nil {
		t.Fatal(err)
	}
	for _, s := range c.Status() {
		if s.State != StateRunning || !wantPID(s) || !Reachable(s.Addr) {
			t.Fatalf("broker status %+v", s)
		}
	}
	produce := func(from, n int) {
		t.Helper()
		var recs []*kgo.Record
		for i := from; i < from+n; i++ {
			recs = append(recs, &kgo.Record{Value: []byte("v" + strconv.Itoa(i))})
		}
		if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			t.Fatalf("produce: %v", err)
		}
	}
	produce(0, 100)
	leader := func() int32 {
		md, err := adm.Metadata(ctx, "sup")
		if err != nil {
			return -1
		}
		return md.Topics["sup"].Partitions[0].Leader
	}
	var old int32
	testenv.WaitFor(t, 30*time.Second, testenv.Until("a leader of sup-0", func() bool { old = leader(); return old >= 0 }))
	if err := c.KillBroker(old); err != nil {
		t.Fatalf("kill broker %d: %v", old, err)
	}
	if s := state(c, old); s.State != StateKilled || s.PID != 0 {
		t.Fatalf("after kill: %+v", s)
	}
	testenv.WaitFor(t, 30*time.Second, func() error {
		if l := leader(); l < 0 || l == old {
			return fmt.Errorf("leader %d", l)
		}
		return nil
	})
	produce(100, 100)
	if err := c.StartBroker(ctx, old); err != nil {
		t.Fatal(err)
	}
	if s := state(c, old); s.State != StateRunning {
		t.Fatalf("after restart: %+v", s)
	}
	logs, err := c.Logs(old, 20)
	if err != nil || logs == "" {
		t.Fatalf("logs of broker %d: %q %v", old, logs, err)
	}
	if err := c.RestartBroker(ctx, c.IDs()[0]); err != nil {
		t.Fatal(err)
	}
	cons, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(c.BootstrapServers(), ",")...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{"sup": {0: kgo.NewOffset().AtStart()}}))
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	var got []string
	for len(got) < 200 {
		fs := cons.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consumed %d of 200", len(got))
		}
		fs.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
	}
	for i, v := range got {
		if v != "v"+strconv.Itoa(i) {
			t.Fatalf("record %d is %q", i, v)
		}
	}
}

// Three brokers in this process on the in-process store: kill, start and
// restart; the metadata and data survive a restart of the whole cluster.
func TestInProcessCluster(t *testing.T) {
	dir := t.TempDir()
	c := newTestSupervisor(t, Options{Brokers: 3, DataDir: dir})
	exercise(t, c, func(s BrokerStatus) bool { return s.PID == os.Getpid() })
	ports := c.BootstrapServers()
	if err := c.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	st, err := ReadState(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range st.Brokers {
		if b.State != StateStopped {
			t.Fatalf("state file after close: %+v", b)
		}
	}
	c2 := newTestSupervisor(t, Options{Brokers: 3, DataDir: dir})
	if c2.BootstrapServers() != ports {
		t.Fatalf("ports changed across restarts: %s → %s", ports, c2.BootstrapServers())
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(c2.BootstrapServers(), ",")...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Right after the restart the partition may still be electing its leader: ask until it answers.
	var o kadm.ListedOffset
	testenv.WaitFor(t, 30*time.Second, func() error {
		ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, "sup")
		if err != nil {
			return err // a shard error such as LEADER_NOT_AVAILABLE while electing
		}
		o, _ = ends.Lookup("sup", 0)
		return o.Err
	})
	if o.Offset != 200 {
		t.Fatalf("after a cluster restart: end offset %+v, want 200", o)
	}
}

// Three `osprey broker` child processes on ZooKeeper: SIGKILL, start,
// restart, and generated server.properties.
func TestChildProcessCluster(t *testing.T) {
	addr, chroot := testenv.ZooKeeperChroot(t)
	c := newTestSupervisor(t, Options{Brokers: 3, Mode: ChildProcess, ZooKeeper: addr + chroot,
		Properties: map[string]string{"replica.lag.time.max.ms": "2000", "offsets.topic.num.partitions": "3",
			"zookeeper.session.timeout.ms": "4000"}})
	pids := map[int]bool{}
	exercise(t, c, func(s BrokerStatus) bool {
		ok := s.PID > 0 && s.PID != os.Getpid() && !pids[s.PID]
		pids[s.PID] = true
		return ok
	})
	props, err := os.ReadFile(c.Status()[0].ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"broker.id=1", "zookeeper.connect=" + addr + chroot, "log.dirs=" + c.Status()[0].DataDir} {
		if !slices.Contains(strings.Split(string(props), "\n"), want) {
			t.Fatalf("server.properties lacks %q:\n%s", want, props)
		}
	}
	st := c.Status()
	if err := c.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	for _, s := range st {
		if ProcessAlive(s.PID) {
			t.Fatalf("broker %d (pid %d) still alive after Close", s.ID, s.PID)
		}
	}
}

// Child processes on ZooKeeper, RF 3 with min.insync.replicas=2: an
// idempotent acks=all producer keeps writing while the leader's process is
// SIGKILLed and restarted, twice; every acknowledged record is then read
// back exactly once, in order.
func TestChildProcessKillUnderLoad(t *testing.T) {
	addr, chroot := testenv.ZooKeeperChroot(t)
	c := newTestSupervisor(t, Options{Brokers: 3, Mode: ChildProcess, ZooKeeper: addr + chroot,
		Properties: map[string]string{"replica.lag.time.max.ms": "2000", "offsets.topic.num.partitions": "3",
			"zookeeper.session.timeout.ms": "4000"}})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	seeds := strings.Split(c.BootstrapServers(), ",")
	acl, err := kgo.NewClient(kgo.SeedBrokers(seeds...))
	if err != nil {
		t.Fatal(err)
	}
	defer acl.Close()
	adm := kadm.NewClient(acl)
	if _, err := adm.CreateTopic(ctx, 1, 3, map[string]*string{"min.insync.replicas": kadm.StringPtr("2")}, "load"); err != nil {
		t.Fatal(err)
	}
	ld := startLoad(t, ctx, seeds, "load")
	leader := func() int32 {
		md, err := adm.Metadata(ctx, "load")
		if err != nil {
			return -1
		}
		return md.Topics["load"].Partitions[0].Leader
	}
	ld.progress(200)
	for round := 0; round < 2; round++ {
		old := leader()
		if old < 0 {
			t.Fatal("no leader")
		}
		pid := state(c, old).PID
		if err := c.KillBroker(old); err != nil {
			t.Fatal(err)
		}
		if ProcessAlive(pid) {
			t.Fatalf("pid %d alive after SIGKILL", pid)
		}
		testenv.WaitFor(t, 30*time.Second, func() error {
			if l := leader(); l < 0 || l == old {
				return fmt.Errorf("leader %d", l)
			}
			return nil
		})
		ld.progress(100)
		if err := c.StartBroker(ctx, old); err != nil {
			t.Fatal(err)
		}
		testenv.WaitFor(t, 30*time.Second, func() error {
			md, err := adm.Metadata(ctx, "load")
			if err != nil {
				return err
			}
			if p := md.Topics["load"].Partitions[0]; len(p.ISR) != 3 {
				return fmt.Errorf("isr %v", p.ISR)
			}
			return nil
		})
		ld.progress(100)
	}
	ld.stopAndCheck(adm)
}

// load is an idempotent acks=all producer writing increasing numbers to
// partition 0 of a topic, recording what it got acknowledged at which
// offset.
type load struct {
	t     *testing.T
	ctx   context.Context
	seeds []string
	topic string
	prod  *kgo.Client
	stop  chan struct{}
	done  chan struct{}

	mu    sync.Mutex
	acked map[int64]string
}

func startLoad(t *testing.T, ctx context.Context, seeds []string, topic string) *load {
	t.Helper()
	prod, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.DefaultProduceTopic(topic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerLinger(5*time.Millisecond),
		kgo.RetryBackoffFn(func(int) time.Duration { return 100 * time.Millisecond }))
	if err != nil {
		t.Fatal(err)
	}
	ld := &load{t: t, ctx: ctx, seeds: seeds, topic: topic, prod: prod, stop: make(chan struct{}),
		done: make(chan struct{}), acked: map[int64]string{}}
	go func() {
		defer close(ld.done)
		// Paced, so that the kills land while the load runs.
		pace := time.NewTicker(3 * time.Millisecond)
		defer pace.Stop()
		for n := 0; ; n++ {
			select {
			case <-ld.stop:
				return
			case <-pace.C:
			}
			v := strconv.Itoa(n)
			prod.Produce(ctx, &kgo.Record{Value: []byte(v)}, func(r *kgo.Record, err error) {
				if err == nil {
					ld.mu.Lock()
					ld.acked[r.Offset] = string(r.Value)
					ld.mu.Unlock()
				}
			})
		}
	}()
	return ld
}

func (ld *load) count() int { ld.mu.Lock(); defer ld.mu.Unlock(); return len(ld.acked) }

// progress waits until n more records are acknowledged.
func (ld *load) progress(n int) {
	ld.t.Helper()
	start := ld.count()
	testenv.WaitFor(ld.t, 60*time.Second, func() error {
		if got := ld.count() - start; got < n {
			return fmt.Errorf("%d acknowledged", got)
		}
		return nil
	})
}

// stopAndCheck stops the producer and reads the partition back: every
// acknowledged record exactly once, at its offset, in order.
func (ld *load) stopAndCheck(adm *kadm.Client) {
	t, ctx := ld.t, ld.ctx
	t.Helper()
	close(ld.stop)
	<-ld.done
	if err := ld.prod.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	ld.prod.Close()
	cons, err := kgo.NewClient(kgo.SeedBrokers(ld.seeds...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{ld.topic: {0: kgo.NewOffset().AtStart()}}))
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	ends, err := adm.ListEndOffsets(ctx, ld.topic)
	if err != nil {
		t.Fatal(err)
	}
	end, _ := ends.Lookup(ld.topic, 0)
	seen := map[string]bool{}
	last := -1
	for got := int64(0); got < end.Offset; {
		fs := cons.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consumed %d of %d", got, end.Offset)
		}
		fs.EachRecord(func(r *kgo.Record) {
			got++
			v := string(r.Value)
			n, _ := strconv.Atoi(v)
			if seen[v] || n <= last {
				t.Fatalf("record %q at offset %d: duplicate or out of order (after %d)", v, r.Offset, last)
			}
			seen[v], last = true, n
			ld.mu.Lock()
			want, ok := ld.acked[r.Offset]
			ld.mu.Unlock()
			if ok && want != v {
				t.Fatalf("offset %d: acknowledged %q, log has %q", r.Offset, want, v)
			}
		})
	}
	ld.mu.Lock()
	defer ld.mu.Unlock()
	for off, v := range ld.acked {
		if !seen[v] {
			t.Fatalf("acknowledged %q at offset %d lost", v, off)
		}
	}
	t.Logf("%d acknowledged records checked of %d in the log", len(ld.acked), end.Offset)
}
