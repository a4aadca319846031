package service

import (
	"context"
	"errors"
	"net/http"
	"time"
)

// LoginSession is the answer to a login: who logged in, the CSRF token the SPA sends back on every
// change (as X-CSRF-Token), and when the session ends. The session secret itself travels only in
// the HttpOnly cookie.
type LoginSession struct {
	User      string    `json:"user"`
	Role      string    `json:"role" enum:"viewer,operator,admin"`
	CSRFToken string    `json:"csrfToken"`
	Expires   time.Time `json:"expires"`
}

// View is what the API answers for a new session.
func (r LoginResult) View() LoginSession {
	return LoginSession{User: r.Identity.Name, Role: r.Identity.Role, CSRFToken: r.CSRF, Expires: r.Expires}
}

// OpenSession checks a password and opens a session, writing the login or the refused attempt to
// the audit log with the caller's address and user agent. Wrong credentials are a 401 bad_login; an
// unreachable directory a 503 directory_unavailable.
func (s *Service) OpenSession(ctx context.Context, from Caller, username, password string) (LoginResult, error) {
	res, err := s.Login(ctx, username, password)
	who := from
	who.Identity = Identity{Name: username, Kind: "session", Method: s.loginMethod(ctx, username)}
	if err != nil {
		if errors.Is(err, ErrBadCredentials) {
			s.AuditDenied(ctx, who, "login", "", username, "bad username or password")
			return LoginResult{}, &UserError{Status: http.StatusUnauthorized, Code: "bad_login", Message: "wrong username or password"}
		}
		var ue *UserError
		if errors.As(err, &ue) {
			s.AuditDenied(ctx, who, "login", "", username, ue.Message)
		} else {
			s.AuditDenied(ctx, who, "login", "", username, "sign-in failed")
		}
		return LoginResult{}, err
	}
	s.AuditLogin(ctx, who)
	return res, nil
}

// CurrentUser is who the caller is, with what the SPA needs to know before showing a page.
type CurrentUser struct {
	Name string `json:"name"`
	Kind string `json:"kind" enum:"admin-token,api-token,session,anonymous" description:"How the caller proved who it is"`
	// Role is empty for an anonymous caller.
	Role         string `json:"role"`
	ReadOnly     bool   `json:"readOnly" description:"The console refuses every change"`
	LoginEnabled bool   `json:"loginEnabled" description:"User accounts exist or LDAP or OIDC sign-in is on, so the SPA offers a login page"`
	OIDC         bool   `json:"oidc" description:"Single sign-on with OpenID Connect is configured: the login page offers it (GET /api/v1/auth/oidc/login)"`
	// ClusterRoles is the caller's role on each cluster it has one on (its own role raised by grants).
	ClusterRoles map[string]string `json:"clusterRoles" description:"The caller's role per cluster: its own role raised by the role grants naming it"`
}

// Me describes the caller; readOnly is the console's mode.
func (s *Service) Me(ctx context.Context, id Identity, readOnly bool) CurrentUser {
	return CurrentUser{Name: id.Name, Kind: id.Kind, Role: s.RoleOn(ctx, id, ""), ReadOnly: readOnly,
		LoginEnabled: s.opts.Directory != nil || s.opts.OIDC != nil || s.HasUsers(ctx), OIDC: s.opts.OIDC != nil,
		ClusterRoles: s.ClusterRoles(ctx, id)}
}

// IssueAPIToken makes an API token for the caller and audits it: a user's token is the user's own
// and never above the user's role (role "" means the caller's role); the admin token issues service
// tokens. ttl is a duration such as "720h"; empty means the token does not expire.
func (s *Service) IssueAPIToken(ctx context.Context, who Caller, name, role, ttl string) (NewAPIToken, error) {
	id := who.Identity
	if role == "" {
		role = id.Role
	}
	if !ValidRole(role) {
		return NewAPIToken{}, badRequest("invalid_role", "role must be viewer, operator or admin")
	}
	if !RoleAtLeast(id.Role, role) {
		return NewAPIToken{}, &UserError{Status: http.StatusForbidden, Code: "forbidden",
			Message: "a token cannot have more rights than its creator (" + id.Role + ")"}
	}
	var d time.Duration
	if ttl != "" {
		var err error
		if d, err = time.ParseDuration(ttl); err != nil || d <= 0 {
			return NewAPIToken{}, badRequest("bad_request", "ttl must be a positive duration such as 720h")
		}
	}
	var tok NewAPIToken
	err := s.Audited(ctx, who, "token.create", "", name, map[string]any{"name": name, "role": role, "ttl": ttl}, func() error {
		var err error
		tok, err = s.CreateAPIToken(ctx, id.UserID, name, role, d)
		return err
	})
	return tok, err
}

// AddUser creates an account and audits it (the password is kept out of the audit log).
func (s *Service) AddUser(ctx context.Context, who Caller, username, password, role string) (UserView, error) {
	var u UserView
	params := map[string]any{"username": username, "password": password, "role": role}
	err := s.Audited(ctx, who, "user.create", "", username, params, func() error {
		var err error
		u, err = s.CreateUser(ctx, username, password, role)
		return err
	})
	return u, err
}
