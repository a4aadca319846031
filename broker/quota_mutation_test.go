package broker

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"
)

// A token bucket starts full, refills at its rate up to its burst, and
// may go below zero.
func TestTokenBucket(t *testing.T) {
	var tb tokenBucket
	t0 := time.Unix(1000, 0)
	tb.refill(2, 4, t0)
	if tb.tokens != 4 {
		t.Fatalf("fresh bucket holds %v, want the burst 4", tb.tokens)
	}
	tb.tokens -= 10
	tb.refill(2, 4, t0.Add(2*time.Second))
	if tb.tokens != -2 {
		t.Fatalf("after 2 s at 2/s from -6: %v, want -2", tb.tokens)
	}
	tb.refill(2, 4, t0.Add(time.Minute))
	if tb.tokens != 4 {
		t.Fatalf("long idle: %v, want capped at 4", tb.tokens)
	}
}

// A strict quota accepts while the bucket is not below zero, then refuses
// with the time to climb back; a refund gives tokens back.
func TestMutationQuotaStrictAndRefund(t *testing.T) {
	q := newClientQuotas(QuotaConfig{ControllerWindows: 1, ControllerWindowSize: time.Second})
	q.set(quotaTable{{client: namedQuota("c")}: {quotaControllerMutationRate: 1}})
	m := &mutationQuota{q: q, client: "c", strict: true}
	if !m.charge(1) {
		t.Fatal("full bucket refused one partition")
	}
	m.refund(1)
	if !m.charge(1) || !m.charge(5) {
		t.Fatal("refunded bucket at 1 token refused (strict accepts until below zero)")
	}
	if m.charge(1) {
		t.Fatal("bucket at -5 accepted a partition")
	}
	if m.throttle < 4900*time.Millisecond || m.throttle > 5000*time.Millisecond {
		t.Fatalf("throttle %v, want about 5 s (-(-5) / 1 per s)", m.throttle)
	}
	other := &mutationQuota{q: q, client: "d", strict: true}
	for i := range 2 {
		if !other.charge(100) {
			t.Fatalf("a client id without a quota was refused (charge %d)", i)
		}
	}
}

// controller_mutation_rate set with AlterClientQuotas holds CreateTopics,
// CreatePartitions and DeleteTopics as Kafka does, in both metadata
// modes: strict versions refuse a topic with THROTTLING_QUOTA_EXCEEDED
// once the bucket is empty, older versions are served and throttled.
func TestControllerMutationQuota(t *testing.T) {
	// A rate of 1 partition/s with a one-second bucket: 1 token to spend.
	withSmallBucket := func(c *Config) { c.Quota.ControllerWindows, c.Quota.ControllerWindowSize = 1, time.Second }
	for _, mode := range []struct {
		name  string
		start func(t *testing.T) *Broker
	}{
		{"zookeeper", func(t *testing.T) *Broker { return newTestCluster(t, 1, localConnector(t), withSmallBucket).brokers[0] }},
		{"kraft", func(t *testing.T) *Broker { return newKRaftTestCluster(t, 1, withSmallBucket).brokers[0] }},
	} {
		t.Run(mode.name, func(t *testing.T) { testControllerMutationQuota(t, mode.start(t)) })
	}
}

func testControllerMutationQuota(t *testing.T, b *Broker) {
	ctx := testCtx(t, 60*time.Second)
	// Every step uses a new client with client id "mut": the quota is per
	// client id, and a fresh connection is neither muted by the broker nor
	// held back by franz-go's own throttling.
	client := func(id string, opts ...kgo.Opt) *kgo.Broker {
		cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(b.Addr()), kgo.ClientID(id)}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(cl.Close)
		return cl.Broker(int(b.cfg.BrokerID))
	}
	adm := kadm.NewClient(kgoClient(t, b))
	alterQuotas(t, ctx, adm, kadm.AlterClientQuotaEntry{Entity: quotaEnt("client-id", "mut"),
		Ops: []kadm.AlterClientQuotaOp{{Key: quotaControllerMutationRate, Value: 1}}})

	create := func(br *kgo.Broker, topics map[string]int32) *kmsg.CreateTopicsResponse {
		t.Helper()
		req := kmsg.NewPtrCreateTopicsRequest()
		req.TimeoutMillis = 10000
		for name, parts := range topics {
			rt := kmsg.NewCreateTopicsRequestTopic()
			rt.Topic, rt.NumPartitions, rt.ReplicationFactor = name, parts, 1
			req.Topics = append(req.Topics, rt)
		}
		resp, err := req.RequestWith(ctx, br)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	codes := func(resp *kmsg.CreateTopicsResponse) map[string]int16 {
		out := map[string]int16{}
		for _, st := range resp.Topics {
			out[st.Topic] = st.ErrorCode
		}
		return out
	}
	// The full bucket takes a 10-partition topic (strict: any size while not
	// below zero) and goes to -9; the next topic in the same request is
	// refused.
	resp := create(client("mut"), map[string]int32{"big": 10})
	if c := codes(resp); c["big"] != 0 || resp.ThrottleMillis != 0 {
		t.Fatalf("first CreateTopics: %v throttle %d, want created without throttle", c, resp.ThrottleMillis)
	}
	resp = create(client("mut"), map[string]int32{"next": 1})
	if c := codes(resp); c["next"] != kerr.ThrottlingQuotaExceeded.Code || resp.ThrottleMillis < 5000 || resp.ThrottleMillis > 9000 {
		t.Fatalf("second CreateTopics: %v throttle %d ms, want THROTTLING_QUOTA_EXCEEDED and about 9 s", c, resp.ThrottleMillis)
	}
	if _, ok := b.cluster.Topic("next"); ok {
		t.Fatal("a refused topic was created")
	}
	// Another client id has no quota.
	if resp := create(client("free"), map[string]int32{"free-topic": 3}); codes(resp)["free-topic"] != 0 || resp.ThrottleMillis != 0 {
		t.Fatalf("unquoted client: %+v", resp)
	}

	cp := kmsg.NewPtrCreatePartitionsRequest()
	cp.TimeoutMillis = 10000
	cpt := kmsg.NewCreatePartitionsRequestTopic()
	cpt.Topic, cpt.Count = "big", 12
	cp.Topics = append(cp.Topics, cpt)
	cpResp, err := cp.RequestWith(ctx, client("mut"))
	if err != nil || len(cpResp.Topics) != 1 || cpResp.Topics[0].ErrorCode != kerr.ThrottlingQuotaExceeded.Code || cpResp.ThrottleMillis <= 0 {
		t.Fatalf("CreatePartitions v%d: %+v %v, want THROTTLING_QUOTA_EXCEEDED", cp.Version, cpResp, err)
	}

	del := func(br *kgo.Broker, topic string) *kmsg.DeleteTopicsResponse {
		t.Helper()
		req := kmsg.NewPtrDeleteTopicsRequest()
		req.TimeoutMillis = 10000
		req.TopicNames = []string{topic}
		dt := kmsg.NewDeleteTopicsRequestTopic()
		dt.Topic = kmsg.StringPtr(topic)
		req.Topics = append(req.Topics, dt)
		resp, err := req.RequestWith(ctx, br)
		if err != nil || len(resp.Topics) != 1 {
			t.Fatalf("DeleteTopics: %+v %v", resp, err)
		}
		return resp
	}
	if d := del(client("mut"), "big"); d.Topics[0].ErrorCode != kerr.ThrottlingQuotaExceeded.Code || d.ThrottleMillis <= 0 {
		t.Fatalf("strict DeleteTopics: %+v, want THROTTLING_QUOTA_EXCEEDED", d)
	}
	// Kafka 2.6's DeleteTopics (v4) predates the error: the topic is
	// deleted, charged, and the response throttled by the deeper deficit.
	old := client("mut", kgo.MaxVersions(kversion.V2_6_0()))
	d := del(old, "big")
	if d.Version >= 5 || d.Topics[0].ErrorCode != 0 || d.ThrottleMillis < 15000 {
		t.Fatalf("permissive DeleteTopics v%d: code %d throttle %d ms, want deleted and throttled ~19 s",
			d.Version, d.Topics[0].ErrorCode, d.ThrottleMillis)
	}
	if _, ok := b.cluster.Topic("big"); ok {
		t.Fatal("permissive DeleteTopics did not delete")
	}
}

// kgoClient is a plain client of b closed at cleanup.
func kgoClient(t *testing.T, b *Broker) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// Topics Metadata auto-creates are charged to controller_mutation_rate
// without being refused, so the client's next strict CreateTopics is.
func TestAutoCreatedTopicsChargeMutationQuota(t *testing.T) {
	b := newTestBroker(t, func(c *Config) {
		c.Quota.ControllerWindows, c.Quota.ControllerWindowSize = 1, time.Second
		c.AutoCreateTopics, c.NumPartitions = true, 5
	})
	ctx := testCtx(t, 30*time.Second)
	alterQuotas(t, ctx, kadm.NewClient(kgoClient(t, b)), kadm.AlterClientQuotaEntry{Entity: quotaEnt("client-id", "auto"),
		Ops: []kadm.AlterClientQuotaOp{{Key: quotaControllerMutationRate, Value: 1}}})
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()), kgo.ClientID("auto"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	md := kmsg.NewPtrMetadataRequest()
	md.AllowAutoTopicCreation = true
	mt := kmsg.NewMetadataRequestTopic()
	mt.Topic = kmsg.StringPtr("auto-created")
	md.Topics = append(md.Topics, mt)
	mresp, err := md.RequestWith(ctx, cl.Broker(int(b.cfg.BrokerID)))
	if err != nil || len(mresp.Topics) != 1 || mresp.Topics[0].ErrorCode != 0 || mresp.ThrottleMillis != 0 {
		t.Fatalf("auto-creating Metadata: %+v %v, want created and not throttled", mresp, err)
	}
	req := kmsg.NewPtrCreateTopicsRequest()
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = "after-auto", 1, 1
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl.Broker(int(b.cfg.BrokerID)))
	if err != nil || len(resp.Topics) != 1 {
		t.Fatalf("CreateTopics: %+v %v", resp, err)
	}
	if code := resp.Topics[0].ErrorCode; code != kerr.ThrottlingQuotaExceeded.Code {
		t.Fatalf("CreateTopics after auto-creating 5 partitions: %v, want THROTTLING_QUOTA_EXCEEDED", kerr.ErrorForCode(code))
	}
}
