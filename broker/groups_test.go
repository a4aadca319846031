package broker

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/osprey-kafka/osprey/internal/testenv"
)

// joinRaw runs the KIP-394 join (MEMBER_ID_REQUIRED, then join again) and
// the sync for a single-member group; it returns member id and generation.
func joinRaw(t *testing.T, c *rawClient, group string, session time.Duration) (string, int32) {
	t.Helper()
	jg := kmsg.NewPtrJoinGroupRequest()
	jg.Version = 5
	jg.Group, jg.ProtocolType = group, "consumer"
	jg.SessionTimeoutMillis = int32(session / time.Millisecond)
	jg.RebalanceTimeoutMillis = 2000
	meta := kmsg.NewConsumerMemberMetadata()
	meta.Topics = []string{"t"}
	jg.Protocols = []kmsg.JoinGroupRequestProtocol{{Name: "range", Metadata: meta.AppendTo(nil)}}
	r := c.roundTrip(jg, 1).(*kmsg.JoinGroupResponse)
	if r.ErrorCode != errMemberIDRequired || r.MemberID == "" {
		t.Fatalf("first join: error %d member %q, want MEMBER_ID_REQUIRED with an id", r.ErrorCode, r.MemberID)
	}
	jg.MemberID = r.MemberID
	r = c.roundTrip(jg, 2).(*kmsg.JoinGroupResponse)
	if r.ErrorCode != 0 || r.LeaderID != jg.MemberID || len(r.Members) != 1 || r.Protocol == nil || *r.Protocol != "range" {
		t.Fatalf("second join: %+v", r)
	}
	sg := kmsg.NewPtrSyncGroupRequest()
	sg.Version = 3
	sg.Group, sg.MemberID, sg.Generation = group, jg.MemberID, r.Generation
	sg.GroupAssignment = []kmsg.SyncGroupRequestGroupAssignment{{MemberID: jg.MemberID, MemberAssignment: []byte("assigned")}}
	s := c.roundTrip(sg, 3).(*kmsg.SyncGroupResponse)
	if s.ErrorCode != 0 || string(s.MemberAssignment) != "assigned" {
		t.Fatalf("sync: %+v", s)
	}
	return jg.MemberID, r.Generation
}

func describeState(t *testing.T, c *rawClient, group string) string {
	t.Helper()
	dg := kmsg.NewPtrDescribeGroupsRequest()
	dg.Version = 4
	dg.Groups = []string{group}
	r := c.roundTrip(dg, 50).(*kmsg.DescribeGroupsResponse)
	return r.Groups[0].State
}

func TestGroupSessionTimeoutRemovesSilentMember(t *testing.T) {
	b := newTestBroker(t)
	c := dialRaw(t, b.Addr())
	member, gen := joinRaw(t, c, "silent", 300*time.Millisecond)
	hb := kmsg.NewPtrHeartbeatRequest()
	hb.Version = 3
	hb.Group, hb.MemberID, hb.Generation = "silent", member, gen
	if r := c.roundTrip(hb, 4).(*kmsg.HeartbeatResponse); r.ErrorCode != 0 {
		t.Fatalf("heartbeat: %d", r.ErrorCode)
	}
	hb.Generation = gen + 5
	if r := c.roundTrip(hb, 5).(*kmsg.HeartbeatResponse); r.ErrorCode != errIllegalGeneration {
		t.Fatalf("heartbeat with a wrong generation: %d, want ILLEGAL_GENERATION", r.ErrorCode)
	}
	if s := describeState(t, c, "silent"); s != "Stable" {
		t.Fatalf("state %s, want Stable", s)
	}
	// No more heartbeats: the session expires and the group empties.
	testenv.WaitFor(t, 5*time.Second, func() error {
		if s := describeState(t, c, "silent"); s != "Empty" {
			return fmt.Errorf("state %s", s)
		}
		return nil
	})
	hb.Generation = gen
	if r := c.roundTrip(hb, 6).(*kmsg.HeartbeatResponse); r.ErrorCode != errUnknownMemberID {
		t.Fatalf("heartbeat after expiry: %d, want UNKNOWN_MEMBER_ID", r.ErrorCode)
	}
}

// Two franz-go consumers share a topic's partitions; when one leaves the
// other takes over every partition and continues from the committed offsets.
func TestGroupRebalanceBetweenFranzGoConsumers(t *testing.T) {
	b := newTestBroker(t)
	ctx := testCtx(t, 90*time.Second)
	adm, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Close()
	ka := kadm.NewClient(adm)
	if _, err := ka.CreateTopic(ctx, 4, 1, nil, "shared"); err != nil {
		t.Fatal(err)
	}
	produceFranz(t, b.Addr(), "shared", 40)

	newConsumer := func() *kgo.Client {
		c, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()), kgo.ConsumerGroup("pair"), kgo.ConsumeTopics("shared"),
			kgo.FetchMaxWait(100*time.Millisecond), kgo.HeartbeatInterval(100*time.Millisecond),
			kgo.SessionTimeout(3*time.Second), kgo.RebalanceTimeout(3*time.Second), kgo.DisableAutoCommit())
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	c1, c2 := newConsumer(), newConsumer()
	defer c1.Close()
	// Both members must get a share of the four partitions.
	testenv.WaitFor(t, 30*time.Second, func() error {
		pollBriefly(ctx, c1)
		pollBriefly(ctx, c2)
		d, err := ka.DescribeGroups(ctx, "pair")
		if err != nil {
			return err
		}
		g := d["pair"]
		if g.State != "Stable" || len(g.Members) != 2 {
			return fmt.Errorf("state %s with %d members", g.State, len(g.Members))
		}
		for _, m := range g.Members {
			ca, ok := m.Assigned.AsConsumer()
			if !ok || len(ca.Topics) != 1 || len(ca.Topics[0].Partitions) != 2 {
				return fmt.Errorf("member %s assignment %+v", m.MemberID, ca)
			}
		}
		return nil
	})
	// A "simple" commit (no member id) is refused while the group has
	// members; then c2 leaves.
	commits := kadm.Offsets{}
	for p := int32(0); p < 4; p++ {
		commits.Add(kadm.Offset{Topic: "shared", Partition: p, At: 5, LeaderEpoch: -1})
	}
	if r, err := ka.CommitOffsets(ctx, "pair", commits); err == nil && r.Error() == nil {
		t.Fatal("a commit without member id succeeded while the group had members")
	}
	c2.Close()
	testenv.WaitFor(t, 30*time.Second, func() error {
		pollBriefly(ctx, c1)
		d, err := ka.DescribeGroups(ctx, "pair")
		if err != nil {
			return err
		}
		g := d["pair"]
		if g.State != "Stable" || len(g.Members) != 1 {
			return fmt.Errorf("state %s with %d members", g.State, len(g.Members))
		}
		ca, _ := g.Members[0].Assigned.AsConsumer()
		if len(ca.Topics) != 1 || len(ca.Topics[0].Partitions) != 4 {
			return fmt.Errorf("remaining member has %+v", ca)
		}
		return nil
	})
}

// pollBriefly polls once for at most 200ms (it keeps the client's group
// membership moving).
func pollBriefly(ctx context.Context, c *kgo.Client) {
	pctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	c.PollFetches(pctx)
}

func TestEmptyGroupOffsetsExpireAfterRetention(t *testing.T) {
	b := newTestBroker(t, func(c *Config) { c.OffsetsRetention = 300 * time.Millisecond })
	ctx := testCtx(t, 20*time.Second)
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()), kgo.MetadataMinAge(10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	if _, err := adm.CreateTopic(ctx, 1, 1, nil, "exp"); err != nil {
		t.Fatal(err)
	}
	o := kadm.Offsets{}
	o.Add(kadm.Offset{Topic: "exp", Partition: 0, At: 1, LeaderEpoch: -1})
	if r, err := adm.CommitOffsets(ctx, "short-lived", o); err != nil || r.Error() != nil {
		t.Fatalf("commit: %v %v", err, r.Error())
	}
	testenv.WaitFor(t, 10*time.Second, func() error {
		offs, err := adm.FetchOffsets(ctx, "short-lived")
		if err != nil {
			return err
		}
		if _, ok := offs.Lookup("exp", 0); ok {
			return fmt.Errorf("offset still committed")
		}
		return nil
	})
	groups, err := adm.ListGroups(ctx)
	if err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, 5*time.Second, func() error {
		if groups, err = adm.ListGroups(ctx); err != nil || len(groups) != 0 {
			return fmt.Errorf("groups after expiry: %v %v", groups.Groups(), err)
		}
		return nil
	})
}
