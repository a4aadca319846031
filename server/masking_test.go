package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Masking rules are admin business: others are refused (401 without credentials, 403 below admin),
// and every change is in the audit log.
func TestMaskingRulesNeedAdmin(t *testing.T) {
	e := newAPIEnv(t)
	rule := map[string]any{"name": "emails", "topicPattern": "orders", "jsonPath": "$.user.email", "action": "mask"}
	code, body := e.call("POST", "/api/v1/tokens", testToken, map[string]any{"name": "op", "role": "operator"})
	if code != 201 {
		t.Fatalf("token = %d %v", code, body)
	}
	op := body["token"].(string)
	if code, _ := e.call("POST", "/api/v1/masking/rules", "", rule); code != 401 {
		t.Errorf("create without credentials = %d, want 401", code)
	}
	if code, body := e.call("POST", "/api/v1/masking/rules", op, rule); code != 403 || errorCode(body) != "forbidden" {
		t.Errorf("create as operator = %d %v, want 403", code, body)
	}
	if code, _ := e.call("GET", "/api/v1/masking/rules", op, nil); code != 403 {
		t.Errorf("list as operator = %d, want 403", code)
	}
	for _, bad := range []map[string]any{
		{"name": "x", "topicPattern": "orders", "action": "mask"},
		{"name": "x", "topicPattern": "orders", "jsonPath": "$.a", "regex": "b", "action": "mask"},
		{"name": "x", "topicPattern": "orders", "regex": "(", "action": "mask"},
		{"name": "x", "topicPattern": "(", "topicRegex": true, "regex": "a", "action": "mask"},
		{"name": "x", "topicPattern": "orders", "jsonPath": "$.a[x]", "action": "hash"},
		{"name": "x", "topicPattern": "orders", "regex": "a", "action": "mask", "exemptRoles": []string{"root"}},
	} {
		if code, body := e.call("POST", "/api/v1/masking/rules", testToken, bad); code != 400 {
			t.Errorf("create %v = %d %v, want 400", bad, code, body)
		}
	}
	code, body = e.call("POST", "/api/v1/masking/rules", testToken, rule)
	if code != 201 || body["id"] == nil {
		t.Fatalf("create as admin = %d %v", code, body)
	}
	id := int(body["id"].(float64))
	if code, _ := e.call("POST", "/api/v1/masking/rules", testToken, rule); code != 409 {
		t.Errorf("second rule of the same name = %d, want 409", code)
	}
	rule["action"] = "hash"
	if code, body := e.call("PUT", fmt.Sprintf("/api/v1/masking/rules/%d", id), testToken, rule); code != 200 || body["action"] != "hash" {
		t.Errorf("update = %d %v", code, body)
	}
	if code, _ := e.call("DELETE", fmt.Sprintf("/api/v1/masking/rules/%d", id), op, nil); code != 403 {
		t.Errorf("delete as operator = %d, want 403", code)
	}
	if code, _ := e.call("DELETE", fmt.Sprintf("/api/v1/masking/rules/%d", id), testToken, nil); code != 204 {
		t.Errorf("delete = %d, want 204", code)
	}
	_, audit := e.call("GET", "/api/v1/audit?action=masking.create", testToken, nil)
	results := map[string]int{}
	for _, row := range items(audit) {
		results[fmt.Sprint(row["result"])]++
	}
	if results["ok"] != 1 || results["denied"] != 2 {
		t.Errorf("audit of masking.create = %v, want one ok and the two refusals", results)
	}
	for _, action := range []string{"masking.update", "masking.delete"} {
		if _, audit := e.call("GET", "/api/v1/audit?action="+action, testToken, nil); len(items(audit)) == 0 {
			t.Errorf("no audit entry for %s", action)
		}
	}
}

// Masking applies before the search filter: a masked value cannot be found by searching for it,
// browse shows the masked form, a role the rule exempts sees and finds the clear value, and a
// record a rule drops is neither browsed nor found.
func TestMaskingBeforeSearchAndBrowse(t *testing.T) {
	e := newAPIEnv(t)
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.kc.ListenAddrs()...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	recs := []*kgo.Record{
		{Topic: "orders", Partition: 0, Value: []byte(`{"id": 1, "user": {"email": "alice@example.com", "name": "Alice"}}`),
			Headers: []kgo.RecordHeader{{Key: "card", Value: []byte("card 4111-1111-1111-1111")}}},
		{Topic: "orders", Partition: 0, Value: []byte(`{"id": 2, "user": {"email": "bob@example.com", "name": "Bob"}}`)},
		{Topic: "orders", Partition: 0, Value: []byte(`{"id": 3, "note": "top secret"}`)},
	}
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	for _, r := range []map[string]any{
		{"name": "emails", "topicPattern": "ord*", "jsonPath": "$.user.email", "action": "mask", "exemptRoles": []string{"admin"}},
		{"name": "cards", "topicPattern": "orders", "regex": `\d{4}-\d{4}-\d{4}-\d{4}`, "action": "hash"},
		{"name": "secrets", "topicPattern": "^orders$", "topicRegex": true, "regex": "secret", "action": "drop"},
		{"name": "elsewhere", "topicPattern": "payments", "jsonPath": "$.id", "action": "drop"},
	} {
		if code, body := e.call("POST", "/api/v1/masking/rules", testToken, r); code != 201 {
			t.Fatalf("create rule %v = %d %v", r["name"], code, body)
		}
	}
	find := func(token, filter string) map[string]bool {
		t.Helper()
		code, events, errBody := e.search(token, map[string]any{"filter": filter})
		if code != 200 {
			t.Fatalf("search %s = %d %v", filter, code, errBody)
		}
		found, _ := searchResult(t, events)
		return found
	}
	for _, filter := range []string{`json.user.email == "alice@example.com"`, `value.contains("alice")`, `value.contains("secret")`,
		`headers["card"].contains("4111")`} {
		if found := find("", filter); len(found) != 0 {
			t.Errorf("search %s without exemption found %v, want nothing", filter, found)
		}
	}
	if found := find("", `json.user.email == "****"`); fmt.Sprint(found) != "map[0/0:true 0/1:true]" {
		t.Errorf("search for the mask found %v, want both users", found)
	}
	// The admin role is exempt from the email rule, not from the others.
	if found := find(testToken, `json.user.email == "alice@example.com"`); fmt.Sprint(found) != "map[0/0:true]" {
		t.Errorf("exempt search found %v, want alice's record", found)
	}
	if found := find(testToken, `value.contains("secret")`); len(found) != 0 {
		t.Errorf("exempt search for the dropped record found %v", found)
	}

	sum := sha256.Sum256([]byte("4111-1111-1111-1111"))
	browse := func(token string) []map[string]any {
		t.Helper()
		code, body := e.call("GET", "/api/v1/clusters/fake/topics/orders/messages?partition=0&mode=offset&offset=0", token, nil)
		if code != 200 {
			t.Fatalf("browse = %d %v", code, body)
		}
		return items(body)
	}
	msgs := browse("")
	if len(msgs) != 2 {
		t.Fatalf("browse shows %d records, want 2 (the secret one dropped): %v", len(msgs), msgs)
	}
	value := msgs[0]["value"].(map[string]any)["data"].(string)
	if strings.Contains(value, "alice") || !strings.Contains(value, `"email":"****"`) || !strings.Contains(value, `"name":"Alice"`) {
		t.Errorf("browse value = %s, want the email masked and the rest kept", value)
	}
	header := msgs[0]["headers"].([]any)[0].(map[string]any)["value"].(map[string]any)["data"]
	if header != "card "+hex.EncodeToString(sum[:]) {
		t.Errorf("card header = %v, want its number hashed", header)
	}
	if value := browse(testToken)[0]["value"].(map[string]any)["data"].(string); !strings.Contains(value, "alice@example.com") {
		t.Errorf("admin browse value = %s, want the clear email", value)
	}
}
