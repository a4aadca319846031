package server

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/osprey-kafka/osprey/collector"
	"github.com/osprey-kafka/osprey/internal/testenv"
	"github.com/osprey-kafka/osprey/server/service"
	"github.com/osprey-kafka/osprey/store"
)

// TestOperationsOnRuntimeCluster drives the operators' work through the API against Osprey's own
// three-broker cluster and a MariaDB store: every change takes effect on the cluster, shows in the next
// snapshot, and is in the audit log with its caller.
func TestOperationsOnRuntimeCluster(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{Driver: "mysql", DSN: testenv.MySQLDSN(t), Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	svc := service.New(service.Options{Store: st, Logger: quietLogger(), DataDir: t.TempDir(),
		Collector: collector.Config{OffsetsInterval: time.Hour, GroupsInterval: time.Millisecond, LogDirsInterval: time.Hour}})
	if _, err := svc.SetupAdminToken(ctx, testToken); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Stop)
	bootstrap, err := svc.StartEmbedded(ctx, "rt", 3, false, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	e := &apiEnv{t: t, st: st, svc: svc, srv: newTestServer(t, Options{Service: svc, Logger: quietLogger()})}
	poll := func() {
		t.Helper()
		if _, err := svc.PollNow(ctx, "rt"); err != nil {
			t.Fatal(err)
		}
	}
	// until polls until the JSON at path satisfies ok.
	until := func(what, path string, ok func(map[string]any) bool) map[string]any {
		t.Helper()
		var body map[string]any
		testenv.WaitFor(t, 60*time.Second, func() error {
			poll()
			var code int
			if code, body = e.call("GET", path, "", nil); code != 200 || !ok(body) {
				return fmt.Errorf("%s: not true; last %d %v", what, code, body)
			}
			return nil
		})
		return body
	}
	base := "/api/v1/clusters/rt"

	// Create a topic; its partitions and replicas show up.
	code, body := e.call("POST", base+"/topics", testToken, map[string]any{"name": "payments", "partitions": 6, "replicationFactor": 2})
	if code != 201 {
		t.Fatalf("create = %d %v", code, body)
	}
	until("topic in the snapshot", base+"/topics/payments", func(b map[string]any) bool {
		return b["partitions"] == float64(6) && b["replicationFactor"] == float64(2) && b["underReplicated"] == float64(0) &&
			b["starting"] == float64(0) // leaders elected and ISRs full, not merely too new to count
	})

	// A test message right away (the new partitions' leaders were just elected).
	code, body = e.call("POST", base+"/topics/payments/messages", testToken, map[string]any{"partition": 0, "key": "k", "value": "first"})
	if code != 201 || body["offset"] != float64(0) {
		t.Fatalf("produce right after create = %d %v", code, body)
	}

	// Alter a config: described back from the brokers.
	if code, body := e.call("PATCH", base+"/topics/payments/configs", testToken, map[string]any{"set": map[string]string{"retention.ms": "3600000"}}); code != 200 {
		t.Fatalf("alter = %d %v", code, body)
	}
	_, body = e.call("GET", base+"/topics/payments/configs", "", nil)
	if !slices.ContainsFunc(items(body), func(c map[string]any) bool { return c["name"] == "retention.ms" && c["value"] == "3600000" }) {
		t.Fatalf("config not changed: %v", body)
	}

	// Produce through a client, consume with a group, reset its offsets to the start: lag = all records.
	cl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap...), kgo.DefaultProduceTopic("payments"), kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 59; i++ { // 59 + the test message = 60
		if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte(fmt.Sprint(i))}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	cl.Close()
	cons, err := kgo.NewClient(kgo.SeedBrokers(bootstrap...), kgo.ConsumerGroup("billing"), kgo.ConsumeTopics("payments"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DisableAutoCommit())
	if err != nil {
		t.Fatal(err)
	}
	for got := 0; got < 60; {
		fctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		fs := cons.PollFetches(fctx)
		timedOut := fctx.Err() != nil
		cancel()
		if timedOut {
			t.Fatalf("consumed %d of 60", got)
		}
		got += fs.NumRecords()
	}
	if err := cons.CommitUncommittedOffsets(ctx); err != nil {
		t.Fatal(err)
	}
	cons.Close()
	until("group caught up and empty", base+"/groups/billing", func(b map[string]any) bool {
		return b["members"] == float64(0) && b["lag"] == float64(0)
	})
	if code, body := e.call("POST", base+"/groups/billing/offsets", testToken, map[string]any{"strategy": "earliest"}); code != 200 {
		t.Fatalf("reset = %d %v", code, body)
	}
	until("lag after the reset", base+"/groups/billing", func(b map[string]any) bool { return b["lag"] == float64(60) })

	// Reassign the topic onto brokers 1 and 2 only; it completes with the data on the new replicas.
	code, body = e.call("POST", base+"/reassignments/plan", testToken, map[string]any{"topics": []string{"payments"}, "brokers": []int{1, 2}})
	if code != 200 {
		t.Fatalf("plan = %d %v", code, body)
	}
	// Throttled as kafka-reassign-partitions.sh --throttle does; Osprey's brokers take the rate through
	// IncrementalAlterConfigs, so there is nothing to warn about.
	code, body = e.call("POST", base+"/reassignments", testToken, map[string]any{"plan": body, "throttleBytesPerSec": 50 << 20})
	if code != 202 || body["warnings"] != nil {
		t.Fatalf("execute = %d %v", code, body)
	}
	until("reassignment done", base+"/topics/payments", func(b map[string]any) bool {
		total := 0.0
		for _, p := range b["partitionList"].([]any) {
			pm := p.(map[string]any)
			for _, r := range pm["replicas"].([]any) {
				if r == float64(3) {
					return false
				}
			}
			if len(pm["isr"].([]any)) != 2 {
				return false
			}
			total += pm["endOffset"].(float64)
		}
		return total == 60 // every record still there on the new replicas
	})
	until("reassignment recorded as completed", base+"/reassignments", func(b map[string]any) bool {
		h, _ := b["history"].([]any)
		return len(h) == 1 && h[0].(map[string]any)["state"] == service.ReassignCompleted && b["total"] == float64(0)
	})
	// Completed: the throttle rates are gone from every broker again (asked with franz-go's kadm).
	kcl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap...))
	if err != nil {
		t.Fatal(err)
	}
	rcs, err := kadm.NewClient(kcl).DescribeBrokerConfigs(ctx, 1, 2, 3)
	kcl.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, rc := range rcs {
		for _, c := range rc.Configs {
			if c.Key == "leader.replication.throttled.rate" && c.Source == kmsg.ConfigSourceDynamicBrokerConfig {
				t.Fatalf("broker %s still has a throttle rate after the reassignment: %v", rc.Name, c.MaybeValue())
			}
		}
	}
	if len(rcs) != 3 {
		t.Fatalf("described %d brokers, want 3", len(rcs))
	}

	// Kill and restart the preferred leader of some partitions, then elect: leader skew returns to 0.
	if code, body := e.call("POST", "/api/v1/runtime/clusters/rt/brokers/1/kill", testToken, nil); code != 200 {
		t.Fatalf("kill = %d %v", code, body)
	}
	until("leaders moved off broker 1", base+"/topics/payments", func(b map[string]any) bool { return b["preferredLeader"].(float64) < 100 })
	if code, body := e.call("POST", "/api/v1/runtime/clusters/rt/brokers/1/start", testToken, nil); code != 200 {
		t.Fatalf("start = %d %v", code, body)
	}
	until("broker 1 back in every ISR", base+"/topics/payments", func(b map[string]any) bool { return b["underReplicated"] == float64(0) })
	code, body = e.call("POST", base+"/elections", testToken, map[string]any{"topic": "payments"})
	if code != 200 || body["failed"] != float64(0) || body["elected"].(float64) < 1 {
		t.Fatalf("election = %d %v", code, body)
	}
	until("preferred leaders back", base+"/topics/payments", func(b map[string]any) bool {
		return b["preferredLeader"] == float64(100) && b["leaderSkew"] == float64(0)
	})

	// Delete the topic.
	if code, body := e.call("DELETE", base+"/topics/payments", testToken, nil); code != 204 {
		t.Fatalf("delete = %d %v", code, body)
	}
	testenv.WaitFor(t, 30*time.Second, func() error {
		poll()
		if code, _ := e.call("GET", base+"/topics/payments", "", nil); code != 404 {
			return fmt.Errorf("deleted topic still in the snapshot (%d)", code)
		}
		return nil
	})

	// Every change is in the audit log, by the admin token, and succeeded.
	_, body = e.call("GET", "/api/v1/audit?limit=200", testToken, nil)
	got := map[string]string{}
	for _, it := range items(body) {
		if it["result"] == "ok" {
			got[it["action"].(string)] = it["actor"].(string)
		}
	}
	for _, want := range []string{"topic.create", "topic.configs", "group.offsets.reset", "reassignment.execute",
		"runtime.broker.kill", "runtime.broker.start", "election.preferred", "topic.delete"} {
		if got[want] != "admin-token" {
			t.Errorf("audit: %s by %q (entries %v)", want, got[want], got)
		}
	}
}
