package server

import (
	"context"
	"encoding/csv"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/osprey-kafka/osprey/store"
)

// seedAudit writes entries with known sign-in methods, addresses and times; T0 is the first one's.
func seedAudit(t *testing.T, e *apiEnv) time.Time {
	t.Helper()
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	for i, a := range []store.AuditEntry{
		{Actor: "alice", ActorKind: "session", AuthMethod: "oidc", RemoteAddr: "10.0.0.1", Action: "login", Target: "alice", Result: "ok", UserAgent: "Firefox"},
		{Actor: "bob", ActorKind: "session", AuthMethod: "ldap", RemoteAddr: "10.0.0.2", Action: "topic.create", Cluster: "fake",
			Target: `=HYPERLINK("http://evil")`, Result: "ok", UserAgent: `Mozilla/5.0 (X11, "quoted")`, Params: `{"partitions":3}`},
		{Actor: "token:ci", ActorKind: "api-token", AuthMethod: "token", RemoteAddr: "10.0.0.3", Action: "topic.delete", Cluster: "fake", Target: "old", Result: "denied", Error: "forbidden"},
	} {
		a.At = t0.Add(time.Duration(i) * time.Hour)
		if a.Params == "" {
			a.Params = "{}"
		}
		if err := e.st.AddAudit(context.Background(), &a); err != nil {
			t.Fatal(err)
		}
	}
	return t0
}

func auditActors(t *testing.T, e *apiEnv, query string) []string {
	t.Helper()
	code, out := e.call("GET", "/api/v1/audit?"+query, testToken, nil)
	if code != http.StatusOK {
		t.Fatalf("audit?%s = %d %v", query, code, out)
	}
	var actors []string
	for _, it := range out["items"].([]any) {
		actors = append(actors, it.(map[string]any)["actor"].(string))
	}
	return actors
}

func TestAuditFilters(t *testing.T) {
	e := newAPIEnv(t)
	seedAudit(t, e)
	for _, tc := range []struct {
		query string
		want  string
	}{
		{"method=oidc", "alice"},
		{"method=ldap", "bob"},
		{"remoteAddr=10.0.0.3", "token:ci"},
		{"actor=bob", "bob"},
		{"action=topic.delete", "token:ci"},
		{"since=2026-03-01T10:30:00Z&until=2026-03-01T11:30:00Z", "bob"},
		{"since=2026-03-01T11:00:00Z&cluster=fake", "token:ci,bob"},
		{"until=" + "1772359200", "alice"}, // Unix seconds of T0
		{"method=ldap&remoteAddr=10.0.0.1", ""},
	} {
		if got := strings.Join(auditActors(t, e, tc.query), ","); got != tc.want {
			t.Errorf("audit?%s = %q, want %q", tc.query, got, tc.want)
		}
	}
	for _, bad := range []string{"method=kerberos", "since=yesterday", "since=2026-03-02T00:00:00Z&until=2026-03-01T00:00:00Z"} {
		if code, out := e.call("GET", "/api/v1/audit?"+bad, testToken, nil); code != http.StatusBadRequest {
			t.Errorf("audit?%s = %d %v, want 400", bad, code, out)
		}
	}
}

// getCSV answers the raw export.
func getCSV(t *testing.T, e *apiEnv, query, token string) (int, string, http.Header) {
	t.Helper()
	req := httptest.NewRequest("GET", "/api/v1/audit.csv?"+query, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	e.srv.Handler().ServeHTTP(rec, req)
	return rec.Code, rec.Body.String(), rec.Header()
}

func TestAuditCSVExport(t *testing.T) {
	e := newAPIEnv(t)
	seedAudit(t, e)
	const secret = "hunter2-secret-pw"
	if code, out := e.call("POST", "/api/v1/users", testToken, map[string]any{"username": "carol", "password": secret, "role": "viewer"}); code != http.StatusCreated {
		t.Fatalf("create user: %d %v", code, out)
	}

	if code, _, _ := getCSV(t, e, "", ""); code != http.StatusUnauthorized {
		t.Fatalf("export without a token = %d, want 401", code)
	}
	code, body, hdr := getCSV(t, e, "method=ldap", testToken)
	if code != http.StatusOK || !strings.HasPrefix(hdr.Get("Content-Type"), "text/csv") || !strings.Contains(hdr.Get("Content-Disposition"), "attachment") {
		t.Fatalf("export = %d %v", code, hdr)
	}
	recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatalf("not CSV: %v\n%s", err, body)
	}
	if got := strings.Join(recs[0], ","); got != "id,at,actor,actorKind,authMethod,remoteAddr,userAgent,action,cluster,target,result,error,params" {
		t.Fatalf("header = %s", got)
	}
	if len(recs) != 2 {
		t.Fatalf("method=ldap exported %d rows, want 1:\n%s", len(recs)-1, body)
	}
	row := recs[1]
	if row[2] != "bob" || row[4] != "ldap" || row[5] != "10.0.0.2" || row[7] != "topic.create" || row[1] != "2026-03-01T11:00:00Z" {
		t.Fatalf("row = %q", row)
	}
	// Commas and quotes survive the round trip; a formula is defused.
	if row[6] != `Mozilla/5.0 (X11, "quoted")` || !strings.Contains(body, `"Mozilla/5.0 (X11, ""quoted"")"`) {
		t.Fatalf("user agent = %q in\n%s", row[6], body)
	}
	if row[9] != `'=HYPERLINK("http://evil")` {
		t.Fatalf("target = %q, want it prefixed with an apostrophe", row[9])
	}

	code, body, _ = getCSV(t, e, "", testToken)
	if code != http.StatusOK || !strings.Contains(body, "user.create") || !strings.Contains(body, "carol") {
		t.Fatalf("full export = %d\n%s", code, body)
	}
	if strings.Contains(body, secret) {
		t.Fatalf("the export carries the password:\n%s", body)
	}
	if code, _, _ := getCSV(t, e, "since=nope", testToken); code != http.StatusBadRequest {
		t.Fatalf("bad since = %d, want 400", code)
	}
}
