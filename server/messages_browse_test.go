package server

import (
	"context"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

// The browse API keeps a record without a key apart from one whose key is the text "null" (or empty),
// and hands JSON values over as stored: big integers and trailing zeros are not re-encoded.
func TestBrowseMessagesKeepsNullKeysAndJSONText(t *testing.T) {
	e := newAPIEnv(t)
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.kc.ListenAddrs()...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	const doc = `{"id": 9007199254740993, "price": 10.50}`
	recs := []*kgo.Record{
		{Topic: "orders", Partition: 2, Key: nil, Value: []byte(doc)},
		{Topic: "orders", Partition: 2, Key: []byte("null"), Value: []byte("v")},
		{Topic: "orders", Partition: 2, Key: []byte{}, Value: nil},
	}
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	code, body := e.call("GET", "/api/v1/clusters/fake/topics/orders/messages?partition=2&mode=offset&offset=0", "", nil)
	if code != 200 || body["total"] != float64(3) {
		t.Fatalf("browse = %d %v", code, body)
	}
	msgs := items(body)
	payload := func(i int, field string) map[string]any { return msgs[i][field].(map[string]any) }
	want := []struct{ keyFormat, keyData, valueFormat, valueData string }{
		{"null", "", "json", doc},
		{"text", "null", "text", "v"},
		{"text", "", "null", ""},
	}
	for i, w := range want {
		k, v := payload(i, "key"), payload(i, "value")
		if k["format"] != w.keyFormat || k["data"] != w.keyData {
			t.Errorf("message %d key = %v, want %s %q", i, k, w.keyFormat, w.keyData)
		}
		if v["format"] != w.valueFormat || v["data"] != w.valueData {
			t.Errorf("message %d value = %v, want %s %q", i, v, w.valueFormat, w.valueData)
		}
	}
}

// A mode named without its value is refused with a JSON error the UI can show, never read as another mode.
func TestBrowseMessagesRefusesModeWithoutValue(t *testing.T) {
	e := newAPIEnv(t)
	base := "/api/v1/clusters/fake/topics/orders/messages"
	for _, c := range []struct{ query, code string }{
		{"?mode=timestamp", "timestamp_required"},
		{"?mode=timestamp&partition=0&limit=5", "timestamp_required"},
		{"?mode=offset&partition=0", "offset_required"},
		{"?mode=timestamp&tail=5", "timestamp_required"},
		{"?mode=tail&timestamp=5", "invalid_query"},
		{"?mode=latest", "invalid_query"},
	} {
		code, body := e.call("GET", base+c.query, "", nil)
		if code != 400 || errorCode(body) != c.code {
			t.Errorf("GET %s = %d %v, want 400 %s", c.query, code, body, c.code)
		}
		errBody, _ := body["error"].(map[string]any)
		if msg, _ := errBody["message"].(string); msg == "" {
			t.Errorf("GET %s: no message in %v", c.query, body)
		}
	}
	for _, ok := range []string{"?mode=tail&tail=5&limit=5", "?mode=timestamp&timestamp=0", "?tail=3"} {
		if code, body := e.call("GET", base+ok, "", nil); code != 200 {
			t.Errorf("GET %s = %d %v, want 200", ok, code, body)
		}
	}
}
