package server

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
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
	st := openTestStore(t)
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

func TestRolesPerCluster(t *testing.T) {
	dir := testenv.StartLDAP(t, testenv.SampleDirectory)
	e := newDirectoryEnv(t, ldapConfig(dir.URL), "staging", "prod")
	grant := func(kind, subject, cluster, role string) float64 {
		t.Helper()
		code, body := e.call("POST", "/api/v1/role-grants", testToken, map[string]any{"subjectKind": kind, "subject": subject, "cluster": cluster, "role": role})
		if code != 201 {
			t.Fatalf("grant %s %s on %s = %d %v", kind, subject, cluster, code, body)
		}
		return body["id"].(float64)
	}
	createTopic := func(s *session, cluster, name string) int {
		code, _ := s.do("POST", "/api/v1/clusters/"+cluster+"/topics", map[string]any{"name": name, "partitions": 1, "replicationFactor": 1})
		return code
	}
	// bob is a viewer everywhere through kafka-viewers; his group operates staging.
	_, _, bob := e.login("bob", "bob-pass")
	if code := createTopic(bob, "staging", "t1"); code != 403 {
		t.Fatalf("bob before the grant = %d, want 403", code)
	}
	id := grant("group", "kafka-viewers", "staging", "operator")
	if code := createTopic(bob, "staging", "t1"); code != 201 {
		t.Fatalf("bob on staging after the group grant = %d, want 201 (no sign-in or restart needed)", code)
	}
	code, body := bob.do("POST", "/api/v1/clusters/prod/topics", map[string]any{"name": "t1", "partitions": 1, "replicationFactor": 1})
	if code != 403 || !strings.Contains(errOf(body)["message"].(string), "on cluster prod") {
		t.Fatalf("bob on prod = %d %v, want 403 naming the cluster", code, body)
	}
	if code, me := bob.do("GET", "/api/v1/auth/me", nil); code != 200 || me["clusterRoles"].(map[string]any)["staging"] != "operator" ||
		me["clusterRoles"].(map[string]any)["prod"] != "viewer" {
		t.Fatalf("bob's me = %v", me)
	}
	assertAudit(t, e, "bob", "topic.create", "denied", "ldap")
	// Removing the grant takes effect at once.
	if code, _ := e.call("DELETE", "/api/v1/role-grants/"+strconv.Itoa(int(id)), testToken, nil); code != 204 {
		t.Fatalf("delete grant = %d", code)
	}
	if code := createTopic(bob, "staging", "t2"); code != 403 {
		t.Fatalf("bob after the grant is gone = %d, want 403", code)
	}
	// carol has no console-wide role; a user grant on staging lets her sign in and operate there only.
	if code, _, _ := e.login("carol", "carol-pass"); code != 403 {
		t.Fatalf("carol without grants = %d, want 403", code)
	}
	grant("user", "carol", "staging", "operator")
	_, _, carol := e.login("carol", "carol-pass")
	if carol == nil {
		t.Fatal("carol with a grant cannot sign in")
	}
	if code := createTopic(carol, "staging", "t3"); code != 201 {
		t.Fatalf("carol on staging = %d", code)
	}
	if code := createTopic(carol, "prod", "t3"); code != 403 {
		t.Fatalf("carol on prod = %d, want 403", code)
	}
	// An API token granted on prod.
	code, body = e.call("POST", "/api/v1/tokens", testToken, map[string]any{"name": "ci", "role": "viewer"})
	if code != 201 {
		t.Fatalf("token = %d %v", code, body)
	}
	tok := body["token"].(string)
	grant("token", "ci", "prod", "operator")
	if code, body := e.call("POST", "/api/v1/clusters/prod/topics", tok, map[string]any{"name": "t4", "partitions": 1, "replicationFactor": 1}); code != 201 {
		t.Fatalf("token on prod = %d %v", code, body)
	}
	if code, _ := e.call("POST", "/api/v1/clusters/staging/topics", tok, map[string]any{"name": "t4", "partitions": 1, "replicationFactor": 1}); code != 403 {
		t.Fatalf("token on staging = %d, want 403", code)
	}
	// Grants are admin business.
	if code, _ := bob.do("POST", "/api/v1/role-grants", map[string]any{"subjectKind": "user", "subject": "bob", "cluster": "*", "role": "admin"}); code != 403 {
		t.Fatalf("bob grants himself admin = %d, want 403", code)
	}
	if code, body := e.call("POST", "/api/v1/role-grants", testToken, map[string]any{"subjectKind": "user", "subject": "x", "cluster": "nope", "role": "admin"}); code != 404 {
		t.Fatalf("grant on an unknown cluster = %d %v, want 404", code, body)
	}
}

// A client cannot pick its own address for the login limiter with X-Forwarded-For: the header
// counts only when the connection comes from a configured trusted proxy.
func TestLoginLimiterForwardedFor(t *testing.T) {
	attempt := func(e *apiEnv, user, remote, forwarded string) int {
		req := httptest.NewRequest("POST", "/api/v1/auth/login", strings.NewReader(`{"username":"`+user+`","password":"guess-123"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-For", forwarded)
		req.RemoteAddr = remote + ":40000"
		rec := httptest.NewRecorder()
		e.srv.Handler().ServeHTTP(rec, req)
		return rec.Code
	}
	direct := newAPIEnv(t)
	var last int
	for i := 0; i < 12; i++ {
		last = attempt(direct, "user"+strconv.Itoa(i), "198.51.100.7", "203.0.113."+strconv.Itoa(i+1))
	}
	if last != http.StatusTooManyRequests {
		t.Fatalf("12th attempt from one address with forged X-Forwarded-For = %d, want 429", last)
	}

	proxied := newAPIEnv(t, func(o *Options) { o.TrustedProxies = []string{"10.0.0.0/8"} })
	for i := 0; i < 12; i++ {
		last = attempt(proxied, "user"+strconv.Itoa(i), "10.0.0.5", "203.0.113."+strconv.Itoa(i+1))
	}
	if last != http.StatusUnauthorized {
		t.Fatalf("12th attempt through a trusted proxy for 12 clients = %d, want 401 (each client has its own limit)", last)
	}
	for i := 0; i < 11; i++ {
		last = attempt(proxied, "other"+strconv.Itoa(i), "10.0.0.5", "203.0.113.99")
	}
	if last != http.StatusTooManyRequests {
		t.Fatalf("11th attempt of one client through a trusted proxy = %d, want 429", last)
	}
}

func TestLoginRateLimitedPerUser(t *testing.T) {
	e := newAPIEnv(t)
	attempt := func(user, addr string) int {
		req := httptest.NewRequest("POST", "/api/v1/auth/login", strings.NewReader(`{"username":"`+user+`","password":"guess-123"}`))
		req.Header.Set("Content-Type", "application/json")
		req.RemoteAddr = addr + ":40000"
		rec := httptest.NewRecorder()
		e.srv.Handler().ServeHTTP(rec, req)
		return rec.Code
	}
	// Guesses at one account from many addresses: each address is below its own limit.
	var last int
	for i := 0; i < 12; i++ {
		last = attempt("Alice", "198.51.100."+strconv.Itoa(i+1))
	}
	if last != http.StatusTooManyRequests {
		t.Fatalf("12th attempt at alice from a new address = %d, want 429", last)
	}
	if code := attempt("alice", "198.51.100.200"); code != http.StatusTooManyRequests {
		t.Fatalf("alice (other case) = %d, want 429", code)
	}
	if code := attempt("bob", "198.51.100.201"); code != http.StatusUnauthorized {
		t.Fatalf("another user = %d, want 401", code)
	}
}
