package broker

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/osprey-kafka/osprey/internal/testenv"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// childEnv makes the test binary run a broker instead of the tests (see
// TestMain), so a broker can be killed with SIGKILL without killing the
// test process.
const (
	childEnv     = "OSPREY_BROKER_TEST_CHILD_DIR"
	childPortEnv = "OSPREY_BROKER_TEST_CHILD_PORT"
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(childEnv); dir != "" {
		os.Exit(runChildBroker(dir))
	}
	// Stops the ZooKeeper server the cluster tests may have started.
	testenv.Main(m)
}

// runChildBroker runs a broker on dir until SIGTERM and prints its address.
func runChildBroker(dir string) int {
	cfg := testConfig(withDir(dir))
	cfg.LogCleaner.Backoff = 100 * time.Millisecond // TestKillDuringCleaningLosesNothing
	if port := os.Getenv(childPortEnv); port != "" {
		cfg.Listeners = []string{"PLAINTEXT://127.0.0.1:" + port}
	}
	b, err := New(cfg, WithLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := b.Start(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("LISTENING %s\n", b.Addr())
	<-ctx.Done()
	if err := b.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

type childBroker struct {
	cmd  *exec.Cmd
	addr string
	done chan struct{}
}

func startChildBroker(t *testing.T, dir string) *childBroker {
	t.Helper()
	return startChildBrokerOnPort(t, dir, 0)
}

func startChildBrokerOnPort(t *testing.T, dir string, port int) *childBroker {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+dir, childPortEnv+"="+strconv.Itoa(port))
	cmd.Stderr = testWriter{t}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &childBroker{cmd: cmd, done: make(chan struct{})}
	addrc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "LISTENING "); ok {
				addrc <- a
			}
		}
		io.Copy(io.Discard, out)
	}()
	go func() {
		cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(func() { c.kill() })
	select {
	case c.addr = <-addrc:
	case <-c.done:
		t.Fatal("child broker exited before listening")
	case <-time.After(60 * time.Second):
		t.Fatal("child broker did not start")
	}
	return c
}

func (c *childBroker) kill() {
	select {
	case <-c.done:
		return
	default:
	}
	c.cmd.Process.Signal(syscall.SIGKILL)
	<-c.done
}

// consumeAll reads every record of topic from the start up to the end
// offsets and returns them by partition.
func consumeAll(t *testing.T, addr, topic string) map[int32][]*kgo.Record {
	t.Helper()
	ctx := testCtx(t, 60*time.Second)
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	ends.Each(func(o kadm.ListedOffset) { want += int(o.Offset) })
	cons, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	out := map[int32][]*kgo.Record{}
	n := 0
	for n < want {
		fs := cons.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consumed %d of %d records", n, want)
		}
		fs.EachError(func(tp string, p int32, err error) { t.Fatalf("fetch %s/%d: %v", tp, p, err) })
		fs.EachRecord(func(r *kgo.Record) {
			out[r.Partition] = append(out[r.Partition], r)
			n++
		})
	}
	return out
}

// Produce and commit, stop gracefully, restart on the same directory:
// every record is there at its offset, the committed offsets and the topic
// configuration survived.
func TestRestartGraceful(t *testing.T) {
	dir := t.TempDir()
	b1 := startTestBroker(t, testConfig(withDir(dir)))
	ctx := testCtx(t, 60*time.Second)
	cl, err := kgo.NewClient(kgo.SeedBrokers(b1.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	adm := kadm.NewClient(cl)
	if _, err := adm.CreateTopic(ctx, 3, 1, map[string]*string{"retention.ms": kadm.StringPtr("86400000")}, "durable"); err != nil {
		t.Fatal(err)
	}
	recs := produceFranz(t, b1.Addr(), "durable", 300)
	commits := kadm.Offsets{}
	commits.Add(kadm.Offset{Topic: "durable", Partition: 0, At: 42, LeaderEpoch: -1, Metadata: "meta-0"})
	commits.Add(kadm.Offset{Topic: "durable", Partition: 2, At: 7, LeaderEpoch: -1})
	if _, err := adm.CommitOffsets(ctx, "restart-group", commits); err != nil {
		t.Fatal(err)
	}
	// A group with a live member: its metadata is reloaded too.
	rc := dialRaw(t, b1.Addr())
	member, gen := joinRaw(t, rc, "live-group", 30*time.Second)
	cl.Close()
	if err := b1.Close(); err != nil {
		t.Fatal(err)
	}

	b2 := startTestBroker(t, testConfig(withDir(dir)))
	rc2 := dialRaw(t, b2.Addr())
	if s := describeState(t, rc2, "live-group"); s != "Stable" {
		t.Fatalf("live-group state after restart: %s, want Stable", s)
	}
	hb := kmsg.NewPtrHeartbeatRequest()
	hb.Version = 3
	hb.Group, hb.MemberID, hb.Generation = "live-group", member, gen
	if r := rc2.roundTrip(hb, 9).(*kmsg.HeartbeatResponse); r.ErrorCode != 0 {
		t.Fatalf("heartbeat of the reloaded member: error %d", r.ErrorCode)
	}
	got := consumeAll(t, b2.Addr(), "durable")
	byKey := map[string]*kgo.Record{}
	for _, r := range recs {
		byKey[string(r.Key)] = r
	}
	n := 0
	for p, rs := range got {
		for i, r := range rs {
			if r.Offset != int64(i) {
				t.Fatalf("partition %d: record %d has offset %d", p, i, r.Offset)
			}
			checkRecord(t, r, byKey[string(r.Key)])
			n++
		}
	}
	if n != len(recs) {
		t.Fatalf("read %d records after restart, produced %d", n, len(recs))
	}
	cl2, err := kgo.NewClient(kgo.SeedBrokers(b2.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl2.Close()
	adm2 := kadm.NewClient(cl2)
	offs, err := adm2.FetchOffsets(ctx, "restart-group")
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := offs.Lookup("durable", 0); o.At != 42 || o.Metadata != "meta-0" {
		t.Fatalf("committed durable/0 after restart: %+v", o)
	}
	if o, _ := offs.Lookup("durable", 2); o.At != 7 {
		t.Fatalf("committed durable/2 after restart: %+v", o)
	}
	tc, err := adm2.DescribeTopicConfigs(ctx, "durable")
	if err != nil {
		t.Fatal(err)
	}
	v, err := tc.On("durable", nil)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, c := range v.Configs {
		if c.Key == "retention.ms" {
			found = c.MaybeValue() == "86400000"
		}
	}
	if !found {
		t.Fatalf("retention.ms override lost after restart: %+v", v.Configs)
	}
}

// A broker in a child process is killed with SIGKILL while an idempotent
// producer writes; after a restart on the same directory every
// acknowledged record is readable at the offset it was acknowledged with.
func TestKill9MidProduce(t *testing.T) {
	dir := t.TempDir()
	child := startChildBroker(t, dir)
	ctx := testCtx(t, 90*time.Second)
	cl, err := kgo.NewClient(kgo.SeedBrokers(child.addr), kgo.DefaultProduceTopic("crash"),
		kgo.AllowAutoTopicCreation(), kgo.RecordRetries(2), kgo.RequestRetries(1),
		kgo.ProduceRequestTimeout(2*time.Second), kgo.RecordDeliveryTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var (
		mu    sync.Mutex
		acked = map[string]int64{}
	)
	prodCtx, cancelProduce := context.WithCancel(ctx)
	defer cancelProduce()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			r := &kgo.Record{Key: []byte(strconv.Itoa(i)), Value: []byte(fmt.Sprintf("value-%d", i))}
			cl.Produce(prodCtx, r, func(r *kgo.Record, err error) {
				if err == nil {
					mu.Lock()
					acked[string(r.Key)] = r.Offset
					mu.Unlock()
				}
			})
			if i%50 == 49 {
				time.Sleep(time.Millisecond) // pace the producer: the restart must land while it writes
			}
		}
	}()
	testenv.WaitFor(t, 30*time.Second, func() error {
		mu.Lock()
		defer mu.Unlock()
		if len(acked) < 2000 {
			return fmt.Errorf("%d records acknowledged", len(acked))
		}
		return nil
	})
	child.kill()
	close(stop)
	wg.Wait()
	// Records still buffered or in flight were never acknowledged; no
	// acknowledgement can arrive once the broker is dead.
	cancelProduce()
	closed := time.Now()
	cl.Close()
	t.Logf("producer closed in %v", time.Since(closed))
	mu.Lock()
	final := make(map[string]int64, len(acked))
	for k, v := range acked {
		final[k] = v
	}
	mu.Unlock()

	child2 := startChildBroker(t, dir)
	got := consumeAll(t, child2.addr, "crash")
	byKey := map[string]int64{}
	for _, rs := range got {
		for i, r := range rs {
			if r.Offset != int64(i) {
				t.Fatalf("record %d has offset %d: offsets must be dense after recovery", i, r.Offset)
			}
			if string(r.Value) != "value-"+string(r.Key) {
				t.Fatalf("record %q has value %q", r.Key, r.Value)
			}
			byKey[string(r.Key)] = r.Offset
		}
	}
	for k, off := range final {
		if g, ok := byKey[k]; !ok || g != off {
			t.Fatalf("acknowledged record %s at offset %d: after restart found=%v at %d", k, off, ok, g)
		}
	}
	t.Logf("%d records acknowledged before SIGKILL, %d readable after restart", len(final), len(byKey))
}

// Idempotence survives a restart: a producer retrying its last batch after
// the broker came back gets the original offset, not a duplicate.
func TestIdempotentDuplicateDetectedAfterRestart(t *testing.T) {
	dir := t.TempDir()
	b1 := startTestBroker(t, testConfig(withDir(dir)))
	c := dialRaw(t, b1.Addr())
	autoCreate(t, c, "idem-restart")
	const pid, epoch = 4242, 3
	if r := c.roundTrip(produceReq("idem-restart", 0, testBatch(pid, epoch, 0, 2)), 1).(*kmsg.ProduceResponse); r.Topics[0].Partitions[0].ErrorCode != 0 {
		t.Fatal(r.Topics[0].Partitions[0])
	}
	if r := c.roundTrip(produceReq("idem-restart", 0, testBatch(pid, epoch, 2, 3)), 2).(*kmsg.ProduceResponse); r.Topics[0].Partitions[0].BaseOffset != 2 {
		t.Fatal(r.Topics[0].Partitions[0])
	}
	if err := b1.Close(); err != nil {
		t.Fatal(err)
	}
	b2 := startTestBroker(t, testConfig(withDir(dir)))
	c2 := dialRaw(t, b2.Addr())
	r := c2.roundTrip(produceReq("idem-restart", 0, testBatch(pid, epoch, 2, 3)), 3).(*kmsg.ProduceResponse).Topics[0].Partitions[0]
	if r.ErrorCode != 0 || r.BaseOffset != 2 {
		t.Fatalf("retried batch after restart: %+v, want the original offset 2", r)
	}
	r = c2.roundTrip(produceReq("idem-restart", 0, testBatch(pid, epoch, 7, 1)), 4).(*kmsg.ProduceResponse).Topics[0].Partitions[0]
	if r.ErrorCode != errOutOfOrderSeq {
		t.Fatalf("gap after restart: %+v, want OUT_OF_ORDER_SEQUENCE_NUMBER", r)
	}
	r = c2.roundTrip(produceReq("idem-restart", 0, testBatch(pid, epoch, 5, 1)), 5).(*kmsg.ProduceResponse).Topics[0].Partitions[0]
	if r.ErrorCode != 0 || r.BaseOffset != 5 {
		t.Fatalf("next batch after restart: %+v, want offset 5", r)
	}
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// An idempotent producer keeps writing while its broker is killed with
// SIGKILL and restarted on the same port and directory: every record ends
// up in the log exactly once, in order (retries of batches that were
// written before the kill are recognised as duplicates).
func TestKill9ExactlyOnceAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t)
	child := startChildBrokerOnPort(t, dir, port)
	ctx := testCtx(t, 120*time.Second)
	cl, err := kgo.NewClient(kgo.SeedBrokers(child.addr), kgo.DefaultProduceTopic("eos"), kgo.AllowAutoTopicCreation(),
		kgo.MaxBufferedRecords(500), kgo.RetryBackoffFn(func(int) time.Duration { return 50 * time.Millisecond }))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	const total = 6000
	var (
		mu    sync.Mutex
		acked int
		errs  []error
	)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < total; i++ {
			if i%20 == 19 {
				time.Sleep(2 * time.Millisecond) // pace it so the kill lands mid-stream
			}
			r := &kgo.Record{Key: []byte(strconv.Itoa(i)), Value: []byte("v" + strconv.Itoa(i))}
			cl.Produce(ctx, r, func(_ *kgo.Record, err error) {
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = append(errs, err)
				} else {
					acked++
				}
			})
		}
	}()
	testenv.WaitFor(t, 60*time.Second, func() error {
		mu.Lock()
		defer mu.Unlock()
		if acked < 1500 {
			return fmt.Errorf("%d acknowledged", acked)
		}
		return nil
	})
	child.kill()
	mu.Lock()
	atKill := acked
	mu.Unlock()
	if atKill >= total {
		t.Fatal("everything was acknowledged before the kill: the test proves nothing")
	}
	child2 := startChildBrokerOnPort(t, dir, port)
	<-done
	if err := cl.Flush(ctx); err != nil {
		t.Fatalf("flush: %v", err)
	}
	mu.Lock()
	if len(errs) > 0 || acked != total {
		t.Fatalf("%d acknowledged, %d errors (first: %v)", acked, len(errs), errs)
	}
	mu.Unlock()
	t.Logf("%d of %d acknowledged when the broker was killed", atKill, total)
	got := consumeAll(t, child2.addr, "eos")
	rs := got[0]
	if len(rs) != total {
		t.Fatalf("%d records in the log, produced %d exactly once each", len(rs), total)
	}
	for i, r := range rs {
		if string(r.Key) != strconv.Itoa(i) || r.Offset != int64(i) {
			t.Fatalf("record %d: key %s at offset %d (duplicate or reordering)", i, r.Key, r.Offset)
		}
	}
}

// SIGTERM stops a broker process cleanly: exit status 0 and checkpoints
// whose recovery point is the log end, so the next start recovers nothing.
func TestSigtermGracefulShutdown(t *testing.T) {
	dir := t.TempDir()
	child := startChildBroker(t, dir)
	recs := produceFranz(t, child.addr, "term", 50, kgo.AllowAutoTopicCreation())
	if err := child.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-child.done:
	case <-time.After(30 * time.Second):
		t.Fatal("broker did not exit after SIGTERM")
	}
	if code := child.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit status %d after SIGTERM", code)
	}
	data, err := os.ReadFile(dir + "/recovery-point-offset-checkpoint")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "term 0 50\n") {
		t.Fatalf("recovery point of term-0 is not its log end (50):\n%s", data)
	}
	child2 := startChildBroker(t, dir)
	got := consumeAll(t, child2.addr, "term")
	if len(got[0]) != len(recs) {
		t.Fatalf("%d records after restart, %d produced", len(got[0]), len(recs))
	}
}
