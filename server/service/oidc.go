package service

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/osprey-kafka/osprey/internal/oidcauth"
	"github.com/osprey-kafka/osprey/store"
)

// MethodOIDC is the sign-in method of OpenID Connect users.
const MethodOIDC = "oidc"

// OIDC runs OpenID Connect sign-in (oidcauth.Authenticator). Begin and Finish may block on the
// provider for its configured timeout; Finish's errors wrap oidcauth.ErrUnavailable, ErrRefused,
// ErrState or ErrNoRole.
type OIDC interface {
	Begin(ctx context.Context) (authURL, state string, err error)
	Finish(ctx context.Context, state, code string) (oidcauth.Result, error)
}

// OIDCEnabled reports whether the login page offers single sign-on.
func (s *Service) OIDCEnabled() bool { return s.opts.OIDC != nil }

var errIdPUnavailable = &UserError{Status: http.StatusServiceUnavailable, Code: "idp_unavailable",
	Message: "the identity provider cannot be reached to sign you in; try again later (administrators can use the admin token)"}

// BeginOIDC starts a single sign-on: the provider's URL to send the browser to and the state the
// browser must bring back.
func (s *Service) BeginOIDC(ctx context.Context) (authURL, state string, err error) {
	if s.opts.OIDC == nil {
		return "", "", notFound("oidc_disabled", "single sign-on is not configured (auth.oidc)")
	}
	authURL, state, err = s.opts.OIDC.Begin(ctx)
	if err != nil {
		s.log.Error("OIDC sign-in could not start", "err", err)
		return "", "", errIdPUnavailable
	}
	return authURL, state, nil
}

// FinishOIDC completes a single sign-on from the provider's callback and opens a session for the
// user, whose account here is created or refreshed with the role and groups of the ID token. Every
// outcome is audited with method oidc; a failure never tries another way in.
func (s *Service) FinishOIDC(ctx context.Context, from Caller, state, code string) (LoginResult, error) {
	if s.opts.OIDC == nil || s.opts.Store == nil {
		return LoginResult{}, notFound("oidc_disabled", "single sign-on is not configured (auth.oidc)")
	}
	res, err := s.opts.OIDC.Finish(ctx, state, code)
	who := from
	who.Identity = Identity{Name: res.Username, Kind: "session", Method: MethodOIDC}
	deny := func(e error) (LoginResult, error) {
		msg := "sign-in failed"
		if ue := (*UserError)(nil); errors.As(e, &ue) {
			msg = ue.Message
		}
		s.AuditDenied(ctx, who, "login", "", res.Username, msg)
		return LoginResult{}, e
	}
	switch {
	case errors.Is(err, oidcauth.ErrState):
		return deny(badRequest("oidc_state", "this sign-in is unknown, expired or already used; start again from the login page"))
	case errors.Is(err, oidcauth.ErrRefused):
		s.log.Warn("OIDC sign-in refused", "err", err)
		return deny(&UserError{Status: http.StatusUnauthorized, Code: "oidc_refused",
			Message: "the identity provider's answer could not be verified; start again from the login page"})
	case errors.Is(err, oidcauth.ErrUnavailable):
		s.log.Error("OIDC sign-in failed: the identity provider is unavailable", "err", err)
		return deny(errIdPUnavailable)
	case errors.Is(err, oidcauth.ErrNoRole):
		if !s.hasGrants(ctx, res.Username, res.Groups) {
			return deny(&UserError{Status: http.StatusForbidden, Code: "no_role",
				Message: "you are signed in at the identity provider, but none of your groups has a role in this console; ask an administrator to map one"})
		}
	case err != nil:
		return LoginResult{}, err
	}
	groups, _ := json.Marshal(res.Groups)
	gs := string(groups)
	u := store.User{Username: res.Username, PasswordHash: "!oidc", Role: res.Role, Source: store.UserSourceOIDC, DirectoryGroups: &gs}
	if err := s.opts.Store.SaveDirectoryUser(ctx, &u); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return deny(conflict("local_account_exists",
				"an account named %q that does not come from single sign-on exists, so the identity provider's user cannot sign in with that name; an administrator renames or removes it", res.Username))
		}
		return LoginResult{}, err
	}
	if u.Disabled {
		return deny(&UserError{Status: http.StatusForbidden, Code: "account_disabled", Message: "your account is disabled in this console"})
	}
	out, err := s.openSession(ctx, u)
	if err != nil {
		return LoginResult{}, err
	}
	s.AuditLogin(ctx, who)
	return out, nil
}
