package server

import (
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/osprey-kafka/osprey/server/api"
	"github.com/osprey-kafka/osprey/server/service"
)

const (
	ctxAuthFailed = "osprey.authFailed"
	sessionCookie = "osprey_session"
	csrfHeader    = "X-CSRF-Token"
)

// bearerToken reads `Authorization: Bearer …` or `X-Osprey-Token`.
func bearerToken(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		if scheme, tok, ok := strings.Cut(h, " "); ok && strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(tok)
		}
	}
	return strings.TrimSpace(r.Header.Get("X-Osprey-Token"))
}

// identify resolves the caller once per request. Reads stay open to anonymous callers; what a
// caller may change is decided by require.
func (s *Server) identify() gin.HandlerFunc {
	return func(c *gin.Context) {
		id := service.Anonymous
		if tok := bearerToken(c.Request); tok != "" {
			got, err := s.svc.Authenticate(c.Request.Context(), tok)
			if err != nil {
				c.Set(ctxAuthFailed, true)
				if !errors.Is(err, service.ErrBadCredentials) {
					s.opts.Logger.Error("checking a token failed", "err", err)
				}
			} else {
				id = got
			}
		} else if ck, err := c.Cookie(sessionCookie); err == nil && ck != "" {
			if got, err := s.svc.SessionIdentity(c.Request.Context(), ck); err == nil {
				id = got
			}
		}
		api.SetIdentity(c, id)
		c.Next()
	}
}

func identityOf(c *gin.Context) service.Identity { return api.IdentityOf(c) }

func callerOf(c *gin.Context) service.Caller { return api.CallerOf(c) }

// require guards an endpoint: the caller needs at least role, a session must present its CSRF token,
// and read-only mode refuses every change. Refused changes are audited; refused reads (GET, HEAD) are
// not: the audit log records changes and attempted changes, never page views.
func (s *Server) require(role, action string) gin.HandlerFunc {
	return func(c *gin.Context) {
		id := identityOf(c)
		read := isRead(c.Request.Method)
		deny := func(status int, code, msg string, params ...string) {
			if !read {
				s.svc.AuditDenied(c.Request.Context(), callerOf(c), action, c.Param("cluster"), target(c), msg)
			}
			if status == http.StatusUnauthorized {
				c.Header("WWW-Authenticate", `Bearer realm="osprey"`)
			}
			var named map[string]any
			for i := 0; i+1 < len(params); i += 2 {
				if named == nil {
					named = map[string]any{}
				}
				named[params[i]] = params[i+1]
			}
			writeErrorParams(c, status, code, msg, named)
		}
		switch {
		case c.GetBool(ctxAuthFailed):
			deny(http.StatusUnauthorized, "invalid_token", "the token is not valid; send the admin token or an API token as 'Authorization: Bearer <token>' or 'X-Osprey-Token'")
		case id.Kind == "anonymous":
			deny(http.StatusUnauthorized, "unauthorized", "this operation needs the admin token ('Authorization: Bearer <token>' or 'X-Osprey-Token') or a login")
		case s.opts.ReadOnly && !read:
			deny(http.StatusForbidden, "read_only", "the console runs in read-only mode; no changes are allowed")
		case !service.RoleAtLeast(id.Role, role):
			deny(http.StatusForbidden, "forbidden", "this operation needs the "+role+" role; "+id.Name+" has "+id.Role,
				"role", role, "user", id.Name, "has", id.Role)
		case !read && !id.CheckCSRF(c.GetHeader(csrfHeader)): // a read cannot be forged into a change
			deny(http.StatusForbidden, "csrf", "missing or wrong "+csrfHeader+" header for a session request")
		default:
			c.Next()
		}
	}
}

// isRead reports methods that change nothing.
func isRead(method string) bool {
	return method == http.MethodGet || method == http.MethodHead || method == http.MethodOptions
}

// target names what a mutation acts on, for audit entries of refused requests.
func target(c *gin.Context) string {
	for _, p := range []string{"topic", "group", "name", "id"} {
		if v := c.Param(p); v != "" {
			return v
		}
	}
	return ""
}

// loginLimiter allows a few login attempts per client address per window, against password guessing.
type loginLimiter struct {
	mu       sync.Mutex // guards attempts
	attempts map[string][]time.Time
	max      int
	window   time.Duration
}

func newLoginLimiter(max int, window time.Duration) *loginLimiter {
	return &loginLimiter{attempts: map[string][]time.Time{}, max: max, window: window}
}

func (l *loginLimiter) allow(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	recent := l.attempts[key][:0]
	for _, t := range l.attempts[key] {
		if now.Sub(t) < l.window {
			recent = append(recent, t)
		}
	}
	if len(l.attempts) > 10000 {
		// Bound memory under a spray of addresses: forget everyone else's history.
		l.attempts = map[string][]time.Time{}
	}
	if len(recent) >= l.max {
		l.attempts[key] = recent
		return false
	}
	l.attempts[key] = append(recent, now)
	return true
}

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

func (s *Server) login(c *gin.Context) {
	if !s.limiter.allow(c.ClientIP(), time.Now()) {
		c.Header("Retry-After", "60")
		writeError(c, http.StatusTooManyRequests, "too_many_attempts", "too many login attempts; wait a minute and try again")
		return
	}
	var req loginRequest
	if !bindJSON(c, &req) {
		return
	}
	res, err := s.svc.Login(c.Request.Context(), req.Username, req.Password)
	who := service.Caller{Identity: service.Identity{Name: req.Username, Kind: "session"}, RemoteAddr: c.ClientIP()}
	if err != nil {
		s.svc.AuditDenied(c.Request.Context(), who, "login", "", req.Username, "bad username or password")
		if errors.Is(err, service.ErrBadCredentials) {
			writeError(c, http.StatusUnauthorized, "bad_login", "wrong username or password")
			return
		}
		s.fail(c, err)
		return
	}
	s.svc.AuditLogin(c.Request.Context(), who)
	c.SetSameSite(http.SameSiteStrictMode)
	c.SetCookie(sessionCookie, res.Session, int(time.Until(res.Expires).Seconds()), "/", "", c.Request.TLS != nil, true)
	c.JSON(http.StatusOK, gin.H{"user": res.Identity.Name, "role": res.Identity.Role, "csrfToken": res.CSRF, "expires": res.Expires})
}

func (s *Server) logout(c *gin.Context) {
	if ck, err := c.Cookie(sessionCookie); err == nil {
		if err := s.svc.Logout(c.Request.Context(), ck); err != nil {
			s.fail(c, err)
			return
		}
	}
	c.SetCookie(sessionCookie, "", -1, "/", "", c.Request.TLS != nil, true)
	c.Status(http.StatusNoContent)
}

func (s *Server) me(c *gin.Context) {
	id := identityOf(c)
	c.JSON(http.StatusOK, gin.H{
		"name": id.Name, "kind": id.Kind, "role": id.Role,
		"readOnly": s.opts.ReadOnly, "loginEnabled": s.svc.HasUsers(c.Request.Context()),
	})
}
