package server

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/osprey-kafka/osprey/server/api"
	authep "github.com/osprey-kafka/osprey/server/endpoints/auth"
	"github.com/osprey-kafka/osprey/server/service"
)

const (
	ctxAuthFailed = "osprey.authFailed"
	sessionCookie = authep.SessionCookie
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
		cluster := clusterOf(c)
		has := s.svc.RoleOn(c.Request.Context(), id, cluster)
		deny := func(status int, code, msg string, params ...string) {
			if !read {
				s.svc.AuditDenied(c.Request.Context(), callerOf(c), action, cluster, target(c), msg)
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
		case !service.RoleAtLeast(has, role):
			deny(http.StatusForbidden, "forbidden", "this operation needs the "+role+" role"+onCluster(cluster)+"; "+id.Name+" has "+orNone(has),
				"role", role, "user", id.Name, "has", orNone(has), "cluster", cluster)
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

// clusterOf names the cluster a request acts on: the path's cluster, or the runtime cluster a
// /runtime/clusters/:name request manages; "" for the console's own settings.
func clusterOf(c *gin.Context) string {
	if v := c.Param("cluster"); v != "" {
		return v
	}
	if strings.HasPrefix(c.FullPath(), "/api/v1/runtime/clusters/:name") {
		return c.Param("name")
	}
	return ""
}

func onCluster(cluster string) string {
	if cluster == "" {
		return ""
	}
	return " on cluster " + cluster
}

func orNone(role string) string {
	if role == "" {
		return "no role"
	}
	return role
}
