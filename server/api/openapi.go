package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"

	"github.com/swaggest/jsonschema-go"
	"github.com/swaggest/openapi-go"
	"github.com/swaggest/openapi-go/openapi3"
)

// swaggest/openapi-go derives the schemas from the Go types (json, path, query, required, enum,
// description tags). It was chosen over huma because it only builds the document: routes, guards
// and decoding stay Gin's and ours, so the migration kept every handler's behaviour, and it is a
// released module of this machine's proxy (huma's copy here is not an approved release).

// Security scheme names in the document.
const (
	SecurityBearer  = "bearer"
	SecurityToken   = "token"
	SecuritySession = "session"
)

// Info describes the document.
type Info struct {
	Title, Version, Description string
}

// Document builds the OpenAPI 3 document of every endpoint.
func (r *Registry) Document(info Info) ([]byte, error) {
	ref := newReflector()
	spec := ref.SpecEns()
	spec.Info.WithTitle(info.Title).WithVersion(info.Version).WithDescription(info.Description)
	spec.SetHTTPBearerTokenSecurity(SecurityBearer, "opaque", "The admin token or an API token: 'Authorization: Bearer <token>'")
	spec.SetAPIKeySecurity(SecurityToken, "X-Osprey-Token", openapi.InHeader, "The same token in the X-Osprey-Token header")
	spec.SetAPIKeySecurity(SecuritySession, "osprey_session", openapi.InCookie, "A login session; changes also need the X-CSRF-Token header")
	// A type that is both answered and sent back (the plan call answers a reassignment plan, the
	// execute call takes it) has one schema, and swaggest keeps the request's version of it, which
	// marks no field required. Answers always carry their fields without omitempty, so such a
	// schema takes the required fields an answers-only pass gives it.
	answers := newReflector()
	for _, ep := range r.Endpoints() {
		if err := addOperation(ref, ep, true); err != nil {
			return nil, fmt.Errorf("api: documenting %s: %w", ep.Key(), err)
		}
		if err := addOperation(answers, ep, false); err != nil {
			return nil, fmt.Errorf("api: documenting %s: %w", ep.Key(), err)
		}
	}
	schemas := spec.ComponentsEns().SchemasEns().MapOfSchemaOrRefValues
	for name, answered := range answers.SpecEns().ComponentsEns().SchemasEns().MapOfSchemaOrRefValues {
		if sc, ok := schemas[name]; ok && sc.Schema != nil && answered.Schema != nil && len(sc.Schema.Required) == 0 {
			sc.Schema.Required = answered.Schema.Required
		}
	}
	return json.MarshalIndent(spec, "", "  ")
}

func newReflector() *openapi3.Reflector {
	ref := openapi3.NewReflector()
	names := map[string]reflect.Type{}
	ref.DefaultOptions = append(ref.DefaultOptions,
		jsonschema.InterceptDefName(func(t reflect.Type, def string) string { return defName(names, t, def) }),
		// A Go slice is never written as null by the handlers (NewList and the view types make
		// empty slices), so the schema says array, not array-or-null.
		jsonschema.InterceptNullability(func(p jsonschema.InterceptNullabilityParams) {
			if p.Type.Kind() != reflect.Pointer && p.Schema.HasType(jsonschema.Null) {
				p.Schema.RemoveType(jsonschema.Null)
			}
			// A pointer to a struct without omitempty is written as null when there is none
			// (a group's status before the evaluator has seen it). OpenAPI 3.0 ignores nullable
			// beside a $ref, so the reference goes into an allOf that can say it.
			if p.Type.Kind() == reflect.Pointer && !p.OmitEmpty && p.Schema.Ref != nil {
				ref := *p.Schema.Ref
				p.Schema.Ref = nil
				p.Schema.AllOf = []jsonschema.SchemaOrBool{(&jsonschema.Schema{Ref: &ref}).ToSchemaOrBool()}
				p.Schema.AddType(jsonschema.Null)
			}
		}),
		// An answer always carries every field without omitempty (null when unknown): say so, so
		// generated clients do not mark them optional. Request fields are required only when
		// tagged required:"true".
		jsonschema.InterceptProp(func(p jsonschema.InterceptPropParams) error {
			oc, ok := openapi.OperationCtx(p.Context)
			if !p.Processed || !ok || !oc.IsProcessingResponse() || p.ParentSchema == nil {
				return nil
			}
			tag := p.Field.Tag.Get("json")
			if tag == "-" || strings.Contains(tag, ",omitempty") || slices.Contains(p.ParentSchema.Required, p.Name) {
				return nil
			}
			p.ParentSchema.Required = append(p.ParentSchema.Required, p.Name)
			return nil
		}),
	)
	return ref
}

// addOperation documents ep; withRequest false leaves its parameters and body out (and the path
// too, which then has nothing to declare).
func addOperation(ref *openapi3.Reflector, ep Endpoint, withRequest bool) error {
	path := OpenAPIPath(ep.Path)
	if !withRequest {
		path = "/" + ep.operationID() // no parameters to declare
	}
	oc, err := ref.NewOperationContext(ep.Method, path)
	if err != nil {
		return err
	}
	oc.SetID(ep.operationID())
	if ep.Tag != "" {
		oc.SetTags(ep.Tag)
	}
	oc.SetSummary(ep.Summary)
	if ep.Role != "" {
		oc.SetDescription(fmt.Sprintf("Needs the %s role. Audited as %s.", ep.Role, ep.Audit))
		for _, s := range []string{SecurityBearer, SecurityToken, SecuritySession} {
			oc.AddSecurity(s)
		}
	}
	if ep.in != nil && withRequest {
		oc.AddReqStructure(reflect.New(ep.in).Interface())
	}
	status := ep.status()
	switch {
	case ep.Stream != "" && ep.out != nil:
		oc.AddRespStructure(reflect.New(ep.out).Interface(), openapi.WithContentType(ep.Stream), openapi.WithHTTPStatus(status))
	case ep.Stream != "":
		oc.AddRespStructure(new(string), openapi.WithContentType(ep.Stream), openapi.WithHTTPStatus(status))
	case ep.out == nil:
		oc.AddRespStructure(nil, openapi.WithHTTPStatus(status))
	default:
		oc.AddRespStructure(reflect.New(ep.out).Interface(), openapi.WithHTTPStatus(status))
	}
	for _, code := range ep.errorStatuses() {
		oc.AddRespStructure(new(ErrorBody), openapi.WithHTTPStatus(code))
	}
	return ref.AddOperation(oc)
}

// errorStatuses are the failures a caller can meet: bad input, the guard's answers, unknown path
// items, internal errors, and what the declaration adds.
func (ep Endpoint) errorStatuses() []int {
	var out []int
	if ep.in != nil {
		out = append(out, http.StatusBadRequest)
	}
	if ep.Role != "" {
		out = append(out, http.StatusUnauthorized, http.StatusForbidden)
	}
	if len(ep.pathParams()) > 0 {
		out = append(out, http.StatusNotFound)
	}
	for _, s := range ep.Statuses {
		if !containsInt(out, s) {
			out = append(out, s)
		}
	}
	return append(out, http.StatusInternalServerError)
}

func containsInt(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// defName names a schema by its Go type alone (TopicRow, not ServiceTopicRow) so the web's types
// read naturally; a generic List[T] becomes TList. Two types with one name keep swaggest's
// package-qualified default instead of silently sharing a schema.
func defName(names map[string]reflect.Type, t reflect.Type, def string) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	name := t.Name()
	if name == "" {
		return def
	}
	if base, args, ok := strings.Cut(name, "["); ok {
		var b strings.Builder
		for _, a := range strings.Split(strings.TrimSuffix(args, "]"), ",") {
			a = strings.TrimLeft(a, "*[]")
			if i := strings.LastIndex(a, "."); i >= 0 {
				a = a[i+1:]
			}
			b.WriteString(strings.ToUpper(a[:1]) + a[1:])
		}
		name = b.String() + base
	}
	if prev, ok := names[name]; ok && prev != t {
		return def
	}
	names[name] = t
	return name
}
