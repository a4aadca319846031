package acl

import (
	"net"
	"testing"
)

func TestJavaHostAddress(t *testing.T) {
	for _, c := range []struct {
		ip, zone, want string
	}{
		{"::1", "", "0:0:0:0:0:0:0:1"},
		{"127.0.0.1", "", "127.0.0.1"},
		{"::ffff:10.1.2.3", "", "10.1.2.3"},
		{"2001:db8::ff00:42:8329", "", "2001:db8:0:0:0:ff00:42:8329"},
		{"fe80::1", "eth0", "fe80:0:0:0:0:0:0:1%eth0"},
		{"::", "", "0:0:0:0:0:0:0:0"},
	} {
		if got := JavaHostAddress(net.ParseIP(c.ip), c.zone); got != c.want {
			t.Errorf("JavaHostAddress(%s, %q) = %q, want %q", c.ip, c.zone, got, c.want)
		}
	}
}

func TestHostMatches(t *testing.T) {
	for _, c := range []struct {
		acl, client string
		want        bool
	}{
		{"*", "0:0:0:0:0:0:0:1", true},
		{"0:0:0:0:0:0:0:1", "0:0:0:0:0:0:0:1", true},
		{"::1", "0:0:0:0:0:0:0:1", true},
		{"0000::0001", "0:0:0:0:0:0:0:1", true},
		{"::2", "0:0:0:0:0:0:0:1", false},
		{"127.0.0.1", "127.0.0.1", true},
		{"127.0.0.1", "0:0:0:0:0:0:0:1", false},
		// Kafka compares strings: a mapped address is not its IPv4 form.
		{"::ffff:127.0.0.1", "127.0.0.1", false},
		{"fe80::1%eth0", "fe80:0:0:0:0:0:0:1%eth0", true},
		{"fe80::1", "fe80:0:0:0:0:0:0:1%eth0", false},
		{"localhost", "127.0.0.1", false},
	} {
		if got := HostMatches(c.acl, c.client); got != c.want {
			t.Errorf("HostMatches(%q, %q) = %v, want %v", c.acl, c.client, got, c.want)
		}
	}
}

// An ACL for ::1 and one for 0:0:0:0:0:0:0:1 both apply to a client
// connected from ::1; a DENY written either way wins.
func TestAuthorizeIPv6HostForms(t *testing.T) {
	a := New(Config{})
	client := JavaHostAddress(net.ParseIP("::1"), "")
	a.Add(Binding{Resource{ResourceTopic, "t1", PatternLiteral}, Entry{"User:alice", "::1", OpRead, PermissionAllow}},
		Binding{Resource{ResourceTopic, "t2", PatternLiteral}, Entry{"User:alice", "0:0:0:0:0:0:0:1", OpRead, PermissionAllow}},
		Binding{Resource{ResourceTopic, "t2", PatternLiteral}, Entry{"User:alice", "::1", OpWrite, PermissionDeny}},
		Binding{Resource{ResourceTopic, "t2", PatternLiteral}, Entry{"User:alice", "*", OpWrite, PermissionAllow}})
	for _, c := range []struct {
		topic string
		op    Operation
		want  bool
	}{{"t1", OpRead, true}, {"t2", OpRead, true}, {"t2", OpWrite, false}} {
		if d := a.Authorize("User:alice", client, c.op, ResourceTopic, c.topic); d.Allowed != c.want {
			t.Errorf("%s %s from ::1: %v, want allowed=%v", c.op, c.topic, d, c.want)
		}
	}
	if !a.AuthorizeAny("User:alice", client, OpRead, ResourceTopic) {
		t.Error("AuthorizeAny read from ::1: denied")
	}
}
