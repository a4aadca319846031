// Package ldapauth checks a username and password against an LDAP directory: bind as a service
// account, search the user, bind as the user, then read the user's groups (a memberOf-style
// attribute or a group search) and map them to a console role.
//
// It tells three outcomes apart so the caller never confuses them: the directory said no
// (ErrBadCredentials, also for an unknown user or a user in no mapped group), the directory could
// not be asked (ErrUnavailable: down, TLS failure, service account refused), and success.
package ldapauth

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/osprey-kafka/osprey/config"
)

// ErrBadCredentials means the directory refused the user: unknown, wrong password, or no role.
var ErrBadCredentials = errors.New("ldap: invalid credentials")

// ErrUnavailable means the directory could not decide: unreachable, TLS failed, or the service
// account was refused. Sign-in must fail rather than try another method.
var ErrUnavailable = errors.New("ldap: directory unavailable")

// ErrNoRole means the user proved its password but belongs to no group mapped to a role.
var ErrNoRole = errors.New("ldap: no role for the user's groups")

// Result is a signed-in directory user.
type Result struct {
	Username string
	DN       string
	// Groups are the user's group DNs.
	Groups []string
	// Role is the highest role the user's groups map to (or the default role).
	Role string
}

// Authenticator signs users in against one directory. It is safe for concurrent use: every call
// opens its own connection.
type Authenticator struct {
	cfg config.LDAP
	tls *tls.Config
}

var roleRank = map[string]int{"viewer": 1, "operator": 2, "admin": 3}

// New prepares an authenticator from validated configuration; it reads the CA file but does not
// connect.
func New(cfg config.LDAP) (*Authenticator, error) {
	if cfg.UserFilter == "" {
		cfg.UserFilter = "(uid={username})"
	}
	if cfg.GroupFilter == "" {
		cfg.GroupFilter = "(member={dn})"
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = config.Duration(10 * time.Second)
	}
	a := &Authenticator{cfg: cfg}
	if cfg.TLS == config.LDAPTLSStartTLS || cfg.TLS == config.LDAPTLSLDAPS {
		tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: cfg.ServerName}
		if tc.ServerName == "" {
			tc.ServerName = hostOf(cfg.URL)
		}
		if cfg.CAFile != "" {
			pem, err := os.ReadFile(cfg.CAFile)
			if err != nil {
				return nil, fmt.Errorf("auth.ldap.caFile: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("auth.ldap.caFile: %s holds no PEM certificate", cfg.CAFile)
			}
			tc.RootCAs = pool
		}
		a.tls = tc
	}
	return a, nil
}

// hostOf is the host of an ldap:// or ldaps:// URL, the name the server's certificate must carry.
func hostOf(url string) string {
	_, rest, _ := strings.Cut(url, "://")
	hostport, _, _ := strings.Cut(rest, "/")
	if host, _, err := net.SplitHostPort(hostport); err == nil {
		return host
	}
	return hostport // no port
}

// Authenticate checks username and password. Errors wrap ErrBadCredentials, ErrNoRole or
// ErrUnavailable.
func (a *Authenticator) Authenticate(ctx context.Context, username, password string) (Result, error) {
	// An empty password is an unauthenticated bind that many servers accept: never send one.
	if username == "" || password == "" {
		return Result{}, ErrBadCredentials
	}
	timeout := a.cfg.Timeout.D()
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < timeout {
		timeout = time.Until(dl)
	}
	conn, err := a.dial(timeout)
	if err != nil {
		return Result{}, err
	}
	defer conn.Close()
	conn.SetTimeout(timeout)
	if err := a.serviceBind(conn); err != nil {
		return Result{}, err
	}
	dn, attrs, err := a.findUser(conn, username)
	if err != nil {
		return Result{}, err
	}
	if err := conn.Bind(dn, password); err != nil {
		if ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials) {
			return Result{}, ErrBadCredentials
		}
		return Result{}, fmt.Errorf("%w: binding as the user: %v", ErrUnavailable, err)
	}
	// Read groups as the service account: users often may not read group entries.
	if err := a.serviceBind(conn); err != nil {
		return Result{}, err
	}
	groups, err := a.groups(conn, username, dn, attrs)
	if err != nil {
		return Result{}, err
	}
	role := a.roleOf(groups)
	if role == "" {
		return Result{Username: username, DN: dn, Groups: groups}, ErrNoRole
	}
	return Result{Username: username, DN: dn, Groups: groups, Role: role}, nil
}

func (a *Authenticator) dial(timeout time.Duration) (*ldap.Conn, error) {
	opts := []ldap.DialOpt{ldap.DialWithDialer(&net.Dialer{Timeout: timeout})}
	if a.cfg.TLS == config.LDAPTLSLDAPS {
		opts = append(opts, ldap.DialWithTLSConfig(a.tls))
	}
	conn, err := ldap.DialURL(a.cfg.URL, opts...)
	if err != nil {
		return nil, fmt.Errorf("%w: connecting to %s: %v", ErrUnavailable, a.cfg.URL, err)
	}
	if a.cfg.TLS == config.LDAPTLSStartTLS {
		if err := conn.StartTLS(a.tls); err != nil {
			conn.Close()
			return nil, fmt.Errorf("%w: StartTLS with %s: %v", ErrUnavailable, a.cfg.URL, err)
		}
	}
	return conn, nil
}

func (a *Authenticator) serviceBind(conn *ldap.Conn) error {
	var err error
	if a.cfg.BindDN == "" {
		err = conn.UnauthenticatedBind("")
	} else {
		err = conn.Bind(a.cfg.BindDN, a.cfg.BindPassword)
	}
	if err != nil {
		// The service account is configuration, not the user's fault: the directory is unusable.
		return fmt.Errorf("%w: binding as the service account (auth.ldap.bindDN): %v", ErrUnavailable, err)
	}
	return nil
}

func (a *Authenticator) findUser(conn *ldap.Conn, username string) (string, *ldap.Entry, error) {
	filter := strings.ReplaceAll(a.cfg.UserFilter, "{username}", ldap.EscapeFilter(username))
	attrs := []string{"dn"}
	if a.cfg.GroupAttribute != "" {
		attrs = append(attrs, a.cfg.GroupAttribute)
	}
	res, err := conn.Search(ldap.NewSearchRequest(a.cfg.UserBaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases,
		2, 0, false, filter, attrs, nil))
	if err != nil && !ldap.IsErrorWithCode(err, ldap.LDAPResultSizeLimitExceeded) {
		if ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
			return "", nil, ErrBadCredentials
		}
		return "", nil, fmt.Errorf("%w: searching the user: %v", ErrUnavailable, err)
	}
	if res == nil || len(res.Entries) != 1 {
		// No entry, or an ambiguous filter: refuse rather than pick one.
		return "", nil, ErrBadCredentials
	}
	return res.Entries[0].DN, res.Entries[0], nil
}

func (a *Authenticator) groups(conn *ldap.Conn, username, dn string, user *ldap.Entry) ([]string, error) {
	if a.cfg.GroupAttribute != "" {
		return user.GetAttributeValues(a.cfg.GroupAttribute), nil
	}
	if a.cfg.GroupBaseDN == "" {
		return nil, nil
	}
	filter := strings.NewReplacer("{dn}", ldap.EscapeFilter(dn), "{username}", ldap.EscapeFilter(username)).Replace(a.cfg.GroupFilter)
	res, err := conn.Search(ldap.NewSearchRequest(a.cfg.GroupBaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases,
		0, 0, false, filter, []string{"dn"}, nil))
	if err != nil {
		return nil, fmt.Errorf("%w: searching the user's groups: %v", ErrUnavailable, err)
	}
	out := make([]string, 0, len(res.Entries))
	for _, e := range res.Entries {
		out = append(out, e.DN)
	}
	return out, nil
}

// GroupMatches reports whether a mapping's group (a DN or a bare cn) names the group with DN dn.
func GroupMatches(mapping, dn string) bool {
	want, err1 := ldap.ParseDN(mapping)
	got, err2 := ldap.ParseDN(dn)
	if err2 != nil {
		return strings.EqualFold(mapping, dn)
	}
	if err1 == nil && len(want.RDNs) > 0 && strings.Contains(mapping, "=") {
		return want.EqualFold(got)
	}
	if len(got.RDNs) == 0 {
		return false
	}
	for _, at := range got.RDNs[0].Attributes {
		if strings.EqualFold(at.Type, "cn") && strings.EqualFold(at.Value, mapping) {
			return true
		}
	}
	return false
}

func (a *Authenticator) roleOf(groups []string) string {
	best := a.cfg.DefaultRole
	for _, m := range a.cfg.Roles {
		for _, g := range groups {
			if GroupMatches(m.Group, g) && roleRank[m.Role] > roleRank[best] {
				best = m.Role
			}
		}
	}
	return best
}
