package aclcheck

import "testing"

func allow(principal, host, op, rt, name, pattern string) Binding {
	return Binding{Principal: principal, Host: host, Operation: op, Permission: Allow, ResourceType: rt, ResourceName: name, PatternType: pattern}
}

func deny(principal, host, op, rt, name, pattern string) Binding {
	b := allow(principal, host, op, rt, name, pattern)
	b.Permission = Deny
	return b
}

func TestCheck(t *testing.T) {
	readOrders := allow("User:alice", "*", Read, Topic, "orders", Literal)
	prefixWrite := allow("User:bob", "*", Write, Topic, "pay-", Prefixed)
	denyAliceHost := deny("User:alice", "10.0.0.9", Read, Topic, "orders", Literal)
	everyoneDescribe := allow(WildcardPrincipal, "*", Describe, Topic, "*", Literal)
	denyAll := deny("User:mallory", "*", All, Topic, "*", Literal)
	alterCfg := allow("User:ops", "*", AlterConfigs, Cluster, ClusterName, Literal)
	allGroup := allow("User:carol", "*", All, Group, "g-", Prefixed)
	hostOnly := allow("User:dave", "10.0.0.1", Write, Topic, "orders", Literal)

	acls := []Binding{readOrders, prefixWrite, denyAliceHost, alterCfg, allGroup, hostOnly}
	cases := []struct {
		name     string
		acls     []Binding
		settings Settings
		req      Request
		allowed  bool
		reason   string
		by       *Binding
	}{
		{"literal allow", acls, Settings{}, Request{"User:alice", "10.0.0.1", Read, Topic, "orders"}, true, ReasonAllowed, &readOrders},
		{"deny on host wins over allow", acls, Settings{}, Request{"User:alice", "10.0.0.9", Read, Topic, "orders"}, false, ReasonDenied, &denyAliceHost},
		{"no allow for the operation", acls, Settings{}, Request{"User:alice", "10.0.0.1", Write, Topic, "orders"}, false, ReasonNoAllowMatched, nil},
		{"READ implies DESCRIBE", acls, Settings{}, Request{"User:alice", "10.0.0.1", Describe, Topic, "orders"}, true, ReasonAllowed, &readOrders},
		{"prefixed applies to a longer name", acls, Settings{}, Request{"User:bob", "1.2.3.4", Write, Topic, "pay-eu"}, true, ReasonAllowed, &prefixWrite},
		{"WRITE implies DESCRIBE through a prefix", acls, Settings{}, Request{"User:bob", "1.2.3.4", Describe, Topic, "pay-eu"}, true, ReasonAllowed, &prefixWrite},
		{"prefix does not match a shorter name", acls, Settings{AllowEveryoneIfNoACL: false}, Request{"User:bob", "1.2.3.4", Write, Topic, "pay"}, false, ReasonNoACLDenied, nil},
		{"no ACL: allow.everyone=true allows", acls, Settings{AllowEveryoneIfNoACL: true}, Request{"User:zed", "1.2.3.4", Read, Topic, "other"}, true, ReasonNoACLAllowed, nil},
		{"no ACL: allow.everyone=false denies", acls, Settings{}, Request{"User:zed", "1.2.3.4", Read, Topic, "other"}, false, ReasonNoACLDenied, nil},
		{"ACLs for others on the resource: allow.everyone does not apply", acls, Settings{AllowEveryoneIfNoACL: true}, Request{"User:zed", "1.2.3.4", Read, Topic, "orders"}, false, ReasonNoAllowMatched, nil},
		{"super user", acls, Settings{SuperUsers: []string{"User:admin"}}, Request{"User:admin", "", Alter, Cluster, ClusterName}, true, ReasonSuperUser, nil},
		{"ALTER_CONFIGS implies DESCRIBE_CONFIGS", acls, Settings{}, Request{"User:ops", "", DescribeConfigs, Cluster, ClusterName}, true, ReasonAllowed, &alterCfg},
		{"ALTER_CONFIGS does not imply ALTER", acls, Settings{}, Request{"User:ops", "", Alter, Cluster, ClusterName}, false, ReasonNoAllowMatched, nil},
		{"ALL allows any operation", acls, Settings{}, Request{"User:carol", "", Delete, Group, "g-1"}, true, ReasonAllowed, &allGroup},
		{"host-specific allow from the host", acls, Settings{}, Request{"User:dave", "10.0.0.1", Write, Topic, "orders"}, true, ReasonAllowed, &hostOnly},
		{"host-specific allow from another host", acls, Settings{}, Request{"User:dave", "10.0.0.2", Write, Topic, "orders"}, false, ReasonNoAllowMatched, nil},
		{"host-specific allow with no host given", acls, Settings{}, Request{"User:dave", "", Write, Topic, "orders"}, false, ReasonNoAllowMatched, nil},
		{"wildcard principal and resource", []Binding{everyoneDescribe}, Settings{}, Request{"User:anyone", "h", Describe, Topic, "x"}, true, ReasonAllowed, &everyoneDescribe},
		{"wildcard DESCRIBE does not grant READ", []Binding{everyoneDescribe}, Settings{}, Request{"User:anyone", "h", Read, Topic, "x"}, false, ReasonNoAllowMatched, nil},
		{"deny ALL beats wildcard allow", []Binding{everyoneDescribe, denyAll}, Settings{}, Request{"User:mallory", "h", Describe, Topic, "x"}, false, ReasonDenied, &denyAll},
		{"DENY READ does not deny DESCRIBE (implication only allows)", []Binding{deny("User:a", "*", Read, Topic, "t", Literal), allow("User:a", "*", Describe, Topic, "t", Literal)}, Settings{},
			Request{"User:a", "h", Describe, Topic, "t"}, true, ReasonAllowed, nil},
		{"other resource type does not apply", []Binding{allow("User:a", "*", Read, Group, "t", Literal)}, Settings{}, Request{"User:a", "h", Read, Topic, "t"}, false, ReasonNoACLDenied, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := Check(tc.acls, tc.settings, tc.req)
			if d.Allowed != tc.allowed || d.Reason != tc.reason {
				t.Fatalf("Check = allowed %v reason %s (%s), want %v %s", d.Allowed, d.Reason, d.Explain, tc.allowed, tc.reason)
			}
			if tc.by != nil && (d.Binding == nil || *d.Binding != *tc.by) {
				t.Fatalf("decided by %+v, want %+v", d.Binding, *tc.by)
			}
			if d.Explain == "" {
				t.Fatal("no explanation")
			}
		})
	}
}

func TestValidate(t *testing.T) {
	ok := allow("User:alice", "*", Read, Topic, "orders", Literal)
	cases := []struct {
		name string
		mod  func(b *Binding)
		code string
	}{
		{"valid", func(*Binding) {}, ""},
		{"empty principal", func(b *Binding) { b.Principal = "" }, "acl_principal_empty"},
		{"principal without type", func(b *Binding) { b.Principal = "alice" }, "acl_principal_invalid"},
		{"principal without name", func(b *Binding) { b.Principal = "User:" }, "acl_principal_invalid"},
		{"unknown operation", func(b *Binding) { b.Operation = "FLY" }, "acl_operation_invalid"},
		{"operation not for the type", func(b *Binding) { b.ResourceType, b.Operation = Group, Write }, "acl_operation_invalid"},
		{"ANY is a filter, not an operation", func(b *Binding) { b.Operation = "ANY" }, "acl_operation_invalid"},
		{"unknown resource type", func(b *Binding) { b.ResourceType = "TABLE" }, "acl_resource_type_invalid"},
		{"empty resource", func(b *Binding) { b.ResourceName = "" }, "acl_resource_name_empty"},
		{"cluster name", func(b *Binding) { b.ResourceType, b.Operation, b.ResourceName = Cluster, Alter, "c1" }, "acl_resource_name_invalid"},
		{"prefixed wildcard", func(b *Binding) { b.PatternType, b.ResourceName = Prefixed, "*" }, "acl_resource_name_invalid"},
		{"bad permission", func(b *Binding) { b.Permission = "MAYBE" }, "acl_permission_invalid"},
		{"bad pattern", func(b *Binding) { b.PatternType = "MATCH" }, "acl_pattern_invalid"},
		{"empty host", func(b *Binding) { b.Host = "" }, "acl_host_empty"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := ok
			tc.mod(&b)
			p := b.Validate()
			switch {
			case tc.code == "" && p != nil:
				t.Fatalf("refused: %v", p)
			case tc.code != "" && (p == nil || p.Code != tc.code):
				t.Fatalf("Validate = %v, want code %s", p, tc.code)
			}
		})
	}
}

func TestFilter(t *testing.T) {
	b := allow("User:alice", "*", Read, Topic, "orders", Literal)
	for _, tc := range []struct {
		f    Filter
		want bool
	}{
		{Filter{}, true},
		{Filter{Principal: "User:alice"}, true},
		{Filter{Principal: "User:bob"}, false},
		{Filter{ResourceType: Group}, false},
		{Filter{ResourceName: "orders", PatternType: Literal}, true},
		{Filter{PatternType: Prefixed}, false},
	} {
		if got := tc.f.Match(b); got != tc.want {
			t.Errorf("%+v.Match = %v, want %v", tc.f, got, tc.want)
		}
	}
}
