package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/osprey-kafka/osprey/alert"
	"github.com/osprey-kafka/osprey/store"
)

func newAlertEnv(t *testing.T) *apiEnv {
	t.Helper()
	e := newAPIEnv(t)
	ev, err := alert.New(alert.Options{Store: e.st, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if err := ev.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ev.Stop)
	// Handlers read the option per request, so setting it after New is enough here.
	e.srv.opts.Alerts = alert.NewService(ev)
	return e
}

func TestAlertChannelsAndRules(t *testing.T) {
	e := newAlertEnv(t)
	var mu sync.Mutex
	var got []map[string]any
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var m map[string]any
		_ = json.Unmarshal(body, &m)
		mu.Lock()
		got = append(got, m)
		mu.Unlock()
	}))
	defer recv.Close()

	ch := map[string]any{"name": "ops-hook", "type": "webhook", "config": map[string]any{"url": recv.URL, "headers": map[string]string{"Authorization": "Bearer supersecretvalue"}}}
	if code, _ := e.call("POST", "/api/v1/alerts/channels", "", ch); code != 401 {
		t.Fatalf("create channel without token = %d", code)
	}
	code, body := e.call("POST", "/api/v1/alerts/channels", testToken, ch)
	if code != 201 || body["id"] == nil {
		t.Fatalf("create channel = %d %v", code, body)
	}
	id := int64(body["id"].(float64))
	if raw, _ := json.Marshal(body); strings.Contains(string(raw), "supersecretvalue") {
		t.Fatalf("channel secret returned in full: %s", raw)
	}
	_, body = e.call("GET", "/api/v1/alerts/channels", testToken, nil)
	if raw, _ := json.Marshal(body); body["total"] != float64(1) || strings.Contains(string(raw), "supersecretvalue") {
		t.Fatalf("channel list = %s", raw)
	}
	if code, body := e.call("POST", "/api/v1/alerts/channels", testToken, map[string]any{"name": "x", "type": "pigeon", "config": map[string]any{}}); code != 400 {
		t.Fatalf("bad channel type = %d %v", code, body)
	}
	if code, body := e.call("POST", "/api/v1/alerts/channels", testToken, map[string]any{"name": "y", "type": "webhook", "config": map[string]any{"url": "ftp://x"}}); code != 400 {
		t.Fatalf("bad webhook url = %d %v", code, body)
	}

	code, body = e.call("POST", fmt.Sprintf("/api/v1/alerts/channels/%d/test", id), testToken, nil)
	if code != 200 || body["delivered"] != true {
		t.Fatalf("test send = %d %v", code, body)
	}
	mu.Lock()
	n := len(got)
	mu.Unlock()
	if n != 1 {
		t.Fatalf("receiver got %d notifications, want 1", n)
	}
	if code, _ := e.call("POST", "/api/v1/alerts/channels/999/test", testToken, nil); code != 404 {
		t.Fatalf("test unknown channel = %d", code)
	}

	rule := map[string]any{"name": "billing lag", "kind": "lag_messages", "group": "billing", "threshold": 1000, "severity": "critical", "channelIds": []int64{id}}
	code, body = e.call("POST", "/api/v1/alerts/rules", testToken, rule)
	if code != 201 || body["kind"] != "lag_messages" {
		t.Fatalf("create rule = %d %v", code, body)
	}
	ruleID := int64(body["id"].(float64))
	if code, _ := e.call("POST", "/api/v1/alerts/rules", testToken, rule); code != 409 {
		t.Fatalf("duplicate rule = %d", code)
	}
	for _, bad := range []map[string]any{
		{"name": "r", "kind": "nonsense"},
		{"name": "r", "kind": "lag_messages", "channelIds": []int64{12345}},
		{"name": "r", "kind": "lag_messages", "severity": "apocalyptic"},
	} {
		if code, body := e.call("POST", "/api/v1/alerts/rules", testToken, bad); code != 400 || errorCode(body) != "invalid" {
			t.Errorf("rule %v = %d %v, want 400", bad, code, body)
		}
	}
	rule["threshold"] = 5000
	code, body = e.call("PUT", fmt.Sprintf("/api/v1/alerts/rules/%d", ruleID), testToken, rule)
	if code != 200 || body["threshold"] != float64(5000) {
		t.Fatalf("update rule = %d %v", code, body)
	}
	if code, body = e.call("GET", "/api/v1/alerts/rules", "", nil); code != 200 || body["total"] != float64(1) {
		t.Fatalf("list rules = %d %v", code, body)
	}
	if code, _ := e.call("PUT", "/api/v1/alerts/rules/abc", testToken, rule); code != 400 {
		t.Fatalf("bad id = %d", code)
	}
	if code, _ := e.call("DELETE", "/api/v1/alerts/rules/777", testToken, nil); code != 404 {
		t.Fatalf("delete unknown rule = %d", code)
	}
	if code, _ := e.call("DELETE", fmt.Sprintf("/api/v1/alerts/rules/%d", ruleID), testToken, nil); code != 204 {
		t.Fatalf("delete rule = %d", code)
	}
	if code, _ := e.call("DELETE", fmt.Sprintf("/api/v1/alerts/channels/%d", id), testToken, nil); code != 204 {
		t.Fatalf("delete channel = %d", code)
	}
	if code, body = e.call("GET", "/api/v1/alerts/events", "", nil); code != 200 {
		t.Fatalf("events = %d %v", code, body)
	}
	if code, body = e.call("GET", "/api/v1/alerts/active", "", nil); code != 200 {
		t.Fatalf("active = %d %v", code, body)
	}
	// The channel's secret never reached the audit log either.
	_, body = e.call("GET", "/api/v1/audit?limit=100", testToken, nil)
	if raw, _ := json.Marshal(body); strings.Contains(string(raw), "supersecretvalue") {
		t.Fatal("audit log holds the channel secret")
	}
}

func TestAlertsDisabled(t *testing.T) {
	e := newAPIEnv(t)
	if code, body := e.call("GET", "/api/v1/alerts/rules", "", nil); code != 503 || errorCode(body) != "alerts_disabled" {
		t.Fatalf("alerts without evaluator = %d %v", code, body)
	}
}

// TestPageReadsWithoutTokenAreNotAudited browses what the UI's pages load, without credentials: the
// viewer's reads answer (channels with their secrets masked), the admin-only audit log answers 401,
// and none of it is written to the audit log, which keeps changes and refused changes only.
func TestPageReadsWithoutTokenAreNotAudited(t *testing.T) {
	e := newAlertEnv(t)
	ctx := context.Background()
	ch := map[string]any{"name": "robot", "type": "dingtalk", "config": map[string]any{
		"url": "https://oapi.dingtalk.com/robot/send?access_token=robottokenvalue", "secret": "SECsigningsecret"}}
	if code, body := e.call("POST", "/api/v1/alerts/channels", testToken, ch); code != 201 {
		t.Fatalf("create channel = %d %v", code, body)
	}
	auditRows := func() []string {
		t.Helper()
		rows, _, err := e.st.Audit(ctx, store.AuditFilter{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		out := make([]string, 0, len(rows))
		for _, r := range rows {
			out = append(out, r.Actor+" "+r.Action+" "+r.Result)
		}
		return out
	}
	before := auditRows()

	code, body := e.call("GET", "/api/v1/alerts/channels", "", nil)
	raw, _ := json.Marshal(body)
	if code != 200 || body["total"] != float64(1) {
		t.Fatalf("channels without a token = %d %s", code, raw)
	}
	for _, secret := range []string{"robottokenvalue", "SECsigningsecret"} {
		if strings.Contains(string(raw), secret) {
			t.Fatalf("channel list shows the secret %q: %s", secret, raw)
		}
	}
	if !strings.Contains(string(raw), "oapi.dingtalk.com") {
		t.Fatalf("channel list hides the host too: %s", raw)
	}
	for _, path := range []string{"/api/v1/alerts/rules", "/api/v1/alerts/events", "/api/v1/alerts/active", "/api/v1/clusters",
		"/api/v1/clusters/fake/topics", "/api/v1/auth/me"} {
		if code, body := e.call("GET", path, "", nil); code != 200 {
			t.Errorf("GET %s without a token = %d %v", path, code, body)
		}
	}
	// Admin-only reads refuse without a token (or with a bad one), and that is not written down either.
	for _, tok := range []string{"", "not-the-token"} {
		for _, path := range []string{"/api/v1/audit", "/api/v1/users"} {
			if code, _ := e.call("GET", path, tok, nil); code != 401 {
				t.Errorf("GET %s with token %q = %d, want 401", path, tok, code)
			}
		}
	}
	if after := auditRows(); !slices.Equal(after, before) {
		t.Fatalf("reads wrote to the audit log:\nbefore %q\nafter  %q", before, after)
	}
	// A refused change is still recorded.
	if code, _ := e.call("DELETE", "/api/v1/alerts/channels/1", "", nil); code != 401 {
		t.Fatalf("delete channel without a token = %d", code)
	}
	if after := auditRows(); len(after) != len(before)+1 || after[0] != "anonymous alert.channel.delete denied" {
		t.Fatalf("refused delete not audited: %q", after)
	}
	if code, body := e.call("GET", "/api/v1/audit", testToken, nil); code != 200 || body["total"] != float64(len(before)+1) {
		t.Fatalf("audit with the admin token = %d %v", code, body)
	}
}

// TestAlertChannelUpdateKeepsMaskedSecret replaces a channel by sending back the config the list
// showed (secret masked) with a new name: the answer is masked too, the receiver still gets the
// stored secret, and an unknown field in the body is refused.
func TestAlertChannelUpdateKeepsMaskedSecret(t *testing.T) {
	e := newAlertEnv(t)
	var mu sync.Mutex
	var auth []string
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auth = append(auth, r.Header.Get("Authorization"))
		mu.Unlock()
	}))
	defer recv.Close()
	ch := map[string]any{"name": "hook", "type": "webhook", "config": map[string]any{"url": recv.URL, "headers": map[string]string{"Authorization": "Bearer keptsecretvalue"}}}
	code, created := e.call("POST", "/api/v1/alerts/channels", testToken, ch)
	if code != 201 {
		t.Fatalf("create channel = %d %v", code, created)
	}
	id := int64(created["id"].(float64))
	path := fmt.Sprintf("/api/v1/alerts/channels/%d", id)

	code, updated := e.call("PUT", path, testToken, map[string]any{"name": "hook-renamed", "type": "webhook", "config": created["config"]})
	raw, _ := json.Marshal(updated)
	if code != 200 || updated["name"] != "hook-renamed" || updated["id"] != created["id"] || strings.Contains(string(raw), "keptsecretvalue") {
		t.Fatalf("update channel = %d %s", code, raw)
	}
	if code, body := e.call("PUT", path, testToken, map[string]any{"name": "x", "type": "webhook", "config": created["config"], "colour": "red"}); code != 400 || errorCode(body) != "bad_request" {
		t.Fatalf("update with an unknown field = %d %v", code, body)
	}
	if code, body := e.call("PUT", "/api/v1/alerts/channels/0", testToken, map[string]any{"name": "x", "type": "webhook", "config": created["config"]}); code != 400 {
		t.Fatalf("update channel 0 = %d %v", code, body)
	}
	if code, body := e.call("PUT", "/api/v1/alerts/channels/4242", testToken, map[string]any{"name": "x", "type": "webhook", "config": created["config"]}); code != 404 || errorCode(body) != "not_found" {
		t.Fatalf("update unknown channel = %d %v", code, body)
	}

	if code, body := e.call("POST", path+"/test", testToken, nil); code != 200 || body["delivered"] != true {
		t.Fatalf("test send = %d %v", code, body)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(auth) != 1 || auth[0] != "Bearer keptsecretvalue" {
		t.Fatalf("receiver got Authorization %q, want the stored secret once", auth)
	}
}
