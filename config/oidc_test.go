package config

import (
	"strings"
	"testing"
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
