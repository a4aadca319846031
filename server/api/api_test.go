package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/gin-gonic/gin"

	"github.com/osprey-kafka/osprey/server/service"
)

type thing struct {
	Name  string   `json:"name" required:"true"`
	Size  *int64   `json:"size" description:"null when unknown"`
	Flags []string `json:"flags"`
}

type getThingIn struct {
	Cluster string `path:"cluster" json:"-"`
	Thing   string `path:"thing" json:"-"`
	Limit   int    `query:"limit" json:"-"`
	Order   string `query:"order" json:"-" enum:"asc,desc"`
	Deep    *bool  `query:"deep" json:"-"`
}

type createThingIn struct {
	Cluster string `path:"cluster" json:"-"`
	thing
}

func testRegistry(t *testing.T) *Registry {
	t.Helper()
	var r Registry
	r.Add(
		Op(http.MethodGet, "/api/v1/clusters/:cluster/things/:thing", func(c *gin.Context, in *getThingIn) (List[thing], error) {
			if in.Thing == "missing" {
				return List[thing]{}, &service.UserError{Status: 404, Code: "thing_not_found", Message: "no thing"}
			}
			n := int64(in.Limit)
			deep := "no"
			if in.Deep != nil && *in.Deep {
				deep = "yes"
			}
			return NewList([]thing{{Name: in.Cluster + "/" + in.Thing + "/" + in.Order + "/" + deep, Size: &n}}, 1), nil
		}, Doc("things", "A thing")),
		Op(http.MethodPost, "/api/v1/clusters/:cluster/things", func(c *gin.Context, in *createThingIn) (thing, error) {
			return thing{Name: in.Cluster + "/" + in.Name, Flags: in.Flags}, nil
		}, Doc("things", "Create a thing"), Needs(service.RoleOperator, "thing.create"), Status(http.StatusCreated)),
		Op(http.MethodDelete, "/api/v1/clusters/:cluster/things/:thing", func(c *gin.Context, in *getThingIn) (NoContent, error) {
			return NoContent{}, nil
		}, Doc("things", "Delete a thing"), Needs(service.RoleAdmin, "thing.delete")),
	)
	return &r
}

func serve(t *testing.T, r *Registry) *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	r.Mount(e, Hooks{
		Guard: func(role, audit string) gin.HandlerFunc {
			return func(c *gin.Context) {
				if c.GetHeader("X-Role") != role {
					c.AbortWithStatusJSON(http.StatusForbidden, ErrorBody{Error: ErrorDetail{Code: "forbidden", Message: audit}})
				}
			}
		},
		Fail: func(c *gin.Context, err error) {
			ue := err.(*service.UserError)
			c.AbortWithStatusJSON(ue.Status, ErrorBody{Error: ErrorDetail{Code: ue.Code, Message: ue.Message, Params: ue.Params}})
		},
	})
	return e
}

func do(e http.Handler, method, path, body string, hdr ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	e.ServeHTTP(w, req)
	return w
}

func TestDecodeAndAnswer(t *testing.T) {
	e := serve(t, testRegistry(t))
	cases := []struct {
		method, path, body, role string
		status                   int
		want                     string
	}{
		{"GET", "/api/v1/clusters/c1/things/t?limit=7&order=desc&deep=true", "", "", 200, `"name":"c1/t/desc/yes","size":7`},
		{"GET", "/api/v1/clusters/c1/things/t?limit=x", "", "", 400, `"limit must be an integer"`},
		{"GET", "/api/v1/clusters/c1/things/t?order=up", "", "", 400, `"order must be asc or desc"`},
		{"GET", "/api/v1/clusters/c1/things/t?deep=maybe", "", "", 400, `"deep must be true or false"`},
		{"GET", "/api/v1/clusters/c1/things/missing", "", "", 404, `"code":"thing_not_found"`},
		{"POST", "/api/v1/clusters/c1/things", `{"name":"a","flags":["x"]}`, "operator", 201, `{"name":"c1/a","size":null,"flags":["x"]}`},
		{"POST", "/api/v1/clusters/c1/things", `{"name":"a"}`, "", 403, `"thing.create"`},
		{"POST", "/api/v1/clusters/c1/things", `{"name":"a","colour":"red"}`, "operator", 400, `unknown field \"colour\"`},
		{"POST", "/api/v1/clusters/c1/things", `{"Cluster":"evil","name":"a"}`, "operator", 400, `unknown field \"Cluster\"`},
		{"POST", "/api/v1/clusters/c1/things", ``, "operator", 400, `the request body is empty`},
		{"POST", "/api/v1/clusters/c1/things", `{"name":"a"} {}`, "operator", 400, `exactly one JSON object`},
		{"DELETE", "/api/v1/clusters/c1/things/t", ``, "admin", 204, ``},
	}
	for _, tc := range cases {
		w := do(e, tc.method, tc.path, tc.body, "X-Role", tc.role)
		if w.Code != tc.status || !strings.Contains(w.Body.String(), tc.want) {
			t.Errorf("%s %s %s: %d %s; want %d with %s", tc.method, tc.path, tc.body, w.Code, w.Body, tc.status, tc.want)
		}
	}
}

func TestDocumentIsValidOpenAPI(t *testing.T) {
	doc, err := testRegistry(t).Document(Info{Title: "test", Version: "1"})
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := openapi3.NewLoader().LoadFromData(doc)
	if err != nil {
		t.Fatal(err)
	}
	if err := loaded.Validate(context.Background()); err != nil {
		t.Fatalf("invalid document: %v\n%s", err, doc)
	}
	op := loaded.Paths.Find("/api/v1/clusters/{cluster}/things/{thing}").Get
	if op.OperationID != "getClustersByClusterThingsByThing" {
		t.Errorf("operationId %q", op.OperationID)
	}
	var names []string
	for _, p := range op.Parameters {
		names = append(names, p.Value.In+":"+p.Value.Name)
	}
	if got := strings.Join(names, ","); !strings.Contains(got, "path:cluster") || !strings.Contains(got, "query:order") {
		t.Errorf("parameters %s", got)
	}
	resp := op.Responses.Value("200").Value.Content.Get("application/json").Schema
	if resp.Ref != "#/components/schemas/ThingList" {
		t.Errorf("200 schema %q", resp.Ref)
	}
	item := loaded.Components.Schemas["thing"]
	if item == nil || item.Value.Properties["size"] == nil || !item.Value.Properties["size"].Value.Nullable {
		raw, _ := json.Marshal(loaded.Components.Schemas)
		t.Fatalf("thing schema: %s", raw)
	}
	if got := item.Value.Required; !slices.Equal(got, []string{"name", "size", "flags"}) {
		t.Errorf("thing required %v: every answer field without omitempty is present", got)
	}
	del := loaded.Paths.Find("/api/v1/clusters/{cluster}/things/{thing}").Delete
	if del.Responses.Value("204") == nil || del.Responses.Value("403") == nil || del.Security == nil {
		t.Errorf("delete: responses %v security %v", del.Responses.Keys(), del.Security)
	}
}

func TestDeclarationMistakesPanic(t *testing.T) {
	type noJSONDash struct {
		Cluster string `path:"cluster"`
	}
	type wrongPath struct {
		Topic string `path:"topic" json:"-"`
	}
	for name, f := range map[string]func(){
		"param without json:-": func() {
			Op("GET", "/c/:cluster", func(*gin.Context, *noJSONDash) (NoContent, error) { return NoContent{}, nil })
		},
		"unknown path param": func() {
			Op("GET", "/c/:cluster", func(*gin.Context, *wrongPath) (NoContent, error) { return NoContent{}, nil })
		},
		"body on GET": func() {
			Op("GET", "/c", func(*gin.Context, *thing) (NoContent, error) { return NoContent{}, nil })
		},
		"unaudited change": func() {
			var r Registry
			r.Add(Op("POST", "/c", func(*gin.Context, *struct{}) (NoContent, error) { return NoContent{}, nil }, Needs("admin", "")))
		},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}
