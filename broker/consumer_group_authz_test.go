package broker

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// With an authorizer, ConsumerGroupHeartbeat needs READ on the group and
// DESCRIBE on the topics subscribed by name, ConsumerGroupDescribe DESCRIBE
// on the group, as in Kafka.
func TestACLConsumerGroupProtocol(t *testing.T) {
	b := newTestBroker(t, withSecuredListener(t))
	ctx := testCtx(t, 30*time.Second)
	admin := kadm.NewClient(userClient(t, b, "admin"))
	if _, err := admin.CreateTopic(ctx, 2, 1, nil, "orders"); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.CreateTopic(ctx, 1, 1, nil, "secret"); err != nil {
		t.Fatal(err)
	}
	for _, a := range []*kadm.ACLBuilder{
		kadm.NewACLs().Allow("User:alice").Groups("g-alice").Operations(kadm.OpRead, kadm.OpDescribe).ResourcePatternType(kadm.ACLPatternLiteral),
		kadm.NewACLs().Allow("User:alice").Topics("orders").Operations(kadm.OpDescribe, kadm.OpRead).ResourcePatternType(kadm.ACLPatternLiteral),
	} {
		res, err := admin.CreateACLs(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res {
			if r.Err != nil {
				t.Fatalf("create ACL: %v", r.Err)
			}
		}
	}
	alice := &cgClient{t: t, cl: userClient(t, b, "alice"), ctx: ctx}
	// Straight to the broker: the client's FindCoordinator for a group it
	// may not use would fail first.
	direct := alice.cl.Broker(int(b.cfg.BrokerID))
	hb := kmsg.NewPtrConsumerGroupHeartbeatRequest()
	hb.Group, hb.MemberID, hb.RebalanceTimeoutMillis, hb.SubscribedTopicNames = "g-bob", "m1", 30000, []string{"orders"}
	hb.Topics = []kmsg.ConsumerGroupHeartbeatRequestTopic{}
	if r, err := hb.RequestWith(ctx, direct); err != nil || r.ErrorCode != kerr.GroupAuthorizationFailed.Code {
		t.Fatalf("heartbeat to another group: %+v %v", r, err)
	}
	wantCode(t, "a topic not describable", alice.join("g-alice", "m1", nil, "orders", "secret").ErrorCode, kerr.TopicAuthorizationFailed)
	wantCode(t, "allowed", alice.join("g-alice", "m1", nil, "orders").ErrorCode, nil)
	if d := alice.describe("g-alice"); d.ErrorCode != 0 || len(d.Members) != 1 {
		t.Fatalf("describe own group: %+v", d)
	}
	req := kmsg.NewPtrConsumerGroupDescribeRequest()
	req.Groups = []string{"g-bob"}
	resp, err := req.RequestWith(ctx, direct)
	if err != nil || resp.Groups[0].ErrorCode != kerr.GroupAuthorizationFailed.Code {
		t.Fatalf("describe another group: %+v %v", resp, err)
	}
}
