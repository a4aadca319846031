package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/osprey-kafka/osprey/internal/testenv"
)

const searchPath = "/api/v1/clusters/fake/topics/orders/messages/search"

// sseEvent is one decoded event of a search stream.
type sseEvent struct {
	name string
	data map[string]any
}

// readEvents decodes a Server-Sent Events body into its events.
func readEvents(t *testing.T, body []byte) []sseEvent {
	t.Helper()
	var out []sseEvent
	var cur sseEvent
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 1<<20), 4<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			cur.name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &cur.data); err != nil {
				t.Fatalf("event %s: %v", cur.name, err)
			}
		case line == "" && cur.name != "":
			out = append(out, cur)
			cur = sseEvent{}
		}
	}
	return out
}

// search runs a search through the handler and returns the status and, for a 200, the events, or
// the JSON error body.
func (e *apiEnv) search(token string, body map[string]any) (int, []sseEvent, map[string]any) {
	e.t.Helper()
	return e.searchWith(searchPath, token, body)
}

// searchAt searches another cluster's or topic's path, without credentials.
func (e *apiEnv) searchAt(path string, body map[string]any) (int, []sseEvent, map[string]any) {
	e.t.Helper()
	return e.searchWith(path, "", body)
}

func (e *apiEnv) searchWith(path, token string, body map[string]any) (int, []sseEvent, map[string]any) {
	e.t.Helper()
	raw, _ := json.Marshal(body)
	req := httptest.NewRequest("POST", path, bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	e.srv.Handler().ServeHTTP(rec, req)
	if rec.Code != 200 {
		var errBody map[string]any
		_ = json.Unmarshal(rec.Body.Bytes(), &errBody)
		return rec.Code, nil, errBody
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		e.t.Fatalf("search answered %s, want an event stream", ct)
	}
	return rec.Code, readEvents(e.t, rec.Body.Bytes()), nil
}

// matches and done pick the matching records' offsets by partition and the done event.
func searchResult(t *testing.T, events []sseEvent) (map[string]bool, map[string]any) {
	t.Helper()
	found := map[string]bool{}
	var done map[string]any
	for _, ev := range events {
		switch ev.name {
		case "message":
			m := ev.data["message"].(map[string]any)
			found[fmt.Sprintf("%v/%v", m["partition"], m["offset"])] = true
		case "done":
			done = ev.data["done"].(map[string]any)
		}
	}
	if done == nil {
		t.Fatalf("the stream has no done event: %v", events)
	}
	return found, done
}

// produceOrders writes n JSON orders to every partition of "orders": order i of partition p has
// amount i*10, country FR for even i, a "source" header, and offset i.
func produceOrders(t *testing.T, e *apiEnv, n int, pad int) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.kc.ListenAddrs()...), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerBatchMaxBytes(16<<20))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var recs []*kgo.Record
	for p := int32(0); p < 3; p++ {
		for i := 0; i < n; i++ {
			country := "DE"
			if i%2 == 0 {
				country = "FR"
			}
			v := fmt.Sprintf(`{"id": "p%d-%d", "amount": %d, "user": {"country": %q}, "pad": %q}`, p, i, i*10, country, strings.Repeat("x", pad))
			recs = append(recs, &kgo.Record{Topic: "orders", Partition: p, Key: []byte(fmt.Sprintf("k%d", i)), Value: []byte(v),
				Headers: []kgo.RecordHeader{{Key: "source", Value: []byte("web")}}})
		}
	}
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// A filter on JSON fields finds exactly the records it describes, across every partition, and the
// stream ends with progress per partition and the reason "complete".
func TestSearchMessagesByJSONField(t *testing.T) {
	e := newAPIEnv(t)
	produceOrders(t, e, 20, 0)
	code, events, errBody := e.search("", map[string]any{"filter": `json.amount >= 150 && json.user.country == "FR" && headers["source"] == "web"`})
	if code != 200 {
		t.Fatalf("search = %d %v", code, errBody)
	}
	found, done := searchResult(t, events)
	want := map[string]bool{}
	for p := 0; p < 3; p++ {
		for _, i := range []int{16, 18} {
			want[fmt.Sprintf("%d/%d", p, i)] = true
		}
	}
	if fmt.Sprint(found) != fmt.Sprint(want) {
		t.Errorf("found %v, want %v", found, want)
	}
	prog := done["progress"].(map[string]any)
	if done["reason"] != "complete" || prog["records"] != float64(60) || prog["matches"] != float64(6) {
		t.Errorf("done = %v, want complete after 60 records with 6 matches", done)
	}
	for _, p := range prog["partitions"].([]any) {
		pp := p.(map[string]any)
		if pp["records"] != float64(20) || pp["done"] != true || pp["bytes"].(float64) <= 0 {
			t.Errorf("partition progress %v, want 20 records read to the end", pp)
		}
	}
	// An offset range and a partition narrow it.
	_, events, _ = e.search("", map[string]any{"filter": `json.user.country == "FR"`, "partitions": []int{1}, "startOffset": 5, "endOffset": 9})
	if found, _ := searchResult(t, events); fmt.Sprint(found) != "map[1/6:true 1/8:true]" {
		t.Errorf("offset range found %v, want 1/6 and 1/8", found)
	}
	// A time range after every record finds nothing.
	future := time.Now().Add(time.Hour).UnixMilli()
	_, events, _ = e.search("", map[string]any{"filter": `true`, "startTime": future})
	if found, done := searchResult(t, events); len(found) != 0 || done["reason"] != "complete" {
		t.Errorf("time range in the future found %v (%v)", found, done)
	}
}

// Each limit stops the scan and the done event names it.
func TestSearchMessagesLimits(t *testing.T) {
	e := newAPIEnv(t)
	produceOrders(t, e, 50, 100)
	for _, c := range []struct {
		limits map[string]any
		reason string
		check  func(prog map[string]any) bool
	}{
		{map[string]any{"maxRecords": 30}, "max_records", func(p map[string]any) bool { return p["records"] == float64(30) }},
		{map[string]any{"maxResults": 7}, "max_results", func(p map[string]any) bool { return p["matches"] == float64(7) }},
		{map[string]any{"maxBytes": 2000}, "max_bytes", func(p map[string]any) bool {
			return p["bytes"].(float64) >= 2000 && p["bytes"].(float64) < 2400 && p["records"].(float64) < 150
		}},
	} {
		body := map[string]any{"filter": `json.amount >= 0`}
		for k, v := range c.limits {
			body[k] = v
		}
		code, events, errBody := e.search("", body)
		if code != 200 {
			t.Fatalf("search %v = %d %v", c.limits, code, errBody)
		}
		_, done := searchResult(t, events)
		if done["reason"] != c.reason || !c.check(done["progress"].(map[string]any)) {
			t.Errorf("limits %v: done = %v, want reason %s", c.limits, done, c.reason)
		}
	}
}

// A filter that does not compile is refused before any record is read, with where the error is.
func TestSearchMessagesRefusesBadFilter(t *testing.T) {
	e := newAPIEnv(t)
	code, _, body := e.search("", map[string]any{"filter": "partition == 1 &&\n  nosuch > 3"})
	if code != 400 || errorCode(body) != "filter_invalid" {
		t.Fatalf("bad filter = %d %v, want 400 filter_invalid", code, body)
	}
	params := body["error"].(map[string]any)["params"].(map[string]any)
	if params["line"] != float64(2) || params["column"] != float64(3) || !strings.Contains(params["detail"].(string), "nosuch") {
		t.Errorf("error params = %v, want line 2 column 3 naming nosuch", params)
	}
	if code, _, body := e.search("", map[string]any{"filter": "true", "partitions": []int{9}}); code != 400 {
		t.Errorf("unknown partition = %d %v, want 400", code, body)
	}
	if code, _, body := e.search("", map[string]any{"filter": "true", "startOffset": 1, "startTime": 1}); code != 400 {
		t.Errorf("offset and time range = %d %v, want 400", code, body)
	}
}

// Closing the connection stops the scan on the server: the search ends as cancelled long before it
// could have read the topic, and its slot is free again.
func TestSearchMessagesCancelledByReader(t *testing.T) {
	e := newAPIEnv(t)
	// 3 × 400 records of 20 KB: far more than the connection's buffers hold, so the server is
	// still writing when the reader leaves.
	produceOrders(t, e, 400, 20_000)
	ts := httptest.NewServer(e.srv.Handler())
	defer ts.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", ts.URL+searchPath, strings.NewReader(`{"filter": "true"}`))
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	rd := bufio.NewReader(res.Body)
	if line, err := rd.ReadString('\n'); err != nil || line != "event: message\n" {
		t.Fatalf("first line %q %v, want a message event", line, err)
	}
	cancel()
	_ = res.Body.Close()
	testenv.WaitFor(t, 10*time.Second, func() error {
		running, ended := e.svc.SearchStats()
		if running != 0 || ended["cancelled"] != 1 {
			return fmt.Errorf("searches running %d, ended %v; want the search cancelled", running, ended)
		}
		return nil
	})
}
