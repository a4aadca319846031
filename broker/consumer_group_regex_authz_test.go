package broker

import (
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// A KIP-848 member subscribing by regex is assigned only the matched
// topics it may DESCRIBE, as Kafka filters resolved regular expressions;
// a super user with the same regex gets them all.
func TestConsumerGroupRegexFilteredByDescribe(t *testing.T) {
	b := newTestBroker(t, withSecuredListener(t))
	ctx := testCtx(t, 30*time.Second)
	adminCl := userClient(t, b, "admin")
	admin := kadm.NewClient(adminCl)
	ids := map[[16]byte]string{}
	for name, parts := range map[string]int32{"re-ok": 2, "re-secret": 1} {
		r, err := admin.CreateTopic(ctx, parts, 1, nil, name)
		if err != nil || r.Err != nil {
			t.Fatalf("create %s: %v %v", name, err, r.Err)
		}
		ids[r.ID] = name
	}
	mustCreateACLs(ctx, t, admin, kadm.NewACLs().Allow("User:alice").Groups("g-re").
		Operations(kadm.OpRead).ResourcePatternType(kadm.ACLPatternLiteral))
	mustCreateACLs(ctx, t, admin, kadm.NewACLs().Allow("User:alice").Topics("re-ok").
		Operations(kadm.OpRead).ResourcePatternType(kadm.ACLPatternLiteral))

	assigned := func(c *cgClient, group string) []string {
		t.Helper()
		req := kmsg.NewPtrConsumerGroupHeartbeatRequest()
		req.Group, req.MemberID, req.RebalanceTimeoutMillis = group, "m-"+group, 30000
		req.SubscribedTopicRegex = kmsg.StringPtr("re-.*")
		req.Topics = []kmsg.ConsumerGroupHeartbeatRequestTopic{}
		resp := c.hb(req)
		wantCode(t, "join "+group, resp.ErrorCode, nil)
		if resp.Assignment == nil {
			t.Fatalf("join %s: no assignment", group)
		}
		var got []string
		for _, at := range resp.Assignment.Topics {
			for range at.Partitions {
				got = append(got, ids[at.TopicID])
			}
		}
		slices.Sort(got)
		return got
	}
	alice := &cgClient{t: t, cl: userClient(t, b, "alice"), ctx: ctx}
	if got := assigned(alice, "g-re"); !slices.Equal(got, []string{"re-ok", "re-ok"}) {
		t.Fatalf("alice's regex member is assigned partitions of %v, want re-ok's two only", got)
	}
	super := &cgClient{t: t, cl: adminCl, ctx: ctx}
	if got := assigned(super, "g-admin"); !slices.Equal(got, []string{"re-ok", "re-ok", "re-secret"}) {
		t.Fatalf("the super user's regex member is assigned %v, want every matched partition", got)
	}
}
