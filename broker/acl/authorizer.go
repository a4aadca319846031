package acl

import (
	"fmt"
	"slices"
	"sort"
	"sync"
)

// Config is what the broker's configuration says about authorization.
type Config struct {
	// SuperUsers are principals ("User:admin") allowed everything without
	// an ACL (super.users).
	SuperUsers []string
	// AllowIfNoACL allows an operation on a resource no ACL names at all
	// (allow.everyone.if.no.acl.found); false denies it.
	AllowIfNoACL bool
}

// Rule names what decided an authorization.
type Rule uint8

// Rules, in the order Kafka's authorizer applies them.
const (
	// RuleDefaultDeny: ACLs name the resource but none allows the request.
	RuleDefaultDeny Rule = iota
	// RuleSuperUser: the principal is in super.users.
	RuleSuperUser
	// RuleDenyACL: a DENY ACL matched (it wins over any ALLOW).
	RuleDenyACL
	// RuleAllowACL: an ALLOW ACL matched and no DENY did.
	RuleAllowACL
	// RuleNoACLAllowEveryone: no ACL names the resource and
	// allow.everyone.if.no.acl.found is true.
	RuleNoACLAllowEveryone
	// RuleNoACLDeny: no ACL names the resource and
	// allow.everyone.if.no.acl.found is false.
	RuleNoACLDeny
)

func (r Rule) String() string {
	switch r {
	case RuleSuperUser:
		return "super user"
	case RuleDenyACL:
		return "deny ACL"
	case RuleAllowACL:
		return "allow ACL"
	case RuleNoACLAllowEveryone:
		return "no ACL found, allow.everyone.if.no.acl.found=true"
	case RuleNoACLDeny:
		return "no ACL found"
	}
	return "default deny"
}

// Decision is an authorization answer and why it was given.
type Decision struct {
	Allowed bool
	Rule    Rule
	// ACL is the binding that decided, for RuleAllowACL and RuleDenyACL.
	ACL Binding
}

func (d Decision) String() string {
	verdict := "denied"
	if d.Allowed {
		verdict = "allowed"
	}
	if d.Rule == RuleAllowACL || d.Rule == RuleDenyACL {
		return fmt.Sprintf("%s by %s: %s", verdict, d.Rule, d.ACL)
	}
	return fmt.Sprintf("%s: %s", verdict, d.Rule)
}

// Authorizer answers whether a principal may do an operation on a
// resource. Its ACLs are replaced by the broker as its metadata store
// reports them; decisions run concurrently with those updates.
type Authorizer struct {
	super        map[string]bool // written by New only
	allowIfNoACL bool

	mu    sync.RWMutex // guards index
	index [ResourceDelegationToken + 1]typeIndex
}

// typeIndex holds the ACLs of one resource type by pattern and name. A
// decision looks up the literal name, the literal wildcard, and the name's
// prefixes of the lengths some prefixed ACL has, so it costs a few map
// lookups however many ACLs there are.
type typeIndex struct {
	literal    map[string][]Entry
	prefixed   map[string][]Entry
	prefixLens []int       // distinct lengths of the prefixed names, ascending
	lenCount   map[int]int // prefixed names per length
}

func newTypeIndex() typeIndex {
	return typeIndex{literal: map[string][]Entry{}, prefixed: map[string][]Entry{}, lenCount: map[int]int{}}
}

// New returns an authorizer with no ACLs.
func New(cfg Config) *Authorizer {
	a := &Authorizer{super: map[string]bool{}, allowIfNoACL: cfg.AllowIfNoACL}
	for _, u := range cfg.SuperUsers {
		a.super[u] = true
	}
	for i := range a.index {
		a.index[i] = newTypeIndex()
	}
	return a
}

// IsSuperUser reports whether principal is in super.users.
func (a *Authorizer) IsSuperUser(principal string) bool { return a.super[principal] }

// Authorize decides whether principal, connected from host (an IP
// address in Java's form, JavaHostAddress; see HostMatches), may do op on
// the resource of type rt named name, with Kafka's rules: super users may
// do anything; a matching DENY ACL wins over any ALLOW; an ALLOW ACL for
// the operation, for All, or for an operation that implies it (Read,
// Write, Delete and Alter imply Describe; AlterConfigs implies
// DescribeConfigs) allows; a resource no ACL names at all follows
// allow.everyone.if.no.acl.found; anything else is denied.
func (a *Authorizer) Authorize(principal, host string, op Operation, rt ResourceType, name string) Decision {
	if a.super[principal] {
		return Decision{Allowed: true, Rule: RuleSuperUser}
	}
	if rt < 0 || int(rt) >= len(a.index) {
		return Decision{Rule: RuleDefaultDeny}
	}
	s := scan{principal: principal, host: host, op: op}
	a.mu.RLock()
	ti := &a.index[rt]
	denied := s.visit(Resource{rt, name, PatternLiteral}, ti.literal[name]) ||
		(name != WildcardResource && s.visit(Resource{rt, WildcardResource, PatternLiteral}, ti.literal[WildcardResource]))
	for _, l := range ti.prefixLens {
		if denied || l > len(name) {
			break
		}
		p := name[:l]
		denied = s.visit(Resource{rt, p, PatternPrefixed}, ti.prefixed[p])
	}
	a.mu.RUnlock()
	switch {
	case denied:
		return Decision{Rule: RuleDenyACL, ACL: s.deny}
	case s.allowed:
		return Decision{Allowed: true, Rule: RuleAllowACL, ACL: s.allow}
	case !s.found && a.allowIfNoACL:
		return Decision{Allowed: true, Rule: RuleNoACLAllowEveryone}
	case !s.found:
		return Decision{Rule: RuleNoACLDeny}
	}
	return Decision{Rule: RuleDefaultDeny}
}

// scan is one decision's walk over the ACLs that apply to a resource.
type scan struct {
	principal, host string
	op              Operation

	found       bool // some ACL names the resource, whoever it is for
	allowed     bool
	allow, deny Binding
}

// visit looks at the entries of one resource pattern and reports whether
// one of them denies the request.
func (s *scan) visit(r Resource, es []Entry) bool {
	if len(es) == 0 {
		return false
	}
	s.found = true
	for _, e := range es {
		if (e.Principal != s.principal && e.Principal != WildcardPrincipal) || !HostMatches(e.Host, s.host) {
			continue
		}
		if e.Permission == PermissionDeny {
			if e.Operation == OpAll || e.Operation == s.op {
				s.deny = Binding{r, e}
				return true
			}
			continue
		}
		if !s.allowed && allows(e.Operation, s.op) {
			s.allowed, s.allow = true, Binding{r, e}
		}
	}
	return false
}

// allows reports whether an ALLOW ACL for acl permits op.
func allows(acl, op Operation) bool {
	switch {
	case acl == OpAll || acl == op:
		return true
	case op == OpDescribe:
		return acl == OpRead || acl == OpWrite || acl == OpDelete || acl == OpAlter
	case op == OpDescribeConfigs:
		return acl == OpAlterConfigs
	}
	return false
}

// Add stores bindings (already validated) and returns those that were new.
func (a *Authorizer) Add(bs ...Binding) []Binding {
	a.mu.Lock()
	defer a.mu.Unlock()
	var added []Binding
	for _, b := range bs {
		if a.addLocked(b) {
			added = append(added, b)
		}
	}
	return added
}

// Remove deletes bindings equal to those given and returns those that were
// there.
func (a *Authorizer) Remove(bs ...Binding) []Binding {
	a.mu.Lock()
	defer a.mu.Unlock()
	var removed []Binding
	for _, b := range bs {
		if a.removeLocked(b) {
			removed = append(removed, b)
		}
	}
	return removed
}

// SetResource replaces the entries of one resource pattern (a ZooKeeper
// node's content, re-read after a change notification).
func (a *Authorizer) SetResource(r Resource, es []Entry) {
	if r.Type < 0 || int(r.Type) >= len(a.index) {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	ti := &a.index[r.Type]
	m := ti.mapFor(r.Pattern)
	if m == nil {
		return
	}
	ti.set(r.Pattern, r.Name, slices.Compact(sortedEntries(slices.Clone(es))))
}

// Replace makes bs the whole set of ACLs.
func (a *Authorizer) Replace(bs []Binding) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for i := range a.index {
		a.index[i] = newTypeIndex()
	}
	for _, b := range bs {
		a.addLocked(b)
	}
}

// Bindings returns the ACLs f selects, sorted by resource then entry.
func (a *Authorizer) Bindings(f Filter) []Binding {
	a.mu.RLock()
	var out []Binding
	for rt := range a.index {
		ti := &a.index[rt]
		for _, pt := range []PatternType{PatternLiteral, PatternPrefixed} {
			for name, es := range ti.mapFor(pt) {
				r := Resource{ResourceType(rt), name, pt}
				if !f.matchesResource(r) {
					continue
				}
				for _, e := range es {
					if f.matchesEntry(e) {
						out = append(out, Binding{r, e})
					}
				}
			}
		}
	}
	a.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return Less(out[i], out[j]) })
	return out
}

// Len is the number of ACLs held.
func (a *Authorizer) Len() int {
	a.mu.RLock()
	defer a.mu.RUnlock()
	n := 0
	for i := range a.index {
		for _, es := range a.index[i].literal {
			n += len(es)
		}
		for _, es := range a.index[i].prefixed {
			n += len(es)
		}
	}
	return n
}

// addLocked stores b unless it is there. a.mu held for writing.
func (a *Authorizer) addLocked(b Binding) bool {
	if b.Type < 0 || int(b.Type) >= len(a.index) {
		return false
	}
	ti := &a.index[b.Type]
	m := ti.mapFor(b.Pattern)
	if m == nil || slices.Contains(m[b.Name], b.Entry) {
		return false
	}
	ti.set(b.Pattern, b.Name, sortedEntries(append(slices.Clip(m[b.Name]), b.Entry)))
	return true
}

// removeLocked deletes b if it is there. a.mu held for writing.
func (a *Authorizer) removeLocked(b Binding) bool {
	if b.Type < 0 || int(b.Type) >= len(a.index) {
		return false
	}
	ti := &a.index[b.Type]
	m := ti.mapFor(b.Pattern)
	i := slices.Index(m[b.Name], b.Entry)
	if i < 0 {
		return false
	}
	ti.set(b.Pattern, b.Name, slices.Delete(slices.Clone(m[b.Name]), i, i+1))
	return true
}

func (ti *typeIndex) mapFor(p PatternType) map[string][]Entry {
	switch p {
	case PatternLiteral:
		return ti.literal
	case PatternPrefixed:
		return ti.prefixed
	}
	return nil
}

// set makes es the entries of one pattern and name (none: forget the
// name) and keeps the prefix lengths in step.
func (ti *typeIndex) set(p PatternType, name string, es []Entry) {
	m := ti.mapFor(p)
	_, had := m[name]
	if len(es) == 0 {
		delete(m, name)
	} else {
		m[name] = es
	}
	if p != PatternPrefixed || had == (len(es) > 0) {
		return
	}
	l := len(name)
	if had {
		if ti.lenCount[l]--; ti.lenCount[l] == 0 {
			delete(ti.lenCount, l)
			i, _ := slices.BinarySearch(ti.prefixLens, l)
			ti.prefixLens = slices.Delete(ti.prefixLens, i, i+1)
		}
		return
	}
	if ti.lenCount[l]++; ti.lenCount[l] == 1 {
		i, _ := slices.BinarySearch(ti.prefixLens, l)
		ti.prefixLens = slices.Insert(ti.prefixLens, i, l)
	}
}

func sortedEntries(es []Entry) []Entry {
	sort.Slice(es, func(i, j int) bool { return lessEntry(es[i], es[j]) })
	return es
}

// Less orders bindings by resource type, pattern, name, then entry.
func Less(x, y Binding) bool {
	if x.Type != y.Type {
		return x.Type < y.Type
	}
	if x.Pattern != y.Pattern {
		return x.Pattern < y.Pattern
	}
	if x.Name != y.Name {
		return x.Name < y.Name
	}
	return lessEntry(x.Entry, y.Entry)
}

func lessEntry(x, y Entry) bool {
	if x.Principal != y.Principal {
		return x.Principal < y.Principal
	}
	if x.Host != y.Host {
		return x.Host < y.Host
	}
	if x.Operation != y.Operation {
		return x.Operation < y.Operation
	}
	return x.Permission < y.Permission
}

// AuthorizeAny reports whether principal may do op on at least one
// resource of type rt (Kafka's authorizeByResourceType, which lets an
// idempotent producer with WRITE on some topic get a producer id): a
// super user may; a DENY on the literal wildcard forbids; an ALLOW counts
// unless a DENY on the same or a shorter prefix (or the same literal name)
// shadows it; a type no ACL names follows allow.everyone.if.no.acl.found.
// It scans the type's ACLs, so it is for rare requests only.
func (a *Authorizer) AuthorizeAny(principal, host string, op Operation, rt ResourceType) bool {
	if a.super[principal] {
		return true
	}
	if rt < 0 || int(rt) >= len(a.index) {
		return false
	}
	a.mu.RLock()
	defer a.mu.RUnlock()
	ti := &a.index[rt]
	if len(ti.literal) == 0 && len(ti.prefixed) == 0 {
		return a.allowIfNoACL
	}
	applies := func(e Entry) bool {
		return (e.Principal == principal || e.Principal == WildcardPrincipal) && HostMatches(e.Host, host)
	}
	denies := func(es []Entry) bool {
		return slices.ContainsFunc(es, func(e Entry) bool {
			return applies(e) && e.Permission == PermissionDeny && (e.Operation == OpAll || e.Operation == op)
		})
	}
	allowsHere := func(es []Entry) bool {
		return slices.ContainsFunc(es, func(e Entry) bool {
			return applies(e) && e.Permission == PermissionAllow && allows(e.Operation, op)
		})
	}
	if denies(ti.literal[WildcardResource]) {
		return false
	}
	shadowed := func(name string, literal bool) bool {
		if literal && denies(ti.literal[name]) {
			return true
		}
		for _, l := range ti.prefixLens {
			if l > len(name) {
				break
			}
			if denies(ti.prefixed[name[:l]]) {
				return true
			}
		}
		return false
	}
	for name, es := range ti.literal {
		if allowsHere(es) && !shadowed(name, true) {
			return true
		}
	}
	for name, es := range ti.prefixed {
		if allowsHere(es) && !shadowed(name, false) {
			return true
		}
	}
	return false
}
