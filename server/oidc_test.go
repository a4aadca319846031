package server

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/osprey-kafka/osprey/admin"
	"github.com/osprey-kafka/osprey/collector"
	"github.com/osprey-kafka/osprey/config"
	"github.com/osprey-kafka/osprey/internal/oidcauth"
	"github.com/osprey-kafka/osprey/internal/testenv"
	"github.com/osprey-kafka/osprey/server/service"
	"github.com/twmb/franz-go/pkg/kfake"
)

// oidcEnv is a console served over HTTP whose single sign-on goes to an in-test provider.
type oidcEnv struct {
	*apiEnv
	idp *testenv.OIDCProvider
	url string // the console's base URL
}

// newOIDCEnv starts a provider and a console (with one kfake cluster, "staging") signing in with it:
// kafka-operators map to operator, kafka-viewers to viewer.
func newOIDCEnv(t *testing.T) *oidcEnv {
	t.Helper()
	ctx := context.Background()
	idp := testenv.StartOIDC(t, "osprey", "client-s3cret")
	var handler http.Handler
	console := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(console.Close)
	st := openTestStore(t)
	cfg := config.OIDC{Enabled: true, IssuerURL: idp.URL, ClientID: "osprey", ClientSecret: "client-s3cret",
		RedirectURL: console.URL + "/api/v1/auth/oidc/callback",
		Roles:       []config.LDAPRole{{Group: "kafka-operators", Role: "operator"}, {Group: "kafka-viewers", Role: "viewer"}}}
	svc := service.New(service.Options{Store: st, Logger: quietLogger(), DataDir: t.TempDir(), OIDC: oidcauth.New(cfg),
		Collector: collector.Config{OffsetsInterval: time.Hour, GroupsInterval: time.Hour}})
	if _, err := svc.SetupAdminToken(ctx, testToken); err != nil {
		t.Fatal(err)
	}
	kc, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kc.Close)
	if err := svc.AddCluster(ctx, service.ClusterSpec{Name: "staging", Source: "config", Admin: admin.Config{Bootstrap: kc.ListenAddrs()}}); err != nil {
		t.Fatal(err)
	}
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Stop)
	srv := newTestServer(t, Options{Service: svc, Logger: quietLogger()})
	handler = srv.Handler()
	return &oidcEnv{apiEnv: &apiEnv{t: t, kc: kc, st: st, svc: svc, srv: srv}, idp: idp, url: console.URL}
}

// browser is an http.Client that follows redirects and keeps cookies, as a browser does.
func (e *oidcEnv) browser() *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 30 * time.Second}
}

// get sends a GET with the browser and answers the final status and JSON body.
func (e *oidcEnv) get(b *http.Client, path string) (int, map[string]any) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.url+path, nil)
	req.Header.Set("User-Agent", "osprey-oidc-test/1.0")
	resp, err := b.Do(req)
	if err != nil {
		e.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out
}

// signIn runs the whole flow in a fresh browser: the console's login route, the provider's
// approval, the console's callback. It answers the callback's status and JSON (nil on success, where
// the browser lands on the console) and the browser.
func (e *oidcEnv) signIn() (int, map[string]any, *http.Client) {
	e.t.Helper()
	b := e.browser()
	code, body := e.get(b, "/api/v1/auth/oidc/login")
	return code, body, b
}

// me is who the browser is signed in as.
func (e *oidcEnv) me(b *http.Client) map[string]any {
	e.t.Helper()
	_, me := e.get(b, "/api/v1/auth/me")
	return me
}

func (e *oidcEnv) hasSession(b *http.Client) bool {
	for _, c := range b.Jar.Cookies(mustURL(e.t, e.url)) {
		if c.Name == sessionCookie && c.Value != "" {
			return true
		}
	}
	return false
}

func TestOIDCSignInRoundTrip(t *testing.T) {
	e := newOIDCEnv(t)
	e.idp.SetUser("alice", "kafka-operators", "other")
	code, body, b := e.signIn()
	if code != http.StatusOK && code != http.StatusNotFound { // the SPA's / (or no route in this test server)
		t.Fatalf("sign-in ended with %d %v", code, body)
	}
	me := e.me(b)
	if me["name"] != "alice" || me["kind"] != "session" || me["role"] != "operator" || me["oidc"] != true {
		t.Fatalf("after sign-in /auth/me = %v", me)
	}
	if me["clusterRoles"].(map[string]any)["staging"] != "operator" {
		t.Fatalf("clusterRoles = %v", me["clusterRoles"])
	}
	// The directory account cannot be used with a password.
	if code, _, _ := e.login("alice", "anything"); code != http.StatusUnauthorized {
		t.Fatalf("password login for an OIDC user = %d, want 401", code)
	}
	// The sign-in is audited with method oidc and the browser's user agent.
	_, audit := e.call("GET", "/api/v1/audit?action=login", testToken, nil)
	items, _ := audit["items"].([]any)
	found := false
	for _, it := range items {
		row := it.(map[string]any)
		if row["actor"] == "alice" && row["result"] == "ok" && row["authMethod"] == "oidc" && row["userAgent"] == "osprey-oidc-test/1.0" {
			found = true
		}
	}
	if !found {
		t.Fatalf("no ok login for alice with method oidc in %v", items)
	}
}

func TestOIDCGroupGrant(t *testing.T) {
	e := newOIDCEnv(t)
	// carol's only group maps to no role: refused until an admin grants the group on a cluster.
	e.idp.SetUser("carol", "kafka-staging")
	if code, body, b := e.signIn(); code != http.StatusForbidden || errCode(body) != "no_role" || e.hasSession(b) {
		t.Fatalf("unmapped group: %d %v", code, body)
	}
	if code, body := e.call("POST", "/api/v1/role-grants", testToken,
		map[string]any{"subjectKind": "group", "subject": "kafka-staging", "cluster": "staging", "role": "operator"}); code != http.StatusCreated && code != http.StatusOK {
		t.Fatalf("grant: %d %v", code, body)
	}
	_, _, b := e.signIn()
	me := e.me(b)
	if me["name"] != "carol" || me["role"] != "" || me["clusterRoles"].(map[string]any)["staging"] != "operator" {
		t.Fatalf("granted group member /auth/me = %v", me)
	}
}

func TestOIDCRefusesBadTokens(t *testing.T) {
	e := newOIDCEnv(t)
	e.idp.SetUser("alice", "kafka-operators")
	cases := []struct {
		name   string
		tamper func(map[string]any)
		badSig bool
	}{
		{"expired", func(c map[string]any) {
			c["iat"] = time.Now().Add(-2 * time.Hour).Unix()
			c["exp"] = time.Now().Add(-time.Hour).Unix()
		}, false},
		{"wrong audience", func(c map[string]any) { c["aud"] = "someone-else" }, false},
		{"wrong issuer", func(c map[string]any) { c["iss"] = "https://evil.example.com" }, false},
		{"bad signature", nil, true},
		{"wrong nonce", func(c map[string]any) { c["nonce"] = "not-the-one" }, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e.idp.Tamper(tc.tamper, tc.badSig)
			before := e.idp.Tokens()
			code, body, b := e.signIn()
			if e.idp.Tokens() != before+1 {
				t.Fatalf("the provider issued %d tokens, want 1 (the flow did not reach the token endpoint)", e.idp.Tokens()-before)
			}
			if code != http.StatusUnauthorized || errCode(body) != "oidc_refused" {
				t.Fatalf("%s: callback = %d %v, want 401 oidc_refused", tc.name, code, body)
			}
			if e.hasSession(b) || e.me(b)["kind"] != "anonymous" {
				t.Fatalf("%s: a session was opened", tc.name)
			}
		})
	}
	e.idp.Tamper(nil, false)
	if code, body, _ := e.signIn(); code == http.StatusUnauthorized {
		t.Fatalf("an honest token after the bad ones was refused: %v", body)
	}
}

func TestOIDCRefusesReplayedOrAbsentState(t *testing.T) {
	e := newOIDCEnv(t)
	e.idp.SetUser("alice", "kafka-operators")
	b := e.browser()
	// Stop at the provider's redirect back, to hold the callback URL.
	var callback string
	b.CheckRedirect = func(req *http.Request, _ []*http.Request) error {
		if strings.HasSuffix(req.URL.Path, "/auth/oidc/callback") {
			callback = req.URL.RequestURI()
			return http.ErrUseLastResponse
		}
		return nil
	}
	e.get(b, "/api/v1/auth/oidc/login")
	if callback == "" {
		t.Fatal("the provider did not redirect back")
	}
	b.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if code, body := e.get(b, callback); code != http.StatusFound {
		t.Fatalf("first callback = %d %v", code, body)
	}
	if code, body := e.get(e.browser(), callback); code != http.StatusBadRequest || errCode(body) != "oidc_state" {
		t.Fatalf("callback replayed in another browser = %d %v, want 400 oidc_state", code, body)
	}
	replay := e.browser()
	replay.Jar.SetCookies(mustURL(t, e.url+"/api/v1/auth/oidc/"), []*http.Cookie{{Name: "osprey_oidc_state", Value: stateOf(t, callback), Path: "/api/v1/auth/oidc"}})
	if code, body := e.get(replay, callback); code != http.StatusBadRequest || errCode(body) != "oidc_state" || e.hasSession(replay) {
		t.Fatalf("callback replayed with its state cookie = %d %v, want 400 oidc_state", code, body)
	}
	if code, body := e.get(e.browser(), "/api/v1/auth/oidc/callback?code=abc"); code != http.StatusBadRequest || errCode(body) != "oidc_state" {
		t.Fatalf("callback without state = %d %v, want 400 oidc_state", code, body)
	}
}

func TestOIDCUnreachableProvider(t *testing.T) {
	e := newOIDCEnv(t)
	e.idp.Close()
	code, body, b := e.signIn()
	if code != http.StatusServiceUnavailable || errCode(body) != "idp_unavailable" || e.hasSession(b) {
		t.Fatalf("sign-in with the provider down = %d %v, want 503 idp_unavailable", code, body)
	}
}

func errCode(body map[string]any) string {
	if e, ok := body["error"].(map[string]any); ok {
		s, _ := e["code"].(string)
		return s
	}
	return ""
}

func stateOf(t *testing.T, uri string) string {
	t.Helper()
	return mustURL(t, "http://x"+uri).Query().Get("state")
}

func mustURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
