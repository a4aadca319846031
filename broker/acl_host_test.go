package broker

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// withIPv6Loopback moves the test broker's listeners to [::1].
func withIPv6Loopback(c *Config) {
	for i, l := range c.Listeners {
		c.Listeners[i] = strings.Replace(l, "127.0.0.1", "[::1]", 1)
	}
}

// A client connecting from ::1 is matched by an ACL whose host is Java's
// form of the address (0:0:0:0:0:0:0:1, what Kafka's tools write for a
// client Kafka saw) and by the compressed form (::1); an ACL for another
// host does not apply. The member's client host shows Java's form too.
func TestACLHostMatchesIPv6Client(t *testing.T) {
	b := newTestBroker(t, withSecuredListener(t), withIPv6Loopback)
	if !strings.HasPrefix(b.Addr(), "[::1]:") {
		t.Fatalf("broker listens on %s, want [::1]", b.Addr())
	}
	ctx := testCtx(t, 30*time.Second)
	admin := kadm.NewClient(userClient(t, b, "admin"))
	if _, err := admin.CreateTopics(ctx, 1, 1, nil, "v6-java", "v6-short", "v6-other"); err != nil {
		t.Fatal(err)
	}
	for topic, host := range map[string]string{"v6-java": "0:0:0:0:0:0:0:1", "v6-short": "::1", "v6-other": "127.0.0.1"} {
		mustCreateACLs(ctx, t, admin, kadm.NewACLs().Allow("User:alice").AllowHosts(host).Topics(topic).
			Operations(kadm.OpDescribe).ResourcePatternType(kadm.ACLPatternLiteral))
	}
	// Hosts are stored as written.
	described, err := admin.DescribeACLs(ctx, kadm.NewACLs().Allow("User:alice").AllowHosts().Topics().
		Operations(kadm.OpAny).ResourcePatternType(kadm.ACLPatternAny))
	if err != nil {
		t.Fatal(err)
	}
	var hosts []string
	for _, d := range described {
		for _, a := range d.Described {
			hosts = append(hosts, a.Host)
		}
	}
	slices.Sort(hosts)
	if want := []string{"0:0:0:0:0:0:0:1", "127.0.0.1", "::1"}; !slices.Equal(hosts, want) {
		t.Fatalf("stored hosts %v, want %v", hosts, want)
	}

	alice := kadm.NewClient(userClient(t, b, "alice"))
	md, err := alice.Metadata(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := md.Topics.Names(); !slices.Equal(got, []string{"v6-java", "v6-short"}) {
		t.Fatalf("alice from ::1 sees %v, want v6-java and v6-short", got)
	}

	// A classic group member's client host is InetAddress.toString().
	mustCreateACLs(ctx, t, admin, kadm.NewACLs().Allow("User:alice").Groups("g6").
		Operations(kadm.OpRead).ResourcePatternType(kadm.ACLPatternLiteral))
	direct := userClient(t, b, "alice").Broker(int(b.cfg.BrokerID))
	hb := kmsg.NewPtrConsumerGroupHeartbeatRequest()
	hb.Group, hb.MemberID, hb.RebalanceTimeoutMillis, hb.SubscribedTopicNames = "g6", "m6", 30000, []string{"v6-java"}
	hb.Topics = []kmsg.ConsumerGroupHeartbeatRequestTopic{}
	if r, err := hb.RequestWith(ctx, direct); err != nil || r.ErrorCode != 0 {
		t.Fatalf("heartbeat: %+v %v", r, err)
	}
	dreq := kmsg.NewPtrConsumerGroupDescribeRequest()
	dreq.Groups = []string{"g6"}
	dresp, err := dreq.RequestWith(ctx, direct)
	if err != nil || len(dresp.Groups) != 1 || len(dresp.Groups[0].Members) != 1 {
		t.Fatalf("describe: %+v %v", dresp, err)
	}
	if got := dresp.Groups[0].Members[0].ClientHost; got != "/0:0:0:0:0:0:0:1" {
		t.Fatalf("member client host %q, want /0:0:0:0:0:0:0:1", got)
	}
}
