package main

import (
	"encoding/json"
	"testing"
)

// `osprey openapi` prints the served document without a configuration, a database or a listener.
func TestOpenAPICommandPrintsTheDocument(t *testing.T) {
	t.Chdir(t.TempDir()) // no osprey.yaml or data directory to find
	out, err := run(t, "openapi")
	if err != nil {
		t.Fatalf("osprey openapi: %v\n%s", err, out)
	}
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("not JSON: %v\n%.300s", err, out)
	}
	if doc.OpenAPI != "3.0.3" || doc.Paths["/api/v1/clusters"]["get"] == nil {
		t.Fatalf("openapi = %q, GET /api/v1/clusters documented = %v", doc.OpenAPI, doc.Paths["/api/v1/clusters"]["get"] != nil)
	}
}
