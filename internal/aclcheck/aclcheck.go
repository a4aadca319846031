// Package aclcheck answers "may principal P do operation O on resource R from host H?" from a
// cluster's ACL bindings with Kafka's authorizer semantics (AclAuthorizer and StandardAuthorizer agree
// on them):
//
//   - a super user (super.users) may do anything;
//   - the ACLs that apply to a resource are those of its type whose pattern is LITERAL with the
//     resource's name, LITERAL "*" (any resource of the type), or PREFIXED with a prefix of the name;
//   - of those, a binding matches the request when its principal is the request's or "User:*" (the
//     wildcard principal, which Kafka matches against every principal) and its
//     host is the request's or "*";
//   - a matching DENY for the operation or for ALL decides: denied, whatever allows it;
//   - otherwise a matching ALLOW decides: for the operation itself, for ALL, and for the operations
//     that imply it (DESCRIBE is implied by READ, WRITE, DELETE and ALTER; DESCRIBE_CONFIGS by
//     ALTER_CONFIGS);
//   - when no ACL at all applies to the resource (for any principal), allow.everyone.if.no.acl.found
//     decides; when some apply but none allows, the request is denied.
//
// The package is pure: names are Kafka's enum names ("TOPIC", "READ", "ALLOW", "PREFIXED") as
// kafka-acls.sh and the protocol's ACL types print them.
package aclcheck

import (
	"fmt"
	"slices"
	"strings"
)

// Kafka's resource types, operations, permissions and pattern types by their enum names.
const (
	Topic           = "TOPIC"
	Group           = "GROUP"
	Cluster         = "CLUSTER"
	TransactionalID = "TRANSACTIONAL_ID"
	DelegationToken = "DELEGATION_TOKEN"
	User            = "USER"

	All             = "ALL"
	Read            = "READ"
	Write           = "WRITE"
	Create          = "CREATE"
	Delete          = "DELETE"
	Alter           = "ALTER"
	Describe        = "DESCRIBE"
	ClusterAction   = "CLUSTER_ACTION"
	DescribeConfigs = "DESCRIBE_CONFIGS"
	AlterConfigs    = "ALTER_CONFIGS"
	IdempotentWrite = "IDEMPOTENT_WRITE"
	CreateTokens    = "CREATE_TOKENS"
	DescribeTokens  = "DESCRIBE_TOKENS"

	Allow = "ALLOW"
	Deny  = "DENY"

	Literal  = "LITERAL"
	Prefixed = "PREFIXED"

	// Wildcard is the resource name and host that match any; WildcardPrincipal any user.
	Wildcard          = "*"
	WildcardPrincipal = "User:*"
	// ClusterName is the only name a CLUSTER resource has.
	ClusterName = "kafka-cluster"
)

// operations lists, per resource type, the operations Kafka accepts in an ACL for it (its
// AclEntry.supportedOperations).
var operations = map[string][]string{
	Topic:           {Read, Write, Create, Describe, Delete, Alter, DescribeConfigs, AlterConfigs, All},
	Group:           {Read, Describe, Delete, All},
	Cluster:         {Create, ClusterAction, DescribeConfigs, AlterConfigs, IdempotentWrite, Alter, Describe, All},
	TransactionalID: {Describe, Write, All},
	DelegationToken: {Describe, All},
	User:            {CreateTokens, DescribeTokens, All},
}

// ResourceTypes are the resource types an ACL can name, in Kafka's order.
func ResourceTypes() []string {
	return []string{Topic, Group, Cluster, TransactionalID, DelegationToken, User}
}

// Operations are the operations Kafka accepts in an ACL for resource type rt (nil for an unknown type).
func Operations(rt string) []string { return slices.Clone(operations[rt]) }

// Binding is one ACL: a principal allowed or denied an operation from a host on the resources a
// pattern names.
type Binding struct {
	Principal    string `json:"principal"`
	Host         string `json:"host"`
	Operation    string `json:"operation"`
	Permission   string `json:"permission"`
	ResourceType string `json:"resourceType"`
	ResourceName string `json:"resourceName"`
	PatternType  string `json:"patternType"`
}

// String reads like kafka-acls.sh's listing.
func (b Binding) String() string {
	return fmt.Sprintf("%s %s %s from host %s on %s %s:%s", b.Principal, strings.ToLower(b.Permission), b.Operation, b.Host,
		b.PatternType, b.ResourceType, b.ResourceName)
}

// Problem is why a binding or a request is refused: a stable code and an English sentence.
type Problem struct {
	Code    string
	Field   string
	Message string
}

func (p *Problem) Error() string { return p.Message }

func problem(code, field, format string, a ...any) *Problem {
	return &Problem{Code: code, Field: field, Message: fmt.Sprintf(format, a...)}
}

// ValidPrincipal checks Kafka's "Type:name" form (User:alice, Group:ops, User:*).
func ValidPrincipal(p string) *Problem {
	if strings.TrimSpace(p) == "" {
		return problem("acl_principal_empty", "principal", "the principal is empty: give it as Type:name, e.g. User:alice")
	}
	typ, name, ok := strings.Cut(p, ":")
	if !ok || typ == "" || name == "" || strings.TrimSpace(p) != p {
		return problem("acl_principal_invalid", "principal", "principal %q is not of the form Type:name (e.g. User:alice, or User:* for every user)", p)
	}
	return nil
}

// validResource checks the resource type, the operation for it, and the resource name.
func validResource(rt, op, name string) *Problem {
	ops, ok := operations[rt]
	if !ok {
		return problem("acl_resource_type_invalid", "resourceType", "unknown resource type %q: one of %s", rt, strings.Join(ResourceTypes(), ", "))
	}
	if !slices.Contains(ops, op) {
		return problem("acl_operation_invalid", "operation", "operation %q does not apply to %s resources: one of %s", op, rt, strings.Join(ops, ", "))
	}
	if name == "" {
		return problem("acl_resource_name_empty", "resourceName", "the resource name is empty (use * for every %s)", strings.ToLower(rt))
	}
	if rt == Cluster && name != ClusterName {
		return problem("acl_resource_name_invalid", "resourceName", "a CLUSTER resource is named %s", ClusterName)
	}
	return nil
}

// Validate checks a binding as Kafka's CreateAcls would, with the console's clearer messages.
func (b Binding) Validate() *Problem {
	if p := ValidPrincipal(b.Principal); p != nil {
		return p
	}
	if b.Host == "" {
		return problem("acl_host_empty", "host", "the host is empty (use * for any host)")
	}
	if b.Permission != Allow && b.Permission != Deny {
		return problem("acl_permission_invalid", "permission", "permission %q is neither ALLOW nor DENY", b.Permission)
	}
	if b.PatternType != Literal && b.PatternType != Prefixed {
		return problem("acl_pattern_invalid", "patternType", "pattern type %q is neither LITERAL nor PREFIXED", b.PatternType)
	}
	if b.PatternType == Prefixed && b.ResourceName == Wildcard {
		return problem("acl_resource_name_invalid", "resourceName", "a PREFIXED pattern cannot be *: use LITERAL * for every resource")
	}
	return validResource(b.ResourceType, b.Operation, b.ResourceName)
}

// Request is the question: may Principal do Operation on the resource from Host?
type Request struct {
	Principal    string `json:"principal"`
	Host         string `json:"host"`
	Operation    string `json:"operation"`
	ResourceType string `json:"resourceType"`
	ResourceName string `json:"resourceName"`
}

// Validate checks the question: a principal of the form Type:name, a known resource type and an
// operation that applies to it, a resource name (not a pattern). An empty host means any address
// ("*" matches only ACLs for every host).
func (r Request) Validate() *Problem {
	if p := ValidPrincipal(r.Principal); p != nil {
		return p
	}
	return validResource(r.ResourceType, r.Operation, r.ResourceName)
}

// Settings are the broker settings that take part in the decision.
type Settings struct {
	// SuperUsers are super.users' principals (User:admin).
	SuperUsers []string
	// AllowEveryoneIfNoACL is allow.everyone.if.no.acl.found.
	AllowEveryoneIfNoACL bool
}

// Reasons a decision names.
const (
	ReasonSuperUser      = "super_user"            // the principal is in super.users
	ReasonDenied         = "deny_acl"              // a DENY binding matched
	ReasonAllowed        = "allow_acl"             // an ALLOW binding matched
	ReasonNoACLAllowed   = "no_acl_allow_everyone" // no ACL for the resource; allow.everyone.if.no.acl.found=true
	ReasonNoACLDenied    = "no_acl_denied"         // no ACL for the resource; allow.everyone.if.no.acl.found=false
	ReasonNoAllowMatched = "no_allow_matched"      // ACLs exist for the resource, none allows this
)

// Decision is the answer and what decided it.
type Decision struct {
	Allowed bool   `json:"allowed"`
	Reason  string `json:"reason" enum:"super_user,deny_acl,allow_acl,no_acl_allow_everyone,no_acl_denied,no_allow_matched"`
	// Binding is the ACL that decided, for deny_acl and allow_acl.
	Binding *Binding `json:"binding,omitempty"`
	// Applicable counts the ACLs that apply to the resource (any principal, host or operation).
	Applicable int    `json:"applicable"`
	Explain    string `json:"explain"`
}

// Check decides r against the cluster's bindings and settings. r must be valid (Validate).
func Check(bindings []Binding, s Settings, r Request) Decision {
	if slices.Contains(s.SuperUsers, r.Principal) {
		return Decision{Allowed: true, Reason: ReasonSuperUser, Explain: fmt.Sprintf("%s is in super.users: super users may do anything", r.Principal)}
	}
	var applicable []Binding
	for _, b := range bindings {
		if appliesTo(b, r.ResourceType, r.ResourceName) {
			applicable = append(applicable, b)
		}
	}
	d := Decision{Applicable: len(applicable)}
	if len(applicable) == 0 {
		if s.AllowEveryoneIfNoACL {
			d.Allowed, d.Reason = true, ReasonNoACLAllowed
			d.Explain = fmt.Sprintf("no ACL applies to %s %s and allow.everyone.if.no.acl.found=true: allowed", r.ResourceType, r.ResourceName)
		} else {
			d.Reason = ReasonNoACLDenied
			d.Explain = fmt.Sprintf("no ACL applies to %s %s: denied (allow.everyone.if.no.acl.found is false)", r.ResourceType, r.ResourceName)
		}
		return d
	}
	// DENY first, and only for the operation itself or ALL: an implied operation never denies.
	for _, b := range applicable {
		if b.Permission == Deny && matchesWho(b, r) && (b.Operation == r.Operation || b.Operation == All) {
			d.Reason, d.Binding = ReasonDenied, &b
			d.Explain = "denied by " + b.String() + " (a DENY wins over any ALLOW)"
			return d
		}
	}
	for _, b := range applicable {
		if b.Permission == Allow && matchesWho(b, r) && slices.Contains(allowingOps(r.Operation), b.Operation) {
			d.Allowed, d.Reason, d.Binding = true, ReasonAllowed, &b
			d.Explain = "allowed by " + b.String()
			return d
		}
	}
	d.Reason = ReasonNoAllowMatched
	d.Explain = fmt.Sprintf("%d ACL(s) apply to %s %s but none allows %s %s from host %s: denied",
		len(applicable), r.ResourceType, r.ResourceName, r.Principal, r.Operation, hostOrAny(r.Host))
	return d
}

func hostOrAny(h string) string {
	if h == "" {
		return "*"
	}
	return h
}

// appliesTo reports whether b's pattern covers the resource.
func appliesTo(b Binding, rt, name string) bool {
	if b.ResourceType != rt {
		return false
	}
	switch b.PatternType {
	case Literal:
		return b.ResourceName == name || b.ResourceName == Wildcard
	case Prefixed:
		return strings.HasPrefix(name, b.ResourceName)
	}
	return false
}

// matchesWho reports whether b names r's principal (or every user) and r's host (or any host).
func matchesWho(b Binding, r Request) bool {
	principal := b.Principal == r.Principal || b.Principal == WildcardPrincipal
	return principal && (b.Host == Wildcard || b.Host == r.Host)
}

// allowingOps are the ALLOW operations that grant op: itself, ALL, and those implying it.
func allowingOps(op string) []string {
	switch op {
	case Describe:
		return []string{Describe, Read, Write, Delete, Alter, All}
	case DescribeConfigs:
		return []string{DescribeConfigs, AlterConfigs, All}
	}
	return []string{op, All}
}

// Filter selects bindings for a listing; an empty field matches any.
type Filter struct {
	Principal    string
	ResourceType string
	// ResourceName matches bindings whose pattern names it exactly (not those that would apply to it).
	ResourceName string
	PatternType  string
}

// Match reports whether b passes the filter.
func (f Filter) Match(b Binding) bool {
	return (f.Principal == "" || f.Principal == b.Principal) &&
		(f.ResourceType == "" || f.ResourceType == b.ResourceType) &&
		(f.ResourceName == "" || f.ResourceName == b.ResourceName) &&
		(f.PatternType == "" || f.PatternType == b.PatternType)
}
