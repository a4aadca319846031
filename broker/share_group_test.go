package broker

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func shareHeartbeat(t *testing.T, cl *kgo.Client, group, member string, epoch int32, topics ...string) *kmsg.ShareGroupHeartbeatResponse {
	t.Helper()
	req := kmsg.NewPtrShareGroupHeartbeatRequest()
	req.GroupID, req.MemberID, req.MemberEpoch = group, member, epoch
	if topics != nil {
		req.SubscribedTopicNames = topics
	}
	resp, err := req.RequestWith(testCtx(t, 10*time.Second), cl)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// TestShareGroupHeartbeatErrors: the membership rules as Kafka answers them.
func TestShareGroupHeartbeatErrors(t *testing.T) {
	b := newTestBroker(t, withShareGroups(time.Second, 5))
	addr := b.Addr()
	createTopic(t, []string{addr}, "q", 2, 1)
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	code := func(resp *kmsg.ShareGroupHeartbeatResponse) error { return kerr.ErrorForCode(resp.ErrorCode) }

	if err := code(shareHeartbeat(t, cl, "sg", "m1", 3, "q")); err != kerr.GroupIDNotFound {
		t.Errorf("heartbeat to an unknown group: %v", err)
	}
	if err := code(shareHeartbeat(t, cl, "sg", "m1", 0)); err != kerr.InvalidRequest {
		t.Errorf("join without topics: %v", err)
	}
	j1 := shareHeartbeat(t, cl, "sg", "m1", 0, "q")
	if j1.ErrorCode != 0 || j1.MemberEpoch != 1 || j1.Assignment == nil || len(j1.Assignment.TopicPartitions[0].Partitions) != 2 {
		t.Fatalf("first join: %+v", j1)
	}
	j2 := shareHeartbeat(t, cl, "sg", "m2", 0, "q")
	if j2.MemberEpoch != 2 || len(j2.Assignment.TopicPartitions[0].Partitions) != 1 {
		t.Fatalf("second join: %+v", j2)
	}
	// m1 learns its smaller assignment and the new epoch.
	h1 := shareHeartbeat(t, cl, "sg", "m1", 1)
	if h1.ErrorCode != 0 || h1.MemberEpoch != 2 || h1.Assignment == nil || len(h1.Assignment.TopicPartitions[0].Partitions) != 1 {
		t.Fatalf("m1 after m2 joined: %+v", h1)
	}
	if err := code(shareHeartbeat(t, cl, "sg", "m1", 1)); err != kerr.FencedMemberEpoch {
		t.Errorf("stale epoch: %v", err)
	}
	if err := code(shareHeartbeat(t, cl, "sg", "nobody", 2)); err != kerr.UnknownMemberID {
		t.Errorf("unknown member: %v", err)
	}
	if leave := shareHeartbeat(t, cl, "sg", "m2", -1); leave.ErrorCode != 0 || leave.MemberEpoch != -1 {
		t.Errorf("leave: %+v", leave)
	}

	// A classic group's id is not a share group's.
	commit := kmsg.NewPtrOffsetCommitRequest()
	commit.Group, commit.Generation = "classic", -1
	ct := kmsg.NewOffsetCommitRequestTopic()
	ct.Topic = "q"
	cp := kmsg.NewOffsetCommitRequestTopicPartition()
	ct.Partitions = append(ct.Partitions, cp)
	commit.Topics = append(commit.Topics, ct)
	if _, err := commit.RequestWith(testCtx(t, 10*time.Second), cl); err != nil {
		t.Fatal(err)
	}
	if err := code(shareHeartbeat(t, cl, "classic", "m1", 0, "q")); err != kerr.GroupIDNotFound {
		t.Errorf("join of a classic group's id: %v", err)
	}
}

// TestShareGroupsDisabled: without group.share.enable the share APIs
// answer UNSUPPORTED_VERSION.
func TestShareGroupsDisabled(t *testing.T) {
	b := newTestBroker(t)
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := kerr.ErrorForCode(shareHeartbeat(t, cl, "sg", "m1", 0, "q").ErrorCode); err != kerr.UnsupportedVersion {
		t.Fatalf("heartbeat: %v", err)
	}
}

// TestShareSessionEpochs: ShareFetch and ShareAcknowledge check the share
// session's epoch.
func TestShareSessionEpochs(t *testing.T) {
	b := newTestBroker(t, withShareGroups(time.Second, 5))
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	group, member := "sg", "m1"
	fetch := func(epoch int32) error {
		req := kmsg.NewPtrShareFetchRequest()
		req.GroupID, req.MemberID, req.ShareSessionEpoch, req.MaxRecords = &group, &member, epoch, 10
		resp, err := req.RequestWith(testCtx(t, 10*time.Second), cl)
		if err != nil {
			t.Fatal(err)
		}
		return kerr.ErrorForCode(resp.ErrorCode)
	}
	ack := func(epoch int32) error {
		req := kmsg.NewPtrShareAcknowledgeRequest()
		req.GroupID, req.MemberID, req.ShareSessionEpoch = &group, &member, epoch
		resp, err := req.RequestWith(testCtx(t, 10*time.Second), cl)
		if err != nil {
			t.Fatal(err)
		}
		return kerr.ErrorForCode(resp.ErrorCode)
	}
	if err := fetch(1); err != kerr.ShareSessionNotFound {
		t.Errorf("fetch without a session: %v", err)
	}
	if err := fetch(0); err != nil {
		t.Errorf("opening fetch: %v", err)
	}
	if err := fetch(2); err != kerr.InvalidShareSessionEpoch {
		t.Errorf("skipped epoch: %v", err)
	}
	if err := ack(0); err != kerr.InvalidShareSessionEpoch {
		t.Errorf("ack at epoch 0: %v", err)
	}
	if err := ack(1); err != nil {
		t.Errorf("ack at epoch 1: %v", err)
	}
	if err := fetch(2); err != nil {
		t.Errorf("fetch at epoch 2: %v", err)
	}
	if err := ack(-1); err != nil {
		t.Errorf("closing ack: %v", err)
	}
	if err := fetch(3); err != kerr.ShareSessionNotFound {
		t.Errorf("fetch after close: %v", err)
	}
}
