package api

import (
	"fmt"
	"net/http"
	"sort"

	"github.com/gin-gonic/gin"
)

// ErrorBody is the one error shape of the API: {"error": {"code", "message", "params"}}. Code is
// stable and machine-readable (the web translates by it, filling the sentence from params);
// Message is a plain English sentence; internal causes are logged, never returned.
type ErrorBody struct {
	Error ErrorDetail `json:"error" required:"true"`
}

// ErrorDetail is the inside of ErrorBody.
type ErrorDetail struct {
	Code    string         `json:"code" required:"true" description:"Stable machine code; the web's i18n key is errors.<code>"`
	Message string         `json:"message" required:"true" description:"A plain English sentence"`
	Params  map[string]any `json:"params,omitempty" description:"Values for the translated sentence"`
}

// List is the API's shape for collections.
type List[T any] struct {
	Items []T `json:"items" required:"true" nullable:"false"`
	Total int `json:"total" required:"true" description:"Items matching the query, before paging"`
}

// NewList never answers a null items array.
func NewList[T any](items []T, total int) List[T] {
	if items == nil {
		items = []T{}
	}
	return List[T]{Items: items, Total: total}
}

// Registry holds every declared endpoint.
type Registry struct {
	eps  []Endpoint
	seen map[string]bool
}

// Add declares endpoints; a second declaration of the same method and path is a programming error.
func (r *Registry) Add(eps ...Endpoint) {
	if r.seen == nil {
		r.seen = map[string]bool{}
	}
	for _, e := range eps {
		if r.seen[e.Key()] {
			panic("api: declared twice: " + e.Key())
		}
		if e.Role != "" && e.Audit == "" && e.Method != http.MethodGet {
			panic("api: " + e.Key() + ": a guarded change needs an audit action name")
		}
		r.seen[e.Key()] = true
		r.eps = append(r.eps, e)
	}
}

// Endpoints returns the declarations sorted by path and method.
func (r *Registry) Endpoints() []Endpoint {
	out := append([]Endpoint(nil), r.eps...)
	sort.Slice(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return out[i].Method < out[j].Method
	})
	return out
}

// Hooks are what the server supplies to mounted endpoints.
type Hooks struct {
	// Guard returns the middleware that lets only callers with role through (auditing refused changes).
	Guard func(role, audit string) gin.HandlerFunc
	// Fail writes an error answer (status, code, message, params) and logs internal causes.
	Fail func(c *gin.Context, err error)
}

// Mount adds every endpoint to the engine.
func (r *Registry) Mount(e *gin.Engine, h Hooks) {
	for _, ep := range r.eps {
		var chain []gin.HandlerFunc
		if ep.Role != "" {
			chain = append(chain, h.Guard(ep.Role, ep.Audit))
		}
		chain = append(chain, ep.ginHandler(h.Fail))
		e.Handle(ep.Method, ep.Path, chain...)
	}
}

func (ep Endpoint) ginHandler(fail func(*gin.Context, error)) gin.HandlerFunc {
	if ep.raw != nil {
		return ep.raw
	}
	status := ep.status()
	return func(c *gin.Context) {
		out, err := ep.handle(c)
		if err != nil {
			fail(c, err)
			return
		}
		if c.Writer.Written() {
			return
		}
		if status == http.StatusNoContent || ep.out == nil {
			c.Status(status)
			return
		}
		c.JSON(status, out)
	}
}

// String is for test failures.
func (ep Endpoint) String() string { return fmt.Sprintf("%s (%s)", ep.Key(), ep.Summary) }
