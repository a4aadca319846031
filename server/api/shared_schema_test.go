package api

import (
	"context"
	"net/http"
	"slices"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/gin-gonic/gin"
)

type plan struct {
	Cluster  string   `json:"cluster"`
	Moves    []move   `json:"moves"`
	Warnings []string `json:"warnings,omitempty"`
}

type move struct {
	Topic string `json:"topic"`
	To    []int  `json:"to"`
}

type executeIn struct {
	Cluster string `path:"cluster" json:"-"`
	Plan    plan   `json:"plan"`
}

// A type answered by one call and sent back to another has one schema; it lists the fields every
// answer carries as required, whichever operation the reflector met first.
func TestSharedSchemaKeepsTheAnswersRequiredFields(t *testing.T) {
	var r Registry
	r.Add(
		// Sorted by path, the request that takes a plan is documented before the answer that gives one.
		Op(http.MethodPost, "/api/v1/clusters/:cluster/a-execute", func(c *gin.Context, in *executeIn) (NoContent, error) {
			return NoContent{}, nil
		}, Doc("plans", "Execute a plan"), Needs("operator", "plan.execute")),
		Op(http.MethodGet, "/api/v1/clusters/:cluster/b-plan", func(c *gin.Context, in *struct {
			Cluster string `path:"cluster" json:"-"`
		}) (plan, error) {
			return plan{}, nil
		}, Doc("plans", "A plan")),
	)
	doc, err := r.Document(Info{Title: "test", Version: "1"})
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := openapi3.NewLoader().LoadFromData(doc)
	if err != nil {
		t.Fatal(err)
	}
	if err := loaded.Validate(context.Background()); err != nil {
		t.Fatalf("invalid document: %v", err)
	}
	for name, want := range map[string][]string{"plan": {"cluster", "moves"}, "move": {"topic", "to"}} {
		sc := loaded.Components.Schemas[name]
		if sc == nil {
			t.Fatalf("no schema %s in %s", name, doc)
		}
		got := slices.Clone(sc.Value.Required)
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s required = %v, want %v", name, got, want)
		}
	}
	if p := loaded.Paths.Find("/api/v1/clusters/{cluster}/a-execute"); p == nil || p.Post == nil || p.Post.RequestBody == nil {
		t.Errorf("the execute operation lost its request body")
	}
}

type withStatus struct {
	Status *move `json:"status"`
	Last   *move `json:"last,omitempty"`
}

// A pointer to a struct is answered as null when there is none; the document says so (OpenAPI 3.0
// cannot say it beside a $ref), and an omitempty one stays optional instead.
func TestPointerToStructIsNullable(t *testing.T) {
	var r Registry
	r.Add(Op(http.MethodGet, "/api/v1/status", func(c *gin.Context, _ *struct{}) (withStatus, error) {
		return withStatus{}, nil
	}, Doc("status", "A status")))
	doc, err := r.Document(Info{Title: "test", Version: "1"})
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := openapi3.NewLoader().LoadFromData(doc)
	if err != nil {
		t.Fatal(err)
	}
	if err := loaded.Validate(context.Background()); err != nil {
		t.Fatalf("invalid document: %v", err)
	}
	sc := loaded.Components.Schemas["withStatus"].Value
	st := sc.Properties["status"].Value
	if !st.Nullable || len(st.AllOf) != 1 || st.AllOf[0].Ref != "#/components/schemas/move" || !slices.Contains(sc.Required, "status") {
		t.Errorf("status = nullable %v, allOf %v, required %v; want a nullable, required reference to move", st.Nullable, st.AllOf, sc.Required)
	}
	if last := sc.Properties["last"]; last.Ref != "#/components/schemas/move" || slices.Contains(sc.Required, "last") {
		t.Errorf("last = %+v, required %v; want an optional plain reference", last, sc.Required)
	}
}
