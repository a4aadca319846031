package server

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/twmb/franz-go/pkg/kmsg"

	apidecl "github.com/osprey-kafka/osprey/server/api"
	"github.com/osprey-kafka/osprey/server/endpoints/health"
)

// A broker that has left the cluster is listed down with an unknown log-dir size: null in the API,
// never -1; no topic's spread is above 100%.
func TestUnknownSizesAreNull(t *testing.T) {
	e := newAPIEnv(t)
	if err := e.kc.RemoveNode(2); err != nil {
		t.Fatal(err)
	}
	e.poll()
	code, body := e.call("GET", "/api/v1/clusters/fake/brokers", "", nil)
	if code != 200 {
		t.Fatalf("brokers = %d %v", code, body)
	}
	var down map[string]any
	for _, b := range items(body) {
		if b["id"] == float64(2) {
			down = b
		}
		if v, ok := b["logDirBytes"].(float64); ok && v < 0 {
			t.Errorf("broker %v logDirBytes %v: an unknown size must be null", b["id"], v)
		}
	}
	if down == nil || down["up"] != false {
		t.Fatalf("broker 2 = %v, want listed down", down)
	}
	if v, ok := down["logDirBytes"]; !ok || v != nil {
		t.Errorf("down broker logDirBytes = %v (present %v), want null", v, ok)
	}
	code, body = e.call("GET", "/api/v1/clusters/fake/topics?internal=true", "", nil)
	if code != 200 {
		t.Fatalf("topics = %d %v", code, body)
	}
	for _, tp := range items(body) {
		if s, _ := tp["brokerSpread"].(float64); s > 100 {
			t.Errorf("topic %v spread %v%% > 100%%", tp["name"], s)
		}
		if v, ok := tp["sizeBytes"].(float64); ok && v < 0 {
			t.Errorf("topic %v sizeBytes %v, want null when unknown", tp["name"], v)
		}
	}
	code, body = e.call("GET", "/api/v1/clusters/fake/topics/orders", "", nil)
	if code != 200 {
		t.Fatalf("topic = %d %v", code, body)
	}
	for _, p := range body["partitionList"].([]any) {
		pm := p.(map[string]any)
		for _, k := range []string{"sizeBytes", "startOffset", "endOffset"} {
			if v, ok := pm[k].(float64); ok && v < 0 {
				t.Errorf("partition %v %s = %v, want null when unknown", pm["partition"], k, v)
			}
		}
	}
}

// A group whose only partition has an unknown end offset (its leader fails ListOffsets) has an
// unknown lag: null in the groups list, the group page and the topic's consumers, and no
// Prometheus sample, never -1 or 0.
func TestUnknownLagIsNull(t *testing.T) {
	e := newAPIEnv(t)
	seedLaggingGroup(t, e.kc.ListenAddrs(), "orders", "billing", 10, 4)
	down := e.kc.LeaderFor("orders", 0)
	e.kc.ControlKey(int16(kmsg.ListOffsets), func(kmsg.Request) (kmsg.Response, error, bool) {
		e.kc.KeepControl()
		if e.kc.CurrentNode() == down {
			return nil, fmt.Errorf("injected failure on broker %d", down), true
		}
		return nil, nil, false
	})
	e.poll()
	code, body := e.call("GET", "/api/v1/clusters/fake/groups", "", nil)
	if code != 200 {
		t.Fatalf("groups = %d %v", code, body)
	}
	var row map[string]any
	for _, g := range items(body) {
		if g["name"] == "billing" {
			row = g
		}
	}
	if v, ok := row["lag"]; row == nil || !ok || v != nil {
		t.Errorf("groups list billing = %v, want lag null", row)
	}
	code, body = e.call("GET", "/api/v1/clusters/fake/groups/billing", "", nil)
	if code != 200 {
		t.Fatalf("group = %d %v", code, body)
	}
	if v, ok := body["lag"]; !ok || v != nil {
		t.Errorf("group lag = %v, want null", v)
	}
	topics, _ := body["topicList"].([]any)
	if len(topics) != 1 {
		t.Fatalf("topicList = %v, want orders only", body["topicList"])
	}
	gt := topics[0].(map[string]any)
	if v, ok := gt["lag"]; !ok || v != nil {
		t.Errorf("topic lag = %v, want null", v)
	}
	p := gt["partitions"].([]any)[0].(map[string]any)
	for _, k := range []string{"end", "lag"} {
		if v, ok := p[k]; !ok || v != nil {
			t.Errorf("partition %s = %v, want null", k, v)
		}
	}
	if p["committed"] != float64(4) {
		t.Errorf("partition committed = %v, want 4", p["committed"])
	}
	code, body = e.call("GET", "/api/v1/clusters/fake/topics/orders", "", nil)
	if code != 200 {
		t.Fatalf("topic = %d %v", code, body)
	}
	for _, c := range body["consumers"].([]any) {
		if cm := c.(map[string]any); cm["group"] == "billing" {
			if v, ok := cm["lag"]; !ok || v != nil {
				t.Errorf("consumer billing lag = %v, want null", v)
			}
		}
	}
	g := gin.New()
	e.srv.mountAreas(g, func(r *apidecl.Registry) { health.Declare(r, e.srv.healthOptions()) })
	m := scrapeMetrics(t, g)
	for _, name := range []string{"osprey_group_lag{", "osprey_group_total_lag{", "osprey_group_lag_seconds{"} {
		if strings.Contains(m, name+`cluster="fake",group="billing"`) {
			t.Errorf("metrics export %s for an unknown lag", name)
		}
	}
}
