package acl

import (
	"fmt"
	"testing"
)

func lit(rt ResourceType, name string) Resource { return Resource{rt, name, PatternLiteral} }
func pre(rt ResourceType, name string) Resource { return Resource{rt, name, PatternPrefixed} }
func allow(r Resource, principal, host string, op Operation) Binding {
	return Binding{r, Entry{principal, host, op, PermissionAllow}}
}
func deny(r Resource, principal, host string, op Operation) Binding {
	return Binding{r, Entry{principal, host, op, PermissionDeny}}
}

func TestAuthorize(t *testing.T) {
	const alice, bob = "User:alice", "User:bob"
	const h1, h2 = "10.0.0.1", "10.0.0.2"
	tests := []struct {
		name      string
		acls      []Binding
		cfg       Config
		principal string
		host      string
		op        Operation
		rt        ResourceType
		res       string
		want      bool
		rule      Rule
	}{
		{name: "no acls denies by default", principal: alice, host: h1, op: OpRead, rt: ResourceTopic, res: "t", rule: RuleNoACLDeny},
		{name: "no acls, allow everyone", cfg: Config{AllowIfNoACL: true}, principal: alice, host: h1, op: OpRead, rt: ResourceTopic, res: "t", want: true, rule: RuleNoACLAllowEveryone},
		{name: "acls for another principal: default deny, not no-acl", cfg: Config{AllowIfNoACL: true},
			acls: []Binding{allow(lit(ResourceTopic, "t"), bob, "*", OpRead)}, principal: alice, host: h1, op: OpRead, rt: ResourceTopic, res: "t", rule: RuleDefaultDeny},
		{name: "super user bypasses deny", cfg: Config{SuperUsers: []string{"User:admin"}},
			acls: []Binding{deny(lit(ResourceTopic, "t"), "User:*", "*", OpAll)}, principal: "User:admin", host: h1, op: OpWrite, rt: ResourceTopic, res: "t", want: true, rule: RuleSuperUser},
		{name: "literal allow", acls: []Binding{allow(lit(ResourceTopic, "t"), alice, "*", OpRead)}, principal: alice, host: h1, op: OpRead, rt: ResourceTopic, res: "t", want: true, rule: RuleAllowACL},
		{name: "literal allow other topic", acls: []Binding{allow(lit(ResourceTopic, "t"), alice, "*", OpRead)}, principal: alice, host: h1, op: OpRead, rt: ResourceTopic, res: "u", rule: RuleNoACLDeny},
		{name: "other operation", acls: []Binding{allow(lit(ResourceTopic, "t"), alice, "*", OpRead)}, principal: alice, host: h1, op: OpWrite, rt: ResourceTopic, res: "t", rule: RuleDefaultDeny},
		{name: "other resource type", acls: []Binding{allow(lit(ResourceGroup, "t"), alice, "*", OpRead)}, principal: alice, host: h1, op: OpRead, rt: ResourceTopic, res: "t", rule: RuleNoACLDeny},
		{name: "deny wins over allow", acls: []Binding{allow(lit(ResourceTopic, "t"), alice, "*", OpRead), deny(pre(ResourceTopic, "t"), alice, "*", OpRead)},
			principal: alice, host: h1, op: OpRead, rt: ResourceTopic, res: "t", rule: RuleDenyACL},
		{name: "deny all wins over allow read", acls: []Binding{allow(lit(ResourceTopic, "t"), alice, "*", OpRead), deny(lit(ResourceTopic, "*"), "User:*", h1, OpAll)},
			principal: alice, host: h1, op: OpRead, rt: ResourceTopic, res: "t", rule: RuleDenyACL},
		{name: "deny read does not deny describe", acls: []Binding{allow(lit(ResourceTopic, "t"), alice, "*", OpDescribe), deny(lit(ResourceTopic, "t"), alice, "*", OpRead)},
			principal: alice, host: h1, op: OpDescribe, rt: ResourceTopic, res: "t", want: true, rule: RuleAllowACL},
		{name: "deny from another host does not apply", acls: []Binding{allow(lit(ResourceTopic, "t"), alice, "*", OpRead), deny(lit(ResourceTopic, "t"), alice, h2, OpRead)},
			principal: alice, host: h1, op: OpRead, rt: ResourceTopic, res: "t", want: true, rule: RuleAllowACL},
		{name: "host must match", acls: []Binding{allow(lit(ResourceTopic, "t"), alice, h2, OpRead)}, principal: alice, host: h1, op: OpRead, rt: ResourceTopic, res: "t", rule: RuleDefaultDeny},
		{name: "host matches", acls: []Binding{allow(lit(ResourceTopic, "t"), alice, h1, OpRead)}, principal: alice, host: h1, op: OpRead, rt: ResourceTopic, res: "t", want: true, rule: RuleAllowACL},
		{name: "wildcard principal", acls: []Binding{allow(lit(ResourceTopic, "t"), "User:*", "*", OpWrite)}, principal: bob, host: h1, op: OpWrite, rt: ResourceTopic, res: "t", want: true, rule: RuleAllowACL},
		{name: "wildcard resource", acls: []Binding{allow(lit(ResourceTopic, "*"), alice, "*", OpWrite)}, principal: alice, host: h1, op: OpWrite, rt: ResourceTopic, res: "anything", want: true, rule: RuleAllowACL},
		{name: "prefixed matches", acls: []Binding{allow(pre(ResourceTopic, "orders-"), alice, "*", OpRead)}, principal: alice, host: h1, op: OpRead, rt: ResourceTopic, res: "orders-eu", want: true, rule: RuleAllowACL},
		{name: "prefixed equal name matches", acls: []Binding{allow(pre(ResourceTopic, "orders"), alice, "*", OpRead)}, principal: alice, host: h1, op: OpRead, rt: ResourceTopic, res: "orders", want: true, rule: RuleAllowACL},
		{name: "prefixed longer than name", acls: []Binding{allow(pre(ResourceTopic, "orders-eu-1"), alice, "*", OpRead)}, principal: alice, host: h1, op: OpRead, rt: ResourceTopic, res: "orders-eu", rule: RuleNoACLDeny},
		{name: "prefixed star is not a wildcard", acls: []Binding{allow(pre(ResourceTopic, "*"), alice, "*", OpRead)}, principal: alice, host: h1, op: OpRead, rt: ResourceTopic, res: "t", rule: RuleNoACLDeny},
		{name: "read implies describe", acls: []Binding{allow(lit(ResourceTopic, "t"), alice, "*", OpRead)}, principal: alice, host: h1, op: OpDescribe, rt: ResourceTopic, res: "t", want: true, rule: RuleAllowACL},
		{name: "write implies describe", acls: []Binding{allow(lit(ResourceTopic, "t"), alice, "*", OpWrite)}, principal: alice, host: h1, op: OpDescribe, rt: ResourceTopic, res: "t", want: true, rule: RuleAllowACL},
		{name: "delete implies describe", acls: []Binding{allow(lit(ResourceGroup, "g"), alice, "*", OpDelete)}, principal: alice, host: h1, op: OpDescribe, rt: ResourceGroup, res: "g", want: true, rule: RuleAllowACL},
		{name: "alter implies describe", acls: []Binding{allow(lit(ResourceTopic, "t"), alice, "*", OpAlter)}, principal: alice, host: h1, op: OpDescribe, rt: ResourceTopic, res: "t", want: true, rule: RuleAllowACL},
		{name: "create does not imply describe", acls: []Binding{allow(lit(ResourceTopic, "t"), alice, "*", OpCreate)}, principal: alice, host: h1, op: OpDescribe, rt: ResourceTopic, res: "t", rule: RuleDefaultDeny},
		{name: "describe does not imply read", acls: []Binding{allow(lit(ResourceTopic, "t"), alice, "*", OpDescribe)}, principal: alice, host: h1, op: OpRead, rt: ResourceTopic, res: "t", rule: RuleDefaultDeny},
		{name: "alter configs implies describe configs", acls: []Binding{allow(lit(ResourceTopic, "t"), alice, "*", OpAlterConfigs)}, principal: alice, host: h1, op: OpDescribeConfigs, rt: ResourceTopic, res: "t", want: true, rule: RuleAllowACL},
		{name: "all allows cluster action", acls: []Binding{allow(lit(ResourceCluster, ClusterName), alice, "*", OpAll)}, principal: alice, host: h1, op: OpClusterAction, rt: ResourceCluster, res: ClusterName, want: true, rule: RuleAllowACL},
		{name: "deny on implied op does not deny describe", acls: []Binding{allow(lit(ResourceTopic, "t"), alice, "*", OpAll), deny(lit(ResourceTopic, "t"), alice, "*", OpWrite)},
			principal: alice, host: h1, op: OpDescribe, rt: ResourceTopic, res: "t", want: true, rule: RuleAllowACL},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := New(tc.cfg)
			a.Add(tc.acls...)
			d := a.Authorize(tc.principal, tc.host, tc.op, tc.rt, tc.res)
			if d.Allowed != tc.want || d.Rule != tc.rule {
				t.Fatalf("Authorize = %v (rule %d), want allowed=%v rule %q", d, d.Rule, tc.want, tc.rule)
			}
			if (d.Rule == RuleAllowACL || d.Rule == RuleDenyACL) && !containsBinding(tc.acls, d.ACL) {
				t.Fatalf("decision names %v, not one of the ACLs", d.ACL)
			}
		})
	}
}

func containsBinding(bs []Binding, b Binding) bool {
	for _, x := range bs {
		if x == b {
			return true
		}
	}
	return false
}

func TestDecisionNamesDecidingACL(t *testing.T) {
	a := New(Config{})
	d1 := deny(pre(ResourceTopic, "sec"), "User:*", "*", OpRead)
	a.Add(allow(lit(ResourceTopic, "secret"), "User:alice", "*", OpRead), d1)
	d := a.Authorize("User:alice", "1.2.3.4", OpRead, ResourceTopic, "secret")
	if d.Allowed || d.Rule != RuleDenyACL || d.ACL != d1 {
		t.Fatalf("got %v, want denied by %v", d, d1)
	}
	if got, want := d.String(), `denied by deny ACL: User:* Deny Read from * on PREFIXED Topic "sec"`; got != want {
		t.Fatalf("String = %q, want %q", got, want)
	}
}

func TestAddRemoveSetResource(t *testing.T) {
	a := New(Config{})
	b := allow(pre(ResourceTopic, "ab"), "User:alice", "*", OpRead)
	if got := a.Add(b, b); len(got) != 1 {
		t.Fatalf("Add twice returned %v, want one new binding", got)
	}
	if !a.Authorize("User:alice", "h", OpRead, ResourceTopic, "abc").Allowed {
		t.Fatal("prefixed ACL not applied")
	}
	if got := a.Remove(b); len(got) != 1 || a.Len() != 0 {
		t.Fatalf("Remove returned %v, %d left", got, a.Len())
	}
	if d := a.Authorize("User:alice", "h", OpRead, ResourceTopic, "abc"); d.Rule != RuleNoACLDeny {
		t.Fatalf("after remove: %v", d)
	}
	a.SetResource(pre(ResourceTopic, "a"), []Entry{b.Entry, b.Entry})
	if a.Len() != 1 || !a.Authorize("User:alice", "h", OpRead, ResourceTopic, "abc").Allowed {
		t.Fatalf("SetResource: %d ACLs", a.Len())
	}
	a.SetResource(pre(ResourceTopic, "a"), nil)
	if a.Len() != 0 {
		t.Fatalf("SetResource(nil) left %d", a.Len())
	}
}

func TestFilterMatches(t *testing.T) {
	s := func(v string) *string { return &v }
	litT := allow(lit(ResourceTopic, "orders"), "User:alice", "*", OpRead)
	wild := allow(lit(ResourceTopic, "*"), "User:alice", "*", OpRead)
	preT := allow(pre(ResourceTopic, "ord"), "User:bob", "10.0.0.1", OpWrite)
	grp := deny(lit(ResourceGroup, "orders"), "User:alice", "*", OpRead)
	all := []Binding{litT, wild, preT, grp}
	tests := []struct {
		name string
		f    Filter
		want []Binding
	}{
		{"match all", MatchAll, all},
		{"any pattern with name is exact", Filter{Type: ResourceAny, Name: s("orders"), Pattern: PatternAny, Operation: OpAny, Permission: PermissionAny}, []Binding{litT, grp}},
		{"match pattern finds wildcard and prefixes", Filter{Type: ResourceTopic, Name: s("orders"), Pattern: PatternMatch, Operation: OpAny, Permission: PermissionAny}, []Binding{litT, wild, preT}},
		{"literal pattern is exact", Filter{Type: ResourceTopic, Name: s("orders"), Pattern: PatternLiteral, Operation: OpAny, Permission: PermissionAny}, []Binding{litT}},
		{"prefixed pattern is exact", Filter{Type: ResourceTopic, Name: s("ord"), Pattern: PatternPrefixed, Operation: OpAny, Permission: PermissionAny}, []Binding{preT}},
		{"principal exact", Filter{Type: ResourceAny, Pattern: PatternAny, Principal: s("User:bob"), Operation: OpAny, Permission: PermissionAny}, []Binding{preT}},
		{"host exact", Filter{Type: ResourceAny, Pattern: PatternAny, Host: s("*"), Operation: OpAny, Permission: PermissionAny}, []Binding{litT, wild, grp}},
		{"operation and permission", Filter{Type: ResourceAny, Pattern: PatternAny, Operation: OpRead, Permission: PermissionDeny}, []Binding{grp}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []Binding
			for _, b := range all {
				if tc.f.Matches(b) {
					got = append(got, b)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("got %v\nwant %v", got, tc.want)
			}
			a := New(Config{})
			a.Add(all...)
			if n := len(a.Bindings(tc.f)); n != len(tc.want) {
				t.Fatalf("Bindings selected %d, want %d", n, len(tc.want))
			}
		})
	}
	if err := (Filter{Type: ResourceUnknown, Pattern: PatternAny, Operation: OpAny, Permission: PermissionAny}).Validate(); err == nil {
		t.Fatal("unknown resource type accepted in a filter")
	}
}

func TestBindingValidate(t *testing.T) {
	ok := allow(lit(ResourceTopic, "t"), "User:alice", "*", OpRead)
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := map[string]Binding{
		"any type":      allow(lit(ResourceAny, "t"), "User:alice", "*", OpRead),
		"match pattern": allow(Resource{ResourceTopic, "t", PatternMatch}, "User:alice", "*", OpRead),
		"cluster name":  allow(lit(ResourceCluster, "c"), "User:alice", "*", OpAlter),
		"any op":        allow(lit(ResourceTopic, "t"), "User:alice", "*", OpAny),
		"principal":     allow(lit(ResourceTopic, "t"), "alice", "*", OpRead),
		"empty name":    allow(pre(ResourceTopic, ""), "User:alice", "*", OpRead),
		"any perm":      {lit(ResourceTopic, "t"), Entry{"User:alice", "*", OpRead, PermissionAny}},
	}
	for name, b := range bad {
		if b.Validate() == nil {
			t.Errorf("%s: %v accepted", name, b)
		}
	}
}

// benchACLs fills an authorizer with n ACLs spread over literal and
// prefixed topics, none of which names the topic being produced to except
// one prefixed and one literal rule.
func benchACLs(n int) *Authorizer {
	a := New(Config{})
	bs := make([]Binding, 0, n)
	for i := range n - 2 {
		r := lit(ResourceTopic, fmt.Sprintf("topic-%05d", i))
		if i%4 == 0 {
			r = pre(ResourceTopic, fmt.Sprintf("team-%d-", i))
		}
		bs = append(bs, allow(r, fmt.Sprintf("User:u%d", i%100), "*", OpWrite))
	}
	bs = append(bs, allow(pre(ResourceTopic, "bench"), "User:producer", "*", OpWrite),
		deny(lit(ResourceTopic, "bench-topic"), "User:producer", "10.9.9.9", OpWrite))
	a.Add(bs...)
	return a
}

func BenchmarkAuthorize(b *testing.B) {
	for _, n := range []int{0, 100, 10000} {
		b.Run(fmt.Sprintf("acls=%d", n), func(b *testing.B) {
			a := New(Config{AllowIfNoACL: true})
			if n > 0 {
				a = benchACLs(n)
			}
			b.ReportAllocs()
			for b.Loop() {
				if !a.Authorize("User:producer", "10.0.0.1", OpWrite, ResourceTopic, "bench-topic").Allowed {
					b.Fatal("denied")
				}
			}
		})
	}
}

func TestAuthorizeAny(t *testing.T) {
	const p, h = "User:producer", "10.0.0.1"
	tests := []struct {
		name string
		acls []Binding
		want bool
	}{
		{"write on one topic", []Binding{allow(lit(ResourceTopic, "t"), p, "*", OpWrite)}, true},
		{"write on a prefix", []Binding{allow(pre(ResourceTopic, "app-"), "User:*", "*", OpWrite)}, true},
		{"read only", []Binding{allow(lit(ResourceTopic, "t"), p, "*", OpRead)}, false},
		{"write shadowed by deny", []Binding{allow(lit(ResourceTopic, "t"), p, "*", OpWrite), deny(pre(ResourceTopic, "t"), p, "*", OpWrite)}, false},
		{"denied everywhere", []Binding{allow(lit(ResourceTopic, "t"), p, "*", OpWrite), deny(lit(ResourceTopic, "*"), p, "*", OpAll)}, false},
		{"other principal", []Binding{allow(lit(ResourceTopic, "t"), "User:x", "*", OpWrite)}, false},
	}
	for _, tc := range tests {
		a := New(Config{})
		a.Add(tc.acls...)
		if got := a.AuthorizeAny(p, h, OpWrite, ResourceTopic); got != tc.want {
			t.Errorf("%s: AuthorizeAny = %v, want %v", tc.name, got, tc.want)
		}
	}
	if !New(Config{AllowIfNoACL: true}).AuthorizeAny(p, h, OpWrite, ResourceTopic) {
		t.Error("no ACLs with allow.everyone.if.no.acl.found: refused")
	}
}
