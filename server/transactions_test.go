package server

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/osprey-kafka/osprey/admin"
	"github.com/osprey-kafka/osprey/broker/supervisor"
	"github.com/osprey-kafka/osprey/collector"
	"github.com/osprey-kafka/osprey/internal/testenv"
	"github.com/osprey-kafka/osprey/server/service"
)

// txnEnv is the console on Osprey's runtime (one broker, in process) with a short
// transaction.max.timeout.ms and a coordinator that never expires transactions by itself, so a
// transaction left open hangs.
type txnEnv struct {
	*apiEnv
	clock      *testenv.FakeClock // the collector's
	bootstrap  []string
	txnTimeout time.Duration
	kfake      bool
}

func newTxnEnv(t *testing.T, props map[string]string) *txnEnv {
	t.Helper()
	ctx := context.Background()
	// One broker: the transaction state topic's replication factor 1, or the coordinator waits for
	// three brokers (up to a minute) before it answers.
	p := map[string]string{"group.initial.rebalance.delay.ms": "0", "transaction.state.log.num.partitions": "3", "transaction.state.log.replication.factor": "1",
		"transaction.max.timeout.ms": "2000", "transaction.abort.timed.out.transaction.cleanup.interval.ms": "3600000"}
	for k, v := range props {
		p[k] = v
	}
	sup, err := supervisor.New(supervisor.Options{Brokers: 1, Mode: supervisor.InProcess, DataDir: t.TempDir(), Logger: quietLogger(), Properties: p})
	if err != nil {
		t.Fatal(err)
	}
	if err := sup.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sup.Close() })
	return newTxnEnvOn(t, []string{sup.BootstrapServers()}, 2*time.Second)
}

// newTxnEnvOn is the console watching the cluster at bootstrap as "rt"; its transactional producers
// use txnTimeout.
func newTxnEnvOn(t *testing.T, bootstrap []string, txnTimeout time.Duration) *txnEnv {
	t.Helper()
	ctx := context.Background()
	st := openTestStore(t)
	clk := testenv.NewFakeClock(time.Now())
	svc := service.New(service.Options{Store: st, Logger: quietLogger(), DataDir: t.TempDir(),
		Collector: collector.Config{OffsetsInterval: time.Hour, GroupsInterval: time.Hour, Now: clk.Now}})
	if _, err := svc.SetupAdminToken(ctx, testToken); err != nil {
		t.Fatal(err)
	}
	if err := svc.AddCluster(ctx, service.ClusterSpec{Name: "rt", Source: "config", Admin: admin.Config{Bootstrap: bootstrap}}); err != nil {
		t.Fatal(err)
	}
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Stop)
	return &txnEnv{apiEnv: &apiEnv{t: t, st: st, svc: svc, srv: newTestServer(t, Options{Service: svc, Logger: quietLogger()})},
		bootstrap: bootstrap, txnTimeout: txnTimeout, clock: clk}
}

// openTransaction creates topic with two partitions and leaves a transaction of id open with one
// record on partition 0; it returns the producer (closed at cleanup without committing).
func (e *txnEnv) openTransaction(id, topic string) *kgo.Client {
	t := e.t
	t.Helper()
	ctx := context.Background()
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.bootstrap...), kgo.TransactionalID(id), kgo.TransactionTimeout(e.txnTimeout),
		kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, 2, 1, nil, topic); err != nil {
		t.Fatal(err)
	}
	if err := cl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, 30*time.Second, func() error {
		return cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Partition: 0, Value: []byte("pending")}).FirstErr()
	})
	return cl
}

// endOffsets is partition p's high watermark and last stable offset (ListOffsets read_uncommitted
// and read_committed).
func (e *txnEnv) endOffsets(topic string, p int32) (hw, lso int64) {
	e.t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.bootstrap...))
	if err != nil {
		e.t.Fatal(err)
	}
	defer cl.Close()
	for level, dst := range map[int8]*int64{0: &hw, 1: &lso} {
		req := kmsg.NewPtrListOffsetsRequest()
		req.ReplicaID, req.IsolationLevel = -1, level
		rt := kmsg.NewListOffsetsRequestTopic()
		rt.Topic = topic
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.Partition, rp.Timestamp = p, -1
		rt.Partitions = []kmsg.ListOffsetsRequestTopicPartition{rp}
		req.Topics = []kmsg.ListOffsetsRequestTopic{rt}
		resp, err := req.RequestWith(context.Background(), cl)
		if err != nil {
			e.t.Fatal(err)
		}
		*dst = resp.Topics[0].Partitions[0].Offset
	}
	return hw, lso
}

// producePlain writes n records to topic/partition with a non-transactional producer.
func (e *txnEnv) producePlain(topic string, partition int32, n int) {
	e.t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.bootstrap...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		e.t.Fatal(err)
	}
	defer cl.Close()
	for range n {
		if err := cl.ProduceSync(context.Background(), &kgo.Record{Topic: topic, Partition: partition, Value: []byte("plain")}).FirstErr(); err != nil {
			e.t.Fatal(err)
		}
	}
}

// commitGroup commits offset at for group on topic/partition (an administrator's commit).
func (e *txnEnv) commitGroup(group, topic string, partition int32, at int64) {
	e.t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.bootstrap...))
	if err != nil {
		e.t.Fatal(err)
	}
	defer cl.Close()
	os := kadm.Offsets{}
	os.Add(kadm.Offset{Topic: topic, Partition: partition, At: at, LeaderEpoch: -1})
	res, err := kadm.NewClient(cl).CommitOffsets(context.Background(), group, os)
	if err == nil {
		err = res.Error()
	}
	if err != nil {
		e.t.Fatal(err)
	}
}

// groupPartition polls and returns the group's position on payments/0 as the API shows it.
func (e *txnEnv) groupPartition(group string) map[string]any {
	e.t.Helper()
	if _, err := e.svc.PollNow(context.Background(), "rt"); err != nil {
		e.t.Fatal(err)
	}
	code, body := e.call("GET", "/api/v1/clusters/rt/groups/"+group, "", nil)
	if code != 200 {
		e.t.Fatalf("group %s = %d %v", group, code, body)
	}
	for _, tp := range body["topicList"].([]any) {
		if tp.(map[string]any)["topic"] == "payments" {
			return tp.(map[string]any)["partitions"].([]any)[0].(map[string]any)
		}
	}
	e.t.Fatalf("group %s has no position on payments: %v", group, body)
	return nil
}

func partitionProducers(body map[string]any, p int) []any {
	return body["partitions"].([]any)[p].(map[string]any)["producers"].([]any)
}

// TestTransactionsOnRuntime: a franz-go transaction left open on Osprey's runtime shows in the topic's
// producers (with its first offset) and on the transactions list, flagged hanging once it is open
// longer than the broker's transaction.max.timeout.ms (2 s here), and the admin-only abort ends it on the partition: the
// producer has no open transaction any more, the last stable offset reaches the high watermark, and the
// abort is in the audit log.
func TestTransactionsOnRuntime(t *testing.T) {
	e := newTxnEnv(t, nil)
	e.transactionFlow(func(maxTimeoutMs any) bool {
		if maxTimeoutMs != float64(2000) {
			t.Fatalf("maxTimeoutMs = %v, want the broker's 2000", maxTimeoutMs)
		}
		return true
	})
}

// TestTransactionsOnKfake runs the same flow against franz-go's kfake, which has DescribeProducers,
// ListTransactions, DescribeTransactions and WriteTxnMarkers and answers transaction.max.timeout.ms in
// DescribeConfigs. kfake aborts a transaction at its own timeout, so it never shows one hanging.
func TestTransactionsOnKfake(t *testing.T) {
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.BrokerConfigs(map[string]string{"transaction.max.timeout.ms": "120000"}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kc.Close)
	e := newTxnEnvOn(t, kc.ListenAddrs(), time.Minute)
	e.kfake = true
	e.transactionFlow(func(maxTimeoutMs any) bool {
		if maxTimeoutMs != float64(120000) {
			t.Fatalf("maxTimeoutMs = %v, want kfake's 120000", maxTimeoutMs)
		}
		return false
	})
}

// transactionFlow opens a transaction and checks the producers view, the transactions list (hanging
// when hangs says so for the maxTimeoutMs the list reports) and the abort.
func (e *txnEnv) transactionFlow(hangs func(maxTimeoutMs any) bool) {
	t := e.t
	e.openTransaction("hanging-writer", "payments")
	base := "/api/v1/clusters/rt"

	code, body := e.call("GET", base+"/topics/payments/producers", "", nil)
	if code != 200 || body["active"] != float64(1) || body["transactional"] != float64(1) {
		t.Fatalf("producers = %d %v", code, body)
	}
	ps := partitionProducers(body, 0)
	if len(ps) != 1 || ps[0].(map[string]any)["currentTxnStartOffset"] != float64(0) || len(partitionProducers(body, 1)) != 0 {
		t.Fatalf("partition producers = %v", body["partitions"])
	}
	pid := ps[0].(map[string]any)["producerId"]
	if hw, lso := e.endOffsets("payments", 0); hw != 1 || lso != 0 {
		t.Fatalf("open transaction: high watermark %d, LSO %d; want 1, 0", hw, lso)
	}
	// A group at offset 0: lag 1 to the high watermark, 0 to the LSO (a read_committed consumer has
	// nothing to read yet).
	e.commitGroup("reader", "payments", 0, 0)
	if gp := e.groupPartition("reader"); gp["end"] != float64(1) || gp["lag"] != float64(1) || gp["stable"] != float64(0) || gp["stableLag"] != float64(0) {
		t.Fatalf("group partition with the transaction open = %v", gp)
	}

	// The transaction is listed, and hanging once open longer than the transaction.max.timeout.ms the
	// brokers report (hangs says whether the test's setting makes it so).
	var row map[string]any
	testenv.WaitFor(t, 30*time.Second, func() error {
		code, body = e.call("GET", base+"/transactions", "", nil)
		row = nil
		for _, r := range body["transactions"].([]any) {
			if r.(map[string]any)["transactionalId"] == "hanging-writer" {
				row = r.(map[string]any)
			}
		}
		switch {
		case code != 200 || row == nil || row["state"] != "Ongoing":
			return fmt.Errorf("transaction not listed as ongoing: %d %v", code, body)
		case hangs(body["maxTimeoutMs"]) && (row["hanging"] != true || body["hanging"] != float64(1)):
			return fmt.Errorf("transaction not (yet) hanging: %v", body)
		case !hangs(body["maxTimeoutMs"]) && row["hanging"] != false:
			return fmt.Errorf("transaction hanging before its time: %v", body)
		}
		return nil
	})
	if row["producerId"] != pid || row["timeoutMs"] != float64(e.txnTimeout.Milliseconds()) || row["durationMs"].(float64) <= 0 ||
		fmt.Sprint(row["partitions"]) != "[map[partition:0 topic:payments]]" {
		t.Fatalf("transaction row = %v", row)
	}
	if held := body["held"].([]any); len(held) != 1 || fmt.Sprint(held[0]) != "map[endOffset:1 hanging:false partition:0 stableOffset:0 stuckSeconds:0 topic:payments writesSince:0]" {
		t.Fatalf("held partitions = %v", body["held"])
	}

	// Records written past the open transaction move the high watermark, not the LSO; once that has
	// lasted longer than transaction.max.timeout.ms on the collector's clock, the partition is hanging
	// and so is the transaction holding it.
	e.producePlain("payments", 0, 2)
	e.clock.Advance(time.Duration(body["maxTimeoutMs"].(float64))*time.Millisecond + time.Second)
	if _, err := e.svc.PollNow(context.Background(), "rt"); err != nil {
		t.Fatal(err)
	}
	code, body = e.call("GET", base+"/transactions", "", nil)
	held := body["held"].([]any)
	if code != 200 || len(held) != 1 || held[0].(map[string]any)["hanging"] != true || held[0].(map[string]any)["writesSince"] != float64(2) ||
		body["hanging"] != float64(1) {
		t.Fatalf("after writes past the LSO for longer than the max timeout: %d %v", code, body)
	}
	for _, r := range body["transactions"].([]any) {
		if r := r.(map[string]any); r["transactionalId"] == "hanging-writer" && r["hanging"] != true {
			t.Fatalf("the transaction holding the hanging partition is not hanging: %v", r)
		}
	}

	abort := map[string]any{"topic": "payments", "partition": 0}
	if code, _ := e.call("POST", base+"/transactions/abort", "", abort); code != 401 {
		t.Fatalf("abort without token = %d", code)
	}
	if code, body := e.call("POST", base+"/transactions/abort", testToken, map[string]any{"topic": "payments", "partition": 1}); code != 404 || errorCode(body) != "no_open_transaction" {
		t.Fatalf("abort on a partition without a transaction = %d %v", code, body)
	}
	if code, body := e.call("POST", base+"/transactions/abort", testToken, abort); code != 204 {
		t.Fatalf("abort = %d %v", code, body)
	}
	// kfake keeps the producer's transaction open in DescribeProducers after a marker it did not
	// write as coordinator (its WriteTxnMarkers leaves the producer state alone); the LSO shows the
	// abort there.
	if !e.kfake {
		_, body = e.call("GET", base+"/topics/payments/producers", "", nil)
		// The transactional producer and the (idempotent) plain one; neither has a transaction open.
		ps := partitionProducers(body, 0)
		if len(ps) != 2 || ps[0].(map[string]any)["currentTxnStartOffset"] != float64(-1) || ps[1].(map[string]any)["currentTxnStartOffset"] != float64(-1) ||
			body["transactional"] != float64(0) {
			t.Fatalf("producers after the abort = %v", body)
		}
	}
	if hw, lso := e.endOffsets("payments", 0); hw != 4 || lso != 4 {
		t.Fatalf("after the abort: high watermark %d, LSO %d; want 4, 4 (3 records and the marker)", hw, lso)
	}
	if gp := e.groupPartition("reader"); gp["end"] != float64(4) || gp["stable"] != float64(4) || gp["stableLag"] != float64(4) {
		t.Fatalf("group partition after the abort = %v", gp)
	}
	if _, body := e.call("GET", base+"/transactions", "", nil); len(body["held"].([]any)) != 0 {
		t.Fatalf("held partitions after the abort = %v", body["held"])
	}
	_, body = e.call("GET", "/api/v1/audit?limit=20", testToken, nil)
	found := false
	for _, it := range items(body) {
		found = found || it["action"] == "transaction.abort" && it["result"] == "ok" && it["target"] == "payments/0"
	}
	if !found {
		t.Fatalf("audit lacks transaction.abort: %v", body)
	}
}
