package server

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/osprey-kafka/osprey/admin"
	"github.com/osprey-kafka/osprey/collector"
	"github.com/osprey-kafka/osprey/config"
	"github.com/osprey-kafka/osprey/internal/ldapauth"
	"github.com/osprey-kafka/osprey/internal/testenv"
	"github.com/osprey-kafka/osprey/server/service"
	"github.com/osprey-kafka/osprey/store"
)

// ldapConfig maps the sample directory's kafka-operators to operator and kafka-viewers to viewer.
func ldapConfig(url string) config.LDAP {
	return config.LDAP{Enabled: true, URL: url, TLS: config.LDAPTLSNone,
		BindDN: testenv.SampleBindDN, BindPassword: testenv.SampleBindPassword,
		UserBaseDN: "ou=people," + testenv.LDAPBaseDN, GroupBaseDN: "ou=groups," + testenv.LDAPBaseDN,
		Roles: []config.LDAPRole{{Group: "kafka-operators", Role: "operator"}, {Group: "kafka-viewers", Role: "viewer"}}}
}

// newDirectoryEnv is a console whose sign-in goes to an LDAP directory, with kfake clusters by name.
func newDirectoryEnv(t *testing.T, cfg config.LDAP, clusters ...string) *apiEnv {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{Driver: "sqlite", DSN: filepath.Join(t.TempDir(), "o.db"), Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	dir, err := ldapauth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	svc := service.New(service.Options{Store: st, Logger: quietLogger(), DataDir: t.TempDir(), Directory: dir, AllowLocal: cfg.AllowLocal,
		Collector: collector.Config{OffsetsInterval: time.Hour, GroupsInterval: time.Hour}})
	if _, err := svc.SetupAdminToken(ctx, testToken); err != nil {
		t.Fatal(err)
	}
	var first *kfake.Cluster
	for _, name := range clusters {
		kc, err := kfake.NewCluster(kfake.NumBrokers(1))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(kc.Close)
		if first == nil {
			first = kc
		}
		if err := svc.AddCluster(ctx, service.ClusterSpec{Name: name, Source: "config", Admin: admin.Config{Bootstrap: kc.ListenAddrs()}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Stop)
	return &apiEnv{t: t, kc: first, st: st, svc: svc, srv: newTestServer(t, Options{Service: svc, Logger: quietLogger()})}
}

// session is a signed-in browser: its cookie and CSRF token.
type session struct {
	e      *apiEnv
	cookie *http.Cookie
	csrf   string
	role   string
}

const testUserAgent = "osprey-ldap-test/1.0"

// login signs in and returns the status, the JSON answer and, on success, the session.
func (e *apiEnv) login(user, pass string) (int, map[string]any, *session) {
	e.t.Helper()
	raw, _ := json.Marshal(map[string]string{"username": user, "password": pass})
	req := httptest.NewRequest("POST", "/api/v1/auth/login", strings.NewReader(string(raw)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", testUserAgent)
	rec := httptest.NewRecorder()
	e.srv.Handler().ServeHTTP(rec, req)
	var out map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &out)
	if rec.Code != http.StatusOK {
		return rec.Code, out, nil
	}
	s := &session{e: e, csrf: out["csrfToken"].(string), role: out["role"].(string)}
	for _, c := range rec.Result().Cookies() {
		if c.Name == sessionCookie {
			s.cookie = c
		}
	}
	return rec.Code, out, s
}

// do sends a request with the session's cookie and CSRF token.
func (s *session) do(method, path string, body any) (int, map[string]any) {
	s.e.t.Helper()
	raw, _ := json.Marshal(body)
	req := httptest.NewRequest(method, path, strings.NewReader(string(raw)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(csrfHeader, s.csrf)
	req.Header.Set("User-Agent", testUserAgent)
	req.AddCookie(s.cookie)
	rec := httptest.NewRecorder()
	s.e.srv.Handler().ServeHTTP(rec, req)
	var out map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &out)
	return rec.Code, out
}

func TestLDAPLogin(t *testing.T) {
	dir := testenv.StartLDAP(t, testenv.SampleDirectory)
	e := newDirectoryEnv(t, ldapConfig(dir.URL), "fake")
	// A local account, even an admin one, does not sign in by password while LDAP is the method.
	if code, body := e.call("POST", "/api/v1/users", testToken, map[string]any{"username": "dave", "password": "dave-pass-123", "role": "admin"}); code != 201 {
		t.Fatalf("create local user = %d %v", code, body)
	}
	for _, c := range []struct {
		user, pass string
		code       int
		errCode    string
	}{
		{"alice", "wrong", 401, "bad_login"},
		{"nobody", "nobody-pass", 401, "bad_login"},
		{"dave", "dave-pass-123", 401, "bad_login"},
		{"carol", "carol-pass", 403, "no_role"},
	} {
		if code, body, _ := e.login(c.user, c.pass); code != c.code || errOf(body)["code"] != c.errCode {
			t.Errorf("login %s/%s = %d %v, want %d %s", c.user, c.pass, code, body, c.code, c.errCode)
		}
	}
	code, body, alice := e.login("alice", "alice-pass")
	if code != 200 || alice.role != "operator" || alice.cookie == nil || !alice.cookie.HttpOnly {
		t.Fatalf("alice login = %d %v", code, body)
	}
	// The session works like a local one: a change needs the CSRF token.
	noCSRF := *alice
	noCSRF.csrf = ""
	if code, _ := noCSRF.do("POST", "/api/v1/clusters/fake/topics", map[string]any{"name": "t-nocsrf", "partitions": 1, "replicationFactor": 1}); code != 403 {
		t.Fatalf("create topic without CSRF = %d, want 403", code)
	}
	if code, body := alice.do("POST", "/api/v1/clusters/fake/topics", map[string]any{"name": "t-alice", "partitions": 1, "replicationFactor": 1}); code/100 != 2 {
		t.Fatalf("operator alice creates a topic = %d %v", code, body)
	}
	if code, me := alice.do("GET", "/api/v1/auth/me", nil); code != 200 || me["name"] != "alice" || me["role"] != "operator" {
		t.Fatalf("me = %d %v", code, me)
	}
	_, _, bob := e.login("bob", "bob-pass")
	if bob == nil || bob.role != "viewer" {
		t.Fatalf("bob = %+v", bob)
	}
	if code, _ := bob.do("POST", "/api/v1/clusters/fake/topics", map[string]any{"name": "t-bob", "partitions": 1, "replicationFactor": 1}); code != 403 {
		t.Fatalf("viewer bob creates a topic = %d, want 403", code)
	}
	assertAudit(t, e, "alice", "login", "ok", "ldap")
	assertAudit(t, e, "alice", "topic.create", "ok", "ldap")
	assertAudit(t, e, "dave", "login", "denied", "ldap")
}

// assertAudit finds the newest audit entry of actor and action and checks its result and how the
// actor signed in, with the test's user agent and a source address.
func assertAudit(t *testing.T, e *apiEnv, actor, action, result, method string) {
	t.Helper()
	code, body := e.call("GET", "/api/v1/audit?actor="+actor+"&action="+action, testToken, nil)
	rows := items(body)
	if code != 200 || len(rows) == 0 {
		t.Fatalf("audit %s %s = %d %v", actor, action, code, body)
	}
	r := rows[0]
	if r["result"] != result || r["authMethod"] != method || r["userAgent"] != testUserAgent || r["remoteAddr"] == "" {
		t.Fatalf("audit %s %s = %v, want result %s, method %s, user agent %s", actor, action, r, result, method, testUserAgent)
	}
}

func TestLDAPUnavailableDoesNotFallBack(t *testing.T) {
	e := newDirectoryEnv(t, ldapConfig("ldap://127.0.0.1:"+strconv.Itoa(testenv.FreePort(t))), "fake")
	// A local account of the same name must not become the way in while the directory is down.
	if code, body := e.call("POST", "/api/v1/users", testToken, map[string]any{"username": "alice", "password": "alice-pass", "role": "admin"}); code != 201 {
		t.Fatalf("create local user = %d %v", code, body)
	}
	code, body, _ := e.login("alice", "alice-pass")
	if code != http.StatusServiceUnavailable || errOf(body)["code"] != "directory_unavailable" ||
		!strings.Contains(errOf(body)["message"].(string), "LDAP directory cannot be reached") {
		t.Fatalf("login with the directory down = %d %v, want 503 directory_unavailable", code, body)
	}
	// The admin token stays the way in.
	if code, _ := e.call("GET", "/api/v1/users", testToken, nil); code != 200 {
		t.Fatalf("admin token = %d", code)
	}
}

func TestLDAPAllowLocal(t *testing.T) {
	dir := testenv.StartLDAP(t, testenv.SampleDirectory)
	cfg := ldapConfig(dir.URL)
	cfg.AllowLocal = true
	e := newDirectoryEnv(t, cfg, "fake")
	if code, body := e.call("POST", "/api/v1/users", testToken, map[string]any{"username": "dave", "password": "dave-pass-123", "role": "admin"}); code != 201 {
		t.Fatalf("create local user = %d %v", code, body)
	}
	if code, body, s := e.login("dave", "dave-pass-123"); code != 200 || s.role != "admin" {
		t.Fatalf("local dave = %d %v", code, body)
	}
	if code, body, s := e.login("bob", "bob-pass"); code != 200 || s.role != "viewer" {
		t.Fatalf("directory bob = %d %v", code, body)
	}
	assertAudit(t, e, "dave", "login", "ok", "local")
	assertAudit(t, e, "bob", "login", "ok", "ldap")
}

// errOf is the error object of an error answer.
func errOf(body map[string]any) map[string]any {
	m, _ := body["error"].(map[string]any)
	return m
}
