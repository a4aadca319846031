package broker

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/osprey-kafka/osprey/internal/testenv"
)

// The kadm calls the console and operators use, against one broker.
func TestKadmAdminCalls(t *testing.T) {
	b := newTestBroker(t, withDir(t.TempDir()), func(c *Config) { c.Rack = "rack-a" })
	ctx := testCtx(t, 60*time.Second)
	// kgo serves kadm's Metadata from a cache younger than MetadataMinAge.
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()), kgo.MetadataMinAge(10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)

	brokers, err := adm.ListBrokers(ctx)
	if err != nil || len(brokers) != 1 || brokers[0].NodeID != 0 || brokers[0].Rack == nil || *brokers[0].Rack != "rack-a" {
		t.Fatalf("list brokers: %v %+v", err, brokers)
	}
	md, err := adm.BrokerMetadata(ctx)
	if err != nil || md.Controller != 0 || md.Cluster == "" {
		t.Fatalf("metadata: %v %+v", err, md)
	}

	if _, err := adm.CreateTopic(ctx, 2, 1, map[string]*string{"cleanup.policy": kadm.StringPtr("delete")}, "adm"); err != nil {
		t.Fatal(err)
	}
	bad, err := adm.CreateTopic(ctx, 1, 3, nil, "too-many-replicas")
	if err == nil && bad.Err == nil {
		t.Fatal("replication factor 3 on one broker was accepted")
	}
	bad, err = adm.CreateTopic(ctx, 1, 1, map[string]*string{"retention.ms": kadm.StringPtr("soon")}, "bad-config")
	if err == nil && bad.Err == nil {
		t.Fatal("retention.ms=soon was accepted")
	}

	// Records at known timestamps for ListOffsetsAfterMilli.
	base := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	var recs []*kgo.Record
	for i := 0; i < 10; i++ {
		recs = append(recs, &kgo.Record{Topic: "adm", Partition: 0, Value: []byte(fmt.Sprint(i)), Timestamp: base.Add(time.Duration(i) * time.Minute)})
	}
	pcl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	if err := pcl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	pcl.Close()

	after, err := adm.ListOffsetsAfterMilli(ctx, base.Add(4*time.Minute+time.Second).UnixMilli(), "adm")
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := after.Lookup("adm", 0); o.Err != nil || o.Offset != 5 {
		t.Fatalf("offset after minute 4: %+v, want 5", o)
	}
	ends, err := adm.ListEndOffsets(ctx, "adm")
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := ends.Lookup("adm", 0); o.Offset != 10 {
		t.Fatalf("end offset %+v, want 10", o)
	}

	del := kadm.Offsets{}
	del.Add(kadm.Offset{Topic: "adm", Partition: 0, At: 3})
	dr, err := adm.DeleteRecords(ctx, del)
	if err != nil || dr.Error() != nil {
		t.Fatalf("delete records: %v %v", err, dr.Error())
	}
	starts, err := adm.ListStartOffsets(ctx, "adm")
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := starts.Lookup("adm", 0); o.Offset != 3 {
		t.Fatalf("start offset after DeleteRecords: %+v, want 3", o)
	}

	ac, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{
		{Op: kadm.SetConfig, Name: "retention.ms", Value: kadm.StringPtr("1234567")},
		{Op: kadm.SetConfig, Name: "max.message.bytes", Value: kadm.StringPtr("2000000")},
	}, "adm")
	if err != nil || ac[0].Err != nil {
		t.Fatalf("incremental alter: %v %+v", err, ac)
	}
	ac, err = adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.DeleteConfig, Name: "max.message.bytes"}}, "adm")
	if err != nil || ac[0].Err != nil {
		t.Fatalf("incremental delete: %v %+v", err, ac)
	}
	rc, err := adm.DescribeTopicConfigs(ctx, "adm")
	if err != nil {
		t.Fatal(err)
	}
	cfgs, _ := rc.On("adm", nil)
	vals := map[string]kadm.Config{}
	for _, c := range cfgs.Configs {
		vals[c.Key] = c
	}
	if c := vals["retention.ms"]; c.MaybeValue() != "1234567" || c.Source != 1 {
		t.Fatalf("retention.ms: %+v", c)
	}
	if c := vals["max.message.bytes"]; c.MaybeValue() != "1048588" || c.Source != 5 {
		t.Fatalf("max.message.bytes after delete: %+v (want the default)", c)
	}
	if c := vals["cleanup.policy"]; c.MaybeValue() != "delete" {
		t.Fatalf("cleanup.policy: %+v", c)
	}
	bc, err := adm.DescribeBrokerConfigs(ctx, 0)
	if err != nil || len(bc) != 1 || len(bc[0].Configs) == 0 {
		t.Fatalf("broker configs: %v %+v", err, bc)
	}

	cp, err := adm.CreatePartitions(ctx, 2, "adm")
	if err != nil || cp["adm"].Err != nil {
		t.Fatalf("create partitions: %v %+v", err, cp)
	}
	td, err := adm.ListTopics(ctx, "adm")
	if err != nil || len(td["adm"].Partitions) != 4 {
		t.Fatalf("topic after create partitions: %v %+v", err, td["adm"])
	}

	dirs, err := adm.DescribeBrokerLogDirs(ctx, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	dirs.Each(func(d kadm.DescribedLogDir) {
		if d.Err != nil {
			t.Fatalf("log dir %s: %v", d.Dir, d.Err)
		}
		for _, ps := range d.Topics {
			for _, p := range ps {
				if p.Topic == "adm" && p.Partition == 0 && p.Size > 0 {
					found = true
				}
			}
		}
	})
	if !found {
		t.Fatalf("adm/0 not in DescribeLogDirs: %+v", dirs)
	}

	// Groups: commit, describe, delete offsets, delete group.
	commits := kadm.Offsets{}
	commits.Add(kadm.Offset{Topic: "adm", Partition: 0, At: 7, LeaderEpoch: -1})
	commits.Add(kadm.Offset{Topic: "adm", Partition: 1, At: 0, LeaderEpoch: -1})
	if r, err := adm.CommitOffsets(ctx, "adm-group", commits); err != nil || r.Error() != nil {
		t.Fatalf("commit: %v %v", err, r.Error())
	}
	lags, err := adm.Lag(ctx, "adm-group")
	if err != nil {
		t.Fatal(err)
	}
	if l, ok := lags["adm-group"].Lag.Lookup("adm", 0); !ok || l.Lag != 3 {
		t.Fatalf("lag of adm/0: %+v, want 3", l)
	}
	groups, err := adm.ListGroups(ctx)
	if err != nil || len(groups.Groups()) != 1 {
		t.Fatalf("list groups: %v %+v", err, groups)
	}
	ts := kadm.TopicsSet{}
	ts.Add("adm", 1)
	if r, err := adm.DeleteOffsets(ctx, "adm-group", ts); err != nil || r.Error() != nil {
		t.Fatalf("delete offsets: %v %v", err, r.Error())
	}
	offs, err := adm.FetchOffsets(ctx, "adm-group")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := offs.Lookup("adm", 1); ok {
		t.Fatal("offset of adm/1 still committed after DeleteOffsets")
	}
	if r, err := adm.DeleteGroup(ctx, "adm-group"); err != nil || r.Err != nil {
		t.Fatalf("delete group: %v %+v", err, r)
	}
	if g, err := adm.DescribeGroups(ctx, "adm-group"); err != nil || g["adm-group"].State != "Dead" {
		t.Fatalf("deleted group described as %+v (%v), want Dead", g["adm-group"], err)
	}

	if r, err := adm.DeleteTopics(ctx, "adm"); err != nil || r["adm"].Err != nil {
		t.Fatalf("delete topic: %v %+v", err, r)
	}
	if r, err := adm.DeleteTopics(ctx, "__consumer_offsets"); err == nil && r["__consumer_offsets"].Err == nil {
		t.Fatal("deleting __consumer_offsets was accepted")
	}
	testenv.WaitFor(t, 5*time.Second, func() error {
		td, err := adm.ListTopics(ctx)
		if err != nil {
			return err
		}
		if td.Has("adm") {
			return fmt.Errorf("adm still listed after deletion")
		}
		return nil
	})
}

// OffsetFetch v8+: several groups in one request (kadm batches them).
func TestOffsetFetchManyGroups(t *testing.T) {
	b := newTestBroker(t)
	ctx := testCtx(t, 30*time.Second)
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	if _, err := adm.CreateTopic(ctx, 2, 1, nil, "many"); err != nil {
		t.Fatal(err)
	}
	for i, g := range []string{"ga", "gb", "gc"} {
		o := kadm.Offsets{}
		o.Add(kadm.Offset{Topic: "many", Partition: int32(i % 2), At: int64(10 * (i + 1)), LeaderEpoch: -1})
		if r, err := adm.CommitOffsets(ctx, g, o); err != nil || r.Error() != nil {
			t.Fatalf("commit %s: %v %v", g, err, r.Error())
		}
	}
	// Make sure v8 is what gets used: the request carries all groups.
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Version = 8
	for _, g := range []string{"ga", "gb", "gc", "unknown"} {
		rg := kmsg.NewOffsetFetchRequestGroup()
		rg.Group = g
		req.Groups = append(req.Groups, rg)
	}
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Groups) != 4 {
		t.Fatalf("%d groups answered, want 4", len(resp.Groups))
	}
	for i, g := range resp.Groups[:3] {
		if g.ErrorCode != 0 || len(g.Topics) != 1 || len(g.Topics[0].Partitions) != 1 ||
			g.Topics[0].Partitions[0].Partition != int32(i%2) || g.Topics[0].Partitions[0].Offset != int64(10*(i+1)) {
			t.Fatalf("group %s: %+v", g.Group, g)
		}
	}
	if g := resp.Groups[3]; g.ErrorCode != 0 || len(g.Topics) != 0 {
		t.Fatalf("unknown group: %+v, want no error and no offsets", g)
	}
	many := adm.FetchManyOffsets(ctx, "ga", "gb", "gc")
	if len(many) != 3 {
		t.Fatalf("FetchManyOffsets: %d groups", len(many))
	}
	for g, r := range many {
		if r.Err != nil {
			t.Fatalf("group %s: %v", g, r.Err)
		}
	}
}

// Topic-level retention and segment settings reach the log and the
// retention loop runs at log.retention.check.interval.ms.
func TestRetentionByTopicConfig(t *testing.T) {
	b := newTestBroker(t, withDir(t.TempDir()), func(c *Config) { c.LogRetentionCheck = 50 * time.Millisecond })
	ctx := testCtx(t, 30*time.Second)
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()), kgo.DefaultProduceTopic("short"),
		kgo.ProducerBatchCompression(kgo.NoCompression()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	if _, err := adm.CreateTopic(ctx, 1, 1, map[string]*string{
		"segment.bytes": kadm.StringPtr("2048"), "retention.bytes": kadm.StringPtr("4096"),
	}, "short"); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 40; i++ {
		if err := cl.ProduceSync(ctx, &kgo.Record{Value: make([]byte, 500)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	testenv.WaitFor(t, 10*time.Second, func() error {
		starts, err := adm.ListStartOffsets(ctx, "short")
		if err != nil {
			return err
		}
		size := b.data.get("short", 0).log.Size()
		if o, _ := starts.Lookup("short", 0); o.Offset == 0 {
			return fmt.Errorf("log start still 0 (%d bytes)", size)
		}
		// Whole segments go, the active one stays: the log ends up within
		// retention.bytes plus about a segment.
		if size > 4096+2*2048 {
			return fmt.Errorf("log holds %d bytes with retention.bytes 4096 and 2 KiB segments", size)
		}
		return nil
	})
}

// A deleted topic's data is gone when a topic of the same name is created
// again (new topic id, offsets from 0).
func TestDeleteAndRecreateTopic(t *testing.T) {
	b := newTestBroker(t, withDir(t.TempDir()))
	ctx := testCtx(t, 30*time.Second)
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()), kgo.MetadataMinAge(10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	first, err := adm.CreateTopic(ctx, 1, 1, nil, "again")
	if err != nil {
		t.Fatal(err)
	}
	produceFranz(t, b.Addr(), "again", 5)
	if r, err := adm.DeleteTopic(ctx, "again"); err != nil || r.Err != nil {
		t.Fatalf("delete: %v %+v", err, r)
	}
	second, err := adm.CreateTopic(ctx, 1, 1, nil, "again")
	if err != nil {
		t.Fatal(err)
	}
	if first.ID == second.ID {
		t.Fatal("recreated topic kept its topic id")
	}
	recs := produceFranz(t, b.Addr(), "again", 2)
	if recs[0].Offset != 0 || recs[1].Offset != 1 {
		t.Fatalf("offsets in the recreated topic: %d, %d", recs[0].Offset, recs[1].Offset)
	}
	got := consumeAll(t, b.Addr(), "again")
	if len(got[0]) != 2 || string(got[0][0].Key) != "k0" || string(got[0][1].Key) != "k1" {
		t.Fatalf("recreated topic holds %d records", len(got[0]))
	}
}

// newTestAdmin starts one broker and returns a kadm client on it, closed with the test.
func newTestAdmin(t *testing.T) (context.Context, *kadm.Client) {
	t.Helper()
	b := newTestBroker(t, withDir(t.TempDir()))
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return testCtx(t, 30*time.Second), kadm.NewClient(cl)
}

// Kafka refuses a topic whose name differs from an existing one only by '.'
// and '_' (their metric names would be the same), with its own message.
func TestCreateTopicNameCollision(t *testing.T) {
	ctx, adm := newTestAdmin(t)
	if _, err := adm.CreateTopic(ctx, 1, 1, nil, "orders_eu"); err != nil {
		t.Fatal(err)
	}
	// kadm returns the topic's error as err too; res carries Kafka's message.
	res, _ := adm.CreateTopic(ctx, 1, 1, nil, "orders.eu")
	if !errors.Is(res.Err, kerr.InvalidTopicException) || res.ErrMessage != "Topic 'orders.eu' collides with existing topics: orders_eu" {
		t.Fatalf("orders.eu beside orders_eu: %v %q", res.Err, res.ErrMessage)
	}
	// Same name again is TOPIC_ALREADY_EXISTS, not a collision; unrelated dots are fine.
	if res, _ := adm.CreateTopic(ctx, 1, 1, nil, "orders_eu"); !errors.Is(res.Err, kerr.TopicAlreadyExists) {
		t.Fatalf("orders_eu again: %v", res.Err)
	}
	if res, err := adm.CreateTopic(ctx, 1, 1, nil, "orders.us"); err != nil || res.Err != nil {
		t.Fatalf("orders.us: %v %v", err, res.Err)
	}
}

// A topic created without configs takes a config change (its configs start empty, not absent).
func TestAlterConfigsOfTopicCreatedWithout(t *testing.T) {
	ctx, adm := newTestAdmin(t)
	if _, err := adm.CreateTopic(ctx, 1, 1, nil, "plain"); err != nil {
		t.Fatal(err)
	}
	res, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Name: "retention.ms", Value: kadm.StringPtr("60000")}}, "plain")
	if err != nil || res[0].Err != nil {
		t.Fatalf("alter: %v %v", err, res)
	}
	rc, err := adm.DescribeTopicConfigs(ctx, "plain")
	if err != nil {
		t.Fatal(err)
	}
	c, err := rc.On("plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range c.Configs {
		if e.Key == "retention.ms" {
			if e.Value == nil || *e.Value != "60000" {
				t.Fatalf("retention.ms = %v", e.Value)
			}
			return
		}
	}
	t.Fatal("retention.ms not described")
}
