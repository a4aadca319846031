package service

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/osprey-kafka/osprey/store"
)

// Roles, weakest first. A role may do everything the roles before it may.
const (
	RoleViewer   = "viewer"
	RoleOperator = "operator"
	RoleAdmin    = "admin"
)

var roleRank = map[string]int{RoleViewer: 1, RoleOperator: 2, RoleAdmin: 3}

// ValidRole reports whether r names a role.
func ValidRole(r string) bool { _, ok := roleRank[r]; return ok }

// RoleAtLeast reports whether role has at least the rights of want.
func RoleAtLeast(role, want string) bool {
	return roleRank[role] >= roleRank[want] && roleRank[want] > 0
}

// Identity is who makes a request.
type Identity struct {
	Name string `json:"name"`
	// Kind is how the caller proved it: admin-token, api-token, session, or anonymous.
	Kind string `json:"kind"`
	Role string `json:"role"`
	// Method is how the caller signed in: token, local or ldap (empty for anonymous callers).
	Method string `json:"method,omitempty"`
	// UserID is set for sessions and user API tokens.
	UserID int64 `json:"-"`
	// Groups are a directory user's groups at sign-in (role grants may name them).
	Groups []string `json:"-"`
	// TokenName is the API token's name (role grants may name it).
	TokenName string `json:"-"`
	// csrfHash is the session's CSRF token hash; mutations over a cookie must present the token.
	csrfHash string
}

// CheckCSRF verifies a session's CSRF token in constant time; identities that are not sessions need none.
func (id Identity) CheckCSRF(token string) bool {
	if id.Kind != "session" {
		return true
	}
	return token != "" && subtle.ConstantTimeCompare([]byte(hashSecret(token)), []byte(id.csrfHash)) == 1
}

// Anonymous is the identity of a request without credentials.
var Anonymous = Identity{Name: "anonymous", Kind: "anonymous"}

// ErrBadCredentials means a token, session or password did not match.
var ErrBadCredentials = errors.New("invalid credentials")

const (
	settingAdminTokenHash = "admin_token_sha256"
	tokenPrefix           = "osp_"
)

func hashSecret(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func newSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generating a secret: %w", err)
	}
	return tokenPrefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// SetupAdminToken decides the console's admin token. A configured token wins (kept only in memory). Without
// one, the token generated at the first start is used (its hash is in the database); if there is none yet a
// new one is generated, stored hashed, and returned so the caller can print it once.
func (s *Service) SetupAdminToken(ctx context.Context, configured string) (generated string, err error) {
	if configured != "" {
		if len(configured) < 16 {
			return "", errors.New("adminToken: must be at least 16 characters (or leave it empty to have one generated)")
		}
		s.adminTokenHash.Store(hashSecret(configured))
		return "", nil
	}
	if s.opts.Store == nil {
		return "", errors.New("no admin token configured and no database to keep a generated one")
	}
	if h, ok, err := s.opts.Store.Setting(ctx, settingAdminTokenHash); err != nil {
		return "", err
	} else if ok {
		s.adminTokenHash.Store(h)
		return "", nil
	}
	tok, err := newSecret()
	if err != nil {
		return "", err
	}
	if err := s.opts.Store.SetSetting(ctx, settingAdminTokenHash, hashSecret(tok)); err != nil {
		return "", err
	}
	s.adminTokenHash.Store(hashSecret(tok))
	return tok, nil
}

// Authenticate resolves a bearer token: the admin token, or a user's API token.
func (s *Service) Authenticate(ctx context.Context, token string) (Identity, error) {
	if token == "" {
		return Anonymous, ErrBadCredentials
	}
	h := hashSecret(token)
	if want, _ := s.adminTokenHash.Load().(string); want != "" && subtle.ConstantTimeCompare([]byte(h), []byte(want)) == 1 {
		return Identity{Name: "admin-token", Kind: "admin-token", Role: RoleAdmin, Method: MethodToken}, nil
	}
	if s.opts.Store == nil {
		return Anonymous, ErrBadCredentials
	}
	return s.cachedAuth(ctx, h, func(ctx context.Context) (Identity, error) { return s.apiTokenIdentity(ctx, h) })
}

// apiTokenIdentity reads the API token with hash h and its owner.
func (s *Service) apiTokenIdentity(ctx context.Context, h string) (Identity, error) {
	// The lookup is by hash, so comparing the clear token byte by byte never happens.
	t, err := s.opts.Store.APITokenByHash(ctx, h)
	if errors.Is(err, store.ErrNotFound) {
		return Anonymous, ErrBadCredentials
	}
	if err != nil {
		return Anonymous, err
	}
	now := s.opts.Now()
	if t.ExpiresAt != nil && now.After(*t.ExpiresAt) {
		return Anonymous, ErrBadCredentials
	}
	id := Identity{Name: "token:" + t.Name, Kind: "api-token", Role: t.Role, Method: MethodToken, TokenName: t.Name}
	if t.UserID != nil {
		u, err := s.opts.Store.User(ctx, *t.UserID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return Anonymous, err
		}
		if err != nil || u.Disabled {
			return Anonymous, ErrBadCredentials
		}
		id.Name, id.UserID = u.Username+" (token "+t.Name+")", u.ID
		if !RoleAtLeast(u.Role, t.Role) {
			id.Role = u.Role // a token never exceeds its owner's role
		}
	}
	_ = s.opts.Store.TouchAPIToken(ctx, t.ID, now)
	return id, nil
}

// SessionIdentity resolves a session cookie.
func (s *Service) SessionIdentity(ctx context.Context, cookie string) (Identity, error) {
	if cookie == "" || s.opts.Store == nil {
		return Anonymous, ErrBadCredentials
	}
	h := hashSecret(cookie)
	return s.cachedAuth(ctx, h, func(ctx context.Context) (Identity, error) { return s.sessionLookup(ctx, h) })
}

// sessionLookup reads the session with hash h and its user, and slides its idle end.
func (s *Service) sessionLookup(ctx context.Context, h string) (Identity, error) {
	se, err := s.opts.Store.SessionByHash(ctx, h, s.opts.Now())
	if errors.Is(err, store.ErrNotFound) {
		return Anonymous, ErrBadCredentials
	}
	if err != nil {
		return Anonymous, err
	}
	u, err := s.opts.Store.User(ctx, se.UserID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return Anonymous, err
	}
	if err != nil || u.Disabled {
		return Anonymous, ErrBadCredentials
	}
	s.touchSession(ctx, se, s.opts.Now())
	id := sessionIdentity(u)
	id.csrfHash = se.CSRFHash
	return id, nil
}

// LoginResult carries the secrets of a new session: the cookie value and the CSRF token the SPA sends back.
type LoginResult struct {
	Session  string
	CSRF     string
	Identity Identity
	Expires  time.Time
}

// Login checks a password and opens a session. With a directory configured, passwords are checked
// there (see loginMethod); otherwise against local accounts.
func (s *Service) Login(ctx context.Context, username, password string) (LoginResult, error) {
	if s.opts.Store == nil {
		return LoginResult{}, ErrBadCredentials
	}
	if s.loginMethod(ctx, username) == MethodLDAP {
		return s.directoryLogin(ctx, username, password)
	}
	u, err := s.opts.Store.UserByName(ctx, username)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return LoginResult{}, err
	}
	hash := u.PasswordHash
	external := u.Source == store.UserSourceLDAP || u.Source == store.UserSourceOIDC // no password kept here
	if hash == "" || external {
		// Compare against a fixed hash so an unknown user costs as much time as a wrong password.
		hash = "$2a$10$7EqJtq98hPqEX7fNZaFWoOhi5BWX4Z3eZ5iKo7ZtqyA5rT9Bq.ZGe"
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil || u.ID == 0 || u.Disabled || external {
		return LoginResult{}, ErrBadCredentials
	}
	return s.openSession(ctx, u)
}

// openSession starts a session for an account whose credentials were checked.
func (s *Service) openSession(ctx context.Context, u store.User) (LoginResult, error) {
	sess, err := newSecret()
	if err != nil {
		return LoginResult{}, err
	}
	csrf, err := newSecret()
	if err != nil {
		return LoginResult{}, err
	}
	now := s.opts.Now().UTC()
	// The database holds the idle end (slid forward on use); the cookie lives until the absolute end.
	_, absolute := s.sessionTimeouts()
	if err := s.opts.Store.CreateSession(ctx, &store.Session{IDHash: hashSecret(sess), UserID: u.ID,
		CSRFHash: hashSecret(csrf), CreatedAt: now, ExpiresAt: s.sessionEnds(now, now)}); err != nil {
		return LoginResult{}, err
	}
	_ = s.opts.Store.RecordLogin(ctx, u.ID, now)
	return LoginResult{Session: sess, CSRF: csrf, Expires: now.Add(absolute), Identity: sessionIdentity(u)}, nil
}

// Logout ends a session.
func (s *Service) Logout(ctx context.Context, cookie string) error {
	if s.opts.Store == nil || cookie == "" {
		return nil
	}
	s.auths.forget(hashSecret(cookie))
	return s.opts.Store.DeleteSession(ctx, hashSecret(cookie))
}

// UserView is an account as the API shows it (no password hash).
type UserView struct {
	ID          int64      `json:"id"`
	Username    string     `json:"username"`
	Role        string     `json:"role" enum:"viewer,operator,admin"`
	Disabled    bool       `json:"disabled"`
	CreatedAt   time.Time  `json:"createdAt"`
	LastLoginAt *time.Time `json:"lastLoginAt"`
}

// CreateUser adds an account with a bcrypt-hashed password.
func (s *Service) CreateUser(ctx context.Context, username, password, role string) (UserView, error) {
	if s.opts.Store == nil {
		return UserView{}, errors.New("no database")
	}
	if len(username) < 2 || len(username) > 64 || strings.ContainsAny(username, " \t\r\n:") {
		return UserView{}, badRequest("invalid_username", "username must be 2 to 64 characters without spaces or ':'")
	}
	if len(password) < 8 || len(password) > 72 {
		return UserView{}, badRequest("invalid_password", "password must be 8 to 72 characters")
	}
	if !ValidRole(role) {
		return UserView{}, badRequest("invalid_role", "role %q is not one of viewer, operator, admin", role)
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return UserView{}, fmt.Errorf("hashing password: %w", err)
	}
	u := &store.User{Username: username, PasswordHash: string(h), Role: role, Source: store.UserSourceLocal}
	if err := s.opts.Store.CreateUser(ctx, u); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return UserView{}, conflict("user_exists", "a user named %q already exists", username)
		}
		return UserView{}, err
	}
	return UserView{ID: u.ID, Username: u.Username, Role: u.Role, CreatedAt: u.CreatedAt}, nil
}

// Users lists accounts.
func (s *Service) Users(ctx context.Context) ([]UserView, error) {
	if s.opts.Store == nil {
		return nil, nil
	}
	us, err := s.opts.Store.Users(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]UserView, 0, len(us))
	for _, u := range us {
		out = append(out, UserView{ID: u.ID, Username: u.Username, Role: u.Role, Disabled: u.Disabled,
			CreatedAt: u.CreatedAt, LastLoginAt: u.LastLoginAt})
	}
	return out, nil
}

// HasUsers reports whether any account exists (the SPA shows a login page then).
func (s *Service) HasUsers(ctx context.Context) bool {
	us, err := s.Users(ctx)
	return err == nil && len(us) > 0
}

// NewAPIToken is a freshly created token; Token is shown once and never stored.
type NewAPIToken struct {
	ID     int64  `json:"id"`
	Name   string `json:"name"`
	Role   string `json:"role" enum:"viewer,operator,admin"`
	Token  string `json:"token" description:"The secret; shown this once"`
	Prefix string `json:"prefix" description:"The token's first characters, to tell tokens apart"`
}

// CreateAPIToken makes a token for a user (or a service token when userID is 0) with at most role.
func (s *Service) CreateAPIToken(ctx context.Context, userID int64, name, role string, ttl time.Duration) (NewAPIToken, error) {
	if s.opts.Store == nil {
		return NewAPIToken{}, errors.New("no database")
	}
	if name == "" || len(name) > 100 {
		return NewAPIToken{}, badRequest("invalid_name", "token name must be 1 to 100 characters")
	}
	if !ValidRole(role) {
		return NewAPIToken{}, badRequest("invalid_role", "role %q is not one of viewer, operator, admin", role)
	}
	tok, err := newSecret()
	if err != nil {
		return NewAPIToken{}, err
	}
	t := &store.APIToken{Name: name, TokenHash: hashSecret(tok), Prefix: tok[:10], Role: role}
	if userID != 0 {
		t.UserID = &userID
	}
	if ttl > 0 {
		exp := s.opts.Now().Add(ttl).UTC()
		t.ExpiresAt = &exp
	}
	if err := s.opts.Store.CreateAPIToken(ctx, t); err != nil {
		return NewAPIToken{}, err
	}
	return NewAPIToken{ID: t.ID, Name: name, Role: role, Token: tok, Prefix: t.Prefix}, nil
}
