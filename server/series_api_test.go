package server

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/osprey-kafka/osprey/store"
)

// Each series answer has the fields its schema in the served document names, and the document
// describes every figure a point carries: the charts' types come from that document.
func TestSeriesAnswersMatchTheirSchemas(t *testing.T) {
	e := newAPIEnv(t)
	const base = int64(1_600_000_000) // long before anything the collector writes
	b := store.Batch{
		Topics: []store.TopicPoint{
			{Cluster: "fake", Topic: "orders", Ts: base, StartOffset: 1, EndOffset: 10, SizeBytes: -1, MsgsPerSec: 2, BytesPerSec: 20},
			{Cluster: "fake", Topic: "orders", Ts: base + 15, StartOffset: 1, EndOffset: 12, SizeBytes: 300, MsgsPerSec: 3, BytesPerSec: 30},
		},
		Brokers: []store.BrokerPoint{
			{Cluster: "fake", BrokerID: 1, Ts: base, Up: 0, LogDirBytes: -1},
			{Cluster: "fake", BrokerID: 1, Ts: base + 15, Up: 1, Leaders: 2, Replicas: 3, LogDirBytes: 500, MsgsInPerSec: 1, BytesInPerSec: 10},
		},
		Clusters: []store.ClusterPoint{{Cluster: "fake", Ts: base, Brokers: 3, BrokersUp: 3, Topics: 1, Partitions: 3, TotalLag: 7}},
	}
	if err := e.st.WriteBatch(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	doc := fetchOpenAPI(t, newTestServer(t, Options{Logger: quietLogger()}))
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	resolve := func(s map[string]any) map[string]any {
		ref, _ := s["$ref"].(string)
		got, _ := schemas[strings.TrimPrefix(ref, "#/components/schemas/")].(map[string]any)
		if got == nil {
			t.Fatalf("schema %v does not name a component", s)
		}
		return got
	}
	props := func(s map[string]any) map[string]any {
		p, _ := s["properties"].(map[string]any)
		if len(p) == 0 {
			t.Fatalf("schema without properties: %v", s)
		}
		return p
	}
	window := fmt.Sprintf("?step=raw&from=%d&to=%d", base-60, base+600)
	for _, c := range []struct {
		docPath, url string
		points       int
		optional     string // a figure left out of a point when unknown
	}{
		{"/api/v1/clusters/{cluster}/topics/{topic}/metrics", "/api/v1/clusters/fake/topics/orders/metrics", 2, "sizeBytes"},
		{"/api/v1/clusters/{cluster}/brokers/{id}/metrics", "/api/v1/clusters/fake/brokers/1/metrics", 2, "logDirBytes"},
		{"/api/v1/clusters/{cluster}/metrics/cluster", "/api/v1/clusters/fake/metrics/cluster", 1, ""},
	} {
		op := doc["paths"].(map[string]any)[c.docPath].(map[string]any)["get"].(map[string]any)
		ok := op["responses"].(map[string]any)["200"].(map[string]any)["content"].(map[string]any)["application/json"].(map[string]any)
		series := resolve(ok["schema"].(map[string]any))
		point := resolve(props(series)["items"].(map[string]any)["items"].(map[string]any))
		values := resolve(props(point)["values"].(map[string]any))
		documented := slices.Sorted(maps.Keys(props(values)))

		code, body := e.call("GET", c.url+window, "", nil)
		if code != 200 || body["step"] != float64(0) || body["from"] != float64(base-60) || body["to"] != float64(base+600) {
			t.Fatalf("%s = %d %v", c.url, code, body)
		}
		if got := slices.Sorted(maps.Keys(body)); !slices.Equal(got, slices.Sorted(maps.Keys(props(series)))) {
			t.Errorf("%s: answer fields %v, documented %v", c.url, got, slices.Sorted(maps.Keys(props(series))))
		}
		pts := items(body)
		if len(pts) != c.points || body["total"] != float64(c.points) {
			t.Fatalf("%s: points %v", c.url, body)
		}
		last := slices.Sorted(maps.Keys(pts[len(pts)-1]["values"].(map[string]any)))
		if !slices.Equal(last, documented) {
			t.Errorf("%s: a point's figures %v, documented %v", c.url, last, documented)
		}
		if c.optional != "" {
			if _, present := pts[0]["values"].(map[string]any)[c.optional]; present {
				t.Errorf("%s: unknown %s present in %v; it is left out so the chart shows a gap", c.url, c.optional, pts[0])
			}
			if required, _ := values["required"].([]any); slices.Contains(required, any(c.optional)) {
				t.Errorf("%s: %s documented as always present", c.url, c.optional)
			}
		}
	}
}
