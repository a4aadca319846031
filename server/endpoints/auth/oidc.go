package auth

import (
	"crypto/subtle"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/osprey-kafka/osprey/internal/oidcauth"
	"github.com/osprey-kafka/osprey/server/api"
	"github.com/osprey-kafka/osprey/server/service"
)

// StateCookie binds a started single sign-on to the browser that started it: the callback's state
// must equal it. SameSite=Lax, because the provider sends the browser back with a cross-site GET.
const StateCookie = "osprey_oidc_state"

const oidcPath = "/api/v1/auth/oidc"

// OIDCCallback is what the provider sends the browser back with.
type OIDCCallback struct {
	State string `query:"state" json:"-" description:"The state the sign-in started with"`
	Code  string `query:"code" json:"-" description:"The authorization code"`
	Error string `query:"error" json:"-" description:"The provider's error, when it did not sign the user in"`
}

func declareOIDC(r *api.Registry, svc *service.Service) {
	r.Add(
		api.Op(http.MethodGet, oidcPath+"/login", func(c *gin.Context, _ *struct{}) (api.NoContent, error) {
			to, state, err := svc.BeginOIDC(c.Request.Context())
			if err != nil {
				return api.NoContent{}, err
			}
			c.SetSameSite(http.SameSiteLaxMode)
			c.SetCookie(StateCookie, state, int(oidcauth.StateTTL.Seconds()), oidcPath, "", c.Request.TLS != nil, true)
			c.Redirect(http.StatusFound, to)
			return api.NoContent{}, nil
		}, api.Doc("auth", "Start single sign-on: redirects to the OpenID Connect provider (state, nonce, PKCE S256)"),
			api.Errors(http.StatusNotFound, http.StatusServiceUnavailable)),

		api.Op(http.MethodGet, oidcPath+"/callback", func(c *gin.Context, in *OIDCCallback) (api.NoContent, error) {
			state := in.State
			if ck, err := c.Cookie(StateCookie); err != nil || subtle.ConstantTimeCompare([]byte(ck), []byte(state)) != 1 {
				state = "" // not the browser that started this sign-in
			}
			c.SetSameSite(http.SameSiteLaxMode)
			c.SetCookie(StateCookie, "", -1, oidcPath, "", c.Request.TLS != nil, true)
			code := in.Code
			if in.Error != "" {
				code = ""
			}
			res, err := svc.FinishOIDC(c.Request.Context(), api.CallerOf(c), state, code)
			if err != nil {
				return api.NoContent{}, err
			}
			c.SetSameSite(http.SameSiteStrictMode)
			c.SetCookie(SessionCookie, res.Session, int(time.Until(res.Expires).Seconds()), "/", "", c.Request.TLS != nil, true)
			c.Redirect(http.StatusFound, "/")
			return api.NoContent{}, nil
		}, api.Doc("auth", "The OpenID Connect provider's redirect back: verifies the ID token, sets the session cookie and redirects to the console"),
			api.Errors(http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusConflict, http.StatusServiceUnavailable)),
	)
}
