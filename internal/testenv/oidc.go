package testenv

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// OIDCProvider is an OpenID Connect identity provider run in the test process: discovery, JWKS,
// an /authorize that approves at once (redirecting back with a code for the current user) and a
// /token that checks the client, the redirect URI and the PKCE S256 verifier and answers an RS256
// ID token signed with go-jose. Tests spoil the next tokens with Tamper to check they are refused.
type OIDCProvider struct {
	// URL is the issuer (and the server's base URL).
	URL          string
	ClientID     string
	ClientSecret string

	srv      *httptest.Server
	key      *rsa.PrivateKey
	stranger *rsa.PrivateKey

	mu     sync.Mutex // guards everything below
	user   string
	groups []string
	codes  map[string]authRequest
	tamper func(claims map[string]any)
	badSig bool
	// Authorized counts /authorize requests; Tokens counts successful /token answers.
	authorized, tokens int
}

type authRequest struct {
	redirectURI, nonce, challenge, user string
	groups                              []string
}

// StartOIDC starts a provider for one client; it stops with the test.
func StartOIDC(t testing.TB, clientID, clientSecret string) *OIDCProvider {
	t.Helper()
	p := &OIDCProvider{ClientID: clientID, ClientSecret: clientSecret, codes: map[string]authRequest{}}
	var err error
	if p.key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		t.Fatal(err)
	}
	if p.stranger, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", p.discovery)
	mux.HandleFunc("GET /keys", p.keys)
	mux.HandleFunc("GET /authorize", p.authorize)
	mux.HandleFunc("POST /token", p.token)
	p.srv = httptest.NewServer(mux)
	p.URL = p.srv.URL
	t.Cleanup(p.srv.Close)
	return p
}

// Close stops the provider (a test of an unreachable provider).
func (p *OIDCProvider) Close() { p.srv.Close() }

// SetUser is who /authorize approves from now on, with the groups claim it carries.
func (p *OIDCProvider) SetUser(name string, groups ...string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.user, p.groups = name, groups
}

// Tamper changes the claims of the ID tokens issued from now on (nil: honest tokens); with badSig
// they are signed by a key the JWKS does not publish.
func (p *OIDCProvider) Tamper(fn func(claims map[string]any), badSig bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tamper, p.badSig = fn, badSig
}

// Tokens is how many ID tokens the provider has issued.
func (p *OIDCProvider) Tokens() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.tokens
}

func (p *OIDCProvider) discovery(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer": p.URL, "authorization_endpoint": p.URL + "/authorize", "token_endpoint": p.URL + "/token",
		"jwks_uri": p.URL + "/keys", "response_types_supported": []string{"code"},
		"subject_types_supported": []string{"public"}, "id_token_signing_alg_values_supported": []string{"RS256"},
		"code_challenge_methods_supported": []string{"S256"},
	})
}

func (p *OIDCProvider) keys(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: &p.key.PublicKey, KeyID: "k1", Algorithm: string(jose.RS256), Use: "sig"}}})
}

func (p *OIDCProvider) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	redirect := q.Get("redirect_uri")
	if q.Get("client_id") != p.ClientID || q.Get("response_type") != "code" || redirect == "" ||
		q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
		return
	}
	code := randomString()
	p.mu.Lock()
	p.authorized++
	p.codes[code] = authRequest{redirectURI: redirect, nonce: q.Get("nonce"), challenge: q.Get("code_challenge"), user: p.user, groups: p.groups}
	p.mu.Unlock()
	back, _ := url.Parse(redirect)
	bq := back.Query()
	bq.Set("code", code)
	bq.Set("state", q.Get("state"))
	back.RawQuery = bq.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

func (p *OIDCProvider) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != p.ClientID || secret != p.ClientSecret {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		return
	}
	p.mu.Lock()
	req, found := p.codes[r.PostForm.Get("code")]
	delete(p.codes, r.PostForm.Get("code"))
	tamper, badSig := p.tamper, p.badSig
	p.mu.Unlock()
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	if !found || r.PostForm.Get("grant_type") != "authorization_code" || r.PostForm.Get("redirect_uri") != req.redirectURI ||
		base64.RawURLEncoding.EncodeToString(sum[:]) != req.challenge {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant"})
		return
	}
	now := time.Now()
	claims := map[string]any{"iss": p.URL, "aud": p.ClientID, "sub": "sub-" + req.user, "preferred_username": req.user,
		"groups": req.groups, "nonce": req.nonce, "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix()}
	if tamper != nil {
		tamper(claims)
	}
	key := p.key
	if badSig {
		key = p.stranger
	}
	signed, err := sign(key, claims)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	p.mu.Lock()
	p.tokens++
	p.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"access_token": randomString(), "token_type": "Bearer", "expires_in": 300, "id_token": signed})
}

func sign(key *rsa.PrivateKey, claims map[string]any) (string, error) {
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "k1"))
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func randomString() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
