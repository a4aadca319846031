package server

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/osprey-kafka/osprey/internal/testenv"
	"github.com/osprey-kafka/osprey/server/service"
)

// On Osprey's own broker runtime (a one-broker runtime cluster the console stands up), a search on
// a JSON field finds exactly the records it describes, masked values included.
func TestSearchMessagesOnRuntimeCluster(t *testing.T) {
	e := newAPIEnv(t)
	code, body := e.call("POST", "/api/v1/runtime/clusters", testToken, map[string]any{"name": "rt", "brokers": 1})
	if code != 201 {
		t.Fatalf("create runtime cluster = %d %v", code, body)
	}
	t.Cleanup(func() { _ = e.svc.DeleteRuntimeCluster(context.Background(), service.Caller{}, "rt") })
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(body["bootstrapServers"].(string), ",")...),
		kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if code, body := e.call("POST", "/api/v1/clusters/rt/topics", testToken, map[string]any{"name": "events", "partitions": 2, "replicationFactor": 1}); code != 201 {
		t.Fatalf("create topic = %d %v", code, body)
	}
	var recs []*kgo.Record
	for i := range 40 {
		recs = append(recs, &kgo.Record{Topic: "events", Partition: int32(i % 2),
			Value: []byte(fmt.Sprintf(`{"seq": %d, "kind": %q, "email": "u%d@example.com"}`, i, []string{"click", "buy"}[i%4/3], i))})
	}
	testenv.WaitFor(t, 30*time.Second, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return cl.ProduceSync(ctx, recs...).FirstErr()
	})
	testenv.WaitFor(t, 30*time.Second, func() error {
		_, err := e.svc.PollNow(context.Background(), "rt")
		return err
	})
	if code, body := e.call("POST", "/api/v1/masking/rules", testToken, map[string]any{"name": "rt-emails", "cluster": "rt", "topicPattern": "events", "jsonPath": "$.email", "action": "hash"}); code != 201 {
		t.Fatalf("rule = %d %v", code, body)
	}
	search := func(filter string) (map[string]bool, map[string]any) {
		code, events, errBody := e.searchAt("/api/v1/clusters/rt/topics/events/messages/search", map[string]any{"filter": filter})
		if code != 200 {
			t.Fatalf("search = %d %v", code, errBody)
		}
		return searchResult(t, events)
	}
	// i%4 == 3 is a buy: 3, 7, … 39, all odd, so all in partition 1 at offset i/2.
	found, done := search(`json.kind == "buy" && json.seq > 20`)
	want := map[string]bool{}
	for i := 23; i < 40; i += 4 {
		want[fmt.Sprintf("1/%d", i/2)] = true
	}
	if fmt.Sprint(found) != fmt.Sprint(want) || done["reason"] != "complete" || done["progress"].(map[string]any)["records"] != float64(40) {
		t.Errorf("found %v (%v), want %v after reading 40 records", found, done, want)
	}
	if found, _ := search(`json.email == "u3@example.com"`); len(found) != 0 {
		t.Errorf("a hashed email was found by its clear value: %v", found)
	}
}
