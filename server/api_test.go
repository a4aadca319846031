package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/osprey-kafka/osprey/admin"
	"github.com/osprey-kafka/osprey/collector"
	"github.com/osprey-kafka/osprey/internal/testenv"
	"github.com/osprey-kafka/osprey/server/service"
	"github.com/osprey-kafka/osprey/store"
)

const testToken = "test-admin-token-123456"

// apiEnv is a console wired to a kfake cluster and a real SQLite store.
type apiEnv struct {
	t   *testing.T
	kc  *kfake.Cluster
	st  *store.Store
	svc *service.Service
	srv *Server
}

func newAPIEnv(t *testing.T, opts ...func(*Options)) *apiEnv {
	t.Helper()
	kc, err := kfake.NewCluster(kfake.NumBrokers(3), kfake.SeedTopics(3, "orders"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kc.Close)
	ctx := context.Background()
	st := openTestStore(t)
	svc := service.New(service.Options{Store: st, Logger: quietLogger(), DataDir: t.TempDir(),
		Collector: collector.Config{OffsetsInterval: time.Hour, GroupsInterval: time.Hour}})
	if _, err := svc.SetupAdminToken(ctx, testToken); err != nil {
		t.Fatal(err)
	}
	if err := svc.AddCluster(ctx, service.ClusterSpec{Name: "fake", Source: "config", Admin: admin.Config{Bootstrap: kc.ListenAddrs()}}); err != nil {
		t.Fatal(err)
	}
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Stop)
	o := Options{Service: svc, Logger: quietLogger()}
	for _, f := range opts {
		f(&o)
	}
	e := &apiEnv{t: t, kc: kc, st: st, svc: svc, srv: newTestServer(t, o)}
	e.poll()
	return e
}

func (e *apiEnv) poll() {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if _, err := e.svc.PollNow(ctx, "fake"); err != nil {
		e.t.Fatal(err)
	}
}

// call sends a request; token "" sends none. The JSON answer is decoded into a generic map.
func (e *apiEnv) call(method, path, token string, body any) (int, map[string]any) {
	e.t.Helper()
	var rd *bytes.Reader
	switch b := body.(type) {
	case nil:
		rd = bytes.NewReader(nil)
	case string:
		rd = bytes.NewReader([]byte(b))
	default:
		raw, _ := json.Marshal(b)
		rd = bytes.NewReader(raw)
	}
	req := httptest.NewRequest(method, path, rd)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	e.srv.Handler().ServeHTTP(rec, req)
	var out map[string]any
	if rec.Body.Len() > 0 {
		_ = json.Unmarshal(rec.Body.Bytes(), &out)
	}
	return rec.Code, out
}

// topicExists asks the cluster itself, through a fresh client (kgo caches metadata).
func (e *apiEnv) topicExists(name string) bool {
	e.t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.kc.ListenAddrs()...))
	if err != nil {
		e.t.Fatal(err)
	}
	defer cl.Close()
	md, err := kadm.NewClient(cl).Metadata(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	_, ok := md.Topics[name]
	return ok
}

func items(body map[string]any) []map[string]any {
	raw, _ := body["items"].([]any)
	out := make([]map[string]any, 0, len(raw))
	for _, r := range raw {
		out = append(out, r.(map[string]any))
	}
	return out
}

func TestReadEndpoints(t *testing.T) {
	e := newAPIEnv(t)
	code, body := e.call("GET", "/api/v1/clusters/fake/brokers", "", nil)
	if code != 200 || body["total"] != float64(3) {
		t.Fatalf("brokers = %d %v", code, body)
	}
	code, body = e.call("GET", "/api/v1/clusters/fake/topics", "", nil)
	if code != 200 || body["total"] != float64(1) || items(body)[0]["name"] != "orders" || items(body)[0]["partitions"] != float64(3) {
		t.Fatalf("topics = %d %v", code, body)
	}
	for _, key := range []string{"replicationFactor", "underReplicated", "brokerSpread", "brokerSkew", "leaderSkew"} {
		if _, ok := items(body)[0][key]; !ok {
			t.Errorf("topic row lacks %q", key)
		}
	}
	code, body = e.call("GET", "/api/v1/clusters/fake/topics/orders", "", nil)
	if code != 200 || len(body["partitionList"].([]any)) != 3 {
		t.Fatalf("topic detail = %d %v", code, body)
	}
	cases := []struct {
		path, code string
		status     int
	}{
		{"/api/v1/clusters/nope/topics", "cluster_not_found", 404},
		{"/api/v1/clusters/fake/topics/nope", "topic_not_found", 404},
		{"/api/v1/clusters/fake/groups/nope", "group_not_found", 404},
		{"/api/v1/clusters/fake/topics?sort=bogus", "bad_sort", 400},
		{"/api/v1/clusters/fake/topics?limit=0", "bad_request", 400},
		{"/api/v1/clusters/fake/topics?order=sideways", "bad_request", 400},
		{"/api/v1/clusters/fake/topics/orders/metrics?from=yesterday", "bad_request", 400},
		{"/api/v1/clusters/fake/metrics/cluster?step=2m", "bad_request", 400},
		{"/api/v1/clusters/fake/brokers/x/metrics", "bad_request", 400},
	}
	for _, c := range cases {
		code, body := e.call("GET", c.path, "", nil)
		if code != c.status || errorCode(body) != c.code {
			t.Errorf("GET %s = %d %v, want %d %s", c.path, code, body, c.status, c.code)
		}
	}
}

func TestTopicLifecycleAndAuth(t *testing.T) {
	e := newAPIEnv(t)
	create := map[string]any{"name": "payments", "partitions": 6, "replicationFactor": 3, "configs": map[string]string{"retention.ms": "3600000"}}

	// No token, a wrong token: refused and nothing created.
	if code, body := e.call("POST", "/api/v1/clusters/fake/topics", "", create); code != 401 || errorCode(body) != "unauthorized" {
		t.Fatalf("no token = %d %v", code, body)
	}
	if code, body := e.call("POST", "/api/v1/clusters/fake/topics", "wrong-token-wrong-token", create); code != 401 || errorCode(body) != "invalid_token" {
		t.Fatalf("wrong token = %d %v", code, body)
	}
	if e.topicExists("payments") {
		t.Fatal("a refused request created the topic")
	}

	// Bad inputs: 400 with the reason, nothing created.
	bad := []struct {
		body any
		want string
	}{
		{map[string]any{"name": "bad name", "partitions": 1, "replicationFactor": 1}, "invalid_topic_name"},
		{map[string]any{"name": "..", "partitions": 1, "replicationFactor": 1}, "invalid_topic_name"},
		{map[string]any{"name": strings.Repeat("x", 250), "partitions": 1, "replicationFactor": 1}, "invalid_topic_name"},
		{map[string]any{"name": "ok", "partitions": -1, "replicationFactor": 1}, "invalid_partitions"},
		{map[string]any{"name": "ok", "partitions": 1, "replicationFactor": 4}, "invalid_replication_factor"},
		{map[string]any{"name": "ok", "partitions": 1, "replicationFactor": 0}, "invalid_replication_factor"},
		{map[string]any{"name": "ok", "partitions": 1, "replicationFactor": 1, "colour": "red"}, "bad_request"},
		{`{"name": "ok", "partitions": `, "bad_request"},
		{`{"name": "ok", "partitions": "six"}`, "bad_request"},
		{"", "bad_request"},
	}
	for _, b := range bad {
		code, body := e.call("POST", "/api/v1/clusters/fake/topics", testToken, b.body)
		if code != 400 || errorCode(body) != b.want {
			t.Errorf("create %v = %d %v, want 400 %s", b.body, code, body, b.want)
		}
		if msg, _ := body["error"].(map[string]any)["message"].(string); msg == "" {
			t.Errorf("create %v: no reason given", b.body)
		}
	}
	if e.topicExists("ok") {
		t.Fatal("an invalid request created a topic")
	}

	code, body := e.call("POST", "/api/v1/clusters/fake/topics", testToken, create)
	if code != 201 || body["name"] != "payments" || body["partitions"] != float64(6) {
		t.Fatalf("create = %d %v", code, body)
	}
	if !e.topicExists("payments") {
		t.Fatal("topic not on the cluster")
	}
	if code, body := e.call("POST", "/api/v1/clusters/fake/topics", testToken, create); code != 409 || errorCode(body) != "topic_exists" {
		t.Fatalf("duplicate create = %d %v", code, body)
	}

	// Configs: set one, see it described.
	code, body = e.call("PATCH", "/api/v1/clusters/fake/topics/payments/configs", testToken, map[string]any{"set": map[string]string{"retention.ms": "7200000"}})
	if code != 200 {
		t.Fatalf("alter configs = %d %v", code, body)
	}
	found := false
	for _, it := range items(body) {
		if it["name"] == "retention.ms" && it["value"] == "7200000" {
			found = true
		}
	}
	if !found {
		t.Fatalf("retention.ms not updated: %v", body)
	}
	if code, body := e.call("PATCH", "/api/v1/clusters/fake/topics/payments/configs", testToken, map[string]any{}); code != 400 || errorCode(body) != "empty_change" {
		t.Fatalf("empty config change = %d %v", code, body)
	}

	// Partitions: only up.
	if code, body := e.call("POST", "/api/v1/clusters/fake/topics/payments/partitions", testToken, map[string]any{"partitions": 4}); code != 400 || errorCode(body) != "invalid_partitions" {
		t.Fatalf("shrinking partitions = %d %v", code, body)
	}
	code, body = e.call("POST", "/api/v1/clusters/fake/topics/payments/partitions", testToken, map[string]any{"partitions": 8})
	if code != 200 || body["partitions"] != float64(8) {
		t.Fatalf("add partitions = %d %v", code, body)
	}

	// Delete: internal refused, unknown 404, real one gone.
	if code, body := e.call("DELETE", "/api/v1/clusters/fake/topics/__consumer_offsets", testToken, nil); code != 403 || errorCode(body) != "internal_topic" {
		t.Fatalf("delete internal = %d %v", code, body)
	}
	if code, _ := e.call("DELETE", "/api/v1/clusters/fake/topics/nope", testToken, nil); code != 404 {
		t.Fatalf("delete unknown = %d", code)
	}
	if code, _ := e.call("DELETE", "/api/v1/clusters/fake/topics/payments", "", nil); code != 401 || !e.topicExists("payments") {
		t.Fatalf("delete without token = %d", code)
	}
	if code, body := e.call("DELETE", "/api/v1/clusters/fake/topics/payments", testToken, nil); code != 204 {
		t.Fatalf("delete = %d %v", code, body)
	}
	testenv.WaitFor(t, 10*time.Second, testenv.Until("the topic to leave the cluster", func() bool { return !e.topicExists("payments") }))
	if code, _ := e.call("GET", "/api/v1/clusters/fake/topics/payments", "", nil); code != 404 {
		t.Fatalf("deleted topic still in the snapshot: %d", code)
	}

	// The audit log holds every change with its caller, and the refusals.
	code, body = e.call("GET", "/api/v1/audit?limit=100", testToken, nil)
	if code != 200 {
		t.Fatalf("audit = %d %v", code, body)
	}
	seen := map[string]string{}
	for _, it := range items(body) {
		seen[it["action"].(string)+"/"+it["result"].(string)] = it["actor"].(string)
	}
	for _, want := range []string{"topic.create/ok", "topic.configs/ok", "topic.partitions/ok", "topic.delete/ok", "topic.create/denied"} {
		if seen[want] == "" {
			t.Errorf("audit lacks %s: %v", want, seen)
		}
	}
	if seen["topic.create/ok"] != "admin-token" {
		t.Errorf("audit caller = %q", seen["topic.create/ok"])
	}
	if code, _ := e.call("GET", "/api/v1/audit", "", nil); code != 401 {
		t.Fatalf("audit without token = %d", code)
	}
}

func TestReadOnlyRefusesMutations(t *testing.T) {
	e := newAPIEnv(t, func(o *Options) { o.ReadOnly = true })
	code, body := e.call("POST", "/api/v1/clusters/fake/topics", testToken, map[string]any{"name": "x", "partitions": 1, "replicationFactor": 1})
	if code != 403 || errorCode(body) != "read_only" || e.topicExists("x") {
		t.Fatalf("read-only create = %d %v", code, body)
	}
}

func TestXOspreyTokenHeader(t *testing.T) {
	e := newAPIEnv(t)
	req := httptest.NewRequest("POST", "/api/v1/clusters/fake/topics", strings.NewReader(`{"name":"viaheader","partitions":1,"replicationFactor":1}`))
	req.Header.Set("X-Osprey-Token", testToken)
	rec := httptest.NewRecorder()
	e.srv.Handler().ServeHTTP(rec, req)
	if rec.Code != 201 || !e.topicExists("viaheader") {
		t.Fatalf("X-Osprey-Token create = %d %s", rec.Code, rec.Body.String())
	}
}

func TestGroupOffsetsResetAndDelete(t *testing.T) {
	e := newAPIEnv(t)
	ctx := context.Background()
	// Produce 30 records, consume all with a group that commits, then stop the consumer.
	prod, err := kgo.NewClient(kgo.SeedBrokers(e.kc.ListenAddrs()...), kgo.DefaultProduceTopic("orders"), kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 30; i++ {
		if err := prod.ProduceSync(ctx, &kgo.Record{Value: []byte{byte(i)}}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	prod.Close()
	cons, err := kgo.NewClient(kgo.SeedBrokers(e.kc.ListenAddrs()...), kgo.ConsumeTopics("orders"), kgo.ConsumerGroup("billing"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DisableAutoCommit())
	if err != nil {
		t.Fatal(err)
	}
	got := 0
	for got < 30 {
		fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		fs := cons.PollFetches(fctx)
		timedOut := fctx.Err() != nil
		cancel()
		if timedOut {
			t.Fatalf("consumed %d of 30", got)
		}
		got += fs.NumRecords()
	}
	if err := cons.CommitUncommittedOffsets(ctx); err != nil {
		t.Fatal(err)
	}

	// While the consumer is in the group, a reset is refused.
	e.svc.PollNow(ctx, "fake")
	waitGroup := func(pred func(map[string]any) bool) map[string]any {
		var body map[string]any
		testenv.WaitFor(t, 15*time.Second, func() error {
			e.poll()
			var code int
			if code, body = e.call("GET", "/api/v1/clusters/fake/groups/billing", "", nil); code != 200 || !pred(body) {
				return fmt.Errorf("group not in the expected state: %d %v", code, body)
			}
			return nil
		})
		return body
	}
	waitGroup(func(b map[string]any) bool { return b["members"] == float64(1) })
	// The dry run is a plan, not a change: it is answered for the active group too.
	code, body := e.call("POST", "/api/v1/clusters/fake/groups/billing/offsets", testToken, map[string]any{"strategy": "earliest", "dryRun": true})
	if code != 200 || body["dryRun"] != true || body["total"] != float64(3) {
		t.Fatalf("dry run of an active group = %d %v", code, body)
	}
	for _, it := range items(body) {
		if it["after"] != float64(0) || it["before"] != float64(10) {
			t.Fatalf("dry run item %v: want 10 → 0", it)
		}
	}
	code, body = e.call("POST", "/api/v1/clusters/fake/groups/billing/offsets", testToken, map[string]any{"strategy": "earliest"})
	if code != 409 || errorCode(body) != "group_active" || !strings.Contains(fmt.Sprint(body["error"]), "member") {
		t.Fatalf("reset of an active group = %d %v", code, body)
	}
	// The refused execution is in the audit log; the dry run is not (it changed nothing).
	refused, _, err := e.st.Audit(ctx, store.AuditFilter{Action: "group.offsets.reset"})
	if err != nil {
		t.Fatal(err)
	}
	if len(refused) != 1 || refused[0].Result != "error" || !strings.Contains(refused[0].Error, "member") {
		t.Fatalf("audit after the refused reset = %+v", refused)
	}
	cons.Close()
	waitGroup(func(b map[string]any) bool { return b["members"] == float64(0) && b["lag"] == float64(0) })

	// Bad strategies are 400s.
	for _, b := range []map[string]any{{"strategy": "sideways"}, {"strategy": "offset"}, {"strategy": "shift"}, {"strategy": "earliest", "partitions": []int{0}}} {
		if code, body := e.call("POST", "/api/v1/clusters/fake/groups/billing/offsets", testToken, b); code != 400 {
			t.Errorf("reset %v = %d %v, want 400", b, code, body)
		}
	}
	// Dry run changes nothing.
	code, body = e.call("POST", "/api/v1/clusters/fake/groups/billing/offsets", testToken, map[string]any{"strategy": "earliest", "dryRun": true})
	if code != 200 || body["total"] != float64(3) {
		t.Fatalf("dry run = %d %v", code, body)
	}
	// Rewind to the start: the lag becomes all 30 records.
	code, body = e.call("POST", "/api/v1/clusters/fake/groups/billing/offsets", testToken, map[string]any{"strategy": "earliest"})
	if code != 200 {
		t.Fatalf("reset = %d %v", code, body)
	}
	waitGroup(func(b map[string]any) bool { return b["lag"] == float64(30) })
	// Every poll also went to the store: the lag history has a point with all 30 records behind.
	testenv.WaitFor(t, 10*time.Second, func() error {
		_, body := e.call("GET", "/api/v1/clusters/fake/groups/billing/lag?step=raw", "", nil)
		for _, it := range items(body) {
			if it["values"].(map[string]any)["lag"] == float64(30) {
				return nil
			}
		}
		e.poll()
		return fmt.Errorf("lag history does not show 30: %v", body)
	})
	// Shift forward by 5 on every partition: lag 30 - 15.
	code, body = e.call("POST", "/api/v1/clusters/fake/groups/billing/offsets", testToken, map[string]any{"strategy": "shift", "shift": 5})
	if code != 200 {
		t.Fatalf("shift = %d %v", code, body)
	}
	waitGroup(func(b map[string]any) bool { return b["lag"] == float64(15) })

	if code, _ := e.call("DELETE", "/api/v1/clusters/fake/groups/billing", "", nil); code != 401 {
		t.Fatalf("delete group without token = %d", code)
	}
	if code, body := e.call("DELETE", "/api/v1/clusters/fake/groups/billing", testToken, nil); code != 204 {
		t.Fatalf("delete group = %d %v", code, body)
	}
	e.poll()
	if code, _ := e.call("GET", "/api/v1/clusters/fake/groups/billing", "", nil); code != 404 {
		t.Fatalf("deleted group still listed: %d", code)
	}
}

func TestSessionLoginWithCSRF(t *testing.T) {
	e := newAPIEnv(t)
	// Create an operator account with the admin token.
	code, body := e.call("POST", "/api/v1/users", testToken, map[string]any{"username": "olga", "password": "correct horse", "role": "operator"})
	if code != 201 {
		t.Fatalf("create user = %d %v", code, body)
	}
	if code, body := e.call("POST", "/api/v1/users", testToken, map[string]any{"username": "olga", "password": "correct horse", "role": "operator"}); code != 409 {
		t.Fatalf("duplicate user = %d %v", code, body)
	}
	if code, _ := e.call("POST", "/api/v1/auth/login", "", map[string]any{"username": "olga", "password": "wrong"}); code != 401 {
		t.Fatalf("bad password = %d", code)
	}
	req := httptest.NewRequest("POST", "/api/v1/auth/login", strings.NewReader(`{"username":"olga","password":"correct horse"}`))
	rec := httptest.NewRecorder()
	e.srv.Handler().ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Fatalf("login = %d %s", rec.Code, rec.Body.String())
	}
	var login struct {
		CSRFToken string `json:"csrfToken"`
		Role      string `json:"role"`
	}
	_ = json.Unmarshal(rec.Body.Bytes(), &login)
	cookies := rec.Result().Cookies()
	if len(cookies) == 0 || !cookies[0].HttpOnly || login.CSRFToken == "" || login.Role != "operator" {
		t.Fatalf("login answer: cookies %v, %+v", cookies, login)
	}
	send := func(method, path, csrf, body string) int {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.AddCookie(cookies[0])
		if csrf != "" {
			req.Header.Set(csrfHeader, csrf)
		}
		rec := httptest.NewRecorder()
		e.srv.Handler().ServeHTTP(rec, req)
		return rec.Code
	}
	topic := `{"name":"bysession","partitions":1,"replicationFactor":1}`
	if code := send("POST", "/api/v1/clusters/fake/topics", "", topic); code != 403 || e.topicExists("bysession") {
		t.Fatalf("session mutation without CSRF = %d", code)
	}
	if code := send("POST", "/api/v1/clusters/fake/topics", login.CSRFToken, topic); code != 201 {
		t.Fatalf("session mutation with CSRF = %d", code)
	}
	// An operator may not delete topics (admin only).
	if code := send("DELETE", "/api/v1/clusters/fake/topics/bysession", login.CSRFToken, ""); code != 403 || !e.topicExists("bysession") {
		t.Fatalf("operator delete = %d", code)
	}
	if code := send("POST", "/api/v1/auth/logout", "", ""); code != 204 {
		t.Fatalf("logout = %d", code)
	}
	if code := send("POST", "/api/v1/clusters/fake/topics", login.CSRFToken, `{"name":"afterlogout","partitions":1,"replicationFactor":1}`); code != 401 {
		t.Fatalf("mutation after logout = %d", code)
	}
}

func TestLoginRateLimited(t *testing.T) {
	e := newAPIEnv(t)
	var last int
	for i := 0; i < 12; i++ {
		last, _ = e.call("POST", "/api/v1/auth/login", "", map[string]any{"username": "x", "password": "y"})
	}
	if last != http.StatusTooManyRequests {
		t.Fatalf("12th login attempt = %d, want 429", last)
	}
}

func TestSeriesEndpoints(t *testing.T) {
	e := newAPIEnv(t)
	now := time.Now().Truncate(time.Second)
	var b store.Batch
	for i := 0; i < 3; i++ {
		ts := now.Add(time.Duration(i-3) * time.Minute).Unix()
		b.Topics = append(b.Topics, store.TopicPoint{Cluster: "fake", Topic: "orders", Ts: ts, EndOffset: int64(100 * i), MsgsPerSec: 1.5})
		b.Groups = append(b.Groups,
			store.GroupPoint{Cluster: "fake", GroupName: "billing", Topic: "orders", Ts: ts, Lag: 10, LagMax: 10, LagSeconds: 2},
			store.GroupPoint{Cluster: "fake", GroupName: "billing", Topic: "payments", Ts: ts, Lag: 5, LagMax: 5, LagSeconds: 7})
		b.Brokers = append(b.Brokers, store.BrokerPoint{Cluster: "fake", BrokerID: 1, Ts: ts, Up: 1, Leaders: 2})
		b.Clusters = append(b.Clusters, store.ClusterPoint{Cluster: "fake", Ts: ts, Brokers: 3, BrokersUp: 3, TotalLag: 15})
	}
	if err := e.st.WriteBatch(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	// The console's own poll at start wrote a point at "now" too; read up to a minute ago.
	until := fmt.Sprint(now.Add(-time.Minute).Unix())
	code, body := e.call("GET", "/api/v1/clusters/fake/topics/orders/metrics?step=raw&to="+until, "", nil)
	if code != 200 || body["total"] != float64(3) || items(body)[2]["values"].(map[string]any)["endOffset"] != float64(200) {
		t.Fatalf("topic metrics = %d %v", code, body)
	}
	code, body = e.call("GET", "/api/v1/clusters/fake/brokers/1/metrics?to="+until, "", nil)
	if code != 200 || body["total"] != float64(3) || body["step"] != float64(0) {
		t.Fatalf("broker metrics = %d %v", code, body)
	}
	code, body = e.call("GET", "/api/v1/clusters/fake/metrics/cluster?to="+until, "", nil)
	if code != 200 || items(body)[0]["values"].(map[string]any)["lag"] != float64(15) {
		t.Fatalf("cluster metrics = %d %v", code, body)
	}
	// The group exists only in the store here, not in the snapshot: the endpoint says so.
	if code, _ := e.call("GET", "/api/v1/clusters/fake/groups/billing/lag", "", nil); code != 404 {
		t.Fatalf("lag of a group the cluster does not have = %d", code)
	}
	from := now.Add(-10 * time.Minute).Format(time.RFC3339)
	if code, body := e.call("GET", "/api/v1/clusters/fake/metrics/cluster?from="+from+"&to="+from, "", nil); code != 400 {
		t.Fatalf("empty range = %d %v", code, body)
	}
}

// TestTopicCreateRefusesCollidingName: Kafka treats '.' and '_' alike in metric names, so a topic
// whose name differs from an existing one only there is refused before the cluster is asked.
func TestTopicCreateRefusesCollidingName(t *testing.T) {
	e := newAPIEnv(t)
	if code, body := e.call("POST", "/api/v1/clusters/fake/topics", testToken, map[string]any{"name": "pay_ments", "partitions": 1, "replicationFactor": 1}); code != 201 {
		t.Fatalf("create pay_ments = %d %v", code, body)
	}
	if code, body := e.call("POST", "/api/v1/clusters/fake/topics", testToken, map[string]any{"name": "pay.ments", "partitions": 1, "replicationFactor": 1}); code != 409 || errorCode(body) != "topic_collides" {
		t.Fatalf("create pay.ments = %d %v, want 409 topic_collides", code, body)
	}
	if e.topicExists("pay.ments") {
		t.Fatal("the colliding topic was created")
	}
}

func TestTopicListSortPageAndRefresh(t *testing.T) {
	e := newAPIEnv(t)
	for i, n := range []int{5, 1, 3} {
		body := map[string]any{"name": fmt.Sprintf("t%d", i), "partitions": n, "replicationFactor": 1}
		if code, b := e.call("POST", "/api/v1/clusters/fake/topics", testToken, body); code != 201 {
			t.Fatalf("create = %d %v", code, b)
		}
	}
	names := func(path string) string {
		_, body := e.call("GET", path, "", nil)
		var out []string
		for _, it := range items(body) {
			out = append(out, it["name"].(string))
		}
		return fmt.Sprint(out, body["total"])
	}
	// orders has 3 partitions, t0 5, t1 1, t2 3; ties break by name.
	if got := names("/api/v1/clusters/fake/topics?sort=partitions&order=desc"); got != "[t0 orders t2 t1] 4" {
		t.Fatalf("by partitions desc = %s", got)
	}
	if got := names("/api/v1/clusters/fake/topics?sort=partitions&order=desc&limit=2&offset=1"); got != "[orders t2] 4" {
		t.Fatalf("second page = %s", got)
	}
	if got := names("/api/v1/clusters/fake/topics?sort=partitions&search=T"); got != "[t1 t2 t0] 3" {
		t.Fatalf("search within the order = %s", got)
	}
	// A new snapshot brings a new topic into the same (cached) ordering.
	if code, b := e.call("POST", "/api/v1/clusters/fake/topics", testToken, map[string]any{"name": "big", "partitions": 9, "replicationFactor": 1}); code != 201 {
		t.Fatalf("create big = %d %v", code, b)
	}
	if got := names("/api/v1/clusters/fake/topics?sort=partitions&order=desc&limit=1"); got != "[big] 5" {
		t.Fatalf("after a new topic = %s", got)
	}
}

func TestTokensUsersAndMe(t *testing.T) {
	e := newAPIEnv(t)
	_, me := e.call("GET", "/api/v1/auth/me", "", nil)
	if me["kind"] != "anonymous" || me["loginEnabled"] != false {
		t.Fatalf("anonymous me = %v", me)
	}
	_, me = e.call("GET", "/api/v1/auth/me", testToken, nil)
	if me["kind"] != "admin-token" || me["role"] != "admin" {
		t.Fatalf("admin me = %v", me)
	}

	// A service token with the operator role: can create topics, cannot delete them.
	if code, _ := e.call("POST", "/api/v1/tokens", "", map[string]any{"name": "ci", "role": "operator"}); code != 401 {
		t.Fatalf("token without credentials = %d", code)
	}
	for _, bad := range []map[string]any{{"name": "", "role": "operator"}, {"name": "x", "role": "god"}, {"name": "x", "role": "viewer", "ttl": "soon"}} {
		if code, body := e.call("POST", "/api/v1/tokens", testToken, bad); code != 400 {
			t.Errorf("token %v = %d %v, want 400", bad, code, body)
		}
	}
	code, body := e.call("POST", "/api/v1/tokens", testToken, map[string]any{"name": "ci", "role": "operator", "ttl": "24h"})
	if code != 201 || body["token"] == nil {
		t.Fatalf("create token = %d %v", code, body)
	}
	tok := body["token"].(string)
	if code, _ := e.call("POST", "/api/v1/clusters/fake/topics", tok, map[string]any{"name": "bytoken", "partitions": 1, "replicationFactor": 1}); code != 201 {
		t.Fatalf("operator token create = %d", code)
	}
	if code, body := e.call("DELETE", "/api/v1/clusters/fake/topics/bytoken", tok, nil); code != 403 || errorCode(body) != "forbidden" || !e.topicExists("bytoken") {
		t.Fatalf("operator token delete = %d %v", code, body)
	}
	// A token cannot mint a stronger one, and only admins see users.
	if code, _ := e.call("POST", "/api/v1/tokens", tok, map[string]any{"name": "up", "role": "admin"}); code != 403 {
		t.Fatalf("escalation = %d", code)
	}
	if code, _ := e.call("GET", "/api/v1/users", tok, nil); code != 403 {
		t.Fatalf("users as operator = %d", code)
	}
	if code, _ := e.call("POST", "/api/v1/users", testToken, map[string]any{"username": "vera", "password": "long enough", "role": "viewer"}); code != 201 {
		t.Fatalf("create user = %d", code)
	}
	for _, bad := range []map[string]any{{"username": "v", "password": "long enough", "role": "viewer"}, {"username": "walt", "password": "short", "role": "viewer"}, {"username": "wanda", "password": "long enough", "role": "root"}} {
		if code, body := e.call("POST", "/api/v1/users", testToken, bad); code != 400 {
			t.Errorf("user %v = %d %v, want 400", bad, code, body)
		}
	}
	code, body = e.call("GET", "/api/v1/users", testToken, nil)
	if code != 200 || body["total"] != float64(1) || items(body)[0]["username"] != "vera" {
		t.Fatalf("users = %d %v", code, body)
	}
	if raw := fmt.Sprint(body); strings.Contains(raw, "$2a$") {
		t.Fatal("password hash in the API answer")
	}
	_, me = e.call("GET", "/api/v1/auth/me", tok, nil)
	if me["role"] != "operator" || me["loginEnabled"] != true {
		t.Fatalf("token me = %v", me)
	}
}
