package config

import (
	"net/url"
	"strings"
)

// OIDC is OpenID Connect sign-in: the authorization code flow with PKCE against an identity
// provider found by discovery; the ID token's groups claim maps to roles like LDAP groups do.
type OIDC struct {
	Enabled bool `yaml:"enabled"`
	// IssuerURL is the provider's issuer; {issuerURL}/.well-known/openid-configuration must answer.
	IssuerURL string `yaml:"issuerURL"`
	// ClientID and ClientSecret are the console's client registration at the provider.
	ClientID     string `yaml:"clientID"`
	ClientSecret string `yaml:"clientSecret" secret:"true"`
	// RedirectURL is where the provider sends the browser back: the console's
	// https://<console>/api/v1/auth/oidc/callback, registered at the provider as a redirect URI.
	RedirectURL string `yaml:"redirectURL"`
	// Scopes asked for besides openid (default: profile, email, groups).
	Scopes []string `yaml:"scopes"`
	// UsernameClaim names the console user (default preferred_username; sub when it is absent).
	UsernameClaim string `yaml:"usernameClaim"`
	// GroupsClaim is the ID token claim listing the user's groups (default groups).
	GroupsClaim string `yaml:"groupsClaim"`
	// Roles maps groups to roles, as auth.ldap.roles does; the highest wins, DefaultRole otherwise
	// (empty: a user in no mapped group and without a role grant cannot sign in).
	Roles       []LDAPRole `yaml:"roles"`
	DefaultRole string     `yaml:"defaultRole"`
	// Timeout bounds each call to the provider (default 10s).
	Timeout Duration `yaml:"timeout"`
}

// checkOIDC checks the OpenID Connect settings when OIDC is enabled.
func (c *Config) checkOIDC(ps *problems) {
	o := c.Auth.OIDC
	if !o.Enabled {
		return
	}
	const k = "auth.oidc."
	checkHTTPURL(ps, k+"issuerURL", o.IssuerURL, "https://keycloak.example.com/realms/example")
	checkHTTPURL(ps, k+"redirectURL", o.RedirectURL, "https://osprey.example.com/api/v1/auth/oidc/callback")
	if o.RedirectURL != "" && !strings.HasSuffix(strings.TrimRight(o.RedirectURL, "/"), "/api/v1/auth/oidc/callback") {
		ps.add(k+"redirectURL", "%q must end with /api/v1/auth/oidc/callback (the console's callback route)", o.RedirectURL)
	}
	if o.ClientID == "" {
		ps.add(k+"clientID", "is required with OIDC enabled: the client id registered for Osprey at the provider")
	}
	if o.ClientSecret == "" {
		ps.add(k+"clientSecret", "is required with OIDC enabled: the client's secret (set OSPREY_AUTH_OIDC_CLIENT_SECRET rather than writing it in the file)")
	}
	for i, r := range o.Roles {
		if r.Group == "" {
			ps.add(k+"roles["+itoa(i)+"].group", "must name a group as the groups claim lists it")
		}
		if !validRole(r.Role) {
			ps.add(k+"roles["+itoa(i)+"].role", "%q is not a role: use viewer, operator or admin", r.Role)
		}
	}
	if o.DefaultRole != "" && !validRole(o.DefaultRole) {
		ps.add(k+"defaultRole", "%q is not a role: use viewer, operator, admin or leave it empty to refuse users in no mapped group", o.DefaultRole)
	}
	if o.Timeout < 0 {
		ps.add(k+"timeout", "must not be negative (example: 10s)")
	}
}

func checkHTTPURL(ps *problems, key, raw, example string) {
	if raw == "" {
		ps.add(key, "is required with OIDC enabled (example: %q)", example)
		return
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		ps.add(key, "%q is not an http(s) URL (example: %q)", raw, example)
	}
}
