package server

import (
	"encoding/json"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// withAllRoutes returns a Server whose engine serves every route (New mounts every area).
func withAllRoutes(t *testing.T) *Server {
	t.Helper()
	return newTestServer(t, Options{Logger: quietLogger()})
}

// notYetServed are documented endpoints that no handler serves yet. Remove an entry when its handler
// lands (the test says so), so the document and the engine stay in step both ways.
var notYetServed = map[string]bool{}

func fetchOpenAPI(t *testing.T, s *Server) map[string]any {
	t.Helper()
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/api/openapi.json", nil))
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		t.Fatalf("openapi.json = %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	var doc map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestOpenAPICoversEveryRoute(t *testing.T) {
	s := withAllRoutes(t)
	doc := fetchOpenAPI(t, s)
	if doc["openapi"] != "3.0.3" {
		t.Fatalf("openapi = %v", doc["openapi"])
	}
	paths := doc["paths"].(map[string]any)
	documented := func(method, path string) bool {
		item, _ := paths[path].(map[string]any)
		_, ok := item[strings.ToLower(method)]
		return ok
	}
	served := map[string]bool{}
	var missing []string
	for _, r := range s.engine.Routes() {
		if !strings.HasPrefix(r.Path, "/api/") && r.Path != "/healthz" && r.Path != "/readyz" && r.Path != "/metrics" {
			continue
		}
		p := openAPIPath(r.Path)
		served[r.Method+" "+p] = true
		if !documented(r.Method, p) {
			missing = append(missing, r.Method+" "+p)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("served but not in the OpenAPI document (declare them in an area under server/endpoints):\n  %s", strings.Join(missing, "\n  "))
	}
	for key := range notYetServed {
		if served[key] {
			t.Errorf("%s is served now: remove it from notYetServed", key)
		}
	}
	var ghosts []string
	for p, item := range paths {
		for m := range item.(map[string]any) {
			key := strings.ToUpper(m) + " " + p
			if !served[key] && !notYetServed[key] {
				ghosts = append(ghosts, key)
			}
		}
	}
	sort.Strings(ghosts)
	if len(ghosts) > 0 {
		t.Errorf("documented but neither served nor listed in notYetServed:\n  %s", strings.Join(ghosts, "\n  "))
	}
}

var pathParam = regexp.MustCompile(`\{([^}]+)\}`)

func TestOpenAPIDocumentIsWellFormed(t *testing.T) {
	doc := fetchOpenAPI(t, withAllRoutes(t))
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	ids := map[string]bool{}
	for p, item := range doc["paths"].(map[string]any) {
		for m, raw := range item.(map[string]any) {
			op := raw.(map[string]any)
			id, _ := op["operationId"].(string)
			if id == "" || ids[id] {
				t.Fatalf("%s %s: operationId %q missing or duplicated", m, p, id)
			}
			ids[id] = true
			declared := map[string]bool{}
			params, _ := op["parameters"].([]any)
			for _, prm := range params {
				pm := prm.(map[string]any)
				if pm["in"] == "path" {
					declared[pm["name"].(string)] = true
				}
			}
			for _, mm := range pathParam.FindAllStringSubmatch(p, -1) {
				if !declared[mm[1]] {
					t.Fatalf("%s %s: path parameter %q not declared", m, p, mm[1])
				}
			}
			if _, ok := op["responses"].(map[string]any); !ok {
				t.Fatalf("%s %s: no responses", m, p)
			}
			if op["security"] != nil {
				if _, ok := op["responses"].(map[string]any)["401"]; !ok {
					t.Fatalf("%s %s: guarded but no 401", m, p)
				}
			}
		}
	}
	// Every schema reference is a Reference Object ({"$ref": "#/components/schemas/X"}) naming a schema,
	// and every operation's JSON response names one: a misspelt key leaves all of them unresolvable.
	refs := 0
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && strings.HasPrefix(s, "#/components/schemas/") {
					if k != "$ref" {
						t.Fatalf("schema reference under key %q, want \"$ref\": %v", k, v)
					}
					if _, ok := schemas[strings.TrimPrefix(s, "#/components/schemas/")]; !ok {
						t.Fatalf("dangling $ref %s", s)
					}
					refs++
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(doc)
	if refs == 0 {
		t.Fatal("the document has no $ref at all")
	}
	// Reflected schemas follow the JSON the handlers send (camelCase, embedded structs flattened).
	plan := schemas["ReassignmentPlan"].(map[string]any)["properties"].(map[string]any)
	for _, f := range []string{"cluster", "partitions", "movedReplicas", "rackAware", "snapshotSequence"} {
		if _, ok := plan[f]; !ok {
			t.Fatalf("ReassignmentPlan schema lacks %q: %v", f, plan)
		}
	}
	lastPoll := schemas["ClusterSummary"].(map[string]any)["properties"].(map[string]any)["lastPoll"].(map[string]any)
	if lastPoll["format"] != "date-time" || lastPoll["nullable"] != true {
		t.Fatalf("ClusterSummary.lastPoll = %v", lastPoll)
	}
}
