package service

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/osprey-kafka/osprey/internal/ldapauth"
	"github.com/osprey-kafka/osprey/store"
)

// Sign-in methods, as audit entries and identities record them.
const (
	MethodToken = "token"
	MethodLocal = "local"
	MethodLDAP  = "ldap"
)

// Directory checks passwords against an LDAP directory (ldapauth.Authenticator). Authenticate
// may block on the network for its configured timeout; its errors wrap ldapauth.ErrBadCredentials,
// ErrNoRole or ErrUnavailable.
type Directory interface {
	Authenticate(ctx context.Context, username, password string) (ldapauth.Result, error)
}

// loginMethod decides who checks a password. Without a directory: local accounts. With one, the
// directory checks every name, except that with AllowLocal a name that has a local account is
// checked locally. There is no fallback either way: a directory that cannot be reached fails the
// sign-in, and a wrong local password never goes on to the directory.
func (s *Service) loginMethod(ctx context.Context, username string) string {
	if s.opts.Directory == nil {
		return MethodLocal
	}
	if s.opts.AllowLocal {
		if u, err := s.opts.Store.UserByName(ctx, username); err == nil && u.Source != store.UserSourceLDAP {
			return MethodLocal
		}
	}
	return MethodLDAP
}

// errDirectoryUnavailable is what a user sees when the directory cannot be asked.
var errDirectoryUnavailable = &UserError{Status: http.StatusServiceUnavailable, Code: "directory_unavailable",
	Message: "the LDAP directory cannot be reached to check your password; try again later (administrators can use the admin token)"}

// directoryLogin checks a password with the directory and opens a session for the directory user,
// whose account here is created or refreshed with the role and groups the directory gave.
func (s *Service) directoryLogin(ctx context.Context, username, password string) (LoginResult, error) {
	res, err := s.opts.Directory.Authenticate(ctx, username, password)
	switch {
	case errors.Is(err, ldapauth.ErrBadCredentials):
		return LoginResult{}, ErrBadCredentials
	case errors.Is(err, ldapauth.ErrNoRole):
		if !s.hasGrants(ctx, username, res.Groups) {
			return LoginResult{}, &UserError{Status: http.StatusForbidden, Code: "no_role",
				Message: "your password is right, but none of your directory groups has a role in this console; ask an administrator to map one"}
		}
	case errors.Is(err, ldapauth.ErrUnavailable):
		s.log.Error("LDAP sign-in failed: the directory is unavailable", "user", username, "err", err)
		return LoginResult{}, errDirectoryUnavailable
	case err != nil:
		return LoginResult{}, err
	}
	groups, _ := json.Marshal(res.Groups)
	gs := string(groups)
	u := store.User{Username: username, PasswordHash: "!directory", Role: res.Role, Source: store.UserSourceLDAP, DirectoryGroups: &gs}
	if err := s.opts.Store.SaveDirectoryUser(ctx, &u); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return LoginResult{}, conflict("local_account_exists",
				"a local account named %q exists, so the directory user cannot sign in with that name; an administrator renames or removes the local account (or sets auth.ldap.allowLocal)", username)
		}
		return LoginResult{}, err
	}
	if u.Disabled {
		return LoginResult{}, ErrBadCredentials
	}
	return s.openSession(ctx, u)
}

// sessionIdentity is the identity of a signed-in account.
func sessionIdentity(u store.User) Identity {
	id := Identity{Name: u.Username, Kind: "session", Role: u.Role, UserID: u.ID, Method: MethodLocal}
	if u.Source == store.UserSourceLDAP || u.Source == store.UserSourceOIDC {
		id.Method = u.Source // "ldap" or "oidc", as MethodLDAP and MethodOIDC
		if u.DirectoryGroups != nil {
			_ = json.Unmarshal([]byte(*u.DirectoryGroups), &id.Groups)
		}
	}
	return id
}
