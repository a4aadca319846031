package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/osprey-kafka/osprey/admin"
	"github.com/osprey-kafka/osprey/collector"
	apidecl "github.com/osprey-kafka/osprey/server/api"
	"github.com/osprey-kafka/osprey/server/endpoints/operations"
	"github.com/osprey-kafka/osprey/server/service"
	"github.com/osprey-kafka/osprey/store"
)

const opsTestToken = "test-admin-token-123456"

// opsFixture is a console (service + store + Server) over a 3-broker kfake cluster named "fake",
// polled once, with the routes of this file's area on an engine of its own.
type opsFixture struct {
	kc  *kfake.Cluster
	svc *service.Service
	st  *store.Store
	srv *Server
	h   http.Handler

	mu      sync.Mutex
	altered []*kmsg.AlterPartitionAssignmentsRequest
	elected int
	// electLag is how many Metadata answers still show the old leaders after ElectLeaders (set before
	// fakeController): a real controller answers once it has recorded the leaders, and brokers learn
	// them a moment later.
	electLag int
}

func newOpsFixture(t *testing.T) *opsFixture {
	t.Helper()
	ctx := context.Background()
	kc, err := kfake.NewCluster(kfake.NumBrokers(3), kfake.SeedTopics(4, "orders", "payments"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kc.Close)
	st, err := store.Open(ctx, store.Options{Driver: "sqlite", DSN: filepath.Join(t.TempDir(), "osprey.db"), Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	// Reassignment events go to the server's stream, wired as the console wires them.
	var srv atomic.Pointer[Server]
	svc := service.New(service.Options{Store: st, Logger: quietLogger(), OnReassignment: func(e service.ReassignmentEvent) {
		if s := srv.Load(); s != nil {
			s.Publish("reassignment", e)
		}
	}})
	if _, err := svc.SetupAdminToken(ctx, opsTestToken); err != nil {
		t.Fatal(err)
	}
	if err := svc.AddCluster(ctx, service.ClusterSpec{Name: "fake", Source: "config", Admin: admin.Config{Bootstrap: kc.ListenAddrs()}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Stop)
	if snap, err := svc.PollNow(ctx, "fake"); err != nil || snap == nil || len(snap.Topics) != 2 {
		t.Fatalf("first poll: %v %v", snap, err)
	}
	f := &opsFixture{kc: kc, svc: svc, st: st}
	// Observe (without handling) what reaches the cluster.
	kc.ControlKey(int16(kmsg.AlterPartitionAssignments), func(r kmsg.Request) (kmsg.Response, error, bool) {
		f.mu.Lock()
		f.altered = append(f.altered, r.(*kmsg.AlterPartitionAssignmentsRequest))
		f.mu.Unlock()
		return nil, nil, false
	})
	kc.ControlKey(int16(kmsg.ElectLeaders), func(kmsg.Request) (kmsg.Response, error, bool) {
		f.mu.Lock()
		f.elected++
		f.mu.Unlock()
		return nil, nil, false
	})
	f.srv = newTestServer(t, Options{Service: svc, Logger: quietLogger()})
	srv.Store(f.srv)
	e := gin.New()
	e.Use(f.srv.identify())
	f.srv.mountAreas(e, func(r *apidecl.Registry) { operations.Declare(r, svc) })
	f.h = e
	return f
}

func (f *opsFixture) counts() (altered, elected int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.altered), f.elected
}

func opsCall(t *testing.T, h http.Handler, method, path, token, body string) (int, map[string]any) {
	t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	h.ServeHTTP(rec, req)
	var out map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("%s %s: not JSON: %q", method, path, rec.Body.String())
	}
	return rec.Code, out
}

func TestOpsRoutesRefuseWithoutOperator(t *testing.T) {
	f := newOpsFixture(t)
	cases := []struct{ method, path, body string }{
		{"POST", "/api/v1/clusters/fake/reassignments/plan", `{"topics":["orders"],"brokers":[0,1]}`},
		{"POST", "/api/v1/clusters/fake/reassignments", `{"partitions":[{"topic":"orders","partition":0,"replicas":[0,1]}]}`},
		{"DELETE", "/api/v1/clusters/fake/reassignments", ``},
		{"POST", "/api/v1/clusters/fake/elections", `{}`},
	}
	for _, c := range cases {
		if code, body := opsCall(t, f.h, c.method, c.path, "", c.body); code != 401 || errorCode(body) != "unauthorized" {
			t.Fatalf("%s %s without a token = %d %v", c.method, c.path, code, body)
		}
		if code, body := opsCall(t, f.h, c.method, c.path, "wrong-token-wrong-token", c.body); code != 401 || errorCode(body) != "invalid_token" {
			t.Fatalf("%s %s with a wrong token = %d %v", c.method, c.path, code, body)
		}
	}
	if a, e := f.counts(); a != 0 || e != 0 {
		t.Fatalf("refused requests reached the cluster: %d reassignments, %d elections", a, e)
	}
	entries, _, err := f.st.Audit(context.Background(), store.AuditFilter{Cluster: "fake"})
	if err != nil || len(entries) != 2*len(cases) || entries[0].Result != "denied" {
		t.Fatalf("audit of refusals = %+v %v", entries, err)
	}
}

func TestReassignmentPlanExecuteCancel(t *testing.T) {
	f := newOpsFixture(t)
	base := "/api/v1/clusters/fake/reassignments"

	code, body := opsCall(t, f.h, "GET", base, "", "")
	if code != 200 || body["total"] != float64(0) || len(body["items"].([]any)) != 0 || len(body["history"].([]any)) != 0 {
		t.Fatalf("empty state = %d %v", code, body)
	}
	if code, body := opsCall(t, f.h, "GET", "/api/v1/clusters/nope/reassignments", "", ""); code != 404 || errorCode(body) != "cluster_not_found" {
		t.Fatalf("unknown cluster = %d %v", code, body)
	}

	// Bad plans: 400 with the reason.
	bad := []struct{ body, code, names string }{
		{`{"topics":["orders","ghost"],"brokers":[0,1]}`, "unknown_topic", `"ghost"`},
		{`{"topics":["orders"],"brokers":[0,7]}`, "unknown_broker", "7"},
		{`{"topics":["orders"],"brokers":[0,1],"replicationFactor":3}`, "bad_replication_factor", "3"},
		{`{"topics":["orders"],"brokers":[0,1]`, "bad_request", "EOF"},
		{`{"topics":["orders"],"brokers":[0,1]}x`, "bad_request", ""},
		{`{"topics":["orders"],"brokers":[0,1],"rf":2}`, "bad_request", "unknown field"},
	}
	for _, b := range bad {
		code, body := opsCall(t, f.h, "POST", base+"/plan", opsTestToken, b.body)
		msg, _ := body["error"].(map[string]any)["message"].(string)
		if code != 400 || errorCode(body) != b.code || !strings.Contains(msg, b.names) {
			t.Fatalf("plan %s = %d %v", b.body, code, body)
		}
	}

	// A plan moving both topics onto brokers 0 and 1 with RF 2.
	code, body = opsCall(t, f.h, "POST", base+"/plan", opsTestToken, `{"topics":["orders","payments"],"brokers":[1,0],"replicationFactor":2}`)
	if code != 200 || body["cluster"] != "fake" || len(body["partitions"].([]any)) != 8 {
		t.Fatalf("plan = %d %v", code, body)
	}
	for _, p := range body["partitions"].([]any) {
		after := p.(map[string]any)["after"].([]any)
		if len(after) != 2 || slices.Contains(after, any(float64(2))) {
			t.Fatalf("planned replicas %v: want two of brokers 0 and 1", after)
		}
	}
	plan, _ := json.Marshal(body)
	if a, _ := f.counts(); a != 0 {
		t.Fatal("planning sent a reassignment")
	}

	// Execute the plan as returned, throttled.
	code, body = opsCall(t, f.h, "POST", base, opsTestToken, `{"plan":`+string(plan)+`,"throttleBytesPerSec":1048576}`)
	if code != 202 || body["started"] != float64(8) || body["failed"] != float64(0) || body["id"] == float64(0) {
		t.Fatalf("execute = %d %v", code, body)
	}
	if a, _ := f.counts(); a != 1 {
		t.Fatalf("%d AlterPartitionAssignments requests, want 1", a)
	}
	f.mu.Lock()
	sent := 0
	for _, rt := range f.altered[0].Topics {
		for _, rp := range rt.Partitions {
			sent++
			if len(rp.Replicas) != 2 || slices.Contains(rp.Replicas, 2) {
				t.Errorf("sent %s-%d → %v", rt.Topic, rp.Partition, rp.Replicas)
			}
		}
	}
	f.mu.Unlock()
	if sent != 8 {
		t.Fatalf("sent %d partitions, want 8", sent)
	}
	// Topic lists and broker rates were all accepted: nothing to warn about.
	if w, ok := body["warnings"]; ok {
		t.Fatalf("warnings = %v", w)
	}
	entries, _, _ := f.st.Audit(context.Background(), store.AuditFilter{Action: "reassignment.execute"})
	if len(entries) != 1 || entries[0].Actor != "admin-token" || entries[0].Result != "ok" || !strings.Contains(entries[0].Params, "1048576") {
		t.Fatalf("audit = %+v", entries)
	}
	// Execute with both a plan and partitions, or neither: 400.
	if code, body := opsCall(t, f.h, "POST", base, opsTestToken, `{"plan":`+string(plan)+`,"partitions":[{"topic":"orders","partition":0,"replicas":[0]}]}`); code != 400 {
		t.Fatalf("plan and partitions = %d %v", code, body)
	}
	if code, body := opsCall(t, f.h, "POST", base, opsTestToken, `{}`); code != 400 {
		t.Fatalf("empty execute = %d %v", code, body)
	}

	// The controller reports one partition still moving (kfake completes nothing on its own).
	f.kc.ControlKey(int16(kmsg.ListPartitionReassignments), func(r kmsg.Request) (kmsg.Response, error, bool) {
		f.kc.KeepControl()
		resp := r.(*kmsg.ListPartitionReassignmentsRequest).ResponseKind().(*kmsg.ListPartitionReassignmentsResponse)
		rt := kmsg.NewListPartitionReassignmentsResponseTopic()
		rt.Topic = "orders"
		rp := kmsg.NewListPartitionReassignmentsResponseTopicPartition()
		rp.Partition, rp.Replicas, rp.AddingReplicas, rp.RemovingReplicas = 0, []int32{0, 1, 2}, []int32{}, []int32{2}
		rt.Partitions = append(rt.Partitions, rp)
		resp.Topics = append(resp.Topics, rt)
		return resp, nil, true
	})
	code, body = opsCall(t, f.h, "GET", base, "", "")
	if code != 200 || body["total"] != float64(1) {
		t.Fatalf("in progress = %d %v", code, body)
	}
	item := body["items"].([]any)[0].(map[string]any)
	if item["topic"] != "orders" || item["progress"] != float64(1) || len(item["target"].([]any)) != 2 {
		t.Fatalf("progress item = %v", item)
	}
	hist := body["history"].([]any)
	if len(hist) != 1 || hist[0].(map[string]any)["state"] != "running" {
		t.Fatalf("history = %v", hist)
	}
	// The cross-cluster page shows the same.
	if code, body := opsCall(t, f.h, "GET", "/api/v1/reassignments", "", ""); code != 200 || body["total"] != float64(1) ||
		body["items"].([]any)[0].(map[string]any)["total"] != float64(1) {
		t.Fatalf("all clusters = %d %v", code, body)
	}

	// Cancel: the moving partition goes back to its recorded replicas; the record is cancelled.
	code, body = opsCall(t, f.h, "DELETE", base, opsTestToken, "")
	if code != 200 || body["total"] != float64(1) || len(body["records"].([]any)) != 1 {
		t.Fatalf("cancel = %d %v", code, body)
	}
	f.mu.Lock()
	last := f.altered[len(f.altered)-1]
	f.mu.Unlock()
	if len(last.Topics) != 1 || last.Topics[0].Partitions[0].Replicas == nil || len(last.Topics[0].Partitions[0].Replicas) != 3 {
		t.Fatalf("cancel sent %+v, want orders-0 back on its three original replicas", last.Topics)
	}
	rows, _ := f.st.Reassignments(context.Background(), "fake", 10)
	if len(rows) != 1 || rows[0].State != service.ReassignCancelled {
		t.Fatalf("rows = %+v", rows)
	}
}

func TestElectionsOnKfake(t *testing.T) {
	f := newOpsFixture(t)
	path := "/api/v1/clusters/fake/elections"
	// kfake lists each partition's leader first, so every leader is already preferred: nothing is sent.
	code, body := opsCall(t, f.h, "POST", path, opsTestToken, `{"topic":"orders"}`)
	if code != 200 || body["total"] != float64(4) || body["notNeeded"] != float64(4) || body["elected"] != float64(0) {
		t.Fatalf("topic election = %d %v", code, body)
	}
	if topics := body["topics"].([]any); len(topics) != 1 || topics[0].(map[string]any)["topic"] != "orders" {
		t.Fatalf("topics = %v", body["topics"])
	}
	// The whole cluster: every partition listed, all already preferred.
	code, body = opsCall(t, f.h, "POST", path, opsTestToken, `{}`)
	if code != 200 || body["total"] != float64(8) || body["notNeeded"] != float64(8) || len(body["items"].([]any)) != 8 {
		t.Fatalf("all = %d %v", code, body)
	}
	code, body = opsCall(t, f.h, "POST", path, opsTestToken, `{"partitions":[{"topic":"payments","partition":3},{"topic":"payments","partition":9}]}`)
	if code != 400 || errorCode(body) != "unknown_partition" {
		t.Fatalf("unknown partition = %d %v", code, body)
	}
	code, body = opsCall(t, f.h, "POST", path, opsTestToken, `{"topic":"ghost"}`)
	if code != 400 || errorCode(body) != "unknown_topic" {
		t.Fatalf("unknown topic = %d %v", code, body)
	}
	code, body = opsCall(t, f.h, "POST", path, opsTestToken, ``)
	if code != 400 || errorCode(body) != "bad_request" {
		t.Fatalf("empty body = %d %v", code, body)
	}
	if _, e := f.counts(); e != 0 {
		t.Fatalf("%d ElectLeaders requests for partitions already led by their preferred replica", e)
	}
	entries, _, _ := f.st.Audit(context.Background(), store.AuditFilter{Action: "election.preferred"})
	if len(entries) != 4 || entries[len(entries)-1].Target != "orders" {
		t.Fatalf("audit = %+v", entries)
	}
}

// fakeController answers Metadata itself from a copy of kfake's real answer and applies to that copy
// what a real controller would do: ElectLeaders moves leadership to the preferred replica, and
// AlterPartitionAssignments completes at once (replicas and ISR become the target); f.electLag delays
// what Metadata shows of an election. kfake itself
// lists every leader first and completes no reassignment; it still answers those two requests. With
// skew, orders-0 and orders-1 start led by a replica other than their preferred one.
func (f *opsFixture) fakeController(t *testing.T, skew bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(f.kc.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	md, err := kmsg.NewPtrMetadataRequest().RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex // guards base, shown and lag; every change replaces base with a modified copy
	base := md
	// shown is what Metadata answers: base, or the metadata before an election for lag more answers.
	shown, lag := md, 0
	// update copies base and applies fn to every partition of topic.
	update := func(topic string, fn func(p *kmsg.MetadataResponseTopicPartition)) {
		next := *base
		next.Topics = slices.Clone(base.Topics)
		for ti := range next.Topics {
			if next.Topics[ti].Topic == nil || *next.Topics[ti].Topic != topic {
				continue
			}
			next.Topics[ti].Partitions = slices.Clone(next.Topics[ti].Partitions)
			for pi := range next.Topics[ti].Partitions {
				fn(&next.Topics[ti].Partitions[pi])
			}
		}
		base = &next
	}
	if skew {
		update("orders", func(p *kmsg.MetadataResponseTopicPartition) {
			if p.Partition <= 1 {
				p.Replicas = append(slices.Clone(p.Replicas[1:]), p.Replicas[0]) // leader stays, preferred moves
			}
		})
	}
	f.kc.ControlKey(int16(kmsg.Metadata), func(r kmsg.Request) (kmsg.Response, error, bool) {
		f.kc.KeepControl()
		mu.Lock()
		if lag > 0 {
			lag--
		} else {
			shown = base
		}
		cp := *shown
		mu.Unlock()
		cp.Version = r.GetVersion()
		return &cp, nil, true
	})
	f.kc.ControlKey(int16(kmsg.ElectLeaders), func(r kmsg.Request) (kmsg.Response, error, bool) {
		f.kc.KeepControl()
		mu.Lock()
		defer mu.Unlock()
		shown, lag = base, f.electLag
		for _, rt := range r.(*kmsg.ElectLeadersRequest).Topics {
			update(rt.Topic, func(p *kmsg.MetadataResponseTopicPartition) {
				if slices.Contains(rt.Partitions, p.Partition) {
					p.Leader = p.Replicas[0]
					p.LeaderEpoch++
				}
			})
		}
		return nil, nil, false
	})
	f.kc.ControlKey(int16(kmsg.AlterPartitionAssignments), func(r kmsg.Request) (kmsg.Response, error, bool) {
		f.kc.KeepControl()
		mu.Lock()
		defer mu.Unlock()
		for _, rt := range r.(*kmsg.AlterPartitionAssignmentsRequest).Topics {
			for _, rp := range rt.Partitions {
				if rp.Replicas == nil {
					continue
				}
				update(rt.Topic, func(p *kmsg.MetadataResponseTopicPartition) {
					if p.Partition == rp.Partition {
						p.Replicas, p.ISR = slices.Clone(rp.Replicas), slices.Clone(rp.Replicas)
						if !slices.Contains(rp.Replicas, p.Leader) {
							p.Leader = rp.Replicas[0]
							p.LeaderEpoch++
						}
					}
				})
			}
		}
		return nil, nil, false
	})
}

func TestElectionMovesLeadersToPreferred(t *testing.T) {
	f := newOpsFixture(t)
	f.electLag = 3
	f.fakeController(t, true)
	snap, err := f.svc.PollNow(context.Background(), "fake")
	if err != nil {
		t.Fatal(err)
	}
	orders := snap.Topics[slices.IndexFunc(snap.Topics, func(tp collector.Topic) bool { return tp.Name == "orders" })]
	if orders.PreferredLeader != 50 {
		t.Fatalf("setup: preferred-leader %% = %v, want 50", orders.PreferredLeader)
	}
	code, body := opsCall(t, f.h, "POST", "/api/v1/clusters/fake/elections", opsTestToken, `{}`)
	if code != 200 || body["total"] != float64(8) || body["elected"] != float64(2) || body["notNeeded"] != float64(6) || body["failed"] != float64(0) {
		t.Fatalf("election = %d %v", code, body)
	}
	// The metadata showed the old leaders for a few reads after the election: the answer waited for the
	// new ones, and every partition's after side is the leader the cluster shows now.
	for _, it := range body["items"].([]any) {
		m := it.(map[string]any)
		moved := m["topic"] == "orders" && m["partition"].(float64) <= 1
		if m["leaderAfter"] != m["preferredLeader"] || (m["leaderBefore"] != m["leaderAfter"]) != moved ||
			(m["result"] == "elected") != moved {
			t.Fatalf("partition result = %v", m)
		}
	}
	topics := body["topics"].([]any)
	if len(topics) != 2 || topics[0].(map[string]any)["preferredLeaderBefore"] != float64(50) || topics[0].(map[string]any)["preferredLeaderAfter"] != float64(100) {
		t.Fatalf("topics = %v", topics)
	}
	if _, e := f.counts(); e != 1 {
		t.Fatalf("%d ElectLeaders requests, want 1 (one topic)", e)
	}
	// The next snapshot (taken by the election) shows every leader preferred: nothing left to elect.
	latest, _ := f.svc.Snapshot("fake")
	if latest.Cluster.Sequence == snap.Cluster.Sequence {
		t.Fatal("the election did not poll")
	}
	code, body = opsCall(t, f.h, "POST", "/api/v1/clusters/fake/elections", opsTestToken, `{}`)
	if code != 200 || body["total"] != float64(8) || body["notNeeded"] != float64(8) || body["elected"] != float64(0) {
		t.Fatalf("second election = %d %v", code, body)
	}
}

func TestReassignmentCompletesAndRemovesThrottles(t *testing.T) {
	f := newOpsFixture(t)
	f.fakeController(t, false)
	var mu sync.Mutex
	var alters []*kmsg.IncrementalAlterConfigsRequest
	f.kc.ControlKey(int16(kmsg.IncrementalAlterConfigs), func(r kmsg.Request) (kmsg.Response, error, bool) {
		mu.Lock()
		alters = append(alters, r.(*kmsg.IncrementalAlterConfigsRequest))
		mu.Unlock()
		return nil, nil, false
	})
	base := "/api/v1/clusters/fake/reassignments"
	// payments: RF 3 on brokers 0..2 → RF 2 on brokers 0 and 1.
	code, plan := opsCall(t, f.h, "POST", base+"/plan", opsTestToken, `{"topics":["payments"],"brokers":[0,1],"replicationFactor":2}`)
	if code != 200 {
		t.Fatalf("plan = %d %v", code, plan)
	}
	pb, _ := json.Marshal(plan)
	code, body := opsCall(t, f.h, "POST", base, opsTestToken, `{"plan":`+string(pb)+`,"throttleBytesPerSec":500000}`)
	if code != 202 || body["started"] != float64(4) {
		t.Fatalf("execute = %d %v", code, body)
	}
	mu.Lock()
	setOps := 0
	rates := map[string]string{} // broker → leader rate set
	for _, a := range alters {
		for _, r := range a.Resources {
			for _, c := range r.Configs {
				if r.ResourceName == "payments" && c.Op == kmsg.IncrementalAlterConfigOpSet &&
					(c.Name == "leader.replication.throttled.replicas" || c.Name == "follower.replication.throttled.replicas") {
					setOps++
				}
				if r.ResourceType == kmsg.ConfigResourceTypeBroker && c.Op == kmsg.IncrementalAlterConfigOpSet && c.Name == "leader.replication.throttled.rate" {
					rates[r.ResourceName] = *c.Value
				}
			}
		}
	}
	mu.Unlock()
	// RF 3 → 2 on brokers already holding replicas adds no replica: only the leader list is set.
	if setOps != 1 {
		t.Fatalf("throttle set ops on payments = %d, want 1 (leader list)", setOps)
	}
	// The rate on every broker the move involves (payments lives on 0, 1 and 2).
	if len(rates) != 3 || rates["0"] != "500000" || rates["1"] != "500000" || rates["2"] != "500000" {
		t.Fatalf("broker rates set = %v, want 500000 on brokers 0, 1 and 2", rates)
	}
	// Before a poll shows the targets, the reassignment runs.
	_, body = opsCall(t, f.h, "GET", base, "", "")
	if st := body["history"].([]any)[0].(map[string]any)["state"]; st != "running" {
		t.Fatalf("state before a poll = %v", st)
	}
	snap, err := f.svc.PollNow(context.Background(), "fake")
	if err != nil {
		t.Fatal(err)
	}
	for _, tp := range snap.Topics {
		if tp.Name == "payments" && tp.ReplicationFactor != 2 {
			t.Fatalf("payments RF after the move = %d", tp.ReplicationFactor)
		}
	}
	code, body = opsCall(t, f.h, "GET", base, "", "")
	rec := body["history"].([]any)[0].(map[string]any)
	if code != 200 || rec["state"] != "completed" || rec["finishedAt"] == nil || len(rec["partitions"].([]any)) != 4 {
		t.Fatalf("after completion = %d %v", code, body)
	}
	mu.Lock()
	defer mu.Unlock()
	deleted := map[string]bool{}
	for _, a := range alters {
		for _, r := range a.Resources {
			for _, c := range r.Configs {
				if r.ResourceName == "payments" && c.Op == kmsg.IncrementalAlterConfigOpDelete {
					deleted[c.Name] = true
				}
			}
		}
	}
	if !deleted["leader.replication.throttled.replicas"] || !deleted["follower.replication.throttled.replicas"] {
		t.Fatalf("throttles not removed on completion: %v", deleted)
	}
	ratesLeft := map[string]bool{}
	for b := range rates {
		ratesLeft[b] = true
	}
	for _, a := range alters {
		for _, r := range a.Resources {
			for _, c := range r.Configs {
				if r.ResourceType == kmsg.ConfigResourceTypeBroker && c.Op == kmsg.IncrementalAlterConfigOpDelete && c.Name == "leader.replication.throttled.rate" {
					delete(ratesLeft, r.ResourceName)
				}
			}
		}
	}
	if len(ratesLeft) != 0 {
		t.Fatalf("broker rates not removed on completion on %v", ratesLeft)
	}
	// Nothing is left to cancel.
	if code, body := opsCall(t, f.h, "DELETE", base, opsTestToken, ""); code != 409 || errorCode(body) != "no_reassignment" {
		t.Fatalf("cancel after completion = %d %v", code, body)
	}
}

func TestAllReassignmentsShowsEveryCluster(t *testing.T) {
	f := newOpsFixture(t)
	if err := f.svc.AddCluster(context.Background(), service.ClusterSpec{Name: "down", Admin: admin.Config{Bootstrap: []string{"127.0.0.1:1"}}}); err != nil {
		t.Fatal(err)
	}
	code, body := opsCall(t, f.h, "GET", "/api/v1/reassignments", "", "")
	if code != 200 || body["total"] != float64(2) {
		t.Fatalf("all = %d %v", code, body)
	}
	items := body["items"].([]any)
	down, fake := items[0].(map[string]any), items[1].(map[string]any)
	if down["cluster"] != "down" || !strings.Contains(down["error"].(string), "not been polled") || len(down["items"].([]any)) != 0 {
		t.Fatalf("down cluster row = %v", down)
	}
	if fake["cluster"] != "fake" || fake["error"] != nil || fake["total"] != float64(0) {
		t.Fatalf("fake cluster row = %v", fake)
	}
}

func TestCheckReassignmentsAsksKafkaOnlyWhileOneRuns(t *testing.T) {
	f := newOpsFixture(t)
	f.fakeController(t, false)
	var mu sync.Mutex
	lists := 0
	f.kc.ControlKey(int16(kmsg.ListPartitionReassignments), func(kmsg.Request) (kmsg.Response, error, bool) {
		mu.Lock()
		lists++
		mu.Unlock()
		return nil, nil, false
	})
	listed := func() int { mu.Lock(); defer mu.Unlock(); return lists }
	ctx := context.Background()
	if err := f.svc.CheckReassignments(ctx, "fake"); err != nil || listed() != 0 {
		t.Fatalf("idle check: err %v, %d list requests", err, listed())
	}
	code, body := opsCall(t, f.h, "POST", "/api/v1/clusters/fake/reassignments", opsTestToken,
		`{"partitions":[{"topic":"orders","partition":0,"replicas":[2,1]}]}`)
	if code != 202 {
		t.Fatalf("execute = %d %v", code, body)
	}
	if _, err := f.svc.PollNow(ctx, "fake"); err != nil {
		t.Fatal(err)
	}
	before := listed()
	if err := f.svc.CheckReassignments(ctx, "fake"); err != nil || listed() != before+1 {
		t.Fatalf("check while running: err %v, %d list requests (before %d)", err, listed(), before)
	}
	rows, _ := f.st.Reassignments(ctx, "fake", 10)
	if len(rows) != 1 || rows[0].State != service.ReassignCompleted {
		t.Fatalf("rows = %+v", rows)
	}
	if err := f.svc.CheckReassignments(ctx, "nope"); !errors.Is(err, service.ErrUnknownCluster) {
		t.Fatalf("unknown cluster: %v", err)
	}
}
