package broker

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"strconv"
	"testing"
	"time"

	"github.com/osprey-kafka/osprey/internal/testenv"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestTxnDescribeListTransactionsAndProducers shows an open transaction
// through kadm's DescribeTransactions, ListTransactions (with state and
// KIP-994 duration filters) and DescribeProducers, as an operator looking
// for a hanging transaction would.
func TestTxnDescribeListTransactionsAndProducers(t *testing.T) {
	c := newTestCluster(t, 3, localConnector(t), withTxnTest)
	seeds := c.addrs()
	ctx := testCtx(t, 60*time.Second)
	createTopic(t, seeds, "txn-admin", 2, 3)
	p := txnProducer(t, seeds, "admin-tx")
	if err := p.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := p.ProduceSync(ctx, &kgo.Record{Topic: "txn-admin", Partition: 1, Value: []byte("x")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	pid, epoch, err := p.ProducerID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	done := txnProducer(t, seeds, "done-tx")
	if err := done.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := done.ProduceSync(ctx, &kgo.Record{Topic: "txn-admin", Partition: 0, Value: []byte("y")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if err := done.EndTransaction(ctx, kgo.TryCommit); err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)

	dts, err := adm.DescribeTransactions(ctx, "admin-tx", "done-tx")
	if err != nil {
		t.Fatal(err)
	}
	dt, err := dts.On("admin-tx", nil)
	if err != nil {
		t.Fatal(err)
	}
	if dt.State != "Ongoing" || dt.ProducerID != pid || dt.ProducerEpoch != epoch || dt.StartTimestamp <= 0 ||
		len(dt.Topics["txn-admin"]) != 1 {
		t.Fatalf("admin-tx described as %+v", dt)
	}
	if d, _ := dts.On("done-tx", nil); d.State != "CompleteCommit" || len(d.Topics) != 0 {
		t.Fatalf("done-tx described as %+v", d)
	}
	unknown, err := adm.DescribeTransactions(ctx, "never-seen")
	if d, _ := unknown.On("never-seen", nil); err == nil && !errors.Is(d.Err, kerr.TransactionalIDNotFound) {
		t.Fatalf("an unknown transactional id: %+v, want TRANSACTIONAL_ID_NOT_FOUND", d)
	}

	ongoing, err := adm.ListTransactions(ctx, nil, []string{"Ongoing"})
	if err != nil {
		t.Fatal(err)
	}
	if ids := ongoing.TransactionalIDs(); len(ids) != 1 || ids[0] != "admin-tx" {
		t.Fatalf("ongoing transactions %v, want [admin-tx]", ids)
	}
	all, err := adm.ListTransactions(ctx, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 {
		t.Fatalf("listed %v, want both ids", all.TransactionalIDs())
	}
	checkListDurationFilter(t, ctx, cl)

	waitProducerDescribed(t, ctx, adm, pid, epoch)
}

// TestTxnLateWriteAfterEndIsRefused sends, after a transaction's commit,
// one more transactional batch of the same producer and epoch (a late
// retry, or a zombie that missed its fencing): the partition leader asks
// the coordinator, which knows no open transaction, so the write is
// refused and the last stable offset does not get stuck behind it.
func TestTxnLateWriteAfterEndIsRefused(t *testing.T) {
	c := newTestCluster(t, 3, localConnector(t), withTxnTest)
	seeds := c.addrs()
	ctx := testCtx(t, 60*time.Second)
	createTopic(t, seeds, "txn-late", 1, 3)
	p := txnProducer(t, seeds, "late-tx")
	if err := p.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := p.ProduceSync(ctx, &kgo.Record{Topic: "txn-late", Value: []byte("in-time")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if err := p.EndTransaction(ctx, kgo.TryCommit); err != nil {
		t.Fatal(err)
	}
	pid, epoch, err := p.ProducerID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	batch := buildBatch([]kvRecord{{key: []byte("k"), value: []byte("late")}}, time.Now().UnixMilli())
	binary.BigEndian.PutUint16(batch[21:], attrTransactional)
	binary.BigEndian.PutUint64(batch[43:], uint64(pid))
	binary.BigEndian.PutUint16(batch[51:], uint16(epoch))
	binary.BigEndian.PutUint32(batch[53:], 1) // the producer's next sequence
	binary.BigEndian.PutUint32(batch[17:], crc32.Checksum(batch[21:], crc32c))
	req := kmsg.NewPtrProduceRequest()
	req.TransactionID, req.Acks, req.TimeoutMillis = kmsg.StringPtr("late-tx"), -1, 10000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = "txn-late"
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Partition, rp.Records = 0, batch
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	raw, err := kgo.NewClient(kgo.SeedBrokers(seeds...))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	leader := c.partition("txn-late", 0).Leader
	resp, err := req.RequestWith(ctx, raw.Broker(int(leader)))
	if err != nil {
		t.Fatal(err)
	}
	if code := resp.Topics[0].Partitions[0].ErrorCode; code != kerr.InvalidTxnState.Code {
		t.Fatalf("late transactional write answered %v, want INVALID_TXN_STATE", kerr.ErrorForCode(code))
	}
	if hw, lso := endOffsets(t, seeds, "txn-late", false)[0], endOffsets(t, seeds, "txn-late", true)[0]; hw != 2 || lso != 2 {
		t.Fatalf("high watermark %d, last stable offset %d; want 2 and 2 (record and marker, nothing pending)", hw, lso)
	}
}

// TestTxnIdleIDExpires lets a transactional id sit idle past
// transactional.id.expiration.ms: its coordinator removes it, and the next
// producer with that id starts afresh with a new producer id.
func TestTxnIdleIDExpires(t *testing.T) {
	b := newTestBroker(t, withTxnTest, func(c *Config) { c.Txn.IDExpiration = 300 * time.Millisecond })
	seeds := []string{b.Addr()}
	ctx := testCtx(t, 60*time.Second)
	createTopic(t, seeds, "txn-idle", 1, 1)
	p := txnProducer(t, seeds, "idle-tx")
	if err := p.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := p.ProduceSync(ctx, &kgo.Record{Topic: "txn-idle", Value: []byte("x")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if err := p.EndTransaction(ctx, kgo.TryCommit); err != nil {
		t.Fatal(err)
	}
	pid1, _, err := p.ProducerID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	testenv.WaitFor(t, 20*time.Second, func() error {
		dts, err := adm.DescribeTransactions(ctx, "idle-tx")
		if err != nil {
			return err
		}
		d, _ := dts.On("idle-tx", nil)
		if !errors.Is(d.Err, kerr.TransactionalIDNotFound) {
			return fmt.Errorf("idle-tx still described: %+v", d)
		}
		return nil
	})
	p2 := txnProducer(t, seeds, "idle-tx")
	pid2, epoch2, err := p2.ProducerID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if pid2 == pid1 || epoch2 != 0 {
		t.Fatalf("after expiry the id got producer %d epoch %d, want a new producer id (not %d) at epoch 0", pid2, epoch2, pid1)
	}
}

// TestTxnPipelinedProduceKeepsOrder sends many small transactional
// batches with several requests in flight per connection: the first
// batch of each transaction on a partition is verified with the
// coordinator, and the requests behind it must still be appended after it
// (else their sequence numbers are out of order).
func TestTxnPipelinedProduceKeepsOrder(t *testing.T) {
	b := newTestBroker(t, withTxnTest)
	seeds := []string{b.Addr()}
	ctx := testCtx(t, 60*time.Second)
	createTopic(t, seeds, "txn-pipe", 2, 1)
	p, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.TransactionalID("pipe-tx"), kgo.DefaultProduceTopic("txn-pipe"),
		kgo.ProducerLinger(0), kgo.ProducerBatchMaxBytes(512))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	const perTxn, txns = 3000, 4
	for range txns {
		if err := p.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		errs := make(chan error, perTxn)
		for i := range perTxn {
			p.Produce(ctx, &kgo.Record{Value: []byte(strconv.Itoa(i))}, func(_ *kgo.Record, err error) {
				if err != nil {
					errs <- err
				}
			})
		}
		if err := p.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-errs:
			t.Fatalf("transactional produce: %v", err)
		default:
		}
		if err := p.EndTransaction(ctx, kgo.TryCommit); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	for _, vals := range consumeTxnTopic(t, seeds, "txn-pipe", true, 2) {
		n += len(vals)
	}
	if n != perTxn*txns {
		t.Fatalf("read_committed consumer got %d records, want %d", n, perTxn*txns)
	}
}

// TestTxnAdminAbortOfHangingTransaction does what `kafka-transactions.sh
// abort --topic --partition --start-offset` does about a transaction whose
// producer is gone: find the producer with DescribeProducers and write an
// abort marker with WriteTxnMarkers. The partition's last stable offset
// moves past it and read_committed consumers skip its records.
func TestTxnAdminAbortOfHangingTransaction(t *testing.T) {
	b := newTestBroker(t, withTxnTest)
	seeds := []string{b.Addr()}
	ctx := testCtx(t, 60*time.Second)
	createTopic(t, seeds, "txn-hang", 1, 1)
	p := txnProducer(t, seeds, "hang-tx", kgo.TransactionTimeout(time.Minute))
	if err := p.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := p.ProduceSync(ctx, &kgo.Record{Topic: "txn-hang", Value: []byte("hanging")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if lso := endOffsets(t, seeds, "txn-hang", true)[0]; lso != 0 {
		t.Fatalf("last stable offset %d with the transaction open, want 0", lso)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	dps, err := adm.DescribeProducers(ctx, kadm.TopicsSet{"txn-hang": {0: {}}})
	if err != nil {
		t.Fatal(err)
	}
	var hanging []kadm.DescribedProducer
	dps.EachProducer(func(d kadm.DescribedProducer) {
		if d.CurrentTxnStartOffset == 0 {
			hanging = append(hanging, d)
		}
	})
	if len(hanging) != 1 {
		t.Fatalf("producers with a transaction from offset 0: %+v", hanging)
	}
	h := hanging[0]
	resps, err := adm.WriteTxnMarkers(ctx, kadm.TxnMarkers{ProducerID: h.ProducerID, ProducerEpoch: h.ProducerEpoch,
		CoordinatorEpoch: h.CoordinatorEpoch, Topics: kadm.TopicsSet{"txn-hang": {0: {}}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range resps {
		for _, tr := range r.Topics {
			for _, pr := range tr.Partitions {
				if pr.Err != nil {
					t.Fatalf("abort marker on %s/%d: %v", tr.Topic, pr.Partition, pr.Err)
				}
			}
		}
	}
	if hw, lso := endOffsets(t, seeds, "txn-hang", false)[0], endOffsets(t, seeds, "txn-hang", true)[0]; hw != 2 || lso != 2 {
		t.Fatalf("after the abort: high watermark %d, last stable offset %d; want 2 and 2", hw, lso)
	}
	if got := consumeTxnTopic(t, seeds, "txn-hang", true, 1)[0]; len(got) != 0 {
		t.Fatalf("read_committed consumer got %v from the aborted transaction", got)
	}
}

// TestTxnMetricsShowOpenTransaction reads the transaction gauges with one
// transaction open and after its commit.
func TestTxnMetricsShowOpenTransaction(t *testing.T) {
	b := newTestBroker(t, withTxnTest, func(c *Config) { c.MetricsListen = "127.0.0.1:0" })
	seeds := []string{b.Addr()}
	ctx := testCtx(t, 60*time.Second)
	createTopic(t, seeds, "txn-metrics", 1, 1)
	p := txnProducer(t, seeds, "metrics-tx")
	if err := p.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := p.ProduceSync(ctx, &kgo.Record{Topic: "txn-metrics", Value: []byte("x")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	text := scrape(t, b.MetricsAddr())
	if v := metricValue(t, text, `osprey_broker_transactions_ongoing{broker_id="0"}`); v != 1 {
		t.Fatalf("transactions_ongoing %v, want 1", v)
	}
	if v := metricValue(t, text, `osprey_broker_partitions_lso_behind_hw{broker_id="0"}`); v != 1 {
		t.Fatalf("partitions_lso_behind_hw %v, want 1", v)
	}
	if err := p.EndTransaction(ctx, kgo.TryCommit); err != nil {
		t.Fatal(err)
	}
	text = scrape(t, b.MetricsAddr())
	if v := metricValue(t, text, `osprey_broker_transactions_ongoing{broker_id="0"}`); v != 0 {
		t.Fatalf("after the commit transactions_ongoing %v, want 0", v)
	}
	if v := metricValue(t, text, `osprey_broker_transaction_oldest_open_seconds{broker_id="0"}`); v != 0 {
		t.Fatalf("after the commit transaction_oldest_open_seconds %v, want 0", v)
	}
	if v := metricValue(t, text, `osprey_broker_partitions_lso_behind_hw{broker_id="0"}`); v != 0 {
		t.Fatalf("after the commit partitions_lso_behind_hw %v, want 0", v)
	}
}

// TestTxnMarkerFromOldCoordinatorFenced writes a marker with a coordinator
// epoch older than the one of the producer's last marker on the partition,
// as a coordinator that lost its __transaction_state partition would: the
// partition refuses it.
func TestTxnMarkerFromOldCoordinatorFenced(t *testing.T) {
	b := newTestBroker(t, withTxnTest)
	seeds := []string{b.Addr()}
	ctx := testCtx(t, 60*time.Second)
	createTopic(t, seeds, "txn-fence", 1, 1)
	p := txnProducer(t, seeds, "fence-tx")
	if err := p.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := p.ProduceSync(ctx, &kgo.Record{Topic: "txn-fence", Value: []byte("x")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if err := p.EndTransaction(ctx, kgo.TryCommit); err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	dps, err := adm.DescribeProducers(ctx, kadm.TopicsSet{"txn-fence": {0: {}}})
	if err != nil {
		t.Fatal(err)
	}
	all := dps.SortedProducers()
	if len(all) != 1 || all[0].CoordinatorEpoch < 0 {
		t.Fatalf("producers %+v, want one with the coordinator epoch of its commit marker", all)
	}
	h := all[0]
	resps, err := adm.WriteTxnMarkers(ctx, kadm.TxnMarkers{ProducerID: h.ProducerID, ProducerEpoch: h.ProducerEpoch,
		CoordinatorEpoch: h.CoordinatorEpoch - 1, Topics: kadm.TopicsSet{"txn-fence": {0: {}}}})
	if err != nil {
		t.Fatal(err)
	}
	var got error
	for _, r := range resps {
		for _, tr := range r.Topics {
			for _, pr := range tr.Partitions {
				got = pr.Err
			}
		}
	}
	if !errors.Is(got, kerr.TransactionCoordinatorFenced) {
		t.Fatalf("marker from an older coordinator epoch: %v, want TRANSACTION_COORDINATOR_FENCED", got)
	}
}

// checkListDurationFilter asks every broker for transactions open at
// least an hour (KIP-994) with a known and an unknown state filter: none
// is, and the unknown state is returned.
func checkListDurationFilter(t *testing.T, ctx context.Context, cl *kgo.Client) {
	t.Helper()
	req := kmsg.NewPtrListTransactionsRequest()
	req.StateFilters = []string{"Ongoing", "NoSuchState"}
	req.DurationFilterMillis = time.Hour.Milliseconds()
	shards := cl.RequestSharded(ctx, req)
	for _, sh := range shards {
		if sh.Err != nil {
			t.Fatal(sh.Err)
		}
		resp := sh.Resp.(*kmsg.ListTransactionsResponse)
		if len(resp.TransactionStates) != 0 {
			t.Fatalf("broker %d listed %v as open for an hour", sh.Meta.NodeID, resp.TransactionStates)
		}
		if len(resp.UnknownStateFilters) != 1 || resp.UnknownStateFilters[0] != "NoSuchState" {
			t.Fatalf("unknown state filters %v", resp.UnknownStateFilters)
		}
	}
}

// waitProducerDescribed waits until DescribeProducers shows the producer
// with its open transaction from offset 0 of txn-admin/1.
func waitProducerDescribed(t *testing.T, ctx context.Context, adm *kadm.Client, pid int64, epoch int16) {
	t.Helper()
	testenv.WaitFor(t, 10*time.Second, func() error {
		dps, err := adm.DescribeProducers(ctx, kadm.TopicsSet{"txn-admin": {1: {}}})
		if err != nil {
			return err
		}
		var found bool
		dps.EachProducer(func(d kadm.DescribedProducer) {
			if d.ProducerID == pid && d.ProducerEpoch == epoch && d.CurrentTxnStartOffset == 0 && d.LastSequence == 0 && d.LastTimestamp > 0 {
				found = true
			}
		})
		if !found {
			return kerr.UnknownServerError
		}
		return nil
	})
}

// TestTxnStateTopicWaitsForReplicationFactor asks for a transaction
// coordinator while only two of three brokers run: __transaction_state is
// not created with a replication factor of two for good, but once the
// third broker is back, with transaction.state.log.replication.factor 3.
func TestTxnStateTopicWaitsForReplicationFactor(t *testing.T) {
	c := newTestCluster(t, 3, localConnector(t), withTxnTest)
	c.stop(2)
	c.waitBrokers(2)
	ctx := testCtx(t, 60*time.Second)
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.addrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	find := func() int16 {
		req := kmsg.NewPtrFindCoordinatorRequest()
		req.CoordinatorType, req.CoordinatorKey = 1, "rf-tx"
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			t.Fatal(err)
		}
		return resp.ErrorCode
	}
	if code := find(); code != kerr.CoordinatorNotAvailable.Code {
		t.Fatalf("FindCoordinator with 2 of 3 brokers: %v, want COORDINATOR_NOT_AVAILABLE", kerr.ErrorForCode(code))
	}
	if _, ok := c.any().cluster.Topic(txnStateTopic); ok {
		t.Fatal("__transaction_state created with fewer brokers than its replication factor")
	}
	c.start(2)
	c.waitBrokers(3)
	testenv.WaitFor(t, 30*time.Second, func() error {
		if code := find(); code != 0 {
			return kerr.ErrorForCode(code)
		}
		return nil
	})
	tp, _ := c.any().cluster.Topic(txnStateTopic)
	for _, p := range tp.Partitions {
		if len(p.Replicas) != 3 {
			t.Fatalf("partition %d of %s has replicas %v, want 3", p.Partition, txnStateTopic, p.Replicas)
		}
	}
}

// TestTxnLSONeverBelowLogStart deletes records up past the start of an
// open transaction: the last stable offset a read_committed consumer is
// given stays at or above the new log start (else it is out of range).
func TestTxnLSONeverBelowLogStart(t *testing.T) {
	b := newTestBroker(t, withTxnTest)
	seeds := []string{b.Addr()}
	ctx := testCtx(t, 60*time.Second)
	createTopic(t, seeds, "txn-start", 1, 1)
	p := txnProducer(t, seeds, "start-tx")
	if err := p.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := p.ProduceSync(ctx, &kgo.Record{Topic: "txn-start", Value: []byte("open")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	produceFranz(t, seeds[0], "txn-start", 2)
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	rs, err := adm.DeleteRecords(ctx, kadm.Offsets{"txn-start": {0: {Topic: "txn-start", Partition: 0, At: 2, LeaderEpoch: -1}}})
	if err == nil {
		err = rs.Error()
	}
	if err != nil {
		t.Fatal(err)
	}
	if lso := endOffsets(t, seeds, "txn-start", true)[0]; lso != 2 {
		t.Fatalf("last stable offset %d after deleting records before 2, want the log start 2", lso)
	}
	if err := p.EndTransaction(ctx, kgo.TryAbort); err != nil {
		t.Fatal(err)
	}
}
