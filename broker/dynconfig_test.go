package broker

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/osprey-kafka/osprey/broker/metastore"
	"github.com/osprey-kafka/osprey/broker/zkdata"
	"github.com/osprey-kafka/osprey/internal/testenv"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

const (
	leaderRate   = "leader.replication.throttled.rate"
	followerRate = "follower.replication.throttled.rate"
)

// brokerConfig describes one config of a broker (or the default entity
// with no ids) through kadm, with synonyms.
func brokerConfig(t *testing.T, adm *kadm.Client, key string, ids ...int32) (kadm.Config, bool) {
	t.Helper()
	rcs, err := adm.DescribeBrokerConfigs(testCtx(t, 10*time.Second), ids...)
	if err != nil || len(rcs) != 1 || rcs[0].Err != nil {
		t.Fatalf("describe broker configs %v: %v %+v", ids, err, rcs)
	}
	for _, c := range rcs[0].Configs {
		if c.Key == key {
			return c, true
		}
	}
	return kadm.Config{}, false
}

func synonymSources(c kadm.Config) []kmsg.ConfigSource {
	var out []kmsg.ConfigSource
	for _, s := range c.Synonyms {
		out = append(out, s.Source)
	}
	return out
}

// alterOK fails unless every resource of an alter was accepted.
func alterOK(t *testing.T, what string, rs kadm.AlterConfigsResponses, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if len(rs) == 0 {
		t.Fatalf("%s: no responses", what)
	}
	for _, r := range rs {
		if r.Err != nil {
			t.Fatalf("%s: %s: %v %s", what, r.Name, r.Err, r.ErrMessage)
		}
	}
}

// alterRefused fails unless the single resource of an alter was refused
// with code and a message containing msg.
func alterRefused(t *testing.T, what string, rs kadm.AlterConfigsResponses, err error, code error, msg string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if len(rs) != 1 || !errors.Is(rs[0].Err, code) || !strings.Contains(rs[0].ErrMessage, msg) {
		t.Fatalf("%s: got %+v, want %v with %q", what, rs, code, msg)
	}
}

func TestBrokerDynamicConfigsLocalStore(t *testing.T) {
	testBrokerDynamicConfigs(t, localConnector(t))
}

func TestBrokerDynamicConfigsZooKeeper(t *testing.T) {
	testBrokerDynamicConfigs(t, zkConnector(t))
}

// The replication throttle rates set on one broker through the Kafka API
// (kadm, as kafka-configs.sh --bootstrap-server) are stored as Kafka
// stores them, described as dynamic, applied by that broker only and
// removed by DELETE; refused requests change nothing.
func testBrokerDynamicConfigs(t *testing.T, conn metastore.Connector) {
	c := newTestCluster(t, 3, conn)
	adm := c.admin()
	ctx := testCtx(t, time.Minute)
	s, err := c.any().cluster.(*zkCluster).keeper.WaitSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	node := zkdata.ConfigEntityPath(zkdata.ConfigTypeBroker, "2")
	get := func(path string) (string, metastore.Stat) {
		t.Helper()
		data, st, err := s.Get(ctx, path)
		if err != nil {
			t.Fatalf("get %s: %v", path, err)
		}
		return string(data), st
	}
	changes := func() []string {
		t.Helper()
		names, _, err := s.Children(ctx, zkdata.ConfigChangesPath)
		if err != nil && !errors.Is(err, metastore.ErrNoNode) {
			t.Fatal(err)
		}
		return names
	}
	rates := func(id int32) (float64, float64) {
		b := c.byID(id)
		return b.repl.leaderThrottle.currentRate(), b.repl.followerThrottle.currentRate()
	}
	before := len(changes())

	rs, err := adm.AlterBrokerConfigs(ctx, []kadm.AlterConfig{
		{Name: leaderRate, Value: kadm.StringPtr("3000000")},
		{Name: followerRate, Value: kadm.StringPtr("2000000")}}, 2)
	alterOK(t, "set rates on broker 2", rs, err)

	if data, _ := get(node); data != `{"version":1,"config":{"follower.replication.throttled.rate":"2000000","leader.replication.throttled.rate":"3000000"}}` {
		t.Fatalf("%s = %s", node, data)
	}
	chs := changes()
	if len(chs) != before+1 {
		t.Fatalf("config changes %v, had %d", chs, before)
	}
	if data, _ := get(zkdata.ConfigChangesPath + "/" + chs[len(chs)-1]); data != `{"version":2,"entity_path":"brokers/2"}` {
		t.Fatalf("notification %s = %s", chs[len(chs)-1], data)
	}
	cfg, ok := brokerConfig(t, adm, leaderRate, 2)
	if !ok || cfg.MaybeValue() != "3000000" || cfg.Source != kmsg.ConfigSourceDynamicBrokerConfig ||
		!slices.Equal(synonymSources(cfg), []kmsg.ConfigSource{kmsg.ConfigSourceDynamicBrokerConfig, kmsg.ConfigSourceDefaultConfig}) {
		t.Fatalf("broker 2 %s: %+v", leaderRate, cfg)
	}
	if cfg, _ := brokerConfig(t, adm, followerRate, 2); cfg.MaybeValue() != "2000000" || cfg.Source != kmsg.ConfigSourceDynamicBrokerConfig {
		t.Fatalf("broker 2 %s: %+v", followerRate, cfg)
	}
	if l, f := rates(2); l != 3000000 || f != 2000000 {
		t.Fatalf("broker 2 applies %v/%v", l, f)
	}
	// Only broker 2's entity changed: the others keep their (unlimited) rates.
	for _, id := range []int32{1, 3} {
		if l, f := rates(id); !math.IsInf(l, 1) || !math.IsInf(f, 1) {
			t.Fatalf("broker %d applies %v/%v", id, l, f)
		}
		if cfg, _ := brokerConfig(t, adm, leaderRate, id); cfg.Source != kmsg.ConfigSourceDefaultConfig || cfg.MaybeValue() != "9223372036854775807" {
			t.Fatalf("broker %d %s: %+v", id, leaderRate, cfg)
		}
	}

	// Refusals change nothing: neither the znode nor the notifications nor
	// the rates.
	data0, st0 := get(node)
	n0 := len(changes())
	unchanged := func(what string) {
		t.Helper()
		if data, st := get(node); data != data0 || st.Version != st0.Version {
			t.Fatalf("%s changed %s: %s (version %d → %d)", what, node, data, st0.Version, st.Version)
		}
		if n := len(changes()); n != n0 {
			t.Fatalf("%s added a config change notification", what)
		}
		if l, f := rates(2); l != 3000000 || f != 2000000 {
			t.Fatalf("%s: broker 2 applies %v/%v", what, l, f)
		}
	}
	rs, err = adm.AlterBrokerConfigs(ctx, []kadm.AlterConfig{
		{Name: leaderRate, Value: kadm.StringPtr("1")}, {Name: "log.retention.ms", Value: kadm.StringPtr("1000")}}, 2)
	alterRefused(t, "static key", rs, err, kerr.InvalidRequest, "Cannot update these configs dynamically: Set(log.retention.ms)")
	unchanged("a static key")
	rs, err = adm.AlterBrokerConfigs(ctx, []kadm.AlterConfig{{Name: "no.such.key", Value: kadm.StringPtr("1")}}, 2)
	alterRefused(t, "unknown key", rs, err, kerr.InvalidRequest, "no.such.key")
	unchanged("an unknown key")
	for _, bad := range []string{"fast", "-5", "1.5"} {
		rs, err = adm.AlterBrokerConfigs(ctx, []kadm.AlterConfig{{Name: followerRate, Value: kadm.StringPtr(bad)}}, 2)
		alterRefused(t, "bad value "+bad, rs, err, kerr.InvalidRequest, "Invalid value "+bad+" for configuration "+followerRate)
		unchanged("bad value " + bad)
	}
	rs, err = adm.AlterBrokerConfigsState(ctx, []kadm.AlterConfig{{Name: leaderRate, Value: kadm.StringPtr("x")}}, 2)
	alterRefused(t, "AlterConfigs bad value", rs, err, kerr.InvalidRequest, leaderRate)
	unchanged("AlterConfigs with a bad value")
	rs, err = adm.ValidateAlterBrokerConfigs(ctx, []kadm.AlterConfig{{Name: leaderRate, Value: kadm.StringPtr("7")}}, 2)
	alterOK(t, "validate only", rs, err)
	unchanged("ValidateOnly")
	rs, err = adm.ValidateAlterBrokerConfigs(ctx, []kadm.AlterConfig{{Name: "log.dirs", Value: kadm.StringPtr("/x")}}, 2)
	alterRefused(t, "validate only static key", rs, err, kerr.InvalidRequest, "log.dirs")

	// Another broker's id sent to broker 2: Kafka wants it at that broker.
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.addrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	req := kmsg.NewPtrIncrementalAlterConfigsRequest()
	res := kmsg.NewIncrementalAlterConfigsRequestResource()
	res.ResourceType, res.ResourceName = kmsg.ConfigResourceTypeBroker, "3"
	op := kmsg.NewIncrementalAlterConfigsRequestResourceConfig()
	op.Name, op.Op, op.Value = leaderRate, kmsg.IncrementalAlterConfigOpSet, kmsg.StringPtr("5")
	res.Configs = append(res.Configs, op)
	req.Resources = append(req.Resources, res)
	if _, err := cl.Request(ctx, kmsg.NewPtrMetadataRequest()); err != nil {
		t.Fatal(err)
	}
	kr, err := cl.Broker(2).Request(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if r := kr.(*kmsg.IncrementalAlterConfigsResponse).Resources; len(r) != 1 || r[0].ErrorCode != kerr.InvalidRequest.Code ||
		r[0].ErrorMessage == nil || !strings.Contains(*r[0].ErrorMessage, "Unexpected broker id") {
		t.Fatalf("broker 3's config at broker 2: %+v", r)
	}
	if l, _ := rates(3); !math.IsInf(l, 1) {
		t.Fatalf("broker 3 applies %v", l)
	}
	unchanged("another broker's id")

	// AlterConfigs replaces the whole set of overrides.
	rs, err = adm.AlterBrokerConfigsState(ctx, []kadm.AlterConfig{{Name: leaderRate, Value: kadm.StringPtr("4000000")}}, 2)
	alterOK(t, "AlterConfigs", rs, err)
	if data, _ := get(node); data != `{"version":1,"config":{"leader.replication.throttled.rate":"4000000"}}` {
		t.Fatalf("%s after AlterConfigs = %s", node, data)
	}
	if l, f := rates(2); l != 4000000 || !math.IsInf(f, 1) {
		t.Fatalf("broker 2 applies %v/%v after AlterConfigs", l, f)
	}

	// The cluster-wide default reaches every broker through the
	// notification; broker 2's own value still wins there.
	rs, err = adm.AlterBrokerConfigs(ctx, []kadm.AlterConfig{{Name: leaderRate, Value: kadm.StringPtr("6000000")}})
	alterOK(t, "set default", rs, err)
	if data, _ := get(zkdata.ConfigEntityPath(zkdata.ConfigTypeBroker, "<default>")); data != `{"version":1,"config":{"leader.replication.throttled.rate":"6000000"}}` {
		t.Fatalf("<default> = %s", data)
	}
	testenv.WaitFor(t, 10*time.Second, func() error {
		for id, want := range map[int32]float64{1: 6000000, 2: 4000000, 3: 6000000} {
			if l, _ := rates(id); l != want {
				return fmt.Errorf("broker %d applies %v, want %v", id, l, want)
			}
		}
		return nil
	})
	// Any broker took the default; broker 2 follows the notification.
	testenv.WaitFor(t, 10*time.Second, func() error {
		if cfg, _ := brokerConfig(t, adm, leaderRate, 2); cfg.MaybeValue() != "4000000" || !slices.Equal(synonymSources(cfg), []kmsg.ConfigSource{
			kmsg.ConfigSourceDynamicBrokerConfig, kmsg.ConfigSourceDynamicDefaultBrokerConfig, kmsg.ConfigSourceDefaultConfig}) {
			return fmt.Errorf("broker 2 %s with a default: %+v", leaderRate, cfg)
		}
		return nil
	})
	if cfg, ok := brokerConfig(t, adm, leaderRate); !ok || cfg.MaybeValue() != "6000000" || cfg.Source != kmsg.ConfigSourceDynamicDefaultBrokerConfig {
		t.Fatalf("default %s: %+v", leaderRate, cfg)
	}
	testenv.WaitFor(t, 10*time.Second, func() error {
		if cfg, _ := brokerConfig(t, adm, leaderRate, 3); cfg.MaybeValue() != "6000000" || cfg.Source != kmsg.ConfigSourceDynamicDefaultBrokerConfig {
			return fmt.Errorf("broker 3 %s: %+v", leaderRate, cfg)
		}
		return nil
	})

	// DELETE restores the default.
	rs, err = adm.AlterBrokerConfigs(ctx, []kadm.AlterConfig{{Op: kadm.DeleteConfig, Name: leaderRate}, {Op: kadm.DeleteConfig, Name: followerRate}}, 2)
	alterOK(t, "delete on broker 2", rs, err)
	rs, err = adm.AlterBrokerConfigs(ctx, []kadm.AlterConfig{{Op: kadm.DeleteConfig, Name: leaderRate}, {Op: kadm.DeleteConfig, Name: followerRate}})
	alterOK(t, "delete default", rs, err)
	if data, _ := get(node); data != `{"version":1,"config":{}}` {
		t.Fatalf("%s after delete = %s", node, data)
	}
	testenv.WaitFor(t, 10*time.Second, func() error {
		if cfg, _ := brokerConfig(t, adm, leaderRate, 2); cfg.MaybeValue() != "9223372036854775807" || cfg.Source != kmsg.ConfigSourceDefaultConfig {
			return fmt.Errorf("broker 2 %s after delete: %+v", leaderRate, cfg)
		}
		for id := int32(1); id <= 3; id++ {
			if l, f := rates(id); !math.IsInf(l, 1) || !math.IsInf(f, 1) {
				return fmt.Errorf("broker %d applies %v/%v", id, l, f)
			}
		}
		return nil
	})
}

// Without a metadata store the dynamic configs live in memory, and a
// static rate from server.properties shows as the STATIC_BROKER_CONFIG
// synonym under the dynamic one.
func TestBrokerDynamicConfigsSingleBroker(t *testing.T) {
	b := newTestBroker(t, func(c *Config) { c.FollowerReplicationThrottle = 500000 })
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx := testCtx(t, 30*time.Second)
	id := b.cfg.BrokerID
	if cfg, _ := brokerConfig(t, adm, followerRate, id); cfg.MaybeValue() != "500000" || cfg.Source != kmsg.ConfigSourceStaticBrokerConfig {
		t.Fatalf("static %s: %+v", followerRate, cfg)
	}
	rs, err := adm.AlterBrokerConfigs(ctx, []kadm.AlterConfig{{Name: followerRate, Value: kadm.StringPtr("800000")}}, id)
	alterOK(t, "set", rs, err)
	cfg, _ := brokerConfig(t, adm, followerRate, id)
	if cfg.MaybeValue() != "800000" || cfg.Source != kmsg.ConfigSourceDynamicBrokerConfig ||
		!slices.Equal(synonymSources(cfg), []kmsg.ConfigSource{kmsg.ConfigSourceDynamicBrokerConfig, kmsg.ConfigSourceStaticBrokerConfig, kmsg.ConfigSourceDefaultConfig}) ||
		cfg.Synonyms[1].Value == nil || *cfg.Synonyms[1].Value != "500000" {
		t.Fatalf("dynamic %s: %+v", followerRate, cfg)
	}
	if f := b.repl.followerThrottle.currentRate(); f != 800000 {
		t.Fatalf("applies %v", f)
	}
	rs, err = adm.AlterBrokerConfigs(ctx, []kadm.AlterConfig{{Op: kadm.DeleteConfig, Name: followerRate}}, id)
	alterOK(t, "delete", rs, err)
	if cfg, _ := brokerConfig(t, adm, followerRate, id); cfg.MaybeValue() != "500000" || cfg.Source != kmsg.ConfigSourceStaticBrokerConfig {
		t.Fatalf("%s after delete: %+v", followerRate, cfg)
	}
	if f := b.repl.followerThrottle.currentRate(); f != 500000 {
		t.Fatalf("applies %v after delete", f)
	}
	// A static config stays read-only.
	if cfg, ok := brokerConfig(t, adm, "log.dirs", id); !ok || cfg.Source != kmsg.ConfigSourceStaticBrokerConfig {
		t.Fatalf("log.dirs: %+v", cfg)
	}
	rs, err = adm.AlterBrokerConfigs(ctx, []kadm.AlterConfig{{Name: "log.dirs", Value: kadm.StringPtr("/tmp/x")}}, id)
	alterRefused(t, "static key", rs, err, kerr.InvalidRequest, "Cannot update these configs dynamically: Set(log.dirs)")
}
