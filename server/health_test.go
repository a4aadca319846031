package server

import (
	"encoding/json"
	"net/http/httptest"
	"reflect"
	"testing"
)

// /api/openapi.json serves the document Server.OpenAPI builds, whole: the health area's typed
// answer must not drop a top-level member.
func TestOpenAPIServedAsBuilt(t *testing.T) {
	s := newTestServer(t, Options{Logger: quietLogger()})
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/api/openapi.json", nil))
	if rec.Code != 200 || rec.Header().Get("Cache-Control") != "no-cache" {
		t.Fatalf("openapi.json = %d, Cache-Control %q", rec.Code, rec.Header().Get("Cache-Control"))
	}
	var served, built map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &served); err != nil {
		t.Fatal(err)
	}
	b, err := s.OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &built); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(served, built) {
		for k := range built {
			if !reflect.DeepEqual(served[k], built[k]) {
				t.Errorf("served %q differs from the built document's", k)
			}
		}
		t.Fatal("the served document is not the built one")
	}
	// The health answers are typed.
	ops := served["paths"].(map[string]any)
	for path, schema := range map[string]string{"/healthz": "Liveness", "/readyz": "Readiness", "/api/openapi.json": "OpenAPIDocument"} {
		ok := ops[path].(map[string]any)["get"].(map[string]any)["responses"].(map[string]any)["200"].(map[string]any)
		ref := ok["content"].(map[string]any)["application/json"].(map[string]any)["schema"].(map[string]any)["$ref"]
		if ref != "#/components/schemas/"+schema {
			t.Errorf("GET %s answers %v, want %s", path, ref, schema)
		}
	}
}
