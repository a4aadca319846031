package acl

import (
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// Host matching. Kafka's authorizers (AclAuthorizer, StandardAuthorizer)
// compare an ACL's host string with the client address's
// InetAddress.getHostAddress() and nothing else: IPv4 in dotted decimal,
// IPv6 as eight groups of lower-case hex without leading zeros and without
// "::" compression (::1 is "0:0:0:0:0:0:0:1"), a scope as "%zone". So on a
// Java broker an ACL written with the host "::1" never matches a client
// from ::1; only "0:0:0:0:0:0:0:1" does.
//
// Here the broker hands the authorizer the client address in Java's form
// (JavaHostAddress), so every ACL Kafka's tools write matches as it would
// on a Java broker, and HostMatches deliberately accepts more: an ACL host
// that is an IP address in any text form ("::1", "0::0001",
// "0:0:0:0:0:0:0:1") matches the client with that address. Hosts are
// stored as they were written, as Kafka stores them.

// JavaHostAddress is ip as Java's InetAddress.getHostAddress() writes it;
// zone is the IPv6 scope ("" for none). An IPv4-mapped IPv6 address is
// written as IPv4, as Java turns such a peer address into an Inet4Address.
func JavaHostAddress(ip net.IP, zone string) string {
	if v4 := ip.To4(); v4 != nil {
		return v4.String()
	}
	if len(ip) != net.IPv6len {
		return ip.String()
	}
	var b strings.Builder
	for i := 0; i < net.IPv6len; i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(strconv.FormatUint(uint64(ip[i])<<8|uint64(ip[i+1]), 16))
	}
	if zone != "" {
		b.WriteByte('%')
		b.WriteString(zone)
	}
	return b.String()
}

// HostMatches reports whether an ACL's host applies to a client connected
// from clientHost (in Java's form): the wildcard, the same string, or the
// same IPv6 address written another way.
func HostMatches(aclHost, clientHost string) bool {
	if aclHost == clientHost || aclHost == WildcardHost {
		return true
	}
	// Only IPv6 has several common spellings; an IPv4 ACL host either is
	// the dotted string or matches nothing, as in Kafka.
	if !strings.Contains(aclHost, ":") || !strings.Contains(clientHost, ":") {
		return false
	}
	a, err := netip.ParseAddr(aclHost)
	if err != nil {
		return false
	}
	c, err := netip.ParseAddr(clientHost)
	return err == nil && a == c
}
