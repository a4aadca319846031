package config

import (
	"strings"
	"testing"
)

const ldapOK = `auth:
  ldap:
    enabled: true
    url: ldap://ldap.example.com:389
    tls: starttls
    bindDN: cn=osprey,ou=services,dc=example,dc=com
    bindPassword: "s3cret-bind"
    userBaseDN: ou=people,dc=example,dc=com
    groupBaseDN: ou=groups,dc=example,dc=com
    roles:
      - {group: kafka-operators, role: operator}
`

func TestLDAPConfig(t *testing.T) {
	cfg, err := Load(LoadOptions{File: writeFile(t, ldapOK)})
	if err != nil {
		t.Fatal(err)
	}
	if l := cfg.Auth.LDAP; !l.Enabled || l.TLS != LDAPTLSStartTLS || len(l.Roles) != 1 || l.Roles[0].Role != "operator" {
		t.Fatalf("loaded %+v", l)
	}
	cases := []struct {
		name    string
		yaml    string
		env     []string
		wantAll []string
	}{
		{"password without bind DN", strings.Replace(ldapOK, "    bindDN: cn=osprey,ou=services,dc=example,dc=com\n", "", 1), nil,
			[]string{"auth.ldap.bindPassword", "set bindDN"}},
		{"unknown TLS mode", strings.Replace(ldapOK, "tls: starttls", "tls: maybe", 1), nil, []string{"auth.ldap.tls", "none, starttls or ldaps"}},
		{"ldaps with ldap url", strings.Replace(ldapOK, "tls: starttls", "tls: ldaps", 1), nil, []string{"auth.ldap.tls", "ldaps:// url"}},
		{"no url", strings.Replace(ldapOK, "    url: ldap://ldap.example.com:389\n", "", 1), nil, []string{"auth.ldap.url", "is required"}},
		{"no user base", strings.Replace(ldapOK, "    userBaseDN: ou=people,dc=example,dc=com\n", "", 1), nil, []string{"auth.ldap.userBaseDN", "is required"}},
		{"filter without username", ldapOK + "    userFilter: (uid=bob)\n", nil, []string{"auth.ldap.userFilter", "{username}"}},
		{"bad filter", ldapOK + "    userFilter: (uid={username}\n", nil, []string{"auth.ldap.userFilter", "not an LDAP filter"}},
		{"bad role", strings.Replace(ldapOK, "role: operator", "role: root", 1), nil, []string{"auth.ldap.roles[0].role", "viewer, operator or admin"}},
		{"missing CA file", ldapOK + "    caFile: /nonexistent/ca.pem\n", nil, []string{"auth.ldap.caFile", "cannot be read"}},
		{"clear text with CA", strings.Replace(ldapOK, "tls: starttls", "tls: none", 1) + "    caFile: /etc/hostname\n", nil, []string{"auth.ldap.tls", "need tls: starttls or ldaps"}},
		{"env override", ldapOK, []string{"OSPREY_AUTH_LDAP_TLS=plain"}, []string{"auth.ldap.tls", `"plain"`}},
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
			if strings.Contains(err.Error(), "s3cret-bind") {
				t.Errorf("error leaks the bind password: %q", err)
			}
		})
	}
}
