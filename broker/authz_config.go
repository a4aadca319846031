package broker

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/osprey-kafka/osprey/broker/acl"
)

// The authorizer class names Kafka's brokers accept: the ZooKeeper-mode
// and the KRaft-mode ACL authorizer. Either turns on this broker's ACL
// authorizer, whose ACLs live where the metadata mode keeps them.
const (
	aclAuthorizerClass      = "kafka.security.authorizer.AclAuthorizer"
	standardAuthorizerClass = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
)

// AuthzConfig is the authorization configuration.
type AuthzConfig struct {
	// AuthorizerClass is authorizer.class.name; "" turns authorization off
	// (every principal may do everything, and the ACL APIs answer
	// SECURITY_DISABLED).
	AuthorizerClass string
	SuperUsers      []string // super.users, semicolon-separated principals
	AllowIfNoACL    bool     // allow.everyone.if.no.acl.found
}

// Enabled reports whether an authorizer is configured.
func (a AuthzConfig) Enabled() bool { return a.AuthorizerClass != "" }

// parseAuthzProperty parses the authorization properties; ok is false for
// other keys.
func (c *Config) parseAuthzProperty(k, v string) (ok bool, err error) {
	switch k {
	case "authorizer.class.name":
		v = strings.TrimSpace(v)
		if v != "" && v != aclAuthorizerClass && v != standardAuthorizerClass {
			return true, fmt.Errorf("unknown authorizer class %q (accepted: %s, %s, or empty for none)",
				v, aclAuthorizerClass, standardAuthorizerClass)
		}
		c.Authz.AuthorizerClass = v
	case "super.users":
		c.Authz.SuperUsers = nil
		for _, u := range strings.Split(v, ";") {
			u = strings.TrimSpace(u)
			if u == "" {
				continue
			}
			if i := strings.IndexByte(u, ':'); i <= 0 || i == len(u)-1 {
				return true, fmt.Errorf("principal %q is not of the form Type:name (e.g. User:admin)", u)
			}
			c.Authz.SuperUsers = append(c.Authz.SuperUsers, u)
		}
	case "allow.everyone.if.no.acl.found":
		c.Authz.AllowIfNoACL, err = strconv.ParseBool(strings.TrimSpace(v))
	default:
		return false, nil
	}
	return true, err
}

// addAuthzProperties adds the authorization properties (Properties).
func (c Config) addAuthzProperties(props map[string]string) {
	if c.Authz.AuthorizerClass != "" {
		props["authorizer.class.name"] = c.Authz.AuthorizerClass
	}
	if len(c.Authz.SuperUsers) > 0 {
		props["super.users"] = strings.Join(c.Authz.SuperUsers, ";")
	}
	if c.Authz.AllowIfNoACL {
		props["allow.everyone.if.no.acl.found"] = "true"
	}
}

// newAuthorizer returns the broker's authorizer, or nil when none is
// configured.
func (a AuthzConfig) newAuthorizer() *acl.Authorizer {
	if !a.Enabled() {
		return nil
	}
	return acl.New(acl.Config{SuperUsers: a.SuperUsers, AllowIfNoACL: a.AllowIfNoACL})
}

// addAuthzConfigEntries adds the authorization configs DescribeConfigs
// reports for a broker, so tools (the console's ACL checker) know the
// super users and the no-ACL rule the broker decides with.
func (c Config) addAuthzConfigEntries(m map[string]string) {
	m["authorizer.class.name"] = c.Authz.AuthorizerClass
	m["super.users"] = strings.Join(c.Authz.SuperUsers, ";")
	m["allow.everyone.if.no.acl.found"] = strconv.FormatBool(c.Authz.AllowIfNoACL)
}
