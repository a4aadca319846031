package grafana

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// schemaVersion is the dashboard JSON model version of the vendored schema (its default); the
// dashboards declare it.
const schemaVersion = 42

var dashboards = []string{"osprey.json", "kafka-exporter.json"}

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open("testdata/dashboard.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("dashboard.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("dashboard.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func loadDashboard(t *testing.T, name string) (any, map[string]any) {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	inst, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	m, ok := inst.(map[string]any)
	if !ok {
		t.Fatalf("%s is not a JSON object", name)
	}
	return inst, m
}

// Each dashboard declares the schema version it is written for and is valid against Grafana's schema.
func TestDashboardsMatchGrafanaSchema(t *testing.T) {
	s := compileSchema(t)
	for _, name := range dashboards {
		inst, m := loadDashboard(t, name)
		if v, _ := m["schemaVersion"].(json.Number); v.String() != "42" {
			t.Errorf("%s declares schemaVersion %v, the vendored schema is for %d", name, m["schemaVersion"], schemaVersion)
		}
		if err := s.Validate(inst); err != nil {
			t.Errorf("%s is not a valid Grafana dashboard:\n%v", name, err)
		}
	}
	// The schema does refuse what Grafana would refuse.
	bad := map[string]any{"schemaVersion": json.Number("42"), "templating": map[string]any{}, "annotations": map[string]any{},
		"panels": []any{map[string]any{"type": "timeseries", "gridPos": map[string]any{"h": json.Number("8")}}}}
	if err := s.Validate(bad); err == nil {
		t.Error("a panel with an incomplete gridPos passed the schema")
	}
}

// grafanaVars replaces Grafana's template variables with values PromQL accepts, as Grafana does
// before sending a query.
var grafanaVars = strings.NewReplacer("$__rate_interval", "1m", "$__interval", "1m", "$__range", "1h")

var (
	dollarVar  = regexp.MustCompile(`\$\{?[A-Za-z_]+\}?`)
	metricName = regexp.MustCompile(`\b(osprey_[a-z_]+|kafka_[a-z_]+)\b`)
)

// Every PromQL expression of the dashboards parses: they are written into a rules file as recording
// rules and checked by Prometheus' own promtool (Debian's prometheus package, installed by
// deploy/scripts/install-deps.sh), so the parser is the real one without making the Prometheus module
// a dependency of Osprey. Each dashboard uses only the metric families it is meant for.
func TestDashboardQueriesParse(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatal("promtool not found: deploy/scripts/install-deps.sh installs Debian's prometheus package, which has it")
	}
	var rules strings.Builder
	rules.WriteString("groups:\n  - name: dashboards\n    rules:\n")
	n := 0
	for _, name := range dashboards {
		_, m := loadDashboard(t, name)
		var exprs []string
		walk(m, func(key string, v any) {
			if s, ok := v.(string); ok && key == "expr" {
				exprs = append(exprs, s)
			}
		})
		if len(exprs) < 10 {
			t.Fatalf("%s: only %d queries found", name, len(exprs))
		}
		for _, e := range exprs {
			for _, mn := range metricName.FindAllString(e, -1) {
				if strings.HasPrefix(mn, "osprey_") != (name == "osprey.json") {
					t.Errorf("%s: %q uses %s", name, e, mn)
				}
			}
			q := dollarVar.ReplaceAllString(grafanaVars.Replace(e), "x")
			b, _ := json.Marshal(q) // a JSON string is a valid YAML scalar
			fmt.Fprintf(&rules, "      - record: dashboard:query:%d\n        expr: %s\n", n, b)
			n++
		}
	}
	path := filepath.Join(t.TempDir(), "rules.yml")
	if err := os.WriteFile(path, []byte(rules.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(promtool, "check", "rules", path).CombinedOutput()
	if err != nil || !strings.Contains(string(out), fmt.Sprintf("SUCCESS: %d rules found", n)) {
		t.Fatalf("promtool check rules: %v\n%s\n%s", err, out, rules.String())
	}
	// promtool does refuse a broken expression.
	bad := filepath.Join(t.TempDir(), "bad.yml")
	_ = os.WriteFile(bad, []byte("groups:\n  - name: x\n    rules:\n      - record: x:y\n        expr: \"sum by (topic (kafka_brokers)\"\n"), 0o600)
	if err := exec.Command(promtool, "check", "rules", bad).Run(); err == nil {
		t.Fatal("promtool accepted a broken expression")
	}
}

func walk(v any, fn func(key string, v any)) {
	switch t := v.(type) {
	case map[string]any:
		for k, c := range t {
			fn(k, c)
			walk(c, fn)
		}
	case []any:
		for _, c := range t {
			walk(c, fn)
		}
	}
}
