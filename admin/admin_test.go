package admin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"

	"github.com/osprey-kafka/osprey/internal/testenv"
)

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// newTestCluster starts a kfake cluster on random loopback ports and an admin
// Client for it; both are closed by t.Cleanup.
func newTestCluster(t testing.TB, opts ...kfake.Opt) (*kfake.Cluster, *Client) {
	t.Helper()
	opts = append([]kfake.Opt{kfake.NumBrokers(3)}, opts...)
	kc, err := kfake.NewCluster(opts...)
	if err != nil {
		t.Fatalf("kfake: %v", err)
	}
	t.Cleanup(kc.Close)
	c, err := New(Config{Name: "test", Bootstrap: kc.ListenAddrs(), Timeout: 5 * time.Second}, quietLogger())
	if err != nil {
		t.Fatalf("admin.New: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return kc, c
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func produce(t testing.TB, kc *kfake.Cluster, topic string, perPartition map[int32]int) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(kc.ListenAddrs()...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var recs []*kgo.Record
	for p, n := range perPartition {
		for i := 0; i < n; i++ {
			recs = append(recs, &kgo.Record{Topic: topic, Partition: p, Value: []byte(fmt.Sprintf("v%d", i))})
		}
	}
	if err := cl.ProduceSync(ctxT(t), recs...).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
}

func TestMetadataAndOffsets(t *testing.T) {
	kc, c := newTestCluster(t, kfake.SeedTopics(4, "orders"), kfake.SeedTopics(2, "audit"))
	ctx := ctxT(t)
	md, err := c.Metadata(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(md.Brokers) != 3 {
		t.Fatalf("brokers = %d, want 3", len(md.Brokers))
	}
	names := []string{}
	for _, tp := range md.Topics {
		names = append(names, tp.Name)
	}
	if !slices.Contains(names, "orders") || !slices.Contains(names, "audit") {
		t.Fatalf("topics = %v", names)
	}
	for _, tp := range md.Topics {
		if tp.Name != "orders" {
			continue
		}
		if len(tp.Partitions) != 4 {
			t.Fatalf("orders partitions = %d", len(tp.Partitions))
		}
		for _, p := range tp.Partitions {
			if want := kc.LeaderFor("orders", p.Partition); p.Leader != want {
				t.Errorf("orders/%d leader %d, kfake says %d", p.Partition, p.Leader, want)
			}
		}
	}
	produce(t, kc, "orders", map[int32]int{0: 5, 1: 3, 3: 7})
	before := c.Stats()
	start, end := c.StartEndOffsets(ctx, md)
	if len(end.BrokerErrors) != 0 || end.PartitionErrors != 0 {
		t.Fatalf("errors: %v %d %v", end.BrokerErrors, end.PartitionErrors, end.FirstPartitionError)
	}
	want := map[int32]int64{0: 5, 1: 3, 2: 0, 3: 7}
	for p, w := range want {
		if got := end.Get("orders", p); got != w {
			t.Errorf("end orders/%d = %d, want %d", p, got, w)
		}
		if got := start.Get("orders", p); got != 0 {
			t.Errorf("start orders/%d = %d, want 0", p, got)
		}
	}
	// Two ListOffsets per leader broker, not per partition.
	leaders := map[int32]bool{}
	for _, tp := range md.Topics {
		for _, p := range tp.Partitions {
			leaders[p.Leader] = true
		}
	}
	d := c.Stats().Sub(before)
	if got, want := d.Requests["ListOffsets"], int64(2*len(leaders)); got != want {
		t.Errorf("ListOffsets requests = %d, want %d (2 per leader)", got, want)
	}
}

func TestGroupsBatched(t *testing.T) {
	kc, c := newTestCluster(t, kfake.SeedTopics(3, "t"))
	ctx := ctxT(t)
	produce(t, kc, "t", map[int32]int{0: 10, 1: 10, 2: 10})
	groups := []string{}
	for i := 0; i < 40; i++ {
		g := fmt.Sprintf("g%02d", i)
		groups = append(groups, g)
		if _, err := c.CommitOffsets(ctx, g, map[string]map[int32]int64{"t": {0: int64(i % 10), 2: 4}}); err != nil {
			t.Fatalf("commit %s: %v", g, err)
		}
	}
	if _, err := c.Metadata(ctx, nil); err != nil {
		t.Fatal(err)
	}
	listed, errs := c.ListGroups(ctx, nil)
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	if len(listed) != 40 {
		t.Fatalf("listed %d groups, want 40", len(listed))
	}
	byCoord := map[int32][]string{}
	for _, g := range listed {
		if want := kc.CoordinatorFor(g.Name); g.Coordinator != want {
			t.Errorf("group %s coordinator %d, kfake says %d", g.Name, g.Coordinator, want)
		}
		byCoord[g.Coordinator] = append(byCoord[g.Coordinator], g.Name)
	}
	co, cerrs, err := c.FindCoordinators(ctx, groups)
	if err != nil || len(cerrs) != 0 {
		t.Fatal(err, cerrs)
	}
	for _, g := range groups {
		if co[g] != kc.CoordinatorFor(g) {
			t.Errorf("FindCoordinators %s = %d, want %d", g, co[g], kc.CoordinatorFor(g))
		}
	}
	before := c.Stats()
	for coord, gs := range byCoord {
		offs, err := c.FetchOffsets(ctx, coord, gs)
		if err != nil {
			t.Fatal(err)
		}
		if len(offs) != len(gs) {
			t.Fatalf("fetched %d groups, want %d", len(offs), len(gs))
		}
		for _, o := range offs {
			var i int
			fmt.Sscanf(o.Group, "g%d", &i)
			if o.Offsets["t"][0] != int64(i%10) || o.Offsets["t"][2] != 4 {
				t.Errorf("%s offsets %v", o.Group, o.Offsets)
			}
			if _, ok := o.Offsets["t"][1]; ok {
				t.Errorf("%s has an offset for partition 1 it never committed", o.Group)
			}
		}
		descs, err := c.DescribeGroups(ctx, coord, gs)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range descs {
			if d.Err != nil || d.State != "Empty" {
				t.Errorf("group %s: state %q err %v", d.Name, d.State, d.Err)
			}
		}
	}
	d := c.Stats().Sub(before)
	defer func() {
		gerrs, err := c.DeleteGroups(ctx, "g00", "g01")
		if err != nil || gerrs["g00"] != nil || gerrs["g01"] != nil {
			t.Fatalf("delete groups: %v %v", gerrs, err)
		}
		left, _ := c.ListGroups(ctx, nil)
		if len(left) != 38 {
			t.Fatalf("%d groups after deleting 2 of 40", len(left))
		}
	}()
	if d.Requests["OffsetFetch"] != int64(len(byCoord)) || d.Requests["DescribeGroups"] != int64(len(byCoord)) {
		t.Errorf("requests %v, want one OffsetFetch and one DescribeGroups per coordinator (%d)", d.Requests, len(byCoord))
	}
}

func TestManagementCalls(t *testing.T) {
	kc, c := newTestCluster(t)
	ctx := ctxT(t)
	errs, err := c.CreateTopics(ctx,
		TopicSpec{Name: "made", Partitions: 2, ReplicationFactor: 2, Configs: map[string]string{"retention.ms": "3600000"}},
		TopicSpec{Name: "placed", Assignment: map[int32][]int32{0: {0}, 1: {1}, 2: {2}}},
	)
	if err != nil || errs["made"] != nil || errs["placed"] != nil {
		t.Fatalf("create: %v %v", err, errs)
	}
	md, err := c.Metadata(ctx, []string{"made", "placed"})
	if err != nil {
		t.Fatal(err)
	}
	if len(md.Topics) != 2 || len(md.Topics[0].Partitions) != 2 || len(md.Topics[1].Partitions) != 3 {
		t.Fatalf("metadata after create: %+v", md.Topics)
	}
	cfgs, err := c.DescribeTopicConfigs(ctx, "made")
	if err != nil {
		t.Fatal(err)
	}
	if v := configValue(cfgs["made"], "retention.ms"); v != "3600000" {
		t.Fatalf("retention.ms = %q", v)
	}
	if err := c.AlterTopicConfigs(ctx, "made", map[string]string{"retention.ms": "60000"}, nil); err != nil {
		t.Fatal(err)
	}
	cfgs, _ = c.DescribeTopicConfigs(ctx, "made")
	if v := configValue(cfgs["made"], "retention.ms"); v != "60000" {
		t.Fatalf("after alter retention.ms = %q", v)
	}
	if err := c.CreatePartitions(ctx, "made", 5); err != nil {
		t.Fatal(err)
	}
	md, _ = c.Metadata(ctx, []string{"made"})
	if len(md.Topics[0].Partitions) != 5 {
		t.Fatalf("partitions after CreatePartitions = %d", len(md.Topics[0].Partitions))
	}
	bc, err := c.DescribeBrokerConfigs(ctx, 2)
	if err != nil || len(bc) == 0 {
		t.Fatalf("broker configs: %v %v", bc, err)
	}
	if v := configValue(bc, "broker.id"); v != "2" {
		t.Fatalf("broker 2 reports broker.id %q", v)
	}
	res, err := c.AlterPartitionReassignments(ctx, []Reassignment{{Topic: "placed", Partition: 0, Replicas: []int32{1}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || res[0].Err != nil {
		t.Fatalf("reassign: %+v", res)
	}
	// kfake validates reassignments without running them: none is in
	// progress, so a cancel is answered per partition with an error.
	if st, err := c.ListPartitionReassignments(ctx); err != nil || len(st) != 0 {
		t.Fatalf("list reassignments: %+v %v", st, err)
	}
	res, err = c.AlterPartitionReassignments(ctx, []Reassignment{{Topic: "placed", Partition: 0, Replicas: nil}})
	if err != nil || len(res) != 1 || res[0].Err == nil {
		t.Fatalf("cancel without a reassignment: %+v %v", res, err)
	}
	leaderBefore := kc.LeaderFor("placed", 1)
	el, err := c.ElectPreferredLeaders(ctx, "placed", []int32{1})
	if err != nil || len(el) != 1 || el[0].Err != nil {
		t.Fatalf("elect: %+v %v", el, err)
	}
	if kc.LeaderFor("placed", 1) == leaderBefore { // kfake's election rotates the leader
		t.Fatalf("election left placed/1 on broker %d", leaderBefore)
	}
	if v, err := c.TopicConfigValue(ctx, []string{"made", "placed"}, "retention.ms"); err != nil || v["made"] != "60000" || v["placed"] == "" {
		t.Fatalf("TopicConfigValue: %v %v", v, err)
	}
	produce(t, kc, "placed", map[int32]int{1: 6})
	md, _ = c.Metadata(ctx, []string{"placed"})
	low, perr, err := c.DeleteRecords(ctx, md, map[string]map[int32]int64{"placed": {1: 4}})
	if err != nil || len(perr) != 0 || low["placed"][1] != 4 {
		t.Fatalf("delete records: %v %v %v", low, perr, err)
	}
	start := c.ListOffsets(ctx, md, []string{"placed"}, OffsetEarliest)
	if got := start.Get("placed", 1); got != 4 {
		t.Fatalf("start offset after DeleteRecords = %d, want 4", got)
	}
	derrs, err := c.DeleteTopics(ctx, "made")
	if err != nil || derrs["made"] != nil {
		t.Fatalf("delete: %v %v", err, derrs)
	}
	md, _ = c.Metadata(ctx, nil)
	for _, tp := range md.Topics {
		if tp.Name == "made" {
			t.Fatal("deleted topic still listed")
		}
	}
}

func configValue(es []ConfigEntry, name string) string {
	for _, e := range es {
		if e.Name == name {
			return e.Value
		}
	}
	return "<missing>"
}

func TestDescribeClusterLogDirsQuorum(t *testing.T) {
	kc, c := newTestCluster(t, kfake.SeedTopics(3, "sized"), kfake.ClusterID("osprey-test"))
	ctx := ctxT(t)
	produce(t, kc, "sized", map[int32]int{0: 20, 1: 20, 2: 20})
	d, err := c.DescribeCluster(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d.ClusterID != "osprey-test" || len(d.Brokers) != 3 {
		t.Fatalf("describe cluster: %+v", d)
	}
	md, err := c.Metadata(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, b := range md.Brokers {
		ld, err := c.DescribeLogDirs(ctx, b.ID)
		if err != nil {
			t.Fatal(err)
		}
		total += ld.Bytes
	}
	if total <= 0 {
		t.Fatalf("log dir bytes = %d, want > 0 after producing", total)
	}
	if _, err := c.DescribeQuorum(ctx); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("DescribeQuorum on kfake: %v, want ErrUnsupported", err)
	}
}

func TestSASLPlain(t *testing.T) {
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.EnableSASL(), kfake.Superuser("PLAIN", "admin", "s3cret"), kfake.SeedTopics(1, "x"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kc.Close)
	ctx := ctxT(t)
	good, err := New(Config{Name: "sasl", Bootstrap: kc.ListenAddrs(), SASL: SASLConfig{Mechanism: "PLAIN", Username: "admin", Password: "s3cret"}}, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer good.Close()
	if _, err := good.Metadata(ctx, nil); err != nil {
		t.Fatalf("metadata with good credentials: %v", err)
	}
	if _, err := good.DescribeTopicConfigs(ctx, "x"); err != nil {
		t.Fatalf("kafka-go path with SASL: %v", err)
	}
	bad, _ := New(Config{Name: "sasl", Bootstrap: kc.ListenAddrs(), SASL: SASLConfig{Mechanism: "PLAIN", Username: "admin", Password: "wrong"}}, quietLogger())
	defer bad.Close()
	if _, err := bad.Metadata(ctx, nil); err == nil {
		t.Fatal("metadata with a wrong password succeeded")
	}
	none, _ := New(Config{Name: "sasl", Bootstrap: kc.ListenAddrs(), Timeout: 2 * time.Second}, quietLogger())
	defer none.Close()
	if _, err := none.Metadata(ctx, nil); err == nil {
		t.Fatal("metadata without SASL succeeded against a SASL cluster: the test proves nothing")
	}
	var logged strings.Builder
	slog.New(slog.NewTextHandler(&logged, nil)).Info("cfg", "cluster", good.Config())
	for _, s := range []string{fmt.Sprintf("%+v", good.Config()), fmt.Sprint(good.Config().SASL), logged.String()} {
		if !strings.Contains(s, "admin") || strings.Contains(s, "s3cret") {
			t.Fatalf("config printed with its password (or without its user): %s", s)
		}
	}
}

func TestUnreachableBootstrapFallsBack(t *testing.T) {
	kc, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kc.Close)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := ln.Addr().String()
	ln.Close()
	c, err := New(Config{Name: "x", Bootstrap: append([]string{dead}, kc.ListenAddrs()...), Timeout: 2 * time.Second}, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Metadata(ctxT(t), nil); err != nil {
		t.Fatalf("metadata with one dead bootstrap address: %v", err)
	}
	if s := c.Stats(); s.Errors == 0 {
		t.Fatalf("the dead address was not counted as an error: %+v", s)
	}
}

func TestContextDeadlineAndClose(t *testing.T) {
	kc, c := newTestCluster(t)
	// Hold every Metadata request until the test ends: the call must return at the deadline.
	release := make(chan struct{})
	t.Cleanup(func() { close(release) }) // before the cluster's own cleanup closes it
	kc.ControlKey(int16(kmsg.Metadata), func(kmsg.Request) (kmsg.Response, error, bool) {
		<-release
		return nil, nil, false
	})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	startT := time.Now()
	_, err := c.Metadata(ctx, nil)
	if err == nil || time.Since(startT) > 1500*time.Millisecond {
		t.Fatalf("metadata under a 200ms deadline: err=%v after %v", err, time.Since(startT))
	}
	_ = c.Close()
	if _, err := c.Metadata(context.Background(), nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v, want ErrClosed", err)
	}
	if n := c.Stats().OpenConns; n != 0 {
		t.Fatalf("open connections after Close = %d", n)
	}
}

func TestConfigValidate(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"minimal", Config{Bootstrap: []string{"a:9092"}}, true},
		{"no bootstrap", Config{}, false},
		{"no port", Config{Bootstrap: []string{"a"}}, false},
		{"bad sasl", Config{Bootstrap: []string{"a:1"}, SASL: SASLConfig{Mechanism: "GSSAPI", Username: "u"}}, false},
		{"sasl without user", Config{Bootstrap: []string{"a:1"}, SASL: SASLConfig{Mechanism: "PLAIN"}}, false},
		{"scram", Config{Bootstrap: []string{"a:1"}, SASL: SASLConfig{Mechanism: "SCRAM-SHA-512", Username: "u", Password: "p"}}, true},
		{"cert without key", Config{Bootstrap: []string{"a:1"}, TLS: TLSConfig{Enabled: true, CertFile: "c.pem"}}, false},
		{"zk chroot", Config{Bootstrap: []string{"a:1"}, ZooKeeper: "z1:2181,z2/kafka"}, true},
		{"zk empty", Config{Bootstrap: []string{"a:1"}, ZooKeeper: "/kafka"}, false},
	}
	for _, tc := range cases {
		err := tc.cfg.Validate()
		if (err == nil) != tc.ok {
			t.Errorf("%s: Validate() = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
	s, root, err := ParseZKConnect("z1:2181,z2/kafka/")
	if err != nil || !slices.Equal(s, []string{"z1:2181", "z2:2181"}) || root != "/kafka" {
		t.Fatalf("ParseZKConnect = %v %q %v", s, root, err)
	}
}

func TestProduceAndFetchMessages(t *testing.T) {
	kc, c := newTestCluster(t, kfake.SeedTopics(2, "msgs"))
	ctx := ctxT(t)
	produce(t, kc, "msgs", map[int32]int{1: 5}) // v0..v4 from kgo
	off, err := c.ProduceMessage(ctx, "msgs", 1, []byte("k"), []byte(`{"a":1}`), []MessageHeader{{Key: "h", Value: []byte("hv")}})
	if err != nil || off != 5 {
		t.Fatalf("produce: offset %d err %v, want 5", off, err)
	}
	res, err := c.FetchMessages(ctx, nil, "msgs", 1, 3, 10, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if res.HighWatermark != 6 || len(res.Messages) != 3 {
		t.Fatalf("fetch: hw %d, %d messages", res.HighWatermark, len(res.Messages))
	}
	if m := res.Messages[0]; m.Offset != 3 || string(m.Value) != "v3" || m.Key != nil {
		t.Errorf("first message %+v", m)
	}
	last := res.Messages[2]
	if last.Offset != 5 || string(last.Key) != "k" || string(last.Value) != `{"a":1}` || len(last.Headers) != 1 || string(last.Headers[0].Value) != "hv" {
		t.Errorf("produced message read back as %+v", last)
	}
	if lim, _ := c.FetchMessages(ctx, nil, "msgs", 1, 0, 2, 0, 0); len(lim.Messages) != 2 || lim.Messages[1].Offset != 1 {
		t.Errorf("limit 2 from 0: %+v", lim.Messages)
	}
}

// A broker's dynamic config is set on that broker, read back, then removed; a refusal carries Kafka's
// error.
func TestAlterBrokerConfigs(t *testing.T) {
	_, c := newTestCluster(t)
	ctx := ctxT(t)
	if err := c.AlterBrokerConfigs(ctx, 2, map[string]string{"log.retention.ms": "7200000"}, nil); err != nil {
		t.Fatal(err)
	}
	bc, err := c.DescribeBrokerConfigs(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if v := configValue(bc, "log.retention.ms"); v != "7200000" {
		t.Fatalf("log.retention.ms on broker 2 = %q after setting it", v)
	}
	if err := c.AlterBrokerConfigs(ctx, 2, nil, []string{"log.retention.ms"}); err != nil {
		t.Fatal(err)
	}
	bc, _ = c.DescribeBrokerConfigs(ctx, 2)
	if v := configValue(bc, "log.retention.ms"); v == "7200000" {
		t.Fatal("log.retention.ms still set after deleting it")
	}
	err = c.AlterBrokerConfigs(ctx, 2, map[string]string{"log.retention.ms": "an hour"}, nil)
	var ke *KafkaError
	if !errors.As(err, &ke) || !strings.Contains(err.Error(), "broker 2") { // kfake answers INVALID_REQUEST, Kafka INVALID_CONFIG
		t.Fatalf("a bad value: %v, want Kafka's refusal naming broker 2", err)
	}
}

// A controller that has just lost its job answers NOT_CONTROLLER: the call looks the controller up again
// and resends, so the operator sees the topic created and deleted, not an error.
func TestControllerCallsFollowAMovedController(t *testing.T) {
	kc, c := newTestCluster(t)
	ctx := ctxT(t)
	var creates, deletes int
	kc.ControlKey(int16(kmsg.CreateTopics), func(r kmsg.Request) (kmsg.Response, error, bool) {
		kc.KeepControl()
		creates++
		if creates > 1 {
			return nil, nil, false
		}
		req := r.(*kmsg.CreateTopicsRequest)
		resp := req.ResponseKind().(*kmsg.CreateTopicsResponse)
		for _, t := range req.Topics {
			rt := kmsg.NewCreateTopicsResponseTopic()
			rt.Topic, rt.ErrorCode = t.Topic, kerr.NotController.Code
			resp.Topics = append(resp.Topics, rt)
		}
		return resp, nil, true
	})
	kc.ControlKey(int16(kmsg.DeleteTopics), func(r kmsg.Request) (kmsg.Response, error, bool) {
		kc.KeepControl()
		deletes++
		if deletes > 1 {
			return nil, nil, false
		}
		req := r.(*kmsg.DeleteTopicsRequest)
		resp := req.ResponseKind().(*kmsg.DeleteTopicsResponse)
		for _, t := range req.Topics {
			rt := kmsg.NewDeleteTopicsResponseTopic()
			rt.Topic, rt.ErrorCode = t.Topic, kerr.NotController.Code
			resp.Topics = append(resp.Topics, rt)
		}
		return resp, nil, true
	})
	errs, err := c.CreateTopics(ctx, TopicSpec{Name: "moved", Partitions: 2, ReplicationFactor: 1})
	if err != nil || errs["moved"] != nil || creates != 2 {
		t.Fatalf("create: %v %v after %d requests", errs, err, creates)
	}
	if md, err := c.Metadata(ctx, []string{"moved"}); err != nil || len(md.Topics) != 1 || len(md.Topics[0].Partitions) != 2 {
		t.Fatalf("metadata after create: %+v %v", md, err)
	}
	errs, err = c.DeleteTopics(ctx, "moved")
	if err != nil || errs["moved"] != nil || deletes != 2 {
		t.Fatalf("delete: %v %v after %d requests", errs, err, deletes)
	}
	// Per-topic refusals other than NOT_CONTROLLER come back as they are, with the broker's message.
	errs, err = c.CreateTopics(ctx, TopicSpec{Name: "bad", Partitions: 1, ReplicationFactor: 9})
	if err != nil || !errors.Is(errs["bad"], kerr.InvalidReplicationFactor) {
		t.Fatalf("create with RF 9 on 3 brokers: %v %v", errs, err)
	}
}

// A partition added a moment ago is readable at once: the fetch does not rely
// on metadata cached before the partition existed (kafka-go's transport keeps
// its cache for its TTL and would report no leader until then).
func TestFetchMessagesFromANewPartition(t *testing.T) {
	kc, c := newTestCluster(t, kfake.SeedTopics(1, "grow"))
	ctx := ctxT(t)
	produce(t, kc, "grow", map[int32]int{0: 1})
	if res, err := c.FetchMessages(ctx, nil, "grow", 0, 0, 10, 0, 0); err != nil || len(res.Messages) != 1 {
		t.Fatalf("fetch before growing: %+v, %v", res, err)
	}
	if err := c.CreatePartitions(ctx, "grow", 2); err != nil {
		t.Fatal(err)
	}
	produce(t, kc, "grow", map[int32]int{1: 2})
	res, err := c.FetchMessages(ctx, nil, "grow", 1, 0, 10, 0, 0)
	if err != nil {
		t.Fatalf("fetch from the new partition: %v", err)
	}
	if len(res.Messages) != 2 || string(res.Messages[1].Value) != "v1" || res.Messages[1].Partition != 1 {
		t.Errorf("new partition read back as %+v", res.Messages)
	}
	if _, err := c.FetchMessages(ctx, nil, "grow", 7, 0, 10, 0, 0); !errors.Is(err, kerr.UnknownTopicOrPartition) {
		t.Errorf("fetch from a partition that does not exist: %v, want UNKNOWN_TOPIC_OR_PARTITION", err)
	}
}

// Every codec Kafka uses reads back as the original bytes.
func TestFetchMessagesDecompresses(t *testing.T) {
	kc, c := newTestCluster(t, kfake.SeedTopics(1, "packed"))
	ctx := ctxT(t)
	codecs := []kgo.CompressionCodec{kgo.GzipCompression(), kgo.SnappyCompression(), kgo.Lz4Compression(), kgo.ZstdCompression()}
	for i, codec := range codecs {
		cl, err := kgo.NewClient(kgo.SeedBrokers(kc.ListenAddrs()...), kgo.ProducerBatchCompression(codec))
		if err != nil {
			t.Fatal(err)
		}
		value := strings.Repeat(fmt.Sprintf("codec %d ", i), 100)
		err = cl.ProduceSync(ctx, &kgo.Record{Topic: "packed", Value: []byte(value)}).FirstErr()
		cl.Close()
		if err != nil {
			t.Fatalf("produce with codec %d: %v", i, err)
		}
	}
	res, err := c.FetchMessages(ctx, nil, "packed", 0, 1, 10, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Messages) != len(codecs)-1 {
		t.Fatalf("%d messages from offset 1, want %d", len(res.Messages), len(codecs)-1)
	}
	for _, m := range res.Messages {
		if want := strings.Repeat(fmt.Sprintf("codec %d ", m.Offset), 100); string(m.Value) != want {
			t.Errorf("offset %d: value %.40q…, want %.40q…", m.Offset, m.Value, want)
		}
	}
}

func TestDeadPooledConnectionIsRetried(t *testing.T) {
	_, c := newTestCluster(t, kfake.SeedTopics(1, "x"))
	ctx := ctxT(t)
	if _, err := c.Metadata(ctx, nil); err != nil {
		t.Fatal(err)
	}
	// Simulate the broker closing idle connections (connections.max.idle.ms).
	c.mu.Lock()
	killed := 0
	for _, p := range c.pools {
		p.mu.Lock()
		for _, rc := range p.idle {
			_ = rc.nc.Close()
			killed++
		}
		p.mu.Unlock()
	}
	c.mu.Unlock()
	if killed == 0 {
		t.Fatal("no pooled connection to kill")
	}
	before := c.Stats()
	if _, err := c.Metadata(ctx, nil); err != nil {
		t.Fatalf("metadata after the pooled connection died: %v", err)
	}
	d := c.Stats().Sub(before)
	if d.Retries != 1 || d.Errors != 0 || d.Dials != 1 {
		t.Fatalf("retries %d errors %d dials %d, want 1 0 1", d.Retries, d.Errors, d.Dials)
	}
	// Idle connections past maxIdle are closed instead of used.
	c.mu.Lock()
	for _, p := range c.pools {
		p.mu.Lock()
		for _, rc := range p.idle {
			rc.lastUsed = time.Now().Add(-maxIdle - time.Second)
		}
		p.mu.Unlock()
	}
	c.mu.Unlock()
	before = c.Stats()
	if _, err := c.Metadata(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if d := c.Stats().Sub(before); d.Dials != 1 || d.Retries != 0 || c.Stats().OpenConns != before.OpenConns {
		t.Fatalf("stale connection: dials %d retries %d open %d→%d", d.Dials, d.Retries, before.OpenConns, c.Stats().OpenConns)
	}
}

// TestOlderBrokerVersions runs the group calls against a cluster limited to
// Kafka 2.7's API versions: FindCoordinator without batching (v3) and
// OffsetFetch of one group per request (v7) must give the same answers.
func TestOlderBrokerVersions(t *testing.T) {
	kc, c := newTestCluster(t, kfake.SeedTopics(2, "old"), kfake.MaxVersions(kversion.V2_7_0()))
	ctx := ctxT(t)
	produce(t, kc, "old", map[int32]int{0: 3, 1: 3})
	for _, g := range []string{"a", "b", "c"} {
		if _, err := c.CommitOffsets(ctx, g, map[string]map[int32]int64{"old": {1: 2}}); err != nil {
			t.Fatalf("commit %s: %v", g, err)
		}
	}
	co, cerrs, err := c.FindCoordinators(ctx, []string{"a", "b", "c"})
	if err != nil || len(cerrs) != 0 || len(co) != 3 {
		t.Fatalf("coordinators %v %v %v", co, cerrs, err)
	}
	listed, lerrs := c.ListGroups(ctx, nil) // also: no Metadata call before it
	if len(lerrs) != 0 || len(listed) != 3 {
		t.Fatalf("listed %v errs %v", listed, lerrs)
	}
	before := c.Stats()
	for _, g := range listed {
		offs, err := c.FetchOffsets(ctx, g.Coordinator, []string{g.Name})
		if err != nil || len(offs) != 1 || offs[0].Offsets["old"][1] != 2 {
			t.Fatalf("offsets of %s: %+v %v", g.Name, offs, err)
		}
	}
	if n := c.Stats().Sub(before).Requests["OffsetFetch"]; n != 3 {
		t.Errorf("OffsetFetch requests = %d, want one per group (3) before v8", n)
	}
}

// TestCloseReleasesEverything: after Close, the goroutines and file
// descriptors the client opened (its broker pools) are gone.
func TestCloseReleasesEverything(t *testing.T) {
	kc, err := kfake.NewCluster(kfake.NumBrokers(3), kfake.SeedTopics(3, "z"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kc.Close)
	ctx := ctxT(t)
	fds := func() int {
		ents, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Fatal(err)
		}
		return len(ents)
	}
	// kfake's goroutines per accepted connection count too: measure with a
	// settled cluster and compare after the client's connections are closed.
	g0, f0 := runtime.NumGoroutine(), fds()
	c, err := New(Config{Name: "close", Bootstrap: kc.ListenAddrs()}, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 50; i++ {
		md, err := c.Metadata(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		c.StartEndOffsets(ctx, md)
		if _, err := c.DescribeTopicConfigs(ctx, "z"); err != nil {
			t.Fatal(err)
		}
	}
	if c.Stats().OpenConns == 0 || fds() <= f0 {
		t.Fatal("no connections were opened: the test proves nothing")
	}
	_ = c.Close()
	testenv.WaitFor(t, 10*time.Second, func() error {
		if g, f := runtime.NumGoroutine(), fds(); g > g0 || f > f0 {
			return fmt.Errorf("after Close: goroutines %d (before %d), fds %d (before %d)", g, g0, f, f0)
		}
		return nil
	})
}
