package config

import (
	"os"
	"strings"

	"github.com/go-ldap/ldap/v3"
)

// Auth configures how people sign in to the console besides the admin token and API tokens
// (docs/AUTH.md).
type Auth struct {
	LDAP LDAP `yaml:"ldap"`
	OIDC OIDC `yaml:"oidc"`
	// Session bounds sign-in sessions (idle and absolute timeouts).
	Session Session `yaml:"session"`
}

// LDAP sign-in: bind as a service account, search the user, bind as the user with the password,
// then read the user's groups and map them to roles.
type LDAP struct {
	Enabled bool `yaml:"enabled"`
	// URL is ldap://host:389 (plain or StartTLS) or ldaps://host:636.
	URL string `yaml:"url"`
	// TLS is none, starttls or ldaps; ldaps needs an ldaps:// URL, the others an ldap:// one.
	TLS string `yaml:"tls"`
	// CAFile is a PEM bundle the server's certificate must chain to (empty: the system roots).
	CAFile string `yaml:"caFile"`
	// ServerName is the name the certificate must carry (empty: the URL's host).
	ServerName string `yaml:"serverName"`
	// BindDN and BindPassword are the service account that searches users; both empty binds anonymously.
	BindDN       string `yaml:"bindDN"`
	BindPassword string `yaml:"bindPassword" secret:"true"`
	// UserBaseDN is where users are searched; UserFilter finds one user, {username} replaced by the
	// escaped name (default "(uid={username})").
	UserBaseDN string `yaml:"userBaseDN"`
	UserFilter string `yaml:"userFilter"`
	// GroupAttribute is the user attribute listing group DNs (for example memberOf). Empty: groups
	// are searched under GroupBaseDN with GroupFilter, {dn} replaced by the user's escaped DN and
	// {username} by the escaped name (default "(member={dn})").
	GroupAttribute string `yaml:"groupAttribute"`
	GroupBaseDN    string `yaml:"groupBaseDN"`
	GroupFilter    string `yaml:"groupFilter"`
	// Roles maps groups (a full DN, or its cn) to console roles. A user gets the highest role of its
	// groups; a user in none gets DefaultRole, and cannot sign in when that is empty.
	Roles       []LDAPRole `yaml:"roles"`
	DefaultRole string     `yaml:"defaultRole"`
	// AllowLocal lets local accounts sign in with their password too (a local account wins over a
	// directory user of the same name). False: with LDAP on, only directory users sign in by
	// password; the admin token stays the break-glass identity.
	AllowLocal bool `yaml:"allowLocal"`
	// Timeout bounds each sign-in's conversation with the server (default 10s).
	Timeout Duration `yaml:"timeout"`
}

// LDAPRole grants Role to the members of Group.
type LDAPRole struct {
	Group string `yaml:"group"`
	Role  string `yaml:"role"`
}

// LDAP TLS modes.
const (
	LDAPTLSNone     = "none"
	LDAPTLSStartTLS = "starttls"
	LDAPTLSLDAPS    = "ldaps"
)

func validRole(r string) bool { return r == "viewer" || r == "operator" || r == "admin" }

// checkAuth checks the LDAP settings when LDAP is enabled.
func (c *Config) checkAuth(ps *problems) {
	l := c.Auth.LDAP
	if !l.Enabled {
		return
	}
	const k = "auth.ldap."
	scheme, _, _ := strings.Cut(l.URL, "://")
	switch {
	case l.URL == "":
		ps.add(k+"url", "is required with LDAP enabled (example: \"ldaps://ldap.example.com:636\")")
	case scheme != "ldap" && scheme != "ldaps":
		ps.add(k+"url", "%q must start with ldap:// or ldaps://", l.URL)
	}
	switch l.TLS {
	case LDAPTLSLDAPS:
		if scheme == "ldap" {
			ps.add(k+"tls", "ldaps needs an ldaps:// url; use starttls with ldap:// (or change the url)")
		}
	case LDAPTLSNone, LDAPTLSStartTLS, "":
		if scheme == "ldaps" {
			ps.add(k+"tls", "an ldaps:// url needs tls: ldaps")
		}
	default:
		ps.add(k+"tls", "%q is not a TLS mode: use none, starttls or ldaps", l.TLS)
	}
	if l.TLS == "" || l.TLS == LDAPTLSNone {
		if l.CAFile != "" || l.ServerName != "" {
			ps.add(k+"tls", "caFile and serverName need tls: starttls or ldaps (passwords would cross the network in clear text otherwise)")
		}
	}
	if l.CAFile != "" {
		if _, err := os.Stat(l.CAFile); err != nil {
			ps.add(k+"caFile", "cannot be read: %v (give a PEM file of the CA that signed the server's certificate)", err)
		}
	}
	if l.BindPassword != "" && l.BindDN == "" {
		ps.add(k+"bindPassword", "is set without bindDN: set bindDN to the service account's DN (or drop the password to bind anonymously)")
	}
	checkDN(ps, k+"bindDN", l.BindDN, false)
	checkDN(ps, k+"userBaseDN", l.UserBaseDN, true)
	if l.UserFilter != "" && !strings.Contains(l.UserFilter, "{username}") {
		ps.add(k+"userFilter", "must contain {username} (example: \"(&(objectClass=inetOrgPerson)(uid={username}))\")")
	}
	checkFilter(ps, k+"userFilter", l.UserFilter)
	if l.GroupAttribute == "" {
		checkDN(ps, k+"groupBaseDN", l.GroupBaseDN, l.GroupFilter != "" || len(l.Roles) > 0)
	}
	checkFilter(ps, k+"groupFilter", l.GroupFilter)
	for i, r := range l.Roles {
		if r.Group == "" {
			ps.add(k+"roles["+itoa(i)+"].group", "must name a group (its DN or cn)")
		}
		if !validRole(r.Role) {
			ps.add(k+"roles["+itoa(i)+"].role", "%q is not a role: use viewer, operator or admin", r.Role)
		}
	}
	if l.DefaultRole != "" && !validRole(l.DefaultRole) {
		ps.add(k+"defaultRole", "%q is not a role: use viewer, operator, admin or leave it empty to refuse users in no mapped group", l.DefaultRole)
	}
	if l.Timeout < 0 {
		ps.add(k+"timeout", "must not be negative (example: 10s)")
	}
}

func checkDN(ps *problems, key, dn string, required bool) {
	if dn == "" {
		if required {
			ps.add(key, "is required with LDAP enabled (example: \"ou=people,dc=example,dc=com\")")
		}
		return
	}
	if _, err := ldap.ParseDN(dn); err != nil {
		ps.add(key, "%q is not a DN: %v (example: \"ou=people,dc=example,dc=com\")", dn, err)
	}
}

func checkFilter(ps *problems, key, f string) {
	if f == "" {
		return
	}
	probe := strings.NewReplacer("{username}", "x", "{dn}", "x").Replace(f)
	if _, err := ldap.CompileFilter(probe); err != nil {
		ps.add(key, "%q is not an LDAP filter: %v (example: \"(uid={username})\")", f, err)
	}
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}
