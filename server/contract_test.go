package server

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// The console's HTTP contract exists three times: the routes Gin serves, the OpenAPI document it
// serves, and the web's copy of that document with the TypeScript generated from it
// (web/src/api/openapi.json, schema.d.ts; `make lint` checks that the TypeScript is generated from
// that file). This test holds the three together.

// committedDocument is the web's copy of the document, relative to this package.
const committedDocument = "../web/src/api/openapi.json"

// freeForm lists the places of the document whose value is free-form on purpose, with the reason.
// A place is "<component schema>.<property>…" as bareSchemas reports it.
var freeForm = map[string]string{
	"ErrorDetail.params":         "each error code fills its own sentence with its own values",
	"AlertSamples.data":          "an alert's figures have the shape of its rule's kind (partition lags, brokers, ISR lists…)",
	"OpenAPIDocument.paths":      "the document's own operations: their shape is the OpenAPI specification's",
	"OpenAPIDocument.components": "the document's own schemas: their shape is the OpenAPI specification's",
}

func servedDocument(t *testing.T, s *Server) []byte {
	t.Helper()
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/api/openapi.json", nil))
	if rec.Code != 200 {
		t.Fatalf("GET /api/openapi.json = %d", rec.Code)
	}
	return rec.Body.Bytes()
}

func TestAPIContract(t *testing.T) {
	s := newTestServer(t, Options{Logger: quietLogger()})
	raw := servedDocument(t, s)
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}

	t.Run("routes and operations agree", func(t *testing.T) {
		documented := map[string]bool{}
		for p, item := range doc["paths"].(map[string]any) {
			for m := range item.(map[string]any) {
				documented[strings.ToUpper(m)+" "+p] = true
			}
		}
		served := map[string]bool{}
		for _, r := range s.engine.Routes() {
			if strings.HasPrefix(r.Path, "/api/") || r.Path == "/healthz" || r.Path == "/readyz" || r.Path == "/metrics" {
				served[r.Method+" "+openAPIPath(r.Path)] = true
			}
		}
		if missing := minus(served, documented); len(missing) > 0 {
			t.Errorf("served but not in the document:\n  %s", strings.Join(missing, "\n  "))
		}
		if ghosts := minus(documented, served); len(ghosts) > 0 {
			t.Errorf("in the document but not served:\n  %s", strings.Join(ghosts, "\n  "))
		}
	})

	t.Run("the web's copy is the served document", func(t *testing.T) {
		b, err := os.ReadFile(committedDocument)
		if err != nil {
			t.Fatalf("%v: run `make gen-api` and commit web/src/api/openapi.json and schema.d.ts", err)
		}
		var committed map[string]any
		if err := json.Unmarshal(b, &committed); err != nil {
			t.Fatalf("%s: %v", committedDocument, err)
		}
		if diff := docDiff(committed, doc); len(diff) > 0 {
			t.Errorf("web/src/api/openapi.json is not what the server serves (run `make gen-api` and commit "+
				"openapi.json and schema.d.ts); differing:\n  %s", strings.Join(diff, "\n  "))
		}
	})

	t.Run("valid OpenAPI 3", func(t *testing.T) {
		loaded, err := openapi3.NewLoader().LoadFromData(raw)
		if err != nil {
			t.Fatalf("kin-openapi cannot load the document: %v", err)
		}
		if err := loaded.Validate(context.Background()); err != nil {
			t.Fatalf("kin-openapi: the document is not valid OpenAPI 3: %v", err)
		}
	})

	// Every request body and JSON answer has a concrete schema.
	t.Run("no bare object or generic List", func(t *testing.T) {
		schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
		used := map[string]bool{}
		var bad []string
		for _, key := range sortedOps(doc) {
			op := operation(doc, key)
			var found []string
			for _, sc := range opSchemas(op) {
				found = append(found, bareSchemas(schemas, sc, "", map[string]bool{}, used)...)
			}
			if found = dedupe(found); len(found) > 0 {
				bad = append(bad, key+": "+strings.Join(found, ", "))
			}
		}
		if len(bad) > 0 {
			t.Errorf("untyped request or response schemas (declare concrete Go types):\n  %s", strings.Join(bad, "\n  "))
		}
		var orphans []string
		for name := range schemas {
			if !used[name] {
				orphans = append(orphans, name)
			}
		}
		sort.Strings(orphans)
		if len(orphans) > 0 {
			t.Errorf("component schemas no operation uses: %s", strings.Join(orphans, ", "))
		}
	})
}

func minus(a, b map[string]bool) []string {
	var out []string
	for k := range a {
		if !b[k] {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func dedupe(xs []string) []string {
	sort.Strings(xs)
	out := xs[:0]
	for i, x := range xs {
		if i == 0 || x != xs[i-1] {
			out = append(out, x)
		}
	}
	return out
}

// docDiff names the top-level parts, paths and schemas where two documents differ.
func docDiff(a, b map[string]any) []string {
	var out []string
	for _, k := range unionKeys(a, b) {
		switch k {
		case "paths":
			for _, p := range unionKeys(mapAt(a, k), mapAt(b, k)) {
				if !reflect.DeepEqual(mapAt(a, k)[p], mapAt(b, k)[p]) {
					out = append(out, "paths "+p)
				}
			}
		case "components":
			ac, bc := mapAt(a, k), mapAt(b, k)
			for _, part := range unionKeys(ac, bc) {
				for _, n := range unionKeys(mapAt(ac, part), mapAt(bc, part)) {
					if !reflect.DeepEqual(mapAt(ac, part)[n], mapAt(bc, part)[n]) {
						out = append(out, "components "+part+" "+n)
					}
				}
			}
		default:
			if !reflect.DeepEqual(a[k], b[k]) {
				out = append(out, k)
			}
		}
	}
	return out
}

func mapAt(m map[string]any, k string) map[string]any {
	v, _ := m[k].(map[string]any)
	return v
}

func unionKeys(a, b map[string]any) []string {
	seen := map[string]bool{}
	for k := range a {
		seen[k] = true
	}
	for k := range b {
		seen[k] = true
	}
	return minus(seen, nil)
}

// sortedOps lists the document's operations as "METHOD /path".
func sortedOps(doc map[string]any) []string {
	var out []string
	for p, item := range doc["paths"].(map[string]any) {
		for m := range item.(map[string]any) {
			out = append(out, strings.ToUpper(m)+" "+p)
		}
	}
	sort.Strings(out)
	return out
}

func operation(doc map[string]any, key string) map[string]any {
	m, p, _ := strings.Cut(key, " ")
	return doc["paths"].(map[string]any)[p].(map[string]any)[strings.ToLower(m)].(map[string]any)
}

// opSchemas returns the schemas of an operation's request body and every answer (JSON, and the
// documented items of a stream).
func opSchemas(op map[string]any) []any {
	var out []any
	jsonSchema := func(holder map[string]any) {
		content, _ := holder["content"].(map[string]any)
		for _, media := range content {
			out = append(out, media.(map[string]any)["schema"])
		}
	}
	if body, ok := op["requestBody"].(map[string]any); ok {
		jsonSchema(body)
	}
	for _, r := range op["responses"].(map[string]any) {
		jsonSchema(r.(map[string]any))
	}
	return out
}

// bareSchemas returns the places in schema that say nothing about their value: an object with
// neither properties nor a typed additionalProperties, or a schema with no type at all. at is the
// place so far ("Schema.prop.[]"); used collects the component schemas reached.
func bareSchemas(schemas map[string]any, schema any, at string, seen, used map[string]bool) []string {
	sc, _ := schema.(map[string]any)
	if ref, ok := sc["$ref"].(string); ok {
		name := strings.TrimPrefix(ref, "#/components/schemas/")
		used[name] = true
		if seen[name] {
			return nil
		}
		seen[name] = true
		if name == "List" || name == "Object" {
			return []string{name}
		}
		return bareSchemas(schemas, schemas[name], name, seen, used)
	}
	var out []string
	for _, k := range []string{"allOf", "oneOf", "anyOf"} {
		if subs, ok := sc[k].([]any); ok {
			for _, sub := range subs {
				out = append(out, bareSchemas(schemas, sub, at, seen, used)...)
			}
			return out
		}
	}
	place := at
	if place == "" {
		place = "(inline)"
	}
	typ, _ := sc["type"].(string)
	props, _ := sc["properties"].(map[string]any)
	switch {
	case typ == "array":
		return bareSchemas(schemas, sc["items"], at+".[]", seen, used)
	case typ == "object" || (typ == "" && props != nil):
		for _, name := range minus(keysOf(props), nil) {
			out = append(out, bareSchemas(schemas, props[name], at+"."+name, seen, used)...)
		}
		if ap, ok := sc["additionalProperties"].(map[string]any); ok && len(ap) > 0 {
			out = append(out, bareSchemas(schemas, ap, at+".{}", seen, used)...)
		} else if len(props) == 0 && freeForm[at] == "" {
			out = append(out, place+" (bare object)")
		}
	case typ == "":
		if freeForm[at] == "" {
			out = append(out, place+" (no type)")
		}
	}
	return out
}

func keysOf(m map[string]any) map[string]bool {
	out := map[string]bool{}
	for k := range m {
		out[k] = true
	}
	return out
}
