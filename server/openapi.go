package server

import (
	"encoding/json"
	"fmt"

	apidecl "github.com/osprey-kafka/osprey/server/api"
)

// OpenAPI returns the console's OpenAPI 3 document, built from the endpoints the areas declare
// (declare.go): what GET /api/openapi.json serves and `osprey openapi` prints. It depends on the
// declarations only, not on configuration or state, so it can be printed without starting anything.
func (s *Server) OpenAPI() ([]byte, error) {
	b, err := s.reg.Document(apidecl.Info{Title: "Osprey console API", Version: "1", Description: openAPIDescription})
	if err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	// The API is at the root of whatever address serves the document. Re-encoding also sorts the
	// members, so the generated web copy does not change with the library's field order.
	doc["servers"] = []map[string]string{{"url": "/"}}
	out, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	return out, nil
}

const openAPIDescription = "Kafka monitoring and management. Reads come from in-memory snapshots; mutations need an operator or admin " +
	"(admin token or API token as `Authorization: Bearer …` or `X-Osprey-Token`, or a session cookie with `X-CSRF-Token`) " +
	"and are written to the audit log. Lists are {\"items\": [...], \"total\": N}; errors are {\"error\": {\"code\", \"message\", \"params\"}}."
