package server

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/osprey-kafka/osprey/internal/testenv"
	"github.com/osprey-kafka/osprey/server/service"
)

func TestRuntimeClusters(t *testing.T) {
	e := newAPIEnv(t)

	if code, _ := e.call("POST", "/api/v1/runtime/clusters", "", map[string]any{"name": "rt", "brokers": 3}); code != 401 {
		t.Fatalf("create without token = %d", code)
	}
	for _, bad := range []map[string]any{
		{"name": "bad name", "brokers": 3},
		{"name": "rt", "brokers": 12},
		{"name": "rt", "metadataStore": "etcd"},
		{"name": "rt", "metadataStore": "zookeeper"},
		{"name": "rt", "metadataStore": "zookeeper", "zookeeper": "zk:abc/"},
		{"name": "x" + strings.Repeat("y", 64), "brokers": 1},
		{"name": "rt", "metadataStore": "local", "zookeeper": "zk:2181"},
		{"name": "fake", "brokers": 1},
	} {
		if code, body := e.call("POST", "/api/v1/runtime/clusters", testToken, bad); code != 400 && code != 409 {
			t.Errorf("create %v = %d %v, want 400/409", bad, code, body)
		}
	}

	code, body := e.call("POST", "/api/v1/runtime/clusters", testToken, map[string]any{"name": "rt", "brokers": 3})
	if code != 201 || len(body["brokers"].([]any)) != 3 {
		t.Fatalf("create = %d %v", code, body)
	}
	t.Cleanup(func() { _ = e.svc.DeleteRuntimeCluster(context.Background(), service.Caller{}, "rt") })
	// It is monitored like any cluster: the snapshot shows three brokers up and a controller.
	var controller float64 = -1
	testenv.WaitFor(t, 30*time.Second, func() error {
		if _, err := e.svc.PollNow(context.Background(), "rt"); err != nil {
			t.Fatal(err)
		}
		_, c := e.call("GET", "/api/v1/clusters/rt", "", nil)
		if c["brokersUp"] != float64(3) || c["controller"] == nil {
			return fmt.Errorf("runtime cluster does not show 3 brokers and a controller: %v", c)
		}
		controller = c["controller"].(float64)
		return nil
	})
	if code, body = e.call("GET", "/api/v1/runtime/clusters", "", nil); code != 200 || body["total"] != float64(1) {
		t.Fatalf("list = %d %v", code, body)
	}

	// Kill the controller: another broker takes over, and the console sees it.
	kill := fmt.Sprintf("/api/v1/runtime/clusters/rt/brokers/%d/kill", int(controller))
	if code, _ := e.call("POST", kill, "", nil); code != 401 {
		t.Fatalf("kill without token = %d", code)
	}
	code, body = e.call("POST", kill, testToken, nil)
	if code != 200 {
		t.Fatalf("kill = %d %v", code, body)
	}
	for _, b := range body["brokers"].([]any) {
		bm := b.(map[string]any)
		if bm["id"] == controller && bm["state"] != "killed" {
			t.Fatalf("killed broker state = %v", bm)
		}
	}
	testenv.WaitFor(t, 30*time.Second, func() error {
		if _, err := e.svc.PollNow(context.Background(), "rt"); err != nil {
			t.Fatal(err)
		}
		_, c := e.call("GET", "/api/v1/clusters/rt", "", nil)
		if c["controller"] == nil || c["controller"] == controller || c["brokersUp"] != float64(2) {
			return fmt.Errorf("the controller did not move after its broker was killed: %v", c)
		}
		return nil
	})
	if code, body := e.call("POST", fmt.Sprintf("/api/v1/runtime/clusters/rt/brokers/%d/start", int(controller)), testToken, nil); code != 200 {
		t.Fatalf("start = %d %v", code, body)
	}
	if code, _ := e.call("POST", "/api/v1/runtime/clusters/rt/brokers/7/stop", testToken, nil); code != 404 {
		t.Fatalf("unknown broker = %d", code)
	}
	if code, body := e.call("POST", "/api/v1/runtime/clusters/rt/brokers/1/dance", testToken, nil); code != 400 || errorCode(body) != "invalid_action" {
		t.Fatalf("unknown action = %d %v", code, body)
	}
	if code, body := e.call("POST", "/api/v1/runtime/clusters/rt/brokers/one/stop", testToken, nil); code != 400 || errorCode(body) != "bad_request" {
		t.Fatalf("broker id not a number = %d %v", code, body)
	}
	if code, _ := e.call("DELETE", "/api/v1/runtime/clusters/rt", testToken, nil); code != 204 {
		t.Fatalf("delete = %d", code)
	}
	if code, _ := e.call("GET", "/api/v1/clusters/rt", "", nil); code != 404 {
		t.Fatalf("deleted runtime cluster still monitored: %d", code)
	}
	if code, _ := e.call("DELETE", "/api/v1/runtime/clusters/rt", testToken, nil); code != 404 {
		t.Fatalf("second delete = %d", code)
	}
}
