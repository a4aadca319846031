package ldapauth_test

import (
	"context"
	"errors"
	"strconv"
	"testing"

	"github.com/osprey-kafka/osprey/config"
	"github.com/osprey-kafka/osprey/internal/ldapauth"
	"github.com/osprey-kafka/osprey/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func baseConfig(url string) config.LDAP {
	return config.LDAP{Enabled: true, URL: url, TLS: config.LDAPTLSNone,
		BindDN: testenv.SampleBindDN, BindPassword: testenv.SampleBindPassword,
		UserBaseDN: "ou=people,dc=osprey,dc=test", GroupBaseDN: "ou=groups,dc=osprey,dc=test",
		Roles: []config.LDAPRole{{Group: "cn=kafka-operators,ou=groups,dc=osprey,dc=test", Role: "operator"}, {Group: "kafka-viewers", Role: "viewer"}}}
}

func TestLDAPSignIn(t *testing.T) {
	dir := testenv.StartLDAP(t, testenv.SampleDirectory)
	search := baseConfig(dir.URL)
	memberOf := baseConfig(dir.URL)
	memberOf.GroupAttribute, memberOf.GroupBaseDN = "memberOf", ""
	for name, cfg := range map[string]config.LDAP{"group search": search, "memberOf": memberOf} {
		t.Run(name, func(t *testing.T) {
			a, err := ldapauth.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			cases := []struct {
				user, pass, role string
				err              error
			}{
				{"alice", "alice-pass", "operator", nil}, // the highest of her groups
				{"bob", "bob-pass", "viewer", nil},
				{"alice", "wrong", "", ldapauth.ErrBadCredentials},
				{"alice", "", "", ldapauth.ErrBadCredentials},
				{"nobody", "x-pass", "", ldapauth.ErrBadCredentials},
				{"*", "alice-pass", "", ldapauth.ErrBadCredentials}, // escaped: no wildcard match
				{"carol", "carol-pass", "", ldapauth.ErrNoRole},
			}
			for _, c := range cases {
				res, err := a.Authenticate(ctx, c.user, c.pass)
				if !errors.Is(err, c.err) || res.Role != c.role {
					t.Errorf("%s/%s: role %q err %v, want role %q err %v", c.user, c.pass, res.Role, err, c.role, c.err)
				}
			}
		})
	}
	t.Run("default role", func(t *testing.T) {
		cfg := search
		cfg.DefaultRole = "viewer"
		a, _ := ldapauth.New(cfg)
		if res, err := a.Authenticate(context.Background(), "carol", "carol-pass"); err != nil || res.Role != "viewer" {
			t.Fatalf("carol: %+v %v, want the default viewer role", res, err)
		}
	})
	t.Run("service account refused", func(t *testing.T) {
		cfg := search
		cfg.BindPassword = "wrong"
		a, _ := ldapauth.New(cfg)
		if _, err := a.Authenticate(context.Background(), "alice", "alice-pass"); !errors.Is(err, ldapauth.ErrUnavailable) {
			t.Fatalf("err %v, want ErrUnavailable", err)
		}
	})
}

func TestLDAPUnreachable(t *testing.T) {
	a, err := ldapauth.New(baseConfig("ldap://127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Authenticate(context.Background(), "alice", "alice-pass"); !errors.Is(err, ldapauth.ErrUnavailable) {
		t.Fatalf("err %v, want ErrUnavailable", err)
	}
}

func TestGroupMatches(t *testing.T) {
	dn := "cn=Kafka-Operators,ou=groups,dc=osprey,dc=test"
	for _, c := range []struct {
		mapping string
		want    bool
	}{
		{"kafka-operators", true},
		{"CN=kafka-operators,OU=groups,DC=osprey,DC=test", true},
		{"cn=kafka-operators,ou=other,dc=osprey,dc=test", false},
		{"kafka", false},
	} {
		if got := ldapauth.GroupMatches(c.mapping, dn); got != c.want {
			t.Errorf("GroupMatches(%q) = %v, want %v", c.mapping, got, c.want)
		}
	}
}

func TestLDAPTLS(t *testing.T) {
	dir := testenv.StartLDAP(t, testenv.SampleDirectory, testenv.LDAPWithTLS())
	startTLS := baseConfig(dir.URL)
	startTLS.TLS, startTLS.CAFile = config.LDAPTLSStartTLS, dir.CAFile
	ldaps := baseConfig(dir.LDAPSURL)
	ldaps.TLS, ldaps.CAFile = config.LDAPTLSLDAPS, dir.CAFile
	untrusted := startTLS
	untrusted.CAFile = "" // the system roots do not know the test's CA
	wrongName := ldaps
	wrongName.ServerName = "ldap.example.com"
	for name, c := range map[string]struct {
		cfg  config.LDAP
		want error
	}{
		"starttls":              {startTLS, nil},
		"ldaps":                 {ldaps, nil},
		"starttls, unknown CA":  {untrusted, ldapauth.ErrUnavailable},
		"ldaps, wrong hostname": {wrongName, ldapauth.ErrUnavailable},
	} {
		t.Run(name, func(t *testing.T) {
			a, err := ldapauth.New(c.cfg)
			if err != nil {
				t.Fatal(err)
			}
			res, err := a.Authenticate(context.Background(), "alice", "alice-pass")
			if !errors.Is(err, c.want) || (c.want == nil && res.Role != "operator") {
				t.Fatalf("alice: %+v %v, want err %v", res, err, c.want)
			}
		})
	}
}
