// Package oidcauth signs console users in with OpenID Connect: the authorization code flow with
// PKCE (S256) against a provider found by discovery, and a verified ID token (signature by the
// provider's JWKS, issuer, audience, expiry, nonce) whose groups claim maps to a console role.
package oidcauth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/osprey-kafka/osprey/config"
	"github.com/osprey-kafka/osprey/internal/ldapauth"
)

// Errors of a sign-in; Finish wraps one of them with the cause (for the log, never for the user).
var (
	// ErrUnavailable: the provider could not be reached (discovery, token endpoint or keys).
	ErrUnavailable = errors.New("the identity provider cannot be reached")
	// ErrRefused: the provider refused the code, or its ID token failed verification.
	ErrRefused = errors.New("the identity provider's answer was refused")
	// ErrState: the callback's state is absent, unknown, expired or already used.
	ErrState = errors.New("unknown or already used sign-in state")
	// ErrNoRole: the user is in no mapped group and there is no default role.
	ErrNoRole = errors.New("no role for the user's groups")
)

// StateTTL is how long a started sign-in may take at the provider.
const StateTTL = 10 * time.Minute

// maxPending bounds started sign-ins kept in memory (a flood of /login requests cannot grow it).
const maxPending = 10000

// Result is a verified user: its name, groups and the role they map to ("" with ErrNoRole).
type Result struct {
	Username string
	Groups   []string
	Role     string
}

type pending struct {
	nonce, verifier string
	expires         time.Time
}

// Authenticator runs the flow for one provider. New does no I/O: discovery happens at the first
// sign-in and is retried on every sign-in until it succeeds, so a provider that is down when the
// console starts does not stop the console.
type Authenticator struct {
	cfg    config.OIDC
	client *http.Client
	now    func() time.Time

	mu       sync.Mutex // guards prov and pending
	prov     *oidc.Provider
	pendings map[string]pending // by state
}

// Option adjusts an Authenticator (tests inject a clock).
type Option func(*Authenticator)

// WithClock makes the Authenticator read the time from now (ID token expiry, state expiry).
func WithClock(now func() time.Time) Option { return func(a *Authenticator) { a.now = now } }

// New makes an Authenticator for cfg (validated by config).
func New(cfg config.OIDC, opts ...Option) *Authenticator {
	timeout := cfg.Timeout.D()
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	if cfg.GroupsClaim == "" {
		cfg.GroupsClaim = "groups"
	}
	if cfg.UsernameClaim == "" {
		cfg.UsernameClaim = "preferred_username"
	}
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = []string{"profile", "email", "groups"}
	}
	a := &Authenticator{cfg: cfg, client: &http.Client{Timeout: timeout}, now: time.Now, pendings: map[string]pending{}}
	for _, o := range opts {
		o(a)
	}
	return a
}

func (a *Authenticator) ctx(ctx context.Context) context.Context {
	return context.WithValue(oidc.ClientContext(ctx, a.client), oauth2.HTTPClient, a.client)
}

// provider discovers the provider once; a failure is retried by the next sign-in.
func (a *Authenticator) provider(ctx context.Context) (*oidc.Provider, error) {
	a.mu.Lock()
	p := a.prov
	a.mu.Unlock()
	if p != nil {
		return p, nil
	}
	p, err := oidc.NewProvider(a.ctx(ctx), a.cfg.IssuerURL)
	if err != nil {
		return nil, fmt.Errorf("%w: discovery at %s: %v", ErrUnavailable, a.cfg.IssuerURL, err)
	}
	a.mu.Lock()
	a.prov = p
	a.mu.Unlock()
	return p, nil
}

func (a *Authenticator) oauth2Config(p *oidc.Provider) *oauth2.Config {
	return &oauth2.Config{ClientID: a.cfg.ClientID, ClientSecret: a.cfg.ClientSecret, RedirectURL: a.cfg.RedirectURL,
		Endpoint: p.Endpoint(), Scopes: append([]string{oidc.ScopeOpenID}, a.cfg.Scopes...)}
}

// Begin starts a sign-in: it answers the provider's authorization URL (with state, nonce and the
// PKCE S256 challenge) and the state, which the caller binds to the browser. The nonce and the PKCE
// verifier stay here until Finish uses them once.
func (a *Authenticator) Begin(ctx context.Context) (authURL, state string, err error) {
	p, err := a.provider(ctx)
	if err != nil {
		return "", "", err
	}
	state, nonce := random(), random()
	verifier := oauth2.GenerateVerifier()
	now := a.now()
	a.mu.Lock()
	for s, pd := range a.pendings {
		if now.After(pd.expires) {
			delete(a.pendings, s)
		}
	}
	full := len(a.pendings) >= maxPending
	if !full {
		a.pendings[state] = pending{nonce: nonce, verifier: verifier, expires: now.Add(StateTTL)}
	}
	a.mu.Unlock()
	if full {
		return "", "", fmt.Errorf("%w: too many sign-ins in progress", ErrUnavailable)
	}
	return a.oauth2Config(p).AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), state, nil
}

// take removes and answers the sign-in started with state.
func (a *Authenticator) take(state string) (pending, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	pd, ok := a.pendings[state]
	delete(a.pendings, state)
	if !ok || a.now().After(pd.expires) {
		return pending{}, false
	}
	return pd, true
}

// Finish completes the sign-in started with state: it exchanges code (with the PKCE verifier),
// verifies the ID token and maps the groups claim to a role. A state is used at most once.
func (a *Authenticator) Finish(ctx context.Context, state, code string) (Result, error) {
	if state == "" {
		return Result{}, ErrState
	}
	pd, ok := a.take(state)
	if !ok {
		return Result{}, ErrState
	}
	if code == "" {
		return Result{}, fmt.Errorf("%w: the callback carries no code", ErrRefused)
	}
	p, err := a.provider(ctx)
	if err != nil {
		return Result{}, err
	}
	cctx := a.ctx(ctx)
	tok, err := a.oauth2Config(p).Exchange(cctx, code, oauth2.VerifierOption(pd.verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			return Result{}, fmt.Errorf("%w: token endpoint: %v", ErrRefused, err)
		}
		return Result{}, fmt.Errorf("%w: token endpoint: %v", ErrUnavailable, err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return Result{}, fmt.Errorf("%w: the token response has no id_token", ErrRefused)
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: a.cfg.ClientID, Now: a.now}).Verify(cctx, raw)
	if err != nil {
		if strings.Contains(err.Error(), "fetching keys") {
			return Result{}, fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
		return Result{}, fmt.Errorf("%w: ID token: %v", ErrRefused, err)
	}
	if idt.Nonce != pd.nonce {
		return Result{}, fmt.Errorf("%w: ID token nonce does not match the sign-in's", ErrRefused)
	}
	return a.result(idt)
}

// result reads the user's name and groups from a verified token and maps the groups to a role.
func (a *Authenticator) result(idt *oidc.IDToken) (Result, error) {
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return Result{}, fmt.Errorf("%w: ID token claims: %v", ErrRefused, err)
	}
	name, _ := claims[a.cfg.UsernameClaim].(string)
	if name == "" {
		name = idt.Subject
	}
	if name == "" {
		return Result{}, fmt.Errorf("%w: ID token has neither %s nor sub", ErrRefused, a.cfg.UsernameClaim)
	}
	res := Result{Username: name, Groups: groupsOf(claims[a.cfg.GroupsClaim])}
	res.Role = a.roleOf(res.Groups)
	if res.Role == "" {
		return res, ErrNoRole
	}
	return res, nil
}

// groupsOf reads a groups claim: a list of strings, or one string.
func groupsOf(v any) []string {
	switch g := v.(type) {
	case string:
		return []string{g}
	case []any:
		out := make([]string, 0, len(g))
		for _, x := range g {
			if s, ok := x.(string); ok && s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

var roleRank = map[string]int{"": 0, "viewer": 1, "operator": 2, "admin": 3}

// roleOf maps groups as LDAP groups are mapped: the highest role of a matching mapping, else the
// default role. A mapping matches a group by its exact name (case-insensitive) or, for DN-shaped
// group names, by the DN or its cn.
func (a *Authenticator) roleOf(groups []string) string {
	best := a.cfg.DefaultRole
	for _, m := range a.cfg.Roles {
		for _, g := range groups {
			if ldapauth.GroupMatches(m.Group, g) && roleRank[m.Role] > roleRank[best] {
				best = m.Role
			}
		}
	}
	return best
}

func random() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
