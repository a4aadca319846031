// Package acl is the broker's authorizer: ACL bindings with Kafka's
// resource types, pattern types, operations and permissions (numbered as on
// the wire), Kafka's authorization semantics (super users, DENY before
// ALLOW, implied operations, wildcard principal, host and resource,
// prefixed patterns, allow.everyone.if.no.acl.found) over an index that
// keeps a decision cheap with many ACLs, and the filters DescribeAcls and
// DeleteAcls select bindings with. It does no I/O: the broker feeds it the
// bindings its metadata store holds.
package acl

import (
	"fmt"
	"strings"
)

// ResourceType is what an ACL protects; the values are Kafka's wire codes.
type ResourceType int8

// Resource types. Unknown and Any appear only in filters.
const (
	ResourceUnknown         ResourceType = 0
	ResourceAny             ResourceType = 1
	ResourceTopic           ResourceType = 2
	ResourceGroup           ResourceType = 3
	ResourceCluster         ResourceType = 4
	ResourceTransactionalID ResourceType = 5
	ResourceDelegationToken ResourceType = 6
)

// PatternType says how an ACL's resource name matches resource names.
type PatternType int8

// Pattern types. Literal and Prefixed are the patterns of stored ACLs;
// Any and Match appear only in filters.
const (
	PatternUnknown  PatternType = 0
	PatternAny      PatternType = 1
	PatternMatch    PatternType = 2
	PatternLiteral  PatternType = 3
	PatternPrefixed PatternType = 4
)

// Operation is what a principal does to a resource.
type Operation int8

// Operations, with Kafka's wire codes.
const (
	OpUnknown         Operation = 0
	OpAny             Operation = 1
	OpAll             Operation = 2
	OpRead            Operation = 3
	OpWrite           Operation = 4
	OpCreate          Operation = 5
	OpDelete          Operation = 6
	OpAlter           Operation = 7
	OpDescribe        Operation = 8
	OpClusterAction   Operation = 9
	OpDescribeConfigs Operation = 10
	OpAlterConfigs    Operation = 11
	OpIdempotentWrite Operation = 12
	OpCreateTokens    Operation = 13
	OpDescribeTokens  Operation = 14
)

// Permission is an ACL's verdict.
type Permission int8

// Permissions. Any appears only in filters.
const (
	PermissionUnknown Permission = 0
	PermissionAny     Permission = 1
	PermissionDeny    Permission = 2
	PermissionAllow   Permission = 3
)

// Wildcards: a literal resource named "*" covers every resource of its
// type, "User:*" every principal, "*" every host.
const (
	WildcardResource  = "*"
	WildcardPrincipal = "User:*"
	WildcardHost      = "*"
	// ClusterName is the only name of the Cluster resource.
	ClusterName = "kafka-cluster"
)

// Names as Kafka writes them in ZooKeeper and shows them to people
// (SecurityUtils.resourceTypeName / operationName / permissionTypeName).
var (
	resourceNames = map[ResourceType]string{
		ResourceUnknown: "Unknown", ResourceAny: "Any", ResourceTopic: "Topic", ResourceGroup: "Group",
		ResourceCluster: "Cluster", ResourceTransactionalID: "TransactionalId", ResourceDelegationToken: "DelegationToken",
	}
	patternNames = map[PatternType]string{
		PatternUnknown: "UNKNOWN", PatternAny: "ANY", PatternMatch: "MATCH", PatternLiteral: "LITERAL", PatternPrefixed: "PREFIXED",
	}
	operationNames = map[Operation]string{
		OpUnknown: "Unknown", OpAny: "Any", OpAll: "All", OpRead: "Read", OpWrite: "Write", OpCreate: "Create",
		OpDelete: "Delete", OpAlter: "Alter", OpDescribe: "Describe", OpClusterAction: "ClusterAction",
		OpDescribeConfigs: "DescribeConfigs", OpAlterConfigs: "AlterConfigs", OpIdempotentWrite: "IdempotentWrite",
		OpCreateTokens: "CreateTokens", OpDescribeTokens: "DescribeTokens",
	}
	permissionNames = map[Permission]string{
		PermissionUnknown: "Unknown", PermissionAny: "Any", PermissionDeny: "Deny", PermissionAllow: "Allow",
	}
)

func (t ResourceType) String() string { return nameOr(resourceNames, t) }
func (p PatternType) String() string  { return nameOr(patternNames, p) }
func (o Operation) String() string    { return nameOr(operationNames, o) }
func (p Permission) String() string   { return nameOr(permissionNames, p) }

func nameOr[K ~int8](m map[K]string, k K) string {
	if s, ok := m[k]; ok {
		return s
	}
	return fmt.Sprintf("Unknown(%d)", int8(k))
}

// parseName finds k whose name equals s, ignoring case and underscores, so
// "DescribeConfigs", "DESCRIBE_CONFIGS" and "describeconfigs" all parse.
func parseName[K ~int8](m map[K]string, s string) (K, bool) {
	norm := strings.ToLower(strings.ReplaceAll(s, "_", ""))
	for k, n := range m {
		if strings.ToLower(n) == norm {
			return k, true
		}
	}
	return 0, false
}

// ParseResourceType parses "Topic", "TOPIC", "TransactionalId", "TRANSACTIONAL_ID".
func ParseResourceType(s string) (ResourceType, bool) { return parseName(resourceNames, s) }

// ParsePatternType parses "LITERAL", "prefixed", ...
func ParsePatternType(s string) (PatternType, bool) { return parseName(patternNames, s) }

// ParseOperation parses "Read", "DESCRIBE_CONFIGS", ...
func ParseOperation(s string) (Operation, bool) { return parseName(operationNames, s) }

// ParsePermission parses "Allow", "DENY", ...
func ParsePermission(s string) (Permission, bool) { return parseName(permissionNames, s) }

// Resource is an ACL's resource pattern.
type Resource struct {
	Type    ResourceType
	Name    string
	Pattern PatternType
}

// Entry is an ACL's access control entry: who, from where, doing what, and
// whether that is allowed or denied.
type Entry struct {
	Principal  string // "User:alice", or WildcardPrincipal
	Host       string // an IP address, or WildcardHost
	Operation  Operation
	Permission Permission
}

// Binding is one ACL: an entry on a resource pattern.
type Binding struct {
	Resource
	Entry
}

func (b Binding) String() string {
	return fmt.Sprintf("%s %s %s from %s on %s %s %q", b.Principal, b.Permission, b.Operation, b.Host,
		b.Pattern, b.Type, b.Name)
}

// Validate reports why b cannot be stored, or nil: the checks Kafka makes
// before creating an ACL (its answer is INVALID_REQUEST with this text).
func (b Binding) Validate() error {
	switch {
	case b.Type < ResourceTopic || b.Type > ResourceDelegationToken:
		return fmt.Errorf("invalid resource type %s: an ACL needs Topic, Group, Cluster, TransactionalId or DelegationToken", b.Type)
	case b.Pattern != PatternLiteral && b.Pattern != PatternPrefixed:
		return fmt.Errorf("invalid pattern type %s: an ACL is LITERAL or PREFIXED", b.Pattern)
	case b.Name == "":
		return fmt.Errorf("resource name must not be empty")
	case b.Type == ResourceCluster && b.Name != ClusterName:
		return fmt.Errorf("the only valid name for the Cluster resource is %s", ClusterName)
	case b.Operation < OpAll || b.Operation > OpDescribeTokens:
		return fmt.Errorf("invalid operation %s", b.Operation)
	case b.Permission != PermissionAllow && b.Permission != PermissionDeny:
		return fmt.Errorf("invalid permission %s: an ACL is Allow or Deny", b.Permission)
	case b.Host == "":
		return fmt.Errorf("host must not be empty (use * for any host)")
	}
	if i := strings.IndexByte(b.Principal, ':'); i <= 0 || i == len(b.Principal)-1 {
		return fmt.Errorf("principal %q is not of the form Type:name (e.g. User:alice)", b.Principal)
	}
	return nil
}
