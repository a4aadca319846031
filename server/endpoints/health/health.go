// Package health serves what operators and tools ask of the console itself: liveness (/healthz),
// readiness (/readyz), the Prometheus metrics (/metrics) and this API's OpenAPI document
// (/api/openapi.json). None of them needs a role.
package health

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/osprey-kafka/osprey/server/api"
	"github.com/osprey-kafka/osprey/server/service"
)

const tag = "health"

// readyTimeout bounds one readiness check, so a load balancer's probe never hangs.
const readyTimeout = 5 * time.Second

// Options are what the area reads from the server.
type Options struct {
	// Version is shown by /healthz.
	Version string
	// Ready reports whether the console can serve (database migrated, collectors started); nil means ready.
	Ready func(ctx context.Context) error
	// Document returns the OpenAPI document /api/openapi.json serves. It is asked once, at the
	// first request, when every area has been declared.
	Document func() ([]byte, error)
	// Metrics answers /metrics in the Prometheus text format.
	Metrics http.Handler
	// Database reports the console's database as its writes see it; nil, or nil answers, without one.
	Database func() *service.DatabaseStatus
}

// Liveness is the answer of /healthz: the process answers.
type Liveness struct {
	Status  string `json:"status" enum:"ok"`
	Version string `json:"version" description:"The console's version"`
	// Database is absent when the console runs without a database.
	Database *service.DatabaseStatus `json:"database,omitempty" description:"Whether the console's writes reach its database, and the samples buffered or dropped while they do not"`
}

// Readiness is the answer of /readyz when the console can serve.
type Readiness struct {
	Status string `json:"status" enum:"ready"`
}

// OpenAPIDocument is the top of an OpenAPI 3.0 document, with the members this API's document has
// (a test checks that the served document is the built one, so a new member cannot be lost here).
// Paths and components are the OpenAPI specification's own objects, free-form here: a client of
// this API does not need their types.
type OpenAPIDocument struct {
	OpenAPI    string          `json:"openapi" description:"OpenAPI version"`
	Info       OpenAPIInfo     `json:"info"`
	Servers    []OpenAPIServer `json:"servers,omitempty"`
	Paths      map[string]any  `json:"paths"`
	Components map[string]any  `json:"components,omitempty"`
}

// OpenAPIInfo is the document's info object.
type OpenAPIInfo struct {
	Title       string `json:"title"`
	Version     string `json:"version"`
	Description string `json:"description,omitempty"`
}

// OpenAPIServer is where the API is served, relative to the document.
type OpenAPIServer struct {
	URL         string `json:"url"`
	Description string `json:"description,omitempty"`
}

// Declare adds the area's endpoints.
func Declare(r *api.Registry, o Options) {
	var (
		docOnce sync.Once
		doc     OpenAPIDocument
		docErr  error
	)
	r.Add(
		api.Op(http.MethodGet, "/healthz", func(*gin.Context, *struct{}) (Liveness, error) {
			l := Liveness{Status: "ok", Version: o.Version}
			if o.Database != nil {
				l.Database = o.Database()
			}
			return l, nil
		}, api.Doc(tag, "Liveness: the process answers")),

		api.Op(http.MethodGet, "/readyz", func(c *gin.Context, _ *struct{}) (Readiness, error) {
			if o.Ready != nil {
				ctx, cancel := context.WithTimeout(c.Request.Context(), readyTimeout)
				defer cancel()
				if err := o.Ready(ctx); err != nil {
					return Readiness{}, &service.UserError{Status: http.StatusServiceUnavailable, Code: "not_ready",
						Message: "the console is not ready: " + err.Error(), Cause: err}
				}
			}
			return Readiness{Status: "ready"}, nil
		}, api.Doc(tag, "Readiness: database migrated, collectors started"), api.Errors(http.StatusServiceUnavailable)),

		api.Raw[struct{}](http.MethodGet, "/metrics", "text/plain; version=0.0.4", gin.WrapH(o.Metrics),
			api.Doc(tag, "Prometheus metrics: the console's own and every cluster's figures from the latest snapshots")),

		api.Op(http.MethodGet, "/api/openapi.json", func(c *gin.Context, _ *struct{}) (OpenAPIDocument, error) {
			docOnce.Do(func() {
				b, err := o.Document()
				if err == nil {
					err = json.Unmarshal(b, &doc)
				}
				if err != nil {
					docErr = fmt.Errorf("the OpenAPI document: %w", err)
				}
			})
			c.Header("Cache-Control", "no-cache")
			return doc, docErr
		}, api.Doc(tag, "This document")),
	)
}
