package server

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/osprey-kafka/osprey/internal/testenv"
)

// With the console's database gone (its pool closed under the running console): /healthz says so
// with the buffered samples, /metrics exports it, the cluster's pages still answer from the
// snapshot, and a history page fails with database_unavailable (503), not an internal error.
func TestDatabaseUnavailableStatus(t *testing.T) {
	e := newAPIEnv(t)
	if code, body := e.call("GET", "/healthz", "", nil); code != 200 || body["database"].(map[string]any)["available"] != true {
		t.Fatalf("/healthz with the database up = %d %v", code, body)
	}
	if err := e.st.Close(); err != nil {
		t.Fatal(err)
	}
	e.poll()
	testenv.WaitFor(t, 10*time.Second, testenv.Until("the database reported unavailable", func() bool {
		return !e.svc.DatabaseStatus().Available
	}))
	code, body := e.call("GET", "/healthz", "", nil)
	db, _ := body["database"].(map[string]any)
	buffered, _ := db["buffered"].(float64)
	if code != 200 || db["available"] != false || db["downSince"] == nil || db["error"] == "" || buffered < 1 {
		t.Fatalf("/healthz with the database closed = %d %v", code, body)
	}
	rec, _ := do(t, e.srv, "GET", "/metrics")
	if strings.Contains(rec.Body.String(), "osprey_samples_buffered 0\n") {
		t.Error("/metrics reports no buffered samples")
	}
	for _, want := range []string{"osprey_database_available 0", "osprey_samples_buffered ", "osprey_samples_dropped_total 0"} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("/metrics lacks %q:\n%s", want, grepLines(rec.Body.String(), "osprey_database|osprey_samples"))
		}
	}
	if code, body := e.call("GET", "/api/v1/clusters/fake/topics/orders", "", nil); code != http.StatusOK {
		t.Fatalf("a topic page from the snapshot = %d %v", code, body)
	}
	code, body = e.call("GET", "/api/v1/clusters/fake/metrics/cluster", "", nil)
	if errBody, _ := body["error"].(map[string]any); code != http.StatusServiceUnavailable || errBody["code"] != "database_unavailable" {
		t.Fatalf("a history page with the database closed = %d %v", code, body)
	}
}

func grepLines(s, alternatives string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		for _, w := range strings.Split(alternatives, "|") {
			if strings.Contains(l, w) {
				out = append(out, l)
				break
			}
		}
	}
	return strings.Join(out, "\n")
}
