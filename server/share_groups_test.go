package server

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/osprey-kafka/osprey/internal/testenv"
)

// A share group on kfake: the list shows its type, its page its members, epochs and per partition
// the start offset with the lag's source; its offsets are reset with AlterShareGroupOffsets only
// by an admin and only once it is empty (409 share_group_not_empty before, audited either way), not
// through the consumer-group reset; its share-partitions are deleted the same way.
func TestShareGroupPageAndReset(t *testing.T) {
	e := newAPIEnv(t)
	ctx := context.Background()
	cons, err := kgo.NewClient(kgo.SeedBrokers(e.kc.ListenAddrs()...), kgo.ShareGroup("queue"), kgo.ConsumeTopics("orders"),
		kgo.FetchMaxWait(200*time.Millisecond), kgo.ClientID("queue-worker"))
	if err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for cctx.Err() == nil {
			cons.PollFetches(cctx).EachRecord(func(r *kgo.Record) { r.Ack(kgo.AckAccept) })
		}
	}()
	stop := func() { cancel(); <-done; cons.Close() }
	defer func() {
		if cctx.Err() == nil {
			stop()
		}
	}()

	page := func(want func(map[string]any) error) map[string]any {
		t.Helper()
		var page map[string]any
		testenv.WaitFor(t, 20*time.Second, func() error {
			e.poll()
			code, body := e.call("GET", "/api/v1/clusters/fake/groups/queue", "", nil)
			if code != 200 {
				return fmt.Errorf("group page: status %d: %v", code, body)
			}
			page = body
			return want(body)
		})
		return page
	}
	page(func(b map[string]any) error {
		share, _ := b["share"].(map[string]any)
		members, _ := b["memberList"].([]any)
		topics, _ := b["topicList"].([]any)
		if b["type"] != "share" || share == nil || share["groupEpoch"].(float64) < 1 || len(members) != 1 || len(topics) != 1 {
			return fmt.Errorf("page %v", b)
		}
		m := members[0].(map[string]any)
		if m["clientId"] != "queue-worker" || m["epoch"].(float64) < 1 || fmt.Sprint(m["subscribedTopics"]) != "[orders]" {
			return fmt.Errorf("member %v", m)
		}
		for _, p := range topics[0].(map[string]any)["partitions"].([]any) {
			sp, _ := p.(map[string]any)["share"].(map[string]any)
			if sp == nil || sp["startOffset"].(float64) < 0 || sp["lagSource"] != "reported" || sp["inFlight"] != nil {
				return fmt.Errorf("partition %v", p)
			}
		}
		if figures := share["figures"].(map[string]any); figures["reported"] != false {
			return fmt.Errorf("in-flight figures kfake does not report: %v", figures)
		}
		return nil
	})
	code, body := e.call("GET", "/api/v1/clusters/fake/groups?search=queue", "", nil)
	if code != 200 || len(items(body)) != 1 || items(body)[0]["type"] != "share" {
		t.Fatalf("groups list: %d %v", code, body)
	}

	reset := map[string]any{"strategy": "earliest"}
	if code, body := e.call("POST", "/api/v1/clusters/fake/groups/queue/offsets", testToken, reset); code != 400 || errorCode(body) != "share_group_offsets" {
		t.Fatalf("consumer-group reset of a share group: %d %v", code, body)
	}
	code, body = e.call("POST", "/api/v1/clusters/fake/groups/queue/share-offsets", testToken, reset)
	if code != 409 || errorCode(body) != "share_group_not_empty" || !strings.Contains(fmt.Sprint(body["error"]), "1 member") {
		t.Fatalf("reset with a member: %d %v", code, body)
	}
	dry := map[string]any{"strategy": "earliest", "dryRun": true}
	if code, body := e.call("POST", "/api/v1/clusters/fake/groups/queue/share-offsets", testToken, dry); code != 200 || body["total"].(float64) < 1 {
		t.Fatalf("dry run with a member: %d %v", code, body)
	}
	tok := e.operatorToken()
	if code, body := e.call("POST", "/api/v1/clusters/fake/groups/queue/share-offsets", tok, reset); code != 403 {
		t.Fatalf("operator reset: %d %v", code, body)
	}

	stop() // leaves the group
	page(func(b map[string]any) error {
		if b["members"] != float64(0) || b["state"] != "Empty" || b["active"] != false {
			return fmt.Errorf("page %v, want Empty", b)
		}
		return nil
	})
	if code, body := e.call("POST", "/api/v1/clusters/fake/groups/queue/share-offsets", testToken, map[string]any{"strategy": "offset", "offset": 0}); code != 200 {
		t.Fatalf("reset while empty: %d %v", code, body)
	}
	if code, body := e.call("DELETE", "/api/v1/clusters/fake/groups/queue/share-offsets?topic=orders", testToken, nil); code != 200 || fmt.Sprint(body["topics"]) != "[orders]" {
		t.Fatalf("delete share offsets: %d %v", code, body)
	}
	if code, body := e.call("DELETE", "/api/v1/clusters/fake/groups/nosuch/share-offsets", testToken, nil); code != 404 {
		t.Fatalf("delete for an unknown group: %d %v", code, body)
	}

	code, body = e.call("GET", "/api/v1/audit?limit=100", testToken, nil)
	if code != 200 {
		t.Fatalf("audit = %d %v", code, body)
	}
	seen := map[string]bool{}
	for _, it := range items(body) {
		seen[it["action"].(string)+"/"+it["result"].(string)] = true
	}
	for _, want := range []string{"group.share_offsets.reset/error", "group.share_offsets.reset/ok", "group.share_offsets.reset/denied", "group.share_offsets.delete/ok"} {
		if !seen[want] {
			t.Errorf("audit lacks %s: %v", want, seen)
		}
	}
}
