package broker

import (
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"
)

// TestShareGroupIDRefusedByOtherAPIs: a share group's id reaching the
// classic, consumer group and offset APIs is answered as Kafka's group
// coordinator answers it, and none of them creates a group of another type
// under that id; a consumer group's id is refused by ShareGroupHeartbeat.
func TestShareGroupIDRefusedByOtherAPIs(t *testing.T) {
	b := newTestBroker(t, withShareGroups(30*time.Second, 5), withFastConsumerGroups)
	addr := b.Addr()
	createTopic(t, []string{addr}, "q", 2, 1)
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	// Kafka 2.3's versions: JoinGroup v5, OffsetCommit v7, DescribeGroups v3.
	old, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.MaxVersions(kversion.V2_3_0()))
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	clients := []*kgo.Client{old, cl}
	ctx := testCtx(t, 30*time.Second)
	if j := shareHeartbeat(t, cl, "sg", "m1", 0, "q"); j.ErrorCode != 0 {
		t.Fatalf("share join: %v", kerr.ErrorForCode(j.ErrorCode))
	}
	want := func(api string, got int16, want *kerr.Error) {
		t.Helper()
		if err := kerr.ErrorForCode(got); err != want {
			t.Errorf("%s with the share group's id: %v, want %v", api, err, want)
		}
	}

	join := kmsg.NewPtrJoinGroupRequest()
	join.Group, join.SessionTimeoutMillis, join.RebalanceTimeoutMillis, join.ProtocolType = "sg", 10000, 10000, "consumer"
	jp := kmsg.NewJoinGroupRequestProtocol()
	jp.Name, jp.Metadata = "range", (&kmsg.ConsumerMemberMetadata{Topics: []string{"q"}}).AppendTo(nil)
	join.Protocols = append(join.Protocols, jp)
	for _, c := range clients {
		jr, err := join.RequestWith(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		want(fmt.Sprint("JoinGroup v", jr.Version), jr.ErrorCode, kerr.InconsistentGroupProtocol)
		if jr.MemberID != "" {
			t.Errorf("JoinGroup v%d answered member id %q", jr.Version, jr.MemberID)
		}
	}

	sync := kmsg.NewPtrSyncGroupRequest()
	sync.Group, sync.MemberID, sync.Generation = "sg", "m1", 1
	sr, err := sync.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	want("SyncGroup", sr.ErrorCode, kerr.UnknownMemberID)

	hb := kmsg.NewPtrHeartbeatRequest()
	hb.Group, hb.MemberID, hb.Generation = "sg", "m1", 1
	hr, err := hb.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	want("Heartbeat", hr.ErrorCode, kerr.UnknownMemberID)

	for _, c := range clients {
		commit := kmsg.NewPtrOffsetCommitRequest()
		commit.Group, commit.Generation = "sg", -1
		ct := kmsg.NewOffsetCommitRequestTopic()
		ct.Topic = "q"
		ct.Partitions = append(ct.Partitions, kmsg.NewOffsetCommitRequestTopicPartition())
		commit.Topics = append(commit.Topics, ct)
		cr, err := commit.RequestWith(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		want(fmt.Sprint("OffsetCommit v", cr.Version), cr.Topics[0].Partitions[0].ErrorCode, kerr.GroupIDNotFound)
	}

	cg := kmsg.NewPtrConsumerGroupHeartbeatRequest()
	cg.Group, cg.MemberID, cg.RebalanceTimeoutMillis = "sg", "c1", 10000
	cg.SubscribedTopicNames, cg.Topics = []string{"q"}, []kmsg.ConsumerGroupHeartbeatRequestTopic{}
	cgr, err := cg.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	want("ConsumerGroupHeartbeat", cgr.ErrorCode, kerr.GroupIDNotFound)

	cgd := kmsg.NewPtrConsumerGroupDescribeRequest()
	cgd.Groups = []string{"sg"}
	cgdr, err := cgd.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	want("ConsumerGroupDescribe", cgdr.Groups[0].ErrorCode, kerr.GroupIDNotFound)

	for _, c := range clients {
		dg := kmsg.NewPtrDescribeGroupsRequest()
		dg.Groups = []string{"sg"}
		dr, err := dg.RequestWith(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		v, d := dr.Version, dr.Groups[0]
		if d.State != "Dead" || len(d.Members) != 0 {
			t.Errorf("DescribeGroups v%d of the share group: state %s, %d members", v, d.State, len(d.Members))
		}
		code := int16(0)
		if v >= 6 {
			code = kerr.GroupIDNotFound.Code
			if d.ErrorMessage == nil || *d.ErrorMessage != "group sg is not a classic group" {
				t.Errorf("DescribeGroups v6 message: %v", d.ErrorMessage)
			}
		}
		if d.ErrorCode != code {
			t.Errorf("DescribeGroups v%d error %v, want %v", v, kerr.ErrorForCode(d.ErrorCode), kerr.ErrorForCode(code))
		}
	}

	// None of the above made a classic or consumer group "sg": the share
	// group still works and ListGroups shows it once, as a share group.
	if h := shareHeartbeat(t, cl, "sg", "m1", 1); h.ErrorCode != 0 {
		t.Errorf("share heartbeat after the refusals: %v", kerr.ErrorForCode(h.ErrorCode))
	}
	lg := kmsg.NewPtrListGroupsRequest()
	lr, err := lg.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, g := range lr.Groups {
		if g.Group == "sg" {
			types = append(types, g.GroupType)
		}
	}
	if len(types) != 1 || types[0] != "share" {
		t.Errorf("ListGroups shows sg as %v", types)
	}

	// The other way round: a consumer group's id is not a share group's.
	cg.Group = "cg"
	if r, err := cg.RequestWith(ctx, cl); err != nil || r.ErrorCode != 0 {
		t.Fatalf("consumer group join: %v %v", err, r)
	}
	want("ShareGroupHeartbeat", shareHeartbeat(t, cl, "cg", "m9", 0, "q").ErrorCode, kerr.GroupIDNotFound)
}
