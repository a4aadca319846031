package server

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/osprey-kafka/osprey/admin"
	"github.com/osprey-kafka/osprey/collector"
	"github.com/osprey-kafka/osprey/server/service"
)

// newSecurityEnv is the console on a kfake cluster with SASL and ACLs enabled, connected as the
// SCRAM-SHA-512 super user "console" (kfake lets super users do anything).
func newSecurityEnv(t *testing.T) *apiEnv {
	t.Helper()
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.EnableSASL(), kfake.EnableACLs(),
		kfake.Superuser(admin.SASLScramSHA512, "console", "console-secret"), kfake.SeedTopics(1, "orders"))
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
	cfg := admin.Config{Bootstrap: kc.ListenAddrs(), SASL: admin.SASLConfig{Mechanism: admin.SASLScramSHA512, Username: "console", Password: "console-secret"}}
	if err := svc.AddCluster(ctx, service.ClusterSpec{Name: "fake", Source: "config", Admin: cfg}); err != nil {
		t.Fatal(err)
	}
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Stop)
	return &apiEnv{t: t, kc: kc, st: st, svc: svc, srv: newTestServer(t, Options{Service: svc, Logger: quietLogger()})}
}

// operatorToken mints an API token with the operator role (below admin).
func (e *apiEnv) operatorToken() string {
	e.t.Helper()
	code, body := e.call("POST", "/api/v1/tokens", testToken, map[string]any{"name": "ops", "role": "operator"})
	if code != 201 {
		e.t.Fatalf("operator token = %d %v", code, body)
	}
	return body["token"].(string)
}

func aclBinding(principal, op, perm, rt, name, pattern string) map[string]any {
	return map[string]any{"principal": principal, "host": "*", "operation": op, "permission": perm, "resourceType": rt, "resourceName": name, "patternType": pattern}
}

func TestACLsEndpoints(t *testing.T) {
	e := newSecurityEnv(t)
	const base = "/api/v1/clusters/fake/acls"
	readOrders := aclBinding("User:alice", "READ", "ALLOW", "TOPIC", "orders", "LITERAL")
	denyOrders := aclBinding("User:alice", "READ", "DENY", "TOPIC", "ord", "PREFIXED")
	groupAll := aclBinding("User:alice", "ALL", "ALLOW", "GROUP", "*", "LITERAL")

	// Refusals: an operator may not create, bad bindings are 400 with their code, nothing is created.
	if code, body := e.call("POST", base, e.operatorToken(), map[string]any{"bindings": []any{readOrders}}); code != 403 || errorCode(body) != "forbidden" {
		t.Fatalf("operator create = %d %v", code, body)
	}
	for code, b := range map[string]map[string]any{
		"acl_operation_invalid":   aclBinding("User:alice", "FLY", "ALLOW", "TOPIC", "orders", "LITERAL"),
		"acl_principal_empty":     aclBinding("", "READ", "ALLOW", "TOPIC", "orders", "LITERAL"),
		"acl_principal_invalid":   aclBinding("alice", "READ", "ALLOW", "TOPIC", "orders", "LITERAL"),
		"acl_resource_name_empty": aclBinding("User:alice", "READ", "ALLOW", "TOPIC", "", "LITERAL"),
	} {
		got, body := e.call("POST", base, testToken, map[string]any{"bindings": []any{readOrders, b}})
		if got != 400 || errorCode(body) != code {
			t.Errorf("create %v = %d %v, want 400 %s", b, got, body, code)
		}
	}
	if code, body := e.call("GET", base, "", nil); code != 200 || body["total"] != float64(0) {
		t.Fatalf("ACLs after refusals = %d %v", code, body)
	}

	code, body := e.call("POST", base, testToken, map[string]any{"bindings": []any{readOrders, denyOrders, groupAll}})
	if code != 201 || body["created"] != float64(3) {
		t.Fatalf("create = %d %v", code, body)
	}
	code, body = e.call("GET", base+"?principal=User:alice&resourceType=TOPIC", "", nil)
	if acls, _ := body["acls"].([]any); code != 200 || len(acls) != 2 || body["total"] != float64(3) || body["securityDisabled"] != false {
		t.Fatalf("filtered list = %d %v", code, body)
	}
	if code, body := e.call("GET", base+"?patternType=PREFIXED", "", nil); len(body["acls"].([]any)) != 1 {
		t.Fatalf("PREFIXED list = %d %v", code, body)
	}
	if code, body := e.call("GET", base+"?resourceType=TABLE", "", nil); code != 400 || errorCode(body) != "acl_resource_type_invalid" {
		t.Fatalf("bad filter = %d %v", code, body)
	}

	// The checker: the prefixed DENY wins over the literal ALLOW, and names itself.
	check := func(q url.Values) map[string]any {
		t.Helper()
		code, body := e.call("GET", base+"/check?"+q.Encode(), "", nil)
		if code != 200 {
			t.Fatalf("check %v = %d %v", q, code, body)
		}
		return body
	}
	d := check(url.Values{"principal": {"User:alice"}, "operation": {"READ"}, "resourceType": {"TOPIC"}, "resourceName": {"orders"}})
	if d["allowed"] != false || d["reason"] != "deny_acl" || d["binding"].(map[string]any)["patternType"] != "PREFIXED" {
		t.Fatalf("alice READ orders = %v", d)
	}
	d = check(url.Values{"principal": {"User:alice"}, "operation": {"DESCRIBE"}, "resourceType": {"GROUP"}, "resourceName": {"g1"}, "host": {"10.1.2.3"}})
	if d["allowed"] != true || d["reason"] != "allow_acl" || d["binding"].(map[string]any)["operation"] != "ALL" {
		t.Fatalf("alice DESCRIBE group = %v", d)
	}
	d = check(url.Values{"principal": {"User:bob"}, "operation": {"WRITE"}, "resourceType": {"TOPIC"}, "resourceName": {"payments"}})
	if d["allowed"] != false || d["reason"] != "no_acl_denied" || !strings.Contains(d["explain"].(string), "allow.everyone.if.no.acl.found") {
		t.Fatalf("bob WRITE payments = %v", d)
	}
	if s := d["settings"].(map[string]any); s["read"] != true {
		t.Fatalf("settings not read from the broker: %v", s)
	}
	if code, body := e.call("GET", base+"/check?principal=bob&operation=READ&resourceType=TOPIC&resourceName=x", "", nil); code != 400 || errorCode(body) != "acl_principal_invalid" {
		t.Fatalf("check without type = %d %v", code, body)
	}

	// Delete: exactly one binding; a second time it is gone.
	if code, body := e.call("POST", base+"/delete", testToken, denyOrders); code != 200 || body["deleted"] != float64(1) {
		t.Fatalf("delete = %d %v", code, body)
	}
	if code, body := e.call("POST", base+"/delete", testToken, denyOrders); code != 404 || errorCode(body) != "acl_not_found" {
		t.Fatalf("delete again = %d %v", code, body)
	}
	d = check(url.Values{"principal": {"User:alice"}, "operation": {"READ"}, "resourceType": {"TOPIC"}, "resourceName": {"orders"}})
	if d["allowed"] != true || d["reason"] != "allow_acl" {
		t.Fatalf("after the deny's deletion = %v", d)
	}
	e.wantAudit("acl.create/ok", "acl.delete/ok", "acl.create/denied")
}

// wantAudit checks the audit log has each action/result.
func (e *apiEnv) wantAudit(want ...string) []map[string]any {
	e.t.Helper()
	code, body := e.call("GET", "/api/v1/audit?limit=100", testToken, nil)
	if code != 200 {
		e.t.Fatalf("audit = %d %v", code, body)
	}
	seen := map[string]bool{}
	for _, it := range items(body) {
		seen[it["action"].(string)+"/"+it["result"].(string)] = true
	}
	for _, w := range want {
		if !seen[w] {
			e.t.Errorf("audit lacks %s: %v", w, seen)
		}
	}
	return items(body)
}

func TestScramUsersEndpoints(t *testing.T) {
	e := newSecurityEnv(t)
	const base = "/api/v1/clusters/fake/scram-users"
	for _, tc := range []struct {
		body map[string]any
		code string
	}{
		{map[string]any{"mechanism": "SCRAM-SHA-256", "password": "short"}, "scram_password_too_short"},
		{map[string]any{"mechanism": "SCRAM-SHA-1", "password": "long enough"}, "scram_mechanism_invalid"},
		{map[string]any{"mechanism": "SCRAM-SHA-256", "password": "long enough", "iterations": 1000}, "scram_iterations_invalid"},
		{map[string]any{"mechanism": "SCRAM-SHA-256"}, "scram_password_required"},
	} {
		if code, body := e.call("PUT", base+"/carol", testToken, tc.body); code != 400 || errorCode(body) != tc.code {
			t.Errorf("upsert %v = %d %v, want %s", tc.body, code, body, tc.code)
		}
	}
	if code, _ := e.call("PUT", base+"/carol", e.operatorToken(), map[string]any{"mechanism": "SCRAM-SHA-256", "password": "long enough"}); code != 403 {
		t.Fatalf("operator upsert = %d", code)
	}

	// kfake announces 4096 iterations whatever a credential was made with, so the users that log in
	// here use 4096; dave shows the default.
	const password = "carol-pass-1"
	code, body := e.call("PUT", base+"/carol", testToken, map[string]any{"mechanism": "SCRAM-SHA-256", "password": password, "iterations": 4096})
	if code != 200 || body["iterations"] != float64(4096) || body["generatedPassword"] != nil {
		t.Fatalf("create = %d %v", code, body)
	}
	scramLogin(t, e.kc, "carol", password, false)
	if code, body := e.call("PUT", base+"/dave", testToken, map[string]any{"mechanism": "SCRAM-SHA-512", "password": "dave-pass-1"}); code != 200 || body["iterations"] != float64(8192) {
		t.Fatalf("create with the default iterations = %d %v", code, body)
	}

	// Rotation with a generated password: shown once, and it is the one that now works.
	code, body = e.call("PUT", base+"/carol", testToken, map[string]any{"mechanism": "SCRAM-SHA-256", "generate": true, "iterations": 4096})
	gen, _ := body["generatedPassword"].(string)
	if code != 200 || len(gen) < 20 {
		t.Fatalf("rotate = %d %v", code, body)
	}
	scramLogin(t, e.kc, "carol", gen, false)
	scramLogin(t, e.kc, "carol", password, true)

	code, body = e.call("GET", base, "", nil)
	if code != 200 || !strings.Contains(fmt.Sprint(body["users"]), "map[credentials:[map[iterations:4096 mechanism:SCRAM-SHA-256]] name:carol] map[credentials:[map[iterations:4096 mechanism:SCRAM-SHA-512]] name:console] map[credentials:[map[iterations:8192 mechanism:SCRAM-SHA-512]] name:dave]") {
		t.Fatalf("list = %d %v", code, body)
	}
	if strings.Contains(fmt.Sprint(body), gen) {
		t.Fatal("the list shows the password")
	}
	if code, body := e.call("DELETE", base+"/carol", testToken, nil); code != 204 {
		t.Fatalf("delete = %d %v", code, body)
	}
	if code, body := e.call("DELETE", base+"/carol", testToken, nil); code != 404 || errorCode(body) != "scram_user_not_found" {
		t.Fatalf("delete again = %d %v", code, body)
	}
	// The audit log has the changes and never the passwords.
	for _, it := range e.wantAudit("scram.upsert/ok", "scram.delete/ok", "scram.upsert/denied") {
		if s := fmt.Sprint(it); strings.Contains(s, password) || strings.Contains(s, gen) {
			t.Fatalf("audit entry holds a password: %v", it)
		}
	}
}

// scramLogin authenticates as user with SCRAM-SHA-256 against kc and fails the test unless the
// outcome is as expected.
func scramLogin(t *testing.T, kc *kfake.Cluster, user, password string, wantFail bool) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(kc.ListenAddrs()...), kgo.SASL(scram.Auth{User: user, Pass: password}.AsSha256Mechanism()),
		kgo.RequestRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = cl.Ping(ctx)
	if wantFail != (err != nil) {
		t.Fatalf("SCRAM login as %s: err %v, want failure %v", user, err, wantFail)
	}
}

func TestQuotasEndpoints(t *testing.T) {
	e := newSecurityEnv(t)
	const base = "/api/v1/clusters/fake/quotas"
	for _, tc := range []struct {
		body map[string]any
		code string
	}{
		{map[string]any{"set": map[string]any{"producer_byte_rate": 1024}}, "quota_entity_required"},
		{map[string]any{"user": "alice", "set": map[string]any{"producer_byte_rate": -1}}, "quota_value_invalid"},
		{map[string]any{"user": "alice", "set": map[string]any{"producer_byte_rate": 10.5}}, "quota_value_invalid"},
		{map[string]any{"user": "alice", "set": map[string]any{"fetch_rate": 1}}, "quota_key_invalid"},
		{map[string]any{"user": "alice"}, "quota_no_change"},
	} {
		if code, body := e.call("PUT", base, testToken, tc.body); code != 400 || errorCode(body) != tc.code {
			t.Errorf("alter %v = %d %v, want %s", tc.body, code, body, tc.code)
		}
	}
	if code, _ := e.call("PUT", base, e.operatorToken(), map[string]any{"user": "alice", "set": map[string]any{"producer_byte_rate": 1024}}); code != 403 {
		t.Fatalf("operator alter = %d", code)
	}
	for _, b := range []map[string]any{
		{"user": "alice", "set": map[string]any{"producer_byte_rate": 1048576, "request_percentage": 50}},
		{"user": "<default>", "set": map[string]any{"consumer_byte_rate": 2097152}},
		{"user": "alice", "clientId": "app-1", "set": map[string]any{"controller_mutation_rate": 10}},
	} {
		if code, body := e.call("PUT", base, testToken, b); code != 204 {
			t.Fatalf("alter %v = %d %v", b, code, body)
		}
	}
	code, body := e.call("GET", base, "", nil)
	got := fmt.Sprint(body["entities"])
	for _, want := range []string{"map[user:<default> values:map[consumer_byte_rate:2.097152e+06]]",
		"map[user:alice values:map[producer_byte_rate:1.048576e+06 request_percentage:50]]",
		"map[clientId:app-1 user:alice values:map[controller_mutation_rate:10]]"} {
		if code != 200 || !strings.Contains(got, want) {
			t.Fatalf("quotas = %d %s, want %s", code, got, want)
		}
	}
	if code, body := e.call("PUT", base, testToken, map[string]any{"user": "alice", "remove": []string{"request_percentage"}}); code != 204 {
		t.Fatalf("remove = %d %v", code, body)
	}
	_, body = e.call("GET", base, "", nil)
	if got := fmt.Sprint(body["entities"]); strings.Contains(got, "request_percentage") {
		t.Fatalf("removed quota still there: %s", got)
	}
	e.wantAudit("quota.alter/ok", "quota.alter/denied")
}

// A cluster without an authorizer answers the ACL calls SECURITY_DISABLED: the list says so, the
// checker says everything is allowed, and a create is a 409 security_disabled, not a Kafka failure.
func TestACLsSecurityDisabled(t *testing.T) {
	e := newAPIEnv(t)
	disabled := func(kreq kmsg.Request) (kmsg.Response, error, bool) {
		e.kc.KeepControl()
		switch req := kreq.(type) {
		case *kmsg.DescribeACLsRequest:
			resp := req.ResponseKind().(*kmsg.DescribeACLsResponse)
			resp.ErrorCode = kerr.SecurityDisabled.Code
			return resp, nil, true
		case *kmsg.CreateACLsRequest:
			resp := req.ResponseKind().(*kmsg.CreateACLsResponse)
			for range req.Creations {
				r := kmsg.NewCreateACLsResponseResult()
				r.ErrorCode = kerr.SecurityDisabled.Code
				resp.Results = append(resp.Results, r)
			}
			return resp, nil, true
		}
		return nil, nil, false
	}
	e.kc.ControlKey(int16(kmsg.DescribeACLs), disabled)
	e.kc.ControlKey(int16(kmsg.CreateACLs), disabled)

	code, body := e.call("GET", "/api/v1/clusters/fake/acls", "", nil)
	if code != 200 || body["securityDisabled"] != true {
		t.Fatalf("list = %d %v", code, body)
	}
	code, body = e.call("GET", "/api/v1/clusters/fake/acls/check?principal=User:a&operation=READ&resourceType=TOPIC&resourceName=orders", "", nil)
	if code != 200 || body["allowed"] != true || body["reason"] != "no_authorizer" {
		t.Fatalf("check = %d %v", code, body)
	}
	code, body = e.call("POST", "/api/v1/clusters/fake/acls", testToken, map[string]any{"bindings": []any{aclBinding("User:a", "READ", "ALLOW", "TOPIC", "orders", "LITERAL")}})
	if code != 409 || errorCode(body) != "security_disabled" {
		t.Fatalf("create = %d %v", code, body)
	}
}
