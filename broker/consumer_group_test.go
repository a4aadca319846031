package broker

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/osprey-kafka/osprey/internal/testenv"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// cgClient is a raw-request client for consumer group tests.
type cgClient struct {
	t   *testing.T
	cl  *kgo.Client
	ctx context.Context
}

func newCGClient(t *testing.T, addr string) *cgClient {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ClientID("raw"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return &cgClient{t: t, cl: cl, ctx: testCtx(t, 60*time.Second)}
}

func (c *cgClient) createTopic(name string, partitions int32) [16]byte {
	c.t.Helper()
	resp, err := kadm.NewClient(c.cl).CreateTopic(c.ctx, partitions, 1, nil, name)
	if err != nil || resp.Err != nil {
		c.t.Fatalf("create %s: %v %v", name, err, resp.Err)
	}
	return resp.ID
}

// join sends an epoch-0 heartbeat subscribing to topics.
func (c *cgClient) join(group, member string, instance *string, topics ...string) *kmsg.ConsumerGroupHeartbeatResponse {
	c.t.Helper()
	req := kmsg.NewPtrConsumerGroupHeartbeatRequest()
	req.Group, req.MemberID, req.InstanceID, req.RebalanceTimeoutMillis = group, member, instance, 30000
	req.SubscribedTopicNames = append([]string{}, topics...)
	req.Topics = []kmsg.ConsumerGroupHeartbeatRequestTopic{}
	return c.hb(req)
}

func (c *cgClient) hb(req *kmsg.ConsumerGroupHeartbeatRequest) *kmsg.ConsumerGroupHeartbeatResponse {
	c.t.Helper()
	resp, err := req.RequestWith(c.ctx, c.cl)
	if err != nil {
		c.t.Fatalf("heartbeat: %v", err)
	}
	return resp
}

// beat sends a full heartbeat reporting the response's assignment as owned.
func (c *cgClient) beat(group, member string, epoch int32, owned *kmsg.ConsumerGroupHeartbeatResponseAssignment) *kmsg.ConsumerGroupHeartbeatResponse {
	c.t.Helper()
	req := kmsg.NewPtrConsumerGroupHeartbeatRequest()
	req.Group, req.MemberID, req.MemberEpoch = group, member, epoch
	req.Topics = []kmsg.ConsumerGroupHeartbeatRequestTopic{}
	if owned != nil {
		for _, t := range owned.Topics {
			req.Topics = append(req.Topics, kmsg.ConsumerGroupHeartbeatRequestTopic{TopicID: t.TopicID, Partitions: t.Partitions})
		}
	}
	return c.hb(req)
}

// step heartbeats for the member whose last answer is *last, reporting
// what it was given as owned, and keeps the last assignment when the
// answer carries none.
func (c *cgClient) step(group, member string, last **kmsg.ConsumerGroupHeartbeatResponse) {
	c.t.Helper()
	prev := *last
	r := c.beat(group, member, prev.MemberEpoch, prev.Assignment)
	if r.ErrorCode != 0 {
		c.t.Fatalf("heartbeat of %s: %v", member, kerr.ErrorForCode(r.ErrorCode))
	}
	if r.Assignment == nil {
		r.Assignment = prev.Assignment
	}
	*last = r
}

func (c *cgClient) describe(group string) kmsg.ConsumerGroupDescribeResponseGroup {
	c.t.Helper()
	req := kmsg.NewPtrConsumerGroupDescribeRequest()
	req.Groups = []string{group}
	resp, err := req.RequestWith(c.ctx, c.cl)
	if err != nil || len(resp.Groups) != 1 {
		c.t.Fatalf("describe %s: %v", group, err)
	}
	return resp.Groups[0]
}

func wantCode(t *testing.T, what string, got int16, want *kerr.Error) {
	t.Helper()
	var code int16
	if want != nil {
		code = want.Code
	}
	if got != code {
		t.Fatalf("%s: error %v, want %v", what, kerr.ErrorForCode(got), want)
	}
}

func partitionCount(a *kmsg.ConsumerGroupHeartbeatResponseAssignment) int {
	n := 0
	if a != nil {
		for _, t := range a.Topics {
			n += len(t.Partitions)
		}
	}
	return n
}

// Requests the consumer protocol refuses, with Kafka's error codes.
func TestConsumerGroupHeartbeatErrors(t *testing.T) {
	b := newTestBroker(t, withFastConsumerGroups)
	c := newCGClient(t, b.Addr())
	c.createTopic("t", 4)

	req := kmsg.NewPtrConsumerGroupHeartbeatRequest()
	req.Group, req.MemberID, req.RebalanceTimeoutMillis = "e", "m", 30000
	wantCode(t, "join without a subscription", c.hb(req).ErrorCode, kerr.InvalidRequest)
	req.SubscribedTopicNames = []string{"t"}
	req.ServerAssignor = kmsg.StringPtr("sticky")
	wantCode(t, "unknown assignor", c.hb(req).ErrorCode, kerr.UnsupportedAssignor)
	req.ServerAssignor = nil
	req.SubscribedTopicRegex = kmsg.StringPtr("t(")
	wantCode(t, "bad regex", c.hb(req).ErrorCode, kerr.InvalidRegularExpression)

	wantCode(t, "unknown group, epoch 1", c.beat("nope", "m", 1, nil).ErrorCode, kerr.GroupIDNotFound)
	r := c.join("e", "m1", nil, "t")
	wantCode(t, "join", r.ErrorCode, nil)
	if r.MemberEpoch != 1 || partitionCount(r.Assignment) != 4 {
		t.Fatalf("join: epoch %d, %d partitions; want 1, 4", r.MemberEpoch, partitionCount(r.Assignment))
	}
	wantCode(t, "unknown member", c.beat("e", "m9", 1, nil).ErrorCode, kerr.UnknownMemberID)
	wantCode(t, "epoch from the future", c.beat("e", "m1", 7, r.Assignment).ErrorCode, kerr.FencedMemberEpoch)

	// Static membership: the instance is held while its member is there;
	// after a temporary leave (-2) a new member takes its place, epoch
	// and partitions.
	inst := kmsg.StringPtr("i-1")
	s := c.join("e", "s1", inst, "t")
	wantCode(t, "static join", s.ErrorCode, nil)
	wantCode(t, "instance in use", c.join("e", "s2", inst, "t").ErrorCode, kerr.UnreleasedInstanceID)
	for range 20 { // let both members settle their shares
		c.step("e", "m1", &r)
		c.step("e", "s1", &s)
	}
	if d := c.describe("e"); d.State != "Stable" {
		t.Fatalf("group state %s, want Stable", d.State)
	}
	held := partitionCount(s.Assignment)
	leave := kmsg.NewPtrConsumerGroupHeartbeatRequest()
	leave.Group, leave.MemberID, leave.MemberEpoch, leave.InstanceID = "e", "s1", -2, inst
	if lr := c.hb(leave); lr.ErrorCode != 0 || lr.MemberEpoch != -2 {
		t.Fatalf("static leave: %v epoch %d", kerr.ErrorForCode(lr.ErrorCode), lr.MemberEpoch)
	}
	s2 := c.join("e", "s2", inst, "t")
	wantCode(t, "static rejoin", s2.ErrorCode, nil)
	if partitionCount(s2.Assignment) != held || s2.MemberEpoch != s.MemberEpoch {
		t.Fatalf("static rejoin: %d partitions at epoch %d, want the %d held at %d", partitionCount(s2.Assignment), s2.MemberEpoch, held, s.MemberEpoch)
	}

	// Leaving (-1) frees the member's partitions for the others.
	leave.MemberID, leave.MemberEpoch, leave.InstanceID = "s2", -1, nil
	if lr := c.hb(leave); lr.ErrorCode != 0 || lr.MemberEpoch != -1 {
		t.Fatalf("leave: %v epoch %d", kerr.ErrorForCode(lr.ErrorCode), lr.MemberEpoch)
	}
	c.step("e", "m1", &r)
	c.step("e", "m1", &r)
	if partitionCount(r.Assignment) != 4 {
		t.Fatalf("after the other member left: %d partitions, want 4", partitionCount(r.Assignment))
	}
}

// With group.coordinator.rebalance.protocols=classic the heartbeat answers
// UNSUPPORTED_VERSION and franz-go falls back to the classic protocol.
func TestConsumerProtocolDisabled(t *testing.T) {
	b := newTestBroker(t, func(c *Config) { c.Consumer.Protocols = []string{"classic"} })
	c := newCGClient(t, b.Addr())
	c.createTopic("t", 2)
	wantCode(t, "heartbeat", c.join("g", "m", nil, "t").ErrorCode, kerr.UnsupportedVersion)
	produceFranz(t, b.Addr(), "t", 4)
	o := newOwnership()
	stop := startKIP848Consumer(t, b.Addr(), "g", "c1", o, kgo.ConsumeTopics("t"))
	defer stop()
	waitFor(t, 20*time.Second, "the records consumed", func() bool { return o.missing(map[int32]int64{0: 2, 1: 2}) == 0 })
	lg := kmsg.NewPtrListGroupsRequest()
	resp, err := lg.RequestWith(c.ctx, c.cl)
	if err != nil || len(resp.Groups) != 1 || resp.Groups[0].GroupType != "classic" {
		t.Fatalf("ListGroups: %+v %v", resp, err)
	}
}

// An empty classic group becomes a consumer group on the first heartbeat
// and keeps its offsets; a live classic group cannot; an empty consumer
// group becomes classic again on a JoinGroup.
func TestConsumerGroupClassicConversion(t *testing.T) {
	b := newTestBroker(t, withFastConsumerGroups)
	c := newCGClient(t, b.Addr())
	c.createTopic("t", 2)
	adm := kadm.NewClient(c.cl)
	offs := kadm.Offsets{}
	offs.Add(kadm.Offset{Topic: "t", Partition: 1, At: 5, LeaderEpoch: -1})
	if _, err := adm.CommitOffsets(c.ctx, "conv", offs); err != nil {
		t.Fatal(err)
	}
	r := c.join("conv", "m1", nil, "t")
	wantCode(t, "join over an empty classic group", r.ErrorCode, nil)
	fetched, err := adm.FetchOffsets(c.ctx, "conv")
	if err != nil || fetched["t"][1].At != 5 {
		t.Fatalf("offsets after conversion: %v %v", fetched, err)
	}
	// OffsetCommit v9 with the member's epoch; an older epoch for a
	// partition not held then is stale.
	commit := func(epoch int32) int16 {
		req := kmsg.NewPtrOffsetCommitRequest()
		req.Group, req.MemberID, req.Generation = "conv", "m1", epoch
		req.Topics = []kmsg.OffsetCommitRequestTopic{{Topic: "t", Partitions: []kmsg.OffsetCommitRequestTopicPartition{{Partition: 0, Offset: 3, LeaderEpoch: -1}}}}
		resp, err := req.RequestWith(c.ctx, c.cl)
		if err != nil {
			t.Fatal(err)
		}
		return resp.Topics[0].Partitions[0].ErrorCode
	}
	wantCode(t, "commit at the member epoch", commit(r.MemberEpoch), nil)
	wantCode(t, "commit from the future", commit(r.MemberEpoch+1), kerr.StaleMemberEpoch)
	wantCode(t, "commit before the partition was held", commit(0), kerr.StaleMemberEpoch)
	fetch := kmsg.NewPtrOffsetFetchRequest()
	fg := kmsg.NewOffsetFetchRequestGroup()
	fg.Group, fg.MemberID, fg.MemberEpoch = "conv", kmsg.StringPtr("m1"), r.MemberEpoch+3
	fetch.Groups = []kmsg.OffsetFetchRequestGroup{fg}
	if fr, err := fetch.RequestWith(c.ctx, c.cl); err != nil || fr.Groups[0].ErrorCode != kerr.StaleMemberEpoch.Code {
		t.Fatalf("OffsetFetch with a wrong epoch: %+v %v", fr, err)
	}

	// A live classic group whose assignment is not the consumer protocol's
	// cannot be upgraded online.
	rc := dialRaw(t, b.Addr())
	joinRaw(t, rc, "live-classic", 30*time.Second)
	wantCode(t, "join over a live classic group", c.join("live-classic", "m1", nil, "t").ErrorCode, kerr.GroupIDNotFound)

	// Leave: the consumer group is empty, and a classic member turns it
	// back into a classic group with its offsets.
	leave := kmsg.NewPtrConsumerGroupHeartbeatRequest()
	leave.Group, leave.MemberID, leave.MemberEpoch = "conv", "m1", -1
	wantCode(t, "leave", c.hb(leave).ErrorCode, nil)
	if d := c.describe("conv"); d.State != "Empty" {
		t.Fatalf("after leave: %s, want Empty", d.State)
	}
	joinRaw(t, rc, "conv", 30*time.Second)
	if d := c.describe("conv"); d.ErrorCode != kerr.GroupIDNotFound.Code {
		t.Fatalf("ConsumerGroupDescribe of the classic group again: %v", kerr.ErrorForCode(d.ErrorCode))
	}
	if fetched, err = adm.FetchOffsets(c.ctx, "conv"); err != nil || fetched["t"][0].At != 3 || fetched["t"][1].At != 5 {
		t.Fatalf("offsets after the way back: %v %v", fetched, err)
	}
}

// A consumer group's state survives a restart: it is rebuilt from its
// records in __consumer_offsets.
func TestConsumerGroupDurable(t *testing.T) {
	dir := t.TempDir()
	b1 := startTestBroker(t, testConfig(withDir(dir), withFastConsumerGroups))
	c := newCGClient(t, b1.Addr())
	c.createTopic("t", 4)
	r1 := c.join("d", "m1", nil, "t")
	r2 := c.join("d", "m2", kmsg.StringPtr("inst"), "t")
	for range 10 {
		c.step("d", "m1", &r1)
		c.step("d", "m2", &r2)
	}
	before := c.describe("d")
	if before.State != "Stable" {
		t.Fatalf("before restart: %s", before.State)
	}
	c.cl.Close()
	if err := b1.Close(); err != nil {
		t.Fatal(err)
	}
	b2 := startTestBroker(t, testConfig(withDir(dir), withFastConsumerGroups))
	c2 := newCGClient(t, b2.Addr())
	after := c2.describe("d")
	if after.State != before.State || after.Epoch != before.Epoch || after.AssignmentEpoch != before.AssignmentEpoch ||
		len(after.Members) != 2 || after.AssignorName != "uniform" {
		t.Fatalf("after restart: %+v\nbefore: %+v", after, before)
	}
	for i, m := range after.Members {
		bm := before.Members[i]
		if m.MemberID != bm.MemberID || m.MemberEpoch != bm.MemberEpoch || len(m.Assignment.TopicPartitions) != len(bm.Assignment.TopicPartitions) ||
			deref(m.InstanceID) != deref(bm.InstanceID) || m.ClientID != bm.ClientID {
			t.Fatalf("member after restart %+v, before %+v", m, bm)
		}
	}
	// The members carry on where they were.
	wantCode(t, "heartbeat after restart", c2.beat("d", "m1", r1.MemberEpoch, r1.Assignment).ErrorCode, nil)
}

// A consumer group's state moves with its coordinator: killing the broker
// that leads the group's __consumer_offsets partition, the new leader
// replays the records and answers for the group with the same epochs,
// members and assignments, and the members heartbeat on where they were.
func TestClusterConsumerGroupFailover(t *testing.T) {
	c := newTestCluster(t, 3, localConnector(t))
	adm := c.admin()
	ctx := testCtx(t, 2*time.Minute)
	if _, err := adm.CreateTopic(ctx, 4, 3, nil, "ft"); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, 20*time.Second, func() error {
		if _, ok := c.any().cluster.Topic(offsetsTopic); !ok {
			return errors.New("no offsets topic yet")
		}
		return nil
	})
	c.waitFullISR(offsetsTopic, 20*time.Second)
	client := func() *cgClient {
		cl, err := kgo.NewClient(kgo.SeedBrokers(c.addrs()...), kgo.ClientID("raw"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(cl.Close)
		return &cgClient{t: t, cl: cl, ctx: ctx}
	}
	cc := client()
	var r1, r2 *kmsg.ConsumerGroupHeartbeatResponse
	testenv.WaitFor(t, 20*time.Second, func() error {
		r1 = cc.join("fg", "m1", nil, "ft")
		return kerr.ErrorForCode(r1.ErrorCode)
	})
	r2 = cc.join("fg", "m2", nil, "ft")
	for range 10 {
		cc.step("fg", "m1", &r1)
		cc.step("fg", "m2", &r2)
	}
	before := cc.describe("fg")
	if before.State != "Stable" || len(before.Members) != 2 {
		t.Fatalf("before failover: %+v", before)
	}
	part := groupPartition("fg", c.cfgs[0].OffsetsTopicPartitions)
	c.killLeader(offsetsTopic, part)

	cc = client()
	var after kmsg.ConsumerGroupDescribeResponseGroup
	testenv.WaitFor(t, 30*time.Second, func() error {
		req := kmsg.NewPtrConsumerGroupDescribeRequest()
		req.Groups = []string{"fg"}
		resp, err := req.RequestWith(ctx, cc.cl)
		if err != nil {
			return err
		}
		after = resp.Groups[0]
		return kerr.ErrorForCode(after.ErrorCode)
	})
	if after.State != "Stable" || after.Epoch != before.Epoch || after.AssignmentEpoch != before.AssignmentEpoch || len(after.Members) != 2 {
		t.Fatalf("after failover: %+v\nbefore: %+v", after, before)
	}
	for i, m := range after.Members {
		if bm := before.Members[i]; m.MemberID != bm.MemberID || m.MemberEpoch != bm.MemberEpoch ||
			fmt.Sprint(m.Assignment.TopicPartitions) != fmt.Sprint(bm.Assignment.TopicPartitions) {
			t.Fatalf("member after failover %+v, before %+v", m, bm)
		}
	}
	cc.step("fg", "m1", &r1)
	cc.step("fg", "m2", &r2)
}

// DeleteGroups refuses a consumer group with members (NON_EMPTY_GROUP) and
// deletes an empty one with its records, so it does not come back after a
// restart; OffsetDelete refuses the topics its members subscribe to.
func TestConsumerGroupDelete(t *testing.T) {
	dir := t.TempDir()
	b1 := startTestBroker(t, testConfig(withDir(dir), withFastConsumerGroups))
	c := newCGClient(t, b1.Addr())
	c.createTopic("t", 2)
	wantCode(t, "join", c.join("del", "m1", nil, "t").ErrorCode, nil)
	adm := kadm.NewClient(c.cl)
	commit := kmsg.NewPtrOffsetCommitRequest()
	commit.Group, commit.MemberID, commit.Generation = "del", "m1", 1
	commit.Topics = []kmsg.OffsetCommitRequestTopic{
		{Topic: "t", Partitions: []kmsg.OffsetCommitRequestTopicPartition{{Partition: 0, Offset: 2, LeaderEpoch: -1}}},
	}
	if r, err := commit.RequestWith(c.ctx, c.cl); err != nil || r.Topics[0].Partitions[0].ErrorCode != 0 {
		t.Fatalf("commit: %+v %v", r, err)
	}
	od, err := adm.DeleteOffsets(c.ctx, "del", kadm.TopicsSet{"t": {0: {}}})
	if err != nil || !errors.Is(od["t"][0], kerr.GroupSubscribedToTopic) {
		t.Fatalf("deleting a subscribed topic's offset: %v %v", od, err)
	}
	res, err := adm.DeleteGroups(c.ctx, "del")
	if err != nil || !errors.Is(res["del"].Err, kerr.NonEmptyGroup) {
		t.Fatalf("deleting a group with members: %+v %v", res, err)
	}
	leave := kmsg.NewPtrConsumerGroupHeartbeatRequest()
	leave.Group, leave.MemberID, leave.MemberEpoch = "del", "m1", -1
	wantCode(t, "leave", c.hb(leave).ErrorCode, nil)
	if res, err = adm.DeleteGroups(c.ctx, "del"); err != nil || res["del"].Err != nil {
		t.Fatalf("deleting the empty group: %+v %v", res, err)
	}
	c.cl.Close()
	if err := b1.Close(); err != nil {
		t.Fatal(err)
	}
	b2 := startTestBroker(t, testConfig(withDir(dir), withFastConsumerGroups))
	c2 := newCGClient(t, b2.Addr())
	if d := c2.describe("del"); d.ErrorCode != kerr.GroupIDNotFound.Code {
		t.Fatalf("deleted group after restart: %+v", d)
	}
}
