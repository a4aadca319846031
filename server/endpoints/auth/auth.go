// Package auth serves logging in and out and who the caller is. Identifying callers on every
// request and guarding operations by role stay in the server's middleware.
package auth

import (
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/osprey-kafka/osprey/server/api"
	"github.com/osprey-kafka/osprey/server/service"
)

// SessionCookie holds a login session's secret (HttpOnly, SameSite=Strict).
const SessionCookie = "osprey_session"

// Options are the console settings the area needs.
type Options struct {
	// ReadOnly is reported by /auth/me so the SPA hides the changes it would refuse.
	ReadOnly bool
}

// Declare adds the area's endpoints. Login attempts are limited per client address and per
// username (10 each per 5 minutes, whatever the sign-in method), against password guessing from
// one place and against one account from many.
func Declare(r *api.Registry, svc *service.Service, o Options) {
	limiter := newLoginLimiter(10, 5*time.Minute)
	perUser := newLoginLimiter(10, 5*time.Minute)
	r.Add(
		api.Op(http.MethodPost, "/api/v1/auth/login", func(c *gin.Context, in *LoginRequest) (service.LoginSession, error) {
			now := time.Now()
			byAddr := limiter.allow(c.ClientIP(), now)
			if !byAddr || !perUser.allow(strings.ToLower(in.Username), now) {
				c.Header("Retry-After", "60")
				return service.LoginSession{}, &service.UserError{Status: http.StatusTooManyRequests, Code: "too_many_attempts",
					Message: "too many login attempts; wait a minute and try again"}
			}
			res, err := svc.OpenSession(c.Request.Context(), api.CallerOf(c), in.Username, in.Password)
			if err != nil {
				return service.LoginSession{}, err
			}
			c.SetSameSite(http.SameSiteStrictMode)
			c.SetCookie(SessionCookie, res.Session, int(time.Until(res.Expires).Seconds()), "/", "", c.Request.TLS != nil, true)
			return res.View(), nil
		}, api.Doc("auth", "Log in (rate-limited); sets the session cookie and returns the CSRF token"),
			api.Errors(http.StatusUnauthorized, http.StatusForbidden, http.StatusConflict, http.StatusTooManyRequests, http.StatusServiceUnavailable)),

		api.Op(http.MethodPost, "/api/v1/auth/logout", func(c *gin.Context, _ *struct{}) (api.NoContent, error) {
			if ck, err := c.Cookie(SessionCookie); err == nil {
				if err := svc.Logout(c.Request.Context(), ck); err != nil {
					return api.NoContent{}, err
				}
			}
			c.SetCookie(SessionCookie, "", -1, "/", "", c.Request.TLS != nil, true)
			return api.NoContent{}, nil
		}, api.Doc("auth", "End the session")),

		api.Op(http.MethodPost, "/api/v1/auth/logout-everywhere", func(c *gin.Context, _ *struct{}) (service.SessionsEnded, error) {
			n, err := svc.SignOutEverywhere(c.Request.Context(), api.CallerOf(c))
			if err != nil {
				return service.SessionsEnded{}, err
			}
			c.SetCookie(SessionCookie, "", -1, "/", "", c.Request.TLS != nil, true)
			return service.SessionsEnded{Ended: n}, nil
		}, api.Doc("auth", "End every session of the signed-in user, this one included (API tokens stay valid)"),
			api.Needs(service.RoleViewer, "session.revoke_all"), api.Errors(http.StatusBadRequest)),

		api.Op(http.MethodGet, "/api/v1/auth/me", func(c *gin.Context, _ *struct{}) (service.CurrentUser, error) {
			return svc.Me(c.Request.Context(), api.IdentityOf(c), o.ReadOnly), nil
		}, api.Doc("auth", "Who the caller is")),
	)
	declareOIDC(r, svc)
}

// LoginRequest is a username and password to log in with.
type LoginRequest struct {
	Username string `json:"username" required:"true"`
	Password string `json:"password" required:"true" format:"password"`
}
