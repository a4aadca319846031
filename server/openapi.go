package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	apidecl "github.com/osprey-kafka/osprey/server/api"
)

// This file serves GET /api/openapi.json: an OpenAPI 3.0 document of the console's HTTP API, built
// from the table below. Schemas of the service's answer types are derived from the Go types by
// reflection (json tags), so they cannot drift from what handlers send; the rest are written out.
// openapi_test.go checks that every route the engine serves is in the table.

// apiOp is one documented operation.
type apiOp struct {
	method, path string // Gin syntax: /clusters/:cluster
	tag, summary string
	// role is the least role the operation needs ("" = open to anyone, reads).
	role   string
	query  []string // query parameter names (strings unless listed in openAPIIntQuery)
	body   string   // request body schema name
	status int      // success status (default 200)
	resp   string   // success body schema name ("" = none)
	stream string   // non-JSON success content type (event stream, Prometheus text)
}

var openAPIIntQuery = map[string]bool{"limit": true, "offset": true, "page": true, "pageSize": true, "partition": true, "tail": true, "step": true}

// apiOps lists the endpoints not yet declared with server/api, for the OpenAPI document.
var apiOps = []apiOp{}

var ginPathParam = regexp.MustCompile(`[:*]([A-Za-z0-9_]+)`)

// openAPIPath turns a Gin path into OpenAPI's /a/{b} form.
func openAPIPath(p string) string { return ginPathParam.ReplaceAllString(p, "{$1}") }

// OpenAPI returns the document GET /api/openapi.json serves. It depends on the declarations only,
// not on configuration or state, so `osprey openapi` can print it without starting anything.
func (s *Server) OpenAPI() ([]byte, error) {
	b, err := s.reg.Document(apidecl.Info{Title: "Osprey console API", Version: "1", Description: openAPIDescription})
	if err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	var doc jsonObj
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	// Operations not yet declared with server/api come from the table above.
	legacy := buildOpenAPI()
	paths := doc["paths"].(jsonObj)
	for p, item := range legacy["paths"].(jsonObj) {
		cur, _ := paths[p].(jsonObj)
		if cur == nil {
			cur = jsonObj{}
			paths[p] = cur
		}
		for m, op := range item.(jsonObj) {
			if _, ok := cur[m]; !ok {
				cur[m] = op
			}
		}
	}
	schemas := doc["components"].(jsonObj)["schemas"].(jsonObj)
	for n, sc := range legacy["components"].(jsonObj)["schemas"].(jsonObj) {
		if _, ok := schemas[n]; !ok {
			schemas[n] = sc
		}
	}
	doc["servers"] = legacy["servers"]
	out, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	return out, nil
}

type jsonObj = map[string]any

// schemaRef is an OpenAPI Reference Object: the key must be exactly "$ref" for validators, Swagger UI and
// code generators to resolve it.
func schemaRef(name string) jsonObj { return jsonObj{"$ref": "#/components/schemas/" + name} }

const openAPIDescription = "Kafka monitoring and management. Reads come from in-memory snapshots; mutations need an operator or admin " +
	"(admin token or API token as `Authorization: Bearer …` or `X-Osprey-Token`, or a session cookie with `X-CSRF-Token`) " +
	"and are written to the audit log. Lists are {\"items\": [...], \"total\": N}; errors are {\"error\": {\"code\", \"message\", \"params\"}}."

func buildOpenAPI() jsonObj {
	schemas := jsonObj{
		"Object": jsonObj{"type": "object", "additionalProperties": true},
		"Error": jsonObj{"type": "object", "required": []string{"error"}, "properties": jsonObj{
			"error": jsonObj{"type": "object", "required": []string{"code", "message"}, "properties": jsonObj{
				"code": jsonObj{"type": "string"}, "message": jsonObj{"type": "string"},
				"params": jsonObj{"type": "object", "additionalProperties": true}}}}},
	}
	paths := jsonObj{}
	for _, op := range apiOps {
		p := openAPIPath(op.path)
		item, _ := paths[p].(jsonObj)
		if item == nil {
			item = jsonObj{}
			paths[p] = item
		}
		item[strings.ToLower(op.method)] = openAPIOperation(op)
	}
	return jsonObj{
		"openapi": "3.0.3",
		"info":    jsonObj{"title": "Osprey console API", "version": "1", "description": openAPIDescription},
		"servers": []jsonObj{{"url": "/"}},
		"paths":   paths,
		"components": jsonObj{
			"schemas": schemas,
			"securitySchemes": jsonObj{
				"bearer":  jsonObj{"type": "http", "scheme": "bearer"},
				"token":   jsonObj{"type": "apiKey", "in": "header", "name": "X-Osprey-Token"},
				"session": jsonObj{"type": "apiKey", "in": "cookie", "name": "osprey_session"},
			},
		},
	}
}

func openAPIOperation(op apiOp) jsonObj {
	o := jsonObj{"tags": []string{op.tag}, "summary": op.summary,
		"operationId": strings.ToLower(op.method) + strings.NewReplacer("/", "_", ":", "", "{", "", "}", "", ".", "_", "-", "_").Replace(op.path)}
	var params []jsonObj
	for _, m := range ginPathParam.FindAllStringSubmatch(op.path, -1) {
		t := "string"
		if m[1] == "id" {
			t = "integer"
		}
		params = append(params, jsonObj{"name": m[1], "in": "path", "required": true, "schema": jsonObj{"type": t}})
	}
	for _, q := range op.query {
		t := "string"
		if openAPIIntQuery[q] {
			t = "integer"
		}
		params = append(params, jsonObj{"name": q, "in": "query", "required": false, "schema": jsonObj{"type": t}})
	}
	if len(params) > 0 {
		o["parameters"] = params
	}
	if op.body != "" {
		o["requestBody"] = jsonObj{"required": true, "content": jsonObj{"application/json": jsonObj{"schema": schemaRef(op.body)}}}
	}
	status := op.status
	if status == 0 {
		status = http.StatusOK
	}
	ok := jsonObj{"description": http.StatusText(status)}
	switch {
	case op.stream != "":
		ok["content"] = jsonObj{op.stream: jsonObj{"schema": jsonObj{"type": "string"}}}
	case op.resp != "":
		ok["content"] = jsonObj{"application/json": jsonObj{"schema": schemaRef(op.resp)}}
	}
	errResp := func(why string) jsonObj {
		return jsonObj{"description": why, "content": jsonObj{"application/json": jsonObj{"schema": schemaRef("Error")}}}
	}
	responses := jsonObj{statusKey(status): ok, "500": errResp("Internal error")}
	if strings.Contains(op.path, ":") {
		responses["404"] = errResp("Unknown cluster, topic, group or broker")
	}
	if op.body != "" || len(op.query) > 0 {
		responses["400"] = errResp("Malformed JSON or invalid input; the message says why")
	}
	if op.role != "" {
		responses["401"] = errResp("No or invalid credentials")
		responses["403"] = errResp("Role too low (needs " + op.role + "), read-only mode, or missing CSRF token")
		o["security"] = []jsonObj{{"bearer": []string{}}, {"token": []string{}}, {"session": []string{}}}
		o["x-osprey-role"] = op.role
	}
	o["responses"] = responses
	return o
}

func statusKey(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
