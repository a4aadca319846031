package server

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/osprey-kafka/osprey/server/service"
)

// The runtime-cluster API creates KRaft clusters (metadataStore kraft, with
// or without controller-only nodes) and shows each node's roles; a
// controller-only node restarts like a broker.
func TestRuntimeClusterKRaft(t *testing.T) {
	e := newAPIEnv(t)
	for _, bad := range []map[string]any{
		{"name": "kr", "metadataStore": "local", "controllers": 1},
		{"name": "kr", "metadataStore": "kraft", "controllers": 9},
		{"name": "kr", "metadataStore": "kraft", "zookeeper": "zk:2181"},
	} {
		if code, body := e.call("POST", "/api/v1/runtime/clusters", testToken, bad); code != 400 {
			t.Errorf("create %v = %d %v, want 400", bad, code, body)
		}
	}
	code, body := e.call("POST", "/api/v1/runtime/clusters", testToken,
		map[string]any{"name": "kr", "brokers": 2, "metadataStore": "kraft", "controllers": 1})
	if code != 201 {
		t.Fatalf("create = %d %v", code, body)
	}
	t.Cleanup(func() { _ = e.svc.DeleteRuntimeCluster(context.Background(), service.Caller{}, "kr") })
	roles := func(body map[string]any) map[float64][]string {
		out := map[float64][]string{}
		for _, b := range body["brokers"].([]any) {
			bm := b.(map[string]any)
			var rs []string
			for _, r := range bm["roles"].([]any) {
				rs = append(rs, r.(string))
			}
			out[bm["id"].(float64)] = rs
		}
		return out
	}
	want := map[float64][]string{1: {"broker"}, 2: {"broker"}, 101: {"controller"}}
	if body["metadataStore"] != "kraft" || fmt.Sprint(roles(body)) != fmt.Sprint(want) {
		t.Fatalf("created %v, want metadataStore kraft and roles %v", body, want)
	}
	code, body = e.call("POST", "/api/v1/runtime/clusters/kr/brokers/101/restart", testToken, nil)
	if code != 200 {
		t.Fatalf("restart controller = %d %v", code, body)
	}
	for _, b := range body["brokers"].([]any) {
		bm := b.(map[string]any)
		if bm["state"] != "running" || !slices.Contains([]float64{1, 2, 101}, bm["id"].(float64)) {
			t.Fatalf("after restarting the controller: %v", body)
		}
	}
}
