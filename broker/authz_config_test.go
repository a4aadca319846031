package broker

import (
	"slices"
	"strings"
	"testing"
)

func TestAuthzConfig(t *testing.T) {
	cfg, err := ConfigFromProperties(map[string]string{
		"authorizer.class.name":          standardAuthorizerClass,
		"super.users":                    "User:admin; User:CN=broker,O=osprey;",
		"allow.everyone.if.no.acl.found": "true",
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := AuthzConfig{AuthorizerClass: standardAuthorizerClass, SuperUsers: []string{"User:admin", "User:CN=broker,O=osprey"}, AllowIfNoACL: true}
	if cfg.Authz.AuthorizerClass != want.AuthorizerClass || !slices.Equal(cfg.Authz.SuperUsers, want.SuperUsers) || !cfg.Authz.AllowIfNoACL {
		t.Fatalf("Authz = %+v, want %+v", cfg.Authz, want)
	}
	back, err := ConfigFromProperties(cfg.Properties(), nil)
	if err != nil || !slices.Equal(back.Authz.SuperUsers, want.SuperUsers) || back.Authz.AuthorizerClass != want.AuthorizerClass {
		t.Fatalf("round trip: %+v, %v", back.Authz, err)
	}
	if _, err := ConfigFromProperties(map[string]string{"authorizer.class.name": aclAuthorizerClass}, nil); err != nil {
		t.Fatalf("AclAuthorizer refused: %v", err)
	}
	if d, _ := ConfigFromProperties(map[string]string{}, nil); d.Authz.Enabled() || d.Authz.AllowIfNoACL {
		t.Fatalf("default authorization %+v, want off and allow.everyone.if.no.acl.found=false", d.Authz)
	}
	for k, v := range map[string]string{
		"authorizer.class.name":          "com.example.MyAuthorizer",
		"super.users":                    "admin",
		"allow.everyone.if.no.acl.found": "maybe",
	} {
		_, err := ConfigFromProperties(map[string]string{k: v}, nil)
		if err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("%s=%s: error %v, want one naming the key", k, v, err)
		}
	}
}
