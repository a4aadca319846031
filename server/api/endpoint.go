// Package api is how the console declares its HTTP endpoints: once, as typed Go values. Each
// declaration (method, path, role, audit action, input and output types, handler) produces the Gin
// route with its role guard, the request decoding and the answer, and its operation in the OpenAPI 3
// document the console serves; the web client's types are generated from that document. So the
// route table, the document and the web's types cannot drift apart.
//
// Inputs are Go structs: fields tagged `path:"name"` or `query:"name"` (and `json:"-"`) are URL
// parameters; the other exported fields with json tags form the JSON request body, decoded strictly
// (unknown fields refused). A parameter tagged `enum:"a,b"` refuses other values with 400 bad_request,
// or with the code its `invalid` tag names. Outputs are written as JSON with the declared status.
package api

import (
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"strings"

	"github.com/gin-gonic/gin"
)

// Endpoint is one declared operation.
type Endpoint struct {
	Method string
	// Path in Gin syntax (/api/v1/clusters/:cluster); the document shows {cluster}.
	Path    string
	Tag     string
	Summary string
	// Role is the least role the operation needs; "" leaves it open to anyone (reads).
	Role string
	// Audit is the action name written to the audit log for this mutation (and for refused attempts).
	Audit string
	// Status is the success status (200 unless set; 204 answers carry no body).
	Status int
	// Stream is the content type of a non-JSON answer (an event stream, Prometheus text); Out is nil.
	Stream string
	// Statuses lists the error statuses worth documenting beyond the defaults (400, 401, 403, 404, 500).
	Statuses []int

	in, out reflect.Type // nil when the operation takes or returns nothing
	handle  func(c *gin.Context) (any, error)
	raw     gin.HandlerFunc
}

// NoContent is the Out type of operations that answer 204 without a body.
type NoContent struct{}

// Op declares an operation whose input In is decoded from the request and whose output Out is
// written as JSON. Use struct{} for an operation that takes nothing.
func Op[In, Out any](method, path string, h func(c *gin.Context, in *In) (Out, error), opts ...Option) Endpoint {
	e := Endpoint{Method: method, Path: path, in: reflect.TypeFor[In](), out: reflect.TypeFor[Out]()}
	if e.in.Kind() != reflect.Struct {
		panic(fmt.Sprintf("api: %s %s: input %s must be a struct", method, path, e.in))
	}
	if e.in.NumField() == 0 {
		e.in = nil
	}
	if e.out == reflect.TypeFor[NoContent]() {
		e.out, e.Status = nil, http.StatusNoContent
	}
	dec := newDecoder(reflect.TypeFor[In](), method, path)
	e.handle = func(c *gin.Context) (any, error) {
		var in In
		if err := dec.decode(c, reflect.ValueOf(&in).Elem()); err != nil {
			return nil, err
		}
		return h(c, &in)
	}
	for _, o := range opts {
		o(&e)
	}
	return e
}

// Raw declares an operation that writes its own answer (streams, the metrics exposition). In
// describes its parameters for the document; it is not decoded.
func Raw[In any](method, path, contentType string, h gin.HandlerFunc, opts ...Option) Endpoint {
	e := Endpoint{Method: method, Path: path, Stream: contentType, in: reflect.TypeFor[In](), raw: h}
	if e.in.Kind() != reflect.Struct || e.in.NumField() == 0 {
		e.in = nil
	}
	for _, o := range opts {
		o(&e)
	}
	return e
}

// StreamOf documents what a Raw stream carries: the schema of its items (for an event stream, the
// data of each event; a oneOf type names the kinds). The handler still writes the stream itself.
func StreamOf[T any]() Option { return func(e *Endpoint) { e.out = reflect.TypeFor[T]() } }

// Option sets the descriptive and guarding fields of an endpoint.
type Option func(*Endpoint)

// Doc sets the tag (area) and summary shown in the document.
func Doc(tag, summary string) Option { return func(e *Endpoint) { e.Tag, e.Summary = tag, summary } }

// Needs guards the operation: role is the least role, audit the action name for the audit log.
func Needs(role, audit string) Option { return func(e *Endpoint) { e.Role, e.Audit = role, audit } }

// Status sets the success status (201 Created, 202 Accepted).
func Status(code int) Option { return func(e *Endpoint) { e.Status = code } }

// Errors documents further error statuses (409 Conflict, 503 Service Unavailable…).
func Errors(codes ...int) Option {
	return func(e *Endpoint) { e.Statuses = append(e.Statuses, codes...) }
}

func (e Endpoint) status() int {
	if e.Status == 0 {
		return http.StatusOK
	}
	return e.Status
}

var ginParam = regexp.MustCompile(`[:*]([A-Za-z0-9_]+)`)

// OpenAPIPath turns Gin's /a/:b into OpenAPI's /a/{b}.
func OpenAPIPath(p string) string { return ginParam.ReplaceAllString(p, "{$1}") }

// Key names an operation as "METHOD /path" in Gin syntax, as Gin's route table does.
func (e Endpoint) Key() string { return e.Method + " " + e.Path }

func (e Endpoint) pathParams() []string {
	var out []string
	for _, m := range ginParam.FindAllStringSubmatch(e.Path, -1) {
		out = append(out, m[1])
	}
	return out
}

// operationID is a stable camelCase name from method and path, for generated clients.
func (e Endpoint) operationID() string {
	var b strings.Builder
	b.WriteString(strings.ToLower(e.Method))
	for _, seg := range strings.Split(strings.TrimPrefix(e.Path, "/api/v1"), "/") {
		if seg == "" {
			continue
		}
		by := strings.HasPrefix(seg, ":") || strings.HasPrefix(seg, "*")
		seg = strings.TrimLeft(seg, ":*")
		for _, part := range strings.FieldsFunc(seg, func(r rune) bool { return r == '-' || r == '_' || r == '.' }) {
			if by {
				b.WriteString("By")
				by = false
			}
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}
