package broker

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/osprey-kafka/osprey/internal/testenv"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// withTxnTest makes transactions quick to test: few state partitions and a
// fast expiry check.
func withTxnTest(c *Config) {
	c.Txn.StateLogPartitions = 3
	c.Txn.AbortCheckInterval = 100 * time.Millisecond
}

// txnProducer is a franz-go transactional producer.
func txnProducer(t *testing.T, seeds []string, id string, extra ...kgo.Opt) *kgo.Client {
	t.Helper()
	opts := append([]kgo.Opt{kgo.SeedBrokers(seeds...), kgo.TransactionalID(id),
		kgo.RecordPartitioner(kgo.ManualPartitioner())}, extra...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// consumeTxnTopic reads every partition of topic from the start with the
// isolation level asked for and returns the values by partition. To know
// where the end is (control batches and aborted data advance the position
// without records) it first writes a non-transactional "end" record to
// each of the partitions and reads until it has seen them all.
func consumeTxnTopic(t *testing.T, seeds []string, topic string, committed bool, partitions int32) map[int32][]string {
	t.Helper()
	ctx := testCtx(t, 30*time.Second)
	pr, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	for p := range partitions {
		if err := pr.ProduceSync(ctx, &kgo.Record{Topic: topic, Partition: p, Value: []byte("end")}).FirstErr(); err != nil {
			t.Fatalf("writing end record: %v", err)
		}
	}
	pr.Close()
	iso := kgo.ReadUncommitted()
	if committed {
		iso = kgo.ReadCommitted()
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.ConsumeTopics(topic), kgo.FetchIsolationLevel(iso),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	got := map[int32][]string{}
	ended := map[int32]bool{}
	for len(ended) < int(partitions) {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consuming %s (read_committed=%v): reached the end of %d partitions of %d", topic, committed, len(ended), partitions)
		}
		fs.EachError(func(_ string, p int32, err error) { t.Logf("fetch %s/%d: %v", topic, p, err) })
		fs.EachRecord(func(r *kgo.Record) {
			if string(r.Value) == "end" {
				ended[r.Partition] = true
				return
			}
			if !ended[r.Partition] {
				got[r.Partition] = append(got[r.Partition], string(r.Value))
			}
		})
	}
	return got
}

// endOffsets lists the high watermark (read_committed: the last stable
// offset) of each partition of topic.
func endOffsets(t *testing.T, seeds []string, topic string, committed bool) map[int32]int64 {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx := testCtx(t, 10*time.Second)
	var lo kadm.ListedOffsets
	if committed {
		lo, err = adm.ListCommittedOffsets(ctx, topic)
	} else {
		lo, err = adm.ListEndOffsets(ctx, topic)
	}
	if err == nil {
		err = lo.Error()
	}
	if err != nil {
		t.Fatalf("list offsets of %s: %v", topic, err)
	}
	out := map[int32]int64{}
	lo.Each(func(o kadm.ListedOffset) { out[o.Partition] = o.Offset })
	return out
}

// createTopic creates a topic through the Kafka API and waits until every
// partition has a leader.
func createTopic(t *testing.T, seeds []string, topic string, partitions int32, rf int16) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx := testCtx(t, 30*time.Second)
	if _, err := adm.CreateTopic(ctx, partitions, rf, nil, topic); err != nil {
		t.Fatalf("create topic %s: %v", topic, err)
	}
	testenv.WaitFor(t, 30*time.Second, func() error {
		md, err := adm.ListTopics(ctx, topic)
		if err != nil {
			return err
		}
		td := md[topic]
		if td.Err != nil || len(td.Partitions) != int(partitions) {
			return fmt.Errorf("topic %s: %v, %d partitions", topic, td.Err, len(td.Partitions))
		}
		for _, p := range td.Partitions {
			if p.Leader < 0 || p.Err != nil {
				return fmt.Errorf("partition %d: leader %d, %v", p.Partition, p.Leader, p.Err)
			}
		}
		return nil
	})
}

func TestTxnAbortInvisibleToReadCommitted(t *testing.T) {
	b := newTestBroker(t, withTxnTest)
	seeds := []string{b.Addr()}
	ctx := testCtx(t, 60*time.Second)
	createTopic(t, seeds, "txn-abort", 1, 1)
	p := txnProducer(t, seeds, "abort-tx")
	produceTxn := func(prefix string, n int, commit bool) {
		t.Helper()
		if err := p.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		for i := range n {
			r := &kgo.Record{Topic: "txn-abort", Value: []byte(prefix + strconv.Itoa(i))}
			if err := p.ProduceSync(ctx, r).FirstErr(); err != nil {
				t.Fatalf("produce %s: %v", prefix, err)
			}
		}
		if err := p.EndTransaction(ctx, kgo.TransactionEndTry(commit)); err != nil {
			t.Fatalf("end transaction (commit=%v): %v", commit, err)
		}
	}
	produceTxn("c1-", 3, true)
	produceTxn("a1-", 4, false)
	produceTxn("c2-", 2, true)

	end := endOffsets(t, seeds, "txn-abort", false)
	lso := endOffsets(t, seeds, "txn-abort", true)
	// 9 records and 3 markers, every transaction decided.
	if end[0] != 12 || lso[0] != 12 {
		t.Fatalf("high watermark %d, last stable offset %d; want 12 and 12", end[0], lso[0])
	}
	committed := consumeTxnTopic(t, seeds, "txn-abort", true, 1)[0]
	want := []string{"c1-0", "c1-1", "c1-2", "c2-0", "c2-1"}
	if !slices.Equal(committed, want) {
		t.Fatalf("read_committed consumer got %v, want %v", committed, want)
	}
	all := consumeTxnTopic(t, seeds, "txn-abort", false, 1)[0]
	want = []string{"c1-0", "c1-1", "c1-2", "a1-0", "a1-1", "a1-2", "a1-3", "c2-0", "c2-1"}
	if !slices.Equal(all, want) {
		t.Fatalf("read_uncommitted consumer got %v, want %v", all, want)
	}
}

func TestTxnOpenTransactionHoldsLastStableOffset(t *testing.T) {
	b := newTestBroker(t, withTxnTest)
	seeds := []string{b.Addr()}
	ctx := testCtx(t, 60*time.Second)
	createTopic(t, seeds, "txn-lso", 1, 1)
	plain := produceFranz(t, seeds[0], "txn-lso", 2)
	_ = plain
	p := txnProducer(t, seeds, "lso-tx")
	if err := p.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := p.ProduceSync(ctx, &kgo.Record{Topic: "txn-lso", Value: []byte("open")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if hw, lso := endOffsets(t, seeds, "txn-lso", false)[0], endOffsets(t, seeds, "txn-lso", true)[0]; hw != 3 || lso != 2 {
		t.Fatalf("with a transaction open at offset 2: high watermark %d, last stable offset %d; want 3 and 2", hw, lso)
	}
	if err := p.EndTransaction(ctx, kgo.TryCommit); err != nil {
		t.Fatal(err)
	}
	if lso := endOffsets(t, seeds, "txn-lso", true)[0]; lso != 4 {
		t.Fatalf("after the commit: last stable offset %d, want 4", lso)
	}
}

func TestTxnZombieProducerFenced(t *testing.T) {
	b := newTestBroker(t, withTxnTest)
	seeds := []string{b.Addr()}
	ctx := testCtx(t, 60*time.Second)
	createTopic(t, seeds, "txn-zombie", 1, 1)
	old := txnProducer(t, seeds, "zombie-tx")
	if err := old.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := old.ProduceSync(ctx, &kgo.Record{Topic: "txn-zombie", Value: []byte("zombie-0")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	// A new instance with the same transactional id: its InitProducerId
	// aborts the old instance's transaction and bumps the epoch.
	fresh := txnProducer(t, seeds, "zombie-tx")
	if err := fresh.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := fresh.ProduceSync(ctx, &kgo.Record{Topic: "txn-zombie", Value: []byte("fresh-0")}).FirstErr(); err != nil {
		t.Fatalf("new instance produce: %v", err)
	}
	// The zombie's next write and its commit are refused.
	err := old.ProduceSync(ctx, &kgo.Record{Topic: "txn-zombie", Value: []byte("zombie-1")}).FirstErr()
	if err == nil {
		err = old.EndTransaction(ctx, kgo.TryCommit)
	}
	if !errors.Is(err, kerr.ProducerFenced) && !errors.Is(err, kerr.InvalidProducerEpoch) {
		t.Fatalf("zombie producer: got %v, want PRODUCER_FENCED or INVALID_PRODUCER_EPOCH", err)
	}
	if err := fresh.EndTransaction(ctx, kgo.TryCommit); err != nil {
		t.Fatalf("new instance commit: %v", err)
	}
	got := consumeTxnTopic(t, seeds, "txn-zombie", true, 1)[0]
	if !slices.Equal(got, []string{"fresh-0"}) {
		t.Fatalf("read_committed consumer got %v, want only the new instance's record", got)
	}
}

func TestTxnTimeoutAbortsAndValidation(t *testing.T) {
	b := newTestBroker(t, withTxnTest, func(c *Config) { c.Txn.MaxTimeout = time.Minute })
	seeds := []string{b.Addr()}
	ctx := testCtx(t, 60*time.Second)
	createTopic(t, seeds, "txn-timeout", 1, 1)

	// The console measures hanging transactions against this value.
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	rcs, err := kadm.NewClient(cl).DescribeBrokerConfigs(ctx, b.cfg.BrokerID)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := rcs.On(strconv.Itoa(int(b.cfg.BrokerID)), nil); err != nil || !slices.ContainsFunc(v.Configs, func(c kadm.Config) bool {
		return c.Key == "transaction.max.timeout.ms" && c.MaybeValue() == "60000"
	}) {
		t.Fatalf("DescribeConfigs does not show transaction.max.timeout.ms=60000: %v %+v", err, v)
	}

	tooLong := txnProducer(t, seeds, "too-long-tx", kgo.TransactionTimeout(2*time.Minute))
	err = tooLong.BeginTransaction()
	if err == nil {
		err = tooLong.ProduceSync(ctx, &kgo.Record{Topic: "txn-timeout", Value: []byte("x")}).FirstErr()
	}
	if !errors.Is(err, kerr.InvalidTransactionTimeout) {
		t.Fatalf("timeout above transaction.max.timeout.ms: got %v, want INVALID_TRANSACTION_TIMEOUT", err)
	}

	p := txnProducer(t, seeds, "expiring-tx", kgo.TransactionTimeout(time.Second))
	if err := p.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := p.ProduceSync(ctx, &kgo.Record{Topic: "txn-timeout", Value: []byte("expired")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	// The coordinator aborts it after its timeout: the LSO moves past the
	// abort marker without the producer doing anything.
	testenv.WaitFor(t, 20*time.Second, func() error {
		if lso := endOffsets(t, seeds, "txn-timeout", true)[0]; lso != 2 {
			return fmt.Errorf("last stable offset %d, want 2 (record and abort marker)", lso)
		}
		return nil
	})
	err = p.EndTransaction(ctx, kgo.TryCommit)
	if err == nil {
		t.Fatal("commit of a transaction aborted by its timeout succeeded")
	}
	if got := consumeTxnTopic(t, seeds, "txn-timeout", true, 1)[0]; len(got) != 0 {
		t.Fatalf("read_committed consumer got %v from an expired transaction", got)
	}
}

// TestTxnGroupTransactSessionThreeBrokers runs franz-go's
// consume-transform-produce loop (GroupTransactSession) with two members
// across a three-broker cluster, aborting some transactions on purpose: the
// output read with read_committed holds every input exactly once.
func TestTxnGroupTransactSessionThreeBrokers(t *testing.T) {
	testEOS(t, newTestCluster(t, 3, localConnector(t), withTxnTest), false)
}

// TestTxnGroupTransactSessionBrokerKilled is the same loop with the
// broker coordinating one member's transactional id stopped half way: the
// coordinator moves with the __transaction_state partition's leadership
// and the output is still exactly once.
func TestTxnGroupTransactSessionBrokerKilled(t *testing.T) {
	testEOS(t, newTestCluster(t, 3, localConnector(t), withTxnTest), true)
}

// TestTxnGroupTransactSessionKRaft is the loop on three combined KRaft
// nodes, where __transaction_state is created through the controller.
func TestTxnGroupTransactSessionKRaft(t *testing.T) {
	testEOS(t, newKRaftTestCluster(t, 3, withTxnTest), false)
}

func testEOS(t *testing.T, c *testCluster, kill bool) {
	seeds := c.addrs()
	createTopic(t, seeds, "eos-in", 3, 3)
	createTopic(t, seeds, "eos-out", 3, 3)
	c.waitFullISR("eos-in", 30*time.Second)
	c.waitFullISR("eos-out", 30*time.Second)
	const n = 300
	in, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.DefaultProduceTopic("eos-in"))
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	ctx := testCtx(t, 120*time.Second)
	var recs []*kgo.Record
	for i := range n {
		recs = append(recs, &kgo.Record{Key: []byte(strconv.Itoa(i)), Value: []byte("in-" + strconv.Itoa(i))})
	}
	if err := in.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	inEnd := endOffsets(t, seeds, "eos-in", false)

	runCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for m := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runSession(t, runCtx, seeds, "eos-tx-"+strconv.Itoa(m))
		}()
	}
	committed := func() (int64, error) { return groupCommittedSum(ctx, c.addrs(), "eos-group", "eos-in") }
	if kill {
		testenv.WaitFor(t, 60*time.Second, func() error {
			if sum, err := committed(); err != nil || sum < n/4 {
				return fmt.Errorf("committed %d of %d (%v)", sum, n, err)
			}
			return nil
		})
		gone := c.killLeader(txnStateTopic, groupPartition("eos-tx-0", 3))
		t.Logf("stopped broker %d, coordinator of eos-tx-0", gone)
	}
	var total int64
	for _, end := range inEnd {
		total += end
	}
	testenv.WaitFor(t, 90*time.Second, func() error {
		if sum, err := committed(); err != nil || sum != total {
			return fmt.Errorf("group committed %d of %d (%v)", sum, total, err)
		}
		return nil
	})
	stop()
	wg.Wait()
	checkEOSOutput(t, c.addrs(), n)
}

// groupCommittedSum sums a group's committed offsets of topic.
func groupCommittedSum(ctx context.Context, seeds []string, group, topic string) (int64, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...))
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	resps, err := kadm.NewClient(cl).FetchOffsets(ctx, group)
	if err != nil {
		return 0, err
	}
	var sum int64
	resps.Each(func(o kadm.OffsetResponse) {
		if o.Topic == topic && o.Err == nil {
			sum += o.At
		}
	})
	return sum, nil
}

// checkEOSOutput reads eos-out with read_committed and expects each of
// the n inputs transformed exactly once.
func checkEOSOutput(t *testing.T, seeds []string, n int) {
	t.Helper()
	seen := map[string]int{}
	for _, vals := range consumeTxnTopic(t, seeds, "eos-out", true, 3) {
		for _, v := range vals {
			seen[v]++
		}
	}
	for i := range n {
		v := "out-in-" + strconv.Itoa(i)
		if seen[v] != 1 {
			t.Errorf("%s read %d times with read_committed, want once", v, seen[v])
		}
	}
	if len(seen) != n {
		t.Errorf("read_committed output has %d distinct values, want %d", len(seen), n)
	}
}

// runSession is one member of the consume-transform-produce loop: it
// copies eos-in to eos-out in transactions of whatever a poll returned,
// aborting every third one, until ctx ends. A session whose producer ID
// turned fatal (franz-go refuses every later Begin) is closed and started
// again with the same transactional ID, as an application must: the new
// session's producer ID fences the old one and its open transaction is
// aborted, so the output must still hold every input once.
func runSession(t *testing.T, ctx context.Context, seeds []string, txnID string) {
	const lives = 3
	for life := 1; ctx.Err() == nil; life++ {
		err := runSessionOnce(ctx, t.Logf, seeds, txnID)
		if err == nil || ctx.Err() != nil {
			return
		}
		if life == lives {
			t.Errorf("%s: %v (session %d of %d)", txnID, err, life, lives)
			return
		}
		t.Logf("%s: %v; starting session %d", txnID, err, life+1)
	}
}

// runSessionOnce runs one session until ctx ends (nil) or Begin fails; failed ends are logged
// (the next transaction goes on).
func runSessionOnce(ctx context.Context, logf func(string, ...any), seeds []string, txnID string) error {
	s, err := kgo.NewGroupTransactSession(kgo.SeedBrokers(seeds...), kgo.TransactionalID(txnID),
		kgo.ConsumerGroup("eos-group"), kgo.ConsumeTopics("eos-in"), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.DefaultProduceTopic("eos-out"), kgo.FetchMaxWait(200*time.Millisecond), kgo.MaxBufferedRecords(1000))
	if err != nil {
		return fmt.Errorf("new session: %w", err)
	}
	defer s.Close()
	for round := 0; ctx.Err() == nil; round++ {
		fs := s.PollRecords(ctx, 40)
		if ctx.Err() != nil {
			return nil
		}
		if fs.Empty() {
			continue
		}
		if err := s.Begin(); err != nil {
			return fmt.Errorf("begin: %w", err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			s.Produce(ctx, &kgo.Record{Key: r.Key, Value: append([]byte("out-"), r.Value...)}, nil)
		})
		commit := round%3 != 2
		if _, err := s.End(ctx, kgo.TransactionEndTry(commit)); err != nil && ctx.Err() == nil {
			logf("%s: end (commit=%v): %v", txnID, commit, err)
		}
	}
	return nil
}

// TestTxnAbortedRangesSurviveRestart aborts a transaction, restarts the
// broker on the same log dir and reads with read_committed: the aborted
// records stay hidden (the list comes back from the .txnindex), and the
// transactional id's state comes back from __transaction_state (the same
// producer id with its epoch bumped).
func TestTxnAbortedRangesSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	b1 := startTestBroker(t, testConfig(withDir(dir), withTxnTest))
	seeds := []string{b1.Addr()}
	ctx := testCtx(t, 60*time.Second)
	createTopic(t, seeds, "txn-restart", 1, 1)
	p := txnProducer(t, seeds, "restart-tx")
	for i, commit := range []bool{true, false, true} {
		if err := p.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		if err := p.ProduceSync(ctx, &kgo.Record{Topic: "txn-restart", Value: []byte("v" + strconv.Itoa(i))}).FirstErr(); err != nil {
			t.Fatal(err)
		}
		if err := p.EndTransaction(ctx, kgo.TransactionEndTry(commit)); err != nil {
			t.Fatal(err)
		}
	}
	pid1, epoch1, err := p.ProducerID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
	if err := b1.Close(); err != nil {
		t.Fatal(err)
	}
	idx, err := os.ReadFile(filepath.Join(dir, "txn-restart-0", "00000000000000000000.txnindex"))
	if err != nil || len(idx) != 34 {
		t.Fatalf("transaction index: %d bytes, %v; want one 34-byte entry", len(idx), err)
	}
	cfg := testConfig(withDir(dir), withTxnTest)
	cfg.Listeners = []string{"PLAINTEXT://" + seeds[0]}
	b2 := startTestBroker(t, cfg)
	seeds = []string{b2.Addr()}
	if got := b2.data.get("txn-restart", 0).lastStableOffset(); got != 6 {
		t.Fatalf("last stable offset after restart %d, want 6", got)
	}
	if got := consumeTxnTopic(t, seeds, "txn-restart", true, 1)[0]; !slices.Equal(got, []string{"v0", "v2"}) {
		t.Fatalf("read_committed after restart: %v, want [v0 v2]", got)
	}
	p2 := txnProducer(t, seeds, "restart-tx")
	pid2, epoch2, err := p2.ProducerID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if pid2 != pid1 || epoch2 != epoch1+1 {
		t.Fatalf("after restart the transactional id got producer %d epoch %d, want %d epoch %d", pid2, epoch2, pid1, epoch1+1)
	}
}
