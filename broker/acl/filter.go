package acl

import (
	"fmt"
	"strings"
)

// Filter selects bindings for DescribeAcls and DeleteAcls. Nil strings
// and the Any values match everything; PatternMatch selects the bindings
// that would apply to the named resource (the literal name, the literal
// wildcard and every prefix of it).
type Filter struct {
	Type       ResourceType
	Name       *string
	Pattern    PatternType
	Principal  *string
	Host       *string
	Operation  Operation
	Permission Permission
}

// MatchAll is the filter that selects every binding.
var MatchAll = Filter{Type: ResourceAny, Pattern: PatternAny, Operation: OpAny, Permission: PermissionAny}

// Validate reports a filter Kafka refuses with INVALID_REQUEST: one that
// names an unknown resource type, pattern type, operation or permission.
func (f Filter) Validate() error {
	switch {
	case f.Type == ResourceUnknown || f.Type > ResourceDelegationToken || f.Type < 0:
		return fmt.Errorf("invalid resource type %s in filter", f.Type)
	case f.Pattern == PatternUnknown || f.Pattern > PatternPrefixed || f.Pattern < 0:
		return fmt.Errorf("invalid pattern type %s in filter", f.Pattern)
	case f.Operation == OpUnknown || f.Operation > OpDescribeTokens || f.Operation < 0:
		return fmt.Errorf("invalid operation %s in filter", f.Operation)
	case f.Permission == PermissionUnknown || f.Permission > PermissionAllow || f.Permission < 0:
		return fmt.Errorf("invalid permission %s in filter", f.Permission)
	}
	return nil
}

// Matches reports whether the filter selects b, with Kafka's rules
// (ResourcePatternFilter and AccessControlEntryFilter): the entry fields
// compare exactly, so a filter for User:alice does not select User:*.
func (f Filter) Matches(b Binding) bool {
	return f.matchesResource(b.Resource) && f.matchesEntry(b.Entry)
}

func (f Filter) matchesResource(r Resource) bool {
	if f.Type != ResourceAny && f.Type != r.Type {
		return false
	}
	if f.Pattern != PatternAny && f.Pattern != PatternMatch && f.Pattern != r.Pattern {
		return false
	}
	if f.Name == nil {
		return true
	}
	name := *f.Name
	if f.Pattern == PatternAny || f.Pattern == r.Pattern {
		return name == r.Name
	}
	switch r.Pattern {
	case PatternLiteral:
		return name == r.Name || r.Name == WildcardResource
	case PatternPrefixed:
		return strings.HasPrefix(name, r.Name)
	}
	return false
}

func (f Filter) matchesEntry(e Entry) bool {
	return (f.Principal == nil || *f.Principal == e.Principal) &&
		(f.Host == nil || *f.Host == e.Host) &&
		(f.Operation == OpAny || f.Operation == e.Operation) &&
		(f.Permission == PermissionAny || f.Permission == e.Permission)
}
