package server

import "testing"

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
