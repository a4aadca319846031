package broker

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"

	"github.com/osprey-kafka/osprey/broker/metastore"
	"github.com/osprey-kafka/osprey/broker/zkdata"
	"github.com/osprey-kafka/osprey/internal/testenv"
)

func quotaEnt(kv ...string) kadm.ClientQuotaEntity {
	var e kadm.ClientQuotaEntity
	for i := 0; i < len(kv); i += 2 {
		c := kadm.ClientQuotaEntityComponent{Type: kv[i]}
		if kv[i+1] != "<default>" {
			c.Name = kmsg.StringPtr(kv[i+1])
		}
		e = append(e, c)
	}
	return e
}

func alterQuotas(t *testing.T, ctx context.Context, adm *kadm.Client, entries ...kadm.AlterClientQuotaEntry) {
	t.Helper()
	res, err := adm.AlterClientQuotas(ctx, entries)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Err != nil {
			t.Fatalf("alter %v: %v %s", r.Entity, r.Err, r.ErrMessage)
		}
	}
}

// describeAll lists every quota as entity string → key → value.
func describeAll(ctx context.Context, adm *kadm.Client) (map[string]map[string]float64, error) {
	qs, err := adm.DescribeClientQuotas(ctx, false, nil)
	if err != nil {
		return nil, err
	}
	out := map[string]map[string]float64{}
	for _, q := range qs {
		m := map[string]float64{}
		for _, v := range q.Values {
			m[v.Key] = v.Value
		}
		out[q.Entity.String()] = m
	}
	return out, nil
}

// AlterClientQuotas writes the znodes Kafka writes (field by field), keeps
// the SCRAM credentials already in a user's node, announces each change,
// and another broker describes and enforces what one broker altered.
func TestClientQuotasZooKeeper(t *testing.T) { testClientQuotasZK(t, localConnector(t)) }

// The same against a real ZooKeeper (OSPREY_TEST_ZK, from the services
// the Makefile starts).
func TestClientQuotasRealZooKeeper(t *testing.T) { testClientQuotasZK(t, zkConnector(t)) }

func testClientQuotasZK(t *testing.T, connector metastore.Connector) {
	c := newTestCluster(t, 2, connector)
	ctx := testCtx(t, 60*time.Second)
	s, err := connector.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	// A SCRAM credential written before, as kafka-configs.sh --alter
	// --add-config SCRAM-SHA-256=... would.
	const scram = "salt=c2FsdA==,stored_key=c3Q=,server_key=c2s=,iterations=4096"
	if err := updateEntityConfigIn(ctx, s, zkdata.ConfigTypeUser, "alice", func(cfg map[string]string) error {
		cfg["SCRAM-SHA-256"] = scram
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	cl1, err := kgo.NewClient(kgo.SeedBrokers(c.byID(1).Addr()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl1.Close)
	adm := kadm.NewClient(cl1)
	changesBefore, _, _ := s.Children(ctx, zkdata.ConfigChangesPath)
	alterQuotas(t, ctx, adm,
		kadm.AlterClientQuotaEntry{Entity: quotaEnt("user", "alice"), Ops: []kadm.AlterClientQuotaOp{{Key: quotaProducerByteRate, Value: 1048576}, {Key: quotaRequestPercentage, Value: 50}}},
		kadm.AlterClientQuotaEntry{Entity: quotaEnt("user", "alice", "client-id", "app 1"), Ops: []kadm.AlterClientQuotaOp{{Key: quotaConsumerByteRate, Value: 2048}}},
		kadm.AlterClientQuotaEntry{Entity: quotaEnt("client-id", "<default>"), Ops: []kadm.AlterClientQuotaOp{{Key: quotaProducerByteRate, Value: 4096}}},
		kadm.AlterClientQuotaEntry{Entity: quotaEnt("user", "<default>", "client-id", "<default>"), Ops: []kadm.AlterClientQuotaOp{{Key: quotaControllerMutationRate, Value: 10}}},
		kadm.AlterClientQuotaEntry{Entity: quotaEnt("ip", "127.0.0.1"), Ops: []kadm.AlterClientQuotaOp{{Key: quotaConnectionCreationRate, Value: 20}}},
	)
	for path, want := range map[string]string{
		"/config/users/alice":                       `{"version":1,"config":{"SCRAM-SHA-256":"` + scram + `","producer_byte_rate":"1048576","request_percentage":"50.0"}}`,
		"/config/users/alice/clients/app%201":       `{"version":1,"config":{"consumer_byte_rate":"2048"}}`,
		"/config/clients/<default>":                 `{"version":1,"config":{"producer_byte_rate":"4096"}}`,
		"/config/users/<default>/clients/<default>": `{"version":1,"config":{"controller_mutation_rate":"10.0"}}`,
		"/config/ips/127.0.0.1":                     `{"version":1,"config":{"connection_creation_rate":"20"}}`,
	} {
		data, _, err := s.Get(ctx, path)
		if err != nil || string(data) != want {
			t.Errorf("%s = %s (%v), want %s", path, data, err, want)
		}
	}
	// One notification per entity, with Kafka's entity_path.
	changes, _, _ := s.Children(ctx, zkdata.ConfigChangesPath)
	paths := map[string]bool{}
	for _, ch := range changes[len(changesBefore):] {
		data, _, err := s.Get(ctx, zkdata.ConfigChangesPath+"/"+ch)
		if err != nil || !strings.HasPrefix(ch, zkdata.ConfigChangePrefix) {
			t.Fatalf("notification %s: %v", ch, err)
		}
		paths[string(data)] = true
	}
	for _, p := range []string{"users/alice", "users/alice/clients/app%201", "clients/<default>", "users/<default>/clients/<default>", "ips/127.0.0.1"} {
		if want := `{"version":2,"entity_path":"` + p + `"}`; !paths[want] {
			t.Errorf("no notification %s among %v", want, paths)
		}
	}

	// The other broker describes the same, names desanitized, SCRAM keys
	// left out, and has the quotas in force.
	cl2, err := kgo.NewClient(kgo.SeedBrokers(c.byID(2).Addr()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl2.Close)
	adm2 := kadm.NewClient(cl2)
	want := map[string]map[string]float64{
		"{user=alice}":                          {quotaProducerByteRate: 1048576, quotaRequestPercentage: 50},
		"{user=alice, client-id=app 1}":         {quotaConsumerByteRate: 2048},
		"{client-id=<default>}":                 {quotaProducerByteRate: 4096},
		"{user=<default>, client-id=<default>}": {quotaControllerMutationRate: 10},
		"{ip=127.0.0.1}":                        {quotaConnectionCreationRate: 20},
	}
	got, err := describeAll(ctx, adm2)
	if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("describe on broker 2 = %v (%v), want %v", got, err, want)
	}
	testenv.WaitFor(t, 10*time.Second, func() error {
		m, ok := c.byID(2).quotas.snapshot().resolve(quotaConsumerByteRate, "alice", "app 1")
		if !ok || m.limit != 2048 {
			return fmt.Errorf("broker 2 has %+v %v", m, ok)
		}
		return nil
	})

	// Removing a key keeps the others (and the credential).
	alterQuotas(t, ctx, adm2, kadm.AlterClientQuotaEntry{Entity: quotaEnt("user", "alice"), Ops: []kadm.AlterClientQuotaOp{{Key: quotaProducerByteRate, Remove: true}}})
	if data, _, _ := s.Get(ctx, "/config/users/alice"); string(data) != `{"version":1,"config":{"SCRAM-SHA-256":"`+scram+`","request_percentage":"50.0"}}` {
		t.Fatalf("after remove: %s", data)
	}
	testenv.WaitFor(t, 10*time.Second, func() error {
		// The default client-id's quota applies now.
		if m, _ := c.byID(1).quotas.snapshot().resolve(quotaProducerByteRate, "alice", "x"); m.limit != 4096 {
			return fmt.Errorf("broker 1 applies %+v", m)
		}
		return nil
	})

	// A quota written straight into ZooKeeper with its notification, as
	// kafka-configs.sh --zookeeper does, applies on every broker.
	if err := updateEntityConfigIn(ctx, s, zkdata.ConfigTypeClient, "zk-tool", func(cfg map[string]string) error {
		cfg[quotaConsumerByteRate] = "777"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := notifyEntityConfigChange(ctx, s, zkdata.ConfigTypeClient, "zk-tool"); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, 10*time.Second, func() error {
		for _, id := range []int32{1, 2} {
			if m, _ := c.byID(id).quotas.snapshot().resolve(quotaConsumerByteRate, "anyone", "zk-tool"); m.limit != 777 {
				return fmt.Errorf("broker %d applies %+v", id, m)
			}
		}
		return nil
	})

	// Refusals come back per entry with Kafka's messages; validate_only writes nothing.
	res, err := adm.ValidateAlterClientQuotas(ctx, []kadm.AlterClientQuotaEntry{
		{Entity: quotaEnt("user", "bob"), Ops: []kadm.AlterClientQuotaOp{{Key: "bogus_rate", Value: 1}}},
		{Entity: quotaEnt("user", "carol"), Ops: []kadm.AlterClientQuotaOp{{Key: quotaProducerByteRate, Value: 10}}},
	})
	if err != nil || len(res) != 2 {
		t.Fatal(res, err)
	}
	for _, r := range res {
		switch r.Entity.String() {
		case "{user=bob}":
			if !errors.Is(r.Err, kerr.InvalidRequest) || r.ErrMessage != "Invalid configuration key bogus_rate" {
				t.Errorf("bogus key: %v %q", r.Err, r.ErrMessage)
			}
		default:
			if r.Err != nil {
				t.Errorf("valid entry: %v", r.Err)
			}
		}
	}
	if ok, _, _ := s.Exists(ctx, "/config/users/carol"); ok {
		t.Fatal("validate_only wrote /config/users/carol")
	}
}

// throttleHook counts the throttles franz-go's client was told about.
type throttleHook struct{ n atomic.Int64 }

func (h *throttleHook) OnBrokerThrottle(_ kgo.BrokerMetadata, d time.Duration, _ bool) {
	if d > 0 {
		h.n.Add(1)
	}
}

// A producer_byte_rate of 1 MiB/s holds a franz-go producer that could go
// much faster to 1 MiB/s ± 10% of acknowledged bytes over 20 s from its
// first request, with quota.window.num=2. Kafka's rate sensor shapes the
// traffic: a fresh sensor measures over at least quota.window.num − 1
// windows, so that much time's worth goes at once, and when a sample
// leaves the window span the next burst goes. With Kafka's default of 11
// one-second windows a saturating producer's first 20 s therefore carry
// two 10-second bursts (measured here: about 1.15 × the quota; the
// long-run rate is the quota); two windows keep the bursts at one second.
// Batches are kept to 64 KiB so that the bytes a throttled request still
// brings in (Kafka writes them and throttles afterwards) stay small.
func TestProducerByteRateQuota(t *testing.T) {
	b := newTestBroker(t, withDir(t.TempDir()), func(c *Config) { c.Quota.Windows = 2 })
	ctx := testCtx(t, 90*time.Second)
	admCl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(admCl.Close)
	adm := kadm.NewClient(admCl)
	if _, err := adm.CreateTopic(ctx, 1, 1, nil, "quota-produce"); err != nil {
		t.Fatal(err)
	}
	const quota = 1 << 20
	alterQuotas(t, ctx, adm, kadm.AlterClientQuotaEntry{Entity: quotaEnt("client-id", "quota-producer"),
		Ops: []kadm.AlterClientQuotaOp{{Key: quotaProducerByteRate, Value: quota}}})

	hook := &throttleHook{}
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()), kgo.ClientID("quota-producer"), kgo.DefaultProduceTopic("quota-produce"),
		kgo.ProducerBatchCompression(kgo.NoCompression()), kgo.ProducerBatchMaxBytes(64<<10), kgo.MaxBufferedRecords(64),
		kgo.WithHooks(hook))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	const run = 20 * time.Second
	value := make([]byte, 10<<10)
	var acked atomic.Int64
	start := time.Now()
	end := start.Add(run)
	for time.Now().Before(end) {
		cl.Produce(ctx, &kgo.Record{Value: value}, func(r *kgo.Record, err error) {
			if err == nil && time.Now().Before(end) {
				acked.Add(int64(len(r.Value)))
			}
		})
	}
	rate := float64(acked.Load()) / run.Seconds()
	t.Logf("acknowledged %d bytes in %v: %.0f B/s (quota %d B/s), %d throttled responses", acked.Load(), run, rate, quota, hook.n.Load())
	if rate < 0.9*quota || rate > 1.1*quota {
		t.Fatalf("producer ran at %.0f B/s, want %d ± 10%%", rate, quota)
	}
	if hook.n.Load() == 0 {
		t.Fatal("no response carried a throttle time")
	}
}

// A consumer_byte_rate holds a consumer back: after the first quota
// window's worth it gets throttled answers without data, while another
// client id reads everything at once.
func TestConsumerByteRateQuota(t *testing.T) {
	b := newTestBroker(t, withDir(t.TempDir()))
	ctx := testCtx(t, 60*time.Second)
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()), kgo.DefaultProduceTopic("quota-fetch"), kgo.ProducerBatchCompression(kgo.NoCompression()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	adm := kadm.NewClient(cl)
	if _, err := adm.CreateTopic(ctx, 1, 1, nil, "quota-fetch"); err != nil {
		t.Fatal(err)
	}
	const total = 3000 * 1000
	value := make([]byte, 1000)
	var recs []*kgo.Record
	for i := 0; i < total/len(value); i++ {
		recs = append(recs, &kgo.Record{Value: value})
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	const quota = 100 << 10
	alterQuotas(t, ctx, adm, kadm.AlterClientQuotaEntry{Entity: quotaEnt("client-id", "quota-consumer"),
		Ops: []kadm.AlterClientQuotaOp{{Key: quotaConsumerByteRate, Value: quota}}})

	consume := func(clientID string, hook *throttleHook, d time.Duration) int {
		c, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()), kgo.ClientID(clientID), kgo.ConsumeTopics("quota-fetch"),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.WithHooks(hook))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		pctx, cancel := context.WithTimeout(ctx, d)
		defer cancel()
		n := 0
		for pctx.Err() == nil && n < total {
			c.PollFetches(pctx).EachRecord(func(r *kgo.Record) { n += len(r.Value) })
		}
		return n
	}
	free := consume("free-consumer", &throttleHook{}, 10*time.Second)
	hook := &throttleHook{}
	limited := consume("quota-consumer", hook, 3*time.Second)
	t.Logf("without quota: %d bytes; with %d B/s: %d bytes in 3 s, %d throttled responses", free, quota, limited, hook.n.Load())
	// One quota window's worth (quota × (samples−1) × 1 s) may go at once.
	if free < total || limited > quota*10*12/10 || hook.n.Load() == 0 {
		t.Fatalf("without quota read %d of %d; with quota read %d (limit about %d), %d throttles", free, total, limited, quota*10, hook.n.Load())
	}
}

// In KRaft mode AlterClientQuotas goes to the controller, which answers
// with its own checks, and every broker describes and enforces the
// quotas from its metadata image.
func TestClientQuotasKRaft(t *testing.T) {
	c := newKRaftTestCluster(t, 2)
	ctx := testCtx(t, 60*time.Second)
	cl1, err := kgo.NewClient(kgo.SeedBrokers(c.byID(1).Addr()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl1.Close)
	adm := kadm.NewClient(cl1)
	alterQuotas(t, ctx, adm,
		kadm.AlterClientQuotaEntry{Entity: quotaEnt("user", "alice"), Ops: []kadm.AlterClientQuotaOp{{Key: quotaProducerByteRate, Value: 1048576}}},
		kadm.AlterClientQuotaEntry{Entity: quotaEnt("user", "<default>", "client-id", "app"), Ops: []kadm.AlterClientQuotaOp{{Key: quotaConsumerByteRate, Value: 2048}, {Key: quotaRequestPercentage, Value: 12.5}}},
	)
	res, err := adm.AlterClientQuotas(ctx, []kadm.AlterClientQuotaEntry{
		{Entity: quotaEnt("user", "bob"), Ops: []kadm.AlterClientQuotaOp{{Key: quotaProducerByteRate, Value: 0}}},
	})
	if err != nil || len(res) != 1 || !errors.Is(res[0].Err, kerr.InvalidRequest) || res[0].ErrMessage != "Quota producer_byte_rate must be greater than 0" {
		t.Fatalf("zero quota: %+v %v", res, err)
	}

	cl2, err := kgo.NewClient(kgo.SeedBrokers(c.byID(2).Addr()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl2.Close)
	adm2 := kadm.NewClient(cl2)
	want := map[string]map[string]float64{
		"{user=alice}":                    {quotaProducerByteRate: 1048576},
		"{user=<default>, client-id=app}": {quotaConsumerByteRate: 2048, quotaRequestPercentage: 12.5},
	}
	testenv.WaitFor(t, 20*time.Second, func() error {
		got, err := describeAll(ctx, adm2)
		if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
			return fmt.Errorf("describe on node 2 = %v (%v)", got, err)
		}
		if m, ok := c.byID(2).quotas.snapshot().resolve(quotaConsumerByteRate, "carol", "app"); !ok || m.limit != 2048 {
			return fmt.Errorf("node 2 applies %+v", m)
		}
		return nil
	})
	alterQuotas(t, ctx, adm2, kadm.AlterClientQuotaEntry{Entity: quotaEnt("user", "alice"), Ops: []kadm.AlterClientQuotaOp{{Key: quotaProducerByteRate, Remove: true}}})
	// The forwarding broker answers once its own image has the change.
	if got, err := describeAll(ctx, adm2); err != nil || len(got) != 1 {
		t.Fatalf("after remove, node 2 describes %v (%v)", got, err)
	}
	testenv.WaitFor(t, 20*time.Second, func() error {
		if _, ok := c.byID(1).quotas.snapshot().resolve(quotaProducerByteRate, "alice", "x"); ok {
			return errors.New("node 1 still applies alice's producer_byte_rate")
		}
		return nil
	})
}

// With an authorizer, describing quotas needs DESCRIBE_CONFIGS and altering
// them ALTER_CONFIGS on the cluster, as in Kafka.
func TestClientQuotasNeedClusterACLs(t *testing.T) {
	b := newTestBroker(t, withDir(t.TempDir()), withAuthorizer("User:admin"))
	ctx := testCtx(t, 30*time.Second)
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	adm := kadm.NewClient(cl)
	res, err := adm.AlterClientQuotas(ctx, []kadm.AlterClientQuotaEntry{{Entity: quotaEnt("user", "alice"),
		Ops: []kadm.AlterClientQuotaOp{{Key: quotaProducerByteRate, Value: 1024}}}})
	if err != nil || len(res) != 1 || !errors.Is(res[0].Err, kerr.ClusterAuthorizationFailed) {
		t.Fatalf("alter as User:ANONYMOUS: %+v %v", res, err)
	}
	if _, err := adm.DescribeClientQuotas(ctx, false, nil); !errors.Is(err, kerr.ClusterAuthorizationFailed) {
		t.Fatalf("describe as User:ANONYMOUS: %v", err)
	}
	if len(b.quotas.snapshot()) != 0 {
		t.Fatal("a refused alteration was stored")
	}
}

// A throttled Produce is answered at once from v6 (KIP-219: the client
// waits out the throttle itself) and only after the throttle time before.
func TestThrottledResponseTimingByVersion(t *testing.T) {
	b := newTestBroker(t, withDir(t.TempDir()), func(c *Config) { c.Quota.Windows = 2 })
	ctx := testCtx(t, 60*time.Second)
	admCl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(admCl.Close)
	adm := kadm.NewClient(admCl)
	if _, err := adm.CreateTopic(ctx, 1, 1, nil, "quota-versions"); err != nil {
		t.Fatal(err)
	}
	const quota = 100_000
	alterQuotas(t, ctx, adm, kadm.AlterClientQuotaEntry{Entity: quotaEnt("client-id", "<default>"),
		Ops: []kadm.AlterClientQuotaOp{{Key: quotaProducerByteRate, Value: quota}}})
	// 150 kB against 100 kB/s over a one-second window: a throttle of about
	// (150k − 100k) / 100k × 1 s = 500 ms.
	value := make([]byte, 150_000)
	produce := func(clientID string, opts ...kgo.Opt) (time.Duration, int64) {
		hook := &throttleHook{}
		cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(b.Addr()), kgo.ClientID(clientID), kgo.DefaultProduceTopic("quota-versions"),
			kgo.ProducerBatchCompression(kgo.NoCompression()), kgo.DisableIdempotentWrite(), kgo.WithHooks(hook)}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		if err := cl.Ping(ctx); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if err := cl.ProduceSync(ctx, &kgo.Record{Value: value}).FirstErr(); err != nil {
			t.Fatal(err)
		}
		return time.Since(start), hook.n.Load()
	}
	modern, throttles := produce("modern")
	if modern >= 400*time.Millisecond || throttles != 1 {
		t.Fatalf("Produce v6+ answered after %v with %d throttles, want at once with one", modern, throttles)
	}
	old, _ := produce("old", kgo.MaxVersions(kversion.V1_1_0()))
	if old < 400*time.Millisecond {
		t.Fatalf("Produce v5 answered after %v, want after the throttle time (about 500ms)", old)
	}
	t.Logf("throttled produce answered after %v (v6+), %v (v5)", modern, old)
}

// request_percentage charges the time handlers run: a client over it gets
// throttled responses (at most one window's throttle), another does not.
func TestRequestPercentageQuota(t *testing.T) {
	b := newTestBroker(t, withDir(t.TempDir()))
	ctx := testCtx(t, 60*time.Second)
	admCl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(admCl.Close)
	alterQuotas(t, ctx, kadm.NewClient(admCl), kadm.AlterClientQuotaEntry{Entity: quotaEnt("client-id", "busy"),
		Ops: []kadm.AlterClientQuotaOp{{Key: quotaRequestPercentage, Value: 0.001}}})
	run := func(clientID string) (int64, time.Duration) {
		hook := &throttleHook{}
		cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()), kgo.ClientID(clientID), kgo.WithHooks(hook))
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		start := time.Now()
		for i := 0; i < 300 && hook.n.Load() == 0; i++ {
			if _, err := cl.Request(ctx, kmsg.NewPtrMetadataRequest()); err != nil {
				t.Fatal(err)
			}
		}
		return hook.n.Load(), time.Since(start)
	}
	if n, _ := run("idle"); n != 0 {
		t.Fatalf("a client without request quota got %d throttles", n)
	}
	n, took := run("busy")
	if n == 0 {
		t.Fatal("300 metadata requests at 0.001 % of a thread were never throttled")
	}
	got := throttledCount(t, b, "request", "busy")
	if got == 0 {
		t.Fatal("no throttled request counted in the metrics")
	}
	t.Logf("busy client throttled after %v; %v throttled requests counted", took, got)
}

// throttledCount reads osprey_broker_client_quota_throttled_requests_total
// for a quota and client id from the broker's registry.
func throttledCount(t *testing.T, b *Broker, quota, clientID string) float64 {
	t.Helper()
	families, err := b.metrics.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, f := range families {
		if f.GetName() != "osprey_broker_client_quota_throttled_requests_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["quota"] == quota && labels["client_id"] == clientID {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}

// A user quota applies to the principal SASL authenticated, across all of
// that user's client ids (they share one rate).
func TestUserQuotaOverSASL(t *testing.T) {
	b := newTestBroker(t, withDir(t.TempDir()), withSecuredListener(t), func(c *Config) { c.Quota.Windows = 2 })
	ctx := testCtx(t, 60*time.Second)
	adm := kadm.NewClient(userClient(t, b, "admin"))
	if _, err := adm.CreateTopic(ctx, 1, 1, nil, "quota-sasl"); err != nil {
		t.Fatal(err)
	}
	alterQuotas(t, ctx, adm, kadm.AlterClientQuotaEntry{Entity: quotaEnt("user", "admin"),
		Ops: []kadm.AlterClientQuotaOp{{Key: quotaProducerByteRate, Value: 100_000}}})
	produce := func(clientID string, size int) int64 {
		hook := &throttleHook{}
		cl := userClient(t, b, "admin", kgo.ClientID(clientID), kgo.DefaultProduceTopic("quota-sasl"),
			kgo.ProducerBatchCompression(kgo.NoCompression()), kgo.WithHooks(hook))
		if err := cl.ProduceSync(ctx, &kgo.Record{Value: make([]byte, size)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
		return hook.n.Load()
	}
	// 150 kB over a one-second window is over 100 kB/s: throttled.
	if n := produce("first", 150_000); n != 1 {
		t.Fatalf("first client: %d throttles, want 1", n)
	}
	// Another client id of the same user shares the rate: 1 kB more is still over.
	if n := produce("second", 1000); n != 1 {
		t.Fatalf("second client of the same user: %d throttles, want 1", n)
	}
	if got := throttledCount(t, b, "produce", "second"); got != 1 {
		t.Fatalf("metrics count %v throttles of client second", got)
	}
}
