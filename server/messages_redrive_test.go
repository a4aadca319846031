package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/osprey-kafka/osprey/server/service"
)

// Export writes the selection as JSON lines through the same scan and masking as search: one
// message line per matching record, whole and masked, then a done line.
func TestExportMessagesAsJSONLines(t *testing.T) {
	e := newAPIEnv(t)
	produceOrders(t, e, 10, 70_000) // values longer than the browser's 64 KiB cut
	if code, body := e.call("POST", "/api/v1/masking/rules", testToken, map[string]any{"name": "ids", "topicPattern": "orders", "jsonPath": "$.id", "action": "mask"}); code != 201 {
		t.Fatalf("rule = %d %v", code, body)
	}
	raw, _ := json.Marshal(map[string]any{"filter": `json.amount >= 80`})
	req := httptest.NewRequest("POST", "/api/v1/clusters/fake/topics/orders/messages/export", bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	e.srv.Handler().ServeHTTP(rec, req)
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/x-ndjson") {
		t.Fatalf("export = %d %s %s", rec.Code, rec.Header().Get("Content-Type"), rec.Body.String())
	}
	lines := strings.Split(strings.TrimSpace(rec.Body.String()), "\n")
	if len(lines) != 7 {
		t.Fatalf("export has %d lines, want 6 records and a done line", len(lines))
	}
	for _, line := range lines[:6] {
		var ev service.SearchEvent
		if err := json.Unmarshal([]byte(line), &ev); err != nil || ev.Type != "message" || ev.Message == nil {
			t.Fatalf("line %.80s: %v", line, err)
		}
		v := ev.Message.Value
		if v.Truncated || len(v.Data) < 70_000 || !strings.Contains(v.Data, `"id":"****"`) {
			t.Errorf("exported value of %d/%d: truncated %v, %d bytes, masked %v", ev.Message.Partition, ev.Message.Offset, v.Truncated, len(v.Data), strings.Contains(v.Data, `"id":"****"`))
		}
	}
	var last service.SearchEvent
	if err := json.Unmarshal([]byte(lines[6]), &last); err != nil || last.Type != "done" || last.Done.Reason != "complete" {
		t.Errorf("last line = %s", lines[6])
	}
}

// Redrive copies the selected records to another topic with their keys and headers; the dry run
// counts them per target partition and writes nothing; it needs the admin role and is audited.
func TestRedriveMessages(t *testing.T) {
	e := newAPIEnv(t)
	produceOrders(t, e, 10, 0)
	if code, body := e.call("POST", "/api/v1/clusters/fake/topics", testToken, map[string]any{"name": "orders.retry", "partitions": 2, "replicationFactor": 1}); code != 201 {
		t.Fatalf("create target = %d %v", code, body)
	}
	e.poll()
	body := map[string]any{"filter": `json.user.country == "FR" && partition == 1`, "targetTopic": "orders.retry", "dryRun": true}
	path := "/api/v1/clusters/fake/topics/orders/messages/redrive"
	code, tok := e.call("POST", "/api/v1/tokens", testToken, map[string]any{"name": "op", "role": "operator"})
	if code != 201 {
		t.Fatal(code)
	}
	if code, res := e.call("POST", path, tok["token"].(string), body); code != 403 {
		t.Errorf("redrive as operator = %d %v, want 403", code, res)
	}
	// Keys k0, k2 … k8: where Kafka's partitioner puts them among 2 partitions.
	want := map[int32]int{}
	for i := 0; i < 10; i += 2 {
		want[service.KafkaPartition([]byte(fmt.Sprintf("k%d", i)), 2)]++
	}
	code, res := e.call("POST", path, testToken, body)
	if code != 200 || res["records"] != float64(5) || res["produced"] != float64(0) || res["dryRun"] != true {
		t.Fatalf("dry run = %d %v", code, res)
	}
	got := map[int32]int{}
	for _, p := range res["targetPartitions"].([]any) {
		pm := p.(map[string]any)
		got[int32(pm["partition"].(float64))] = int(pm["records"].(float64))
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("dry run target partitions %v, want %v", got, want)
	}
	if n := countRecords(t, e, "orders.retry"); n != 0 {
		t.Fatalf("the dry run wrote %d records", n)
	}

	body["dryRun"] = false
	if code, res = e.call("POST", path, testToken, body); code != 200 || res["produced"] != float64(5) {
		t.Fatalf("redrive = %d %v", code, res)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.kc.ListenAddrs()...), kgo.ConsumeTopics("orders.retry"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	seen := map[string]bool{}
	ctx, cancel := context.WithTimeout(context.Background(), 10e9)
	defer cancel()
	for len(seen) < 5 && ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			if len(r.Headers) != 1 || r.Headers[0].Key != "source" || string(r.Headers[0].Value) != "web" ||
				r.Partition != service.KafkaPartition(r.Key, 2) || !strings.Contains(string(r.Value), `"p1-`) {
				t.Errorf("copied record %s/%d key %s headers %v: %s", r.Topic, r.Partition, r.Key, r.Headers, r.Value)
			}
			seen[string(r.Key)] = true
		})
	}
	if len(seen) != 5 {
		t.Errorf("copied keys %v, want k0 k2 k4 k6 k8", seen)
	}
	_, audit := e.call("GET", "/api/v1/audit?action=topic.redrive", testToken, nil)
	results := map[string]int{}
	for _, row := range items(audit) {
		results[fmt.Sprint(row["result"])]++
	}
	if results["ok"] != 2 || results["denied"] != 1 {
		t.Errorf("audit of topic.redrive = %v, want the dry run and the redrive ok and the operator's refusal", results)
	}
	for _, bad := range []map[string]any{{"filter": "true", "targetTopic": "orders"}, {"filter": "true", "targetTopic": "nope"}, {"filter": "(", "targetTopic": "orders.retry"}} {
		if code, res := e.call("POST", path, testToken, bad); code != 400 && code != 404 {
			t.Errorf("redrive %v = %d %v, want 400 or 404", bad, code, res)
		}
	}
}

// countRecords reads a topic's end offsets through the API's browse: the number of records in it.
func countRecords(t *testing.T, e *apiEnv, topic string) int {
	t.Helper()
	code, body := e.call("GET", "/api/v1/clusters/fake/topics/"+topic+"/messages?tail=500", "", nil)
	if code != 200 {
		t.Fatalf("browse %s = %d %v", topic, code, body)
	}
	return len(items(body))
}
