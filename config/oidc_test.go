package config

import (
	"strings"
	"testing"
	"time"
)

const oidcOK = `auth:
  oidc:
    enabled: true
    issuerURL: https://keycloak.example.com/realms/example
    clientID: osprey
    clientSecret: "s3cret-client"
    redirectURL: https://osprey.example.com/api/v1/auth/oidc/callback
    roles:
      - {group: kafka-operators, role: operator}
`

func TestOIDCConfig(t *testing.T) {
	cfg, err := Load(LoadOptions{File: writeFile(t, oidcOK)})
	if err != nil {
		t.Fatal(err)
	}
	if o := cfg.Auth.OIDC; !o.Enabled || o.ClientID != "osprey" || len(o.Roles) != 1 {
		t.Fatalf("loaded %+v", o)
	}
	cases := []struct {
		name    string
		yaml    string
		env     []string
		wantAll []string
	}{
		{"no issuer", strings.Replace(oidcOK, "    issuerURL: https://keycloak.example.com/realms/example\n", "", 1), nil, []string{"auth.oidc.issuerURL", "is required"}},
		{"issuer not a URL", strings.Replace(oidcOK, "issuerURL: https://keycloak.example.com/realms/example", "issuerURL: keycloak", 1), nil, []string{"auth.oidc.issuerURL", "not an http(s) URL"}},
		{"no client id", strings.Replace(oidcOK, "    clientID: osprey\n", "", 1), nil, []string{"auth.oidc.clientID", "is required"}},
		{"no secret", strings.Replace(oidcOK, "    clientSecret: \"s3cret-client\"\n", "", 1), nil, []string{"auth.oidc.clientSecret", "OSPREY_AUTH_OIDC_CLIENT_SECRET"}},
		{"wrong callback", strings.Replace(oidcOK, "/api/v1/auth/oidc/callback", "/callback", 1), nil, []string{"auth.oidc.redirectURL", "must end with /api/v1/auth/oidc/callback"}},
		{"bad role", strings.Replace(oidcOK, "role: operator", "role: root", 1), nil, []string{"auth.oidc.roles[0].role", "viewer, operator or admin"}},
		{"env override", oidcOK, []string{"OSPREY_AUTH_OIDC_ISSUER_URL=ftp://x"}, []string{"auth.oidc.issuerURL", "not an http(s) URL"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(LoadOptions{File: writeFile(t, tc.yaml), Env: tc.env})
			if err == nil {
				t.Fatal("expected an error")
			}
			for _, want := range tc.wantAll {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
			if strings.Contains(err.Error(), "s3cret-client") {
				t.Errorf("error leaks the client secret: %q", err)
			}
		})
	}
}

func TestSessionConfig(t *testing.T) {
	cfg, err := Load(LoadOptions{File: writeFile(t, "auth:\n  session:\n    idleTimeout: 15m\n")})
	if err != nil {
		t.Fatal(err)
	}
	if idle, abs := cfg.Auth.Session.Timeouts(); idle != 15*time.Minute || abs != DefaultSessionAbsolute {
		t.Fatalf("timeouts = %v %v", idle, abs)
	}
	for _, tc := range []struct{ yaml, want string }{
		{"auth:\n  session:\n    idleTimeout: 2h\n    absoluteTimeout: 1h\n", "auth.session.idleTimeout"},
		{"auth:\n  session:\n    absoluteTimeout: 10s\n", "auth.session.absoluteTimeout"},
	} {
		if _, err := Load(LoadOptions{File: writeFile(t, tc.yaml)}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want it to name %s", tc.yaml, err, tc.want)
		}
	}
}
