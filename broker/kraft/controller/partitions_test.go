package controller

import (
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/osprey-kafka/osprey/broker/kraft/image"
	"github.com/osprey-kafka/osprey/broker/kraft/metadata"
)

// alterPartitionReq is an AlterPartition v3 from broker proposing isr for
// partition p of topic at p's epochs.
func alterPartitionReq(broker int32, epoch int64, img image.Image, topic string, p image.Partition, isr []int32) *kmsg.AlterPartitionRequest {
	r := kmsg.NewPtrAlterPartitionRequest()
	r.Version, r.BrokerID, r.BrokerEpoch = 3, broker, epoch
	tp, _ := img.Topic(topic)
	rt := kmsg.NewAlterPartitionRequestTopic()
	rt.TopicID = tp.ID
	rp := kmsg.NewAlterPartitionRequestTopicPartition()
	rp.Partition, rp.LeaderEpoch, rp.PartitionEpoch = p.Index, p.LeaderEpoch, p.PartitionEpoch
	for _, id := range isr {
		m := kmsg.NewAlterPartitionRequestTopicPartitionNewEpochISR()
		m.BrokerID, m.BrokerEpoch = id, -1
		if br, ok := img.Broker(id); ok {
			m.BrokerEpoch = br.Epoch
		}
		rp.NewEpochISR = append(rp.NewEpochISR, m)
	}
	rt.Partitions = append(rt.Partitions, rp)
	r.Topics = append(r.Topics, rt)
	return r
}

func (h *harness) alterISR(broker int32, topic string, idx int32, isr []int32, edit func(*kmsg.AlterPartitionRequest)) kmsg.AlterPartitionResponseTopicPartition {
	h.t.Helper()
	req := alterPartitionReq(broker, h.epoch(broker), h.img, topic, h.partition(topic, idx), isr)
	if edit != nil {
		edit(req)
	}
	resp, _ := h.handle(req)
	ar := resp.(*kmsg.AlterPartitionResponse)
	if ar.ErrorCode != 0 {
		return kmsg.AlterPartitionResponseTopicPartition{ErrorCode: ar.ErrorCode}
	}
	return ar.Topics[0].Partitions[0]
}

func TestAlterPartition(t *testing.T) {
	h := threeBrokers(t, testConfig(), []int32{1, 2, 3})
	// Shrink, then expand.
	sp := h.alterISR(1, "t", 0, []int32{1, 2}, nil)
	p := h.partition("t", 0)
	if sp.ErrorCode != 0 || !slices.Equal(sp.ISR, []int32{1, 2}) || sp.PartitionEpoch != 1 || sp.LeaderEpoch != 0 || p.PartitionEpoch != 1 {
		t.Fatalf("shrink answered %+v, partition %+v", sp, p)
	}
	if sp := h.alterISR(1, "t", 0, []int32{1, 2, 3}, nil); sp.ErrorCode != 0 || len(sp.ISR) != 3 {
		t.Fatalf("expand answered %+v", sp)
	}
	stale := func(edit func(*kmsg.AlterPartitionRequestTopicPartition)) func(*kmsg.AlterPartitionRequest) {
		return func(r *kmsg.AlterPartitionRequest) { edit(&r.Topics[0].Partitions[0]) }
	}
	for _, tc := range []struct {
		name   string
		broker int32
		isr    []int32
		edit   func(*kmsg.AlterPartitionRequest)
		want   *kerr.Error
	}{
		{"old leader epoch", 1, []int32{1}, stale(func(p *kmsg.AlterPartitionRequestTopicPartition) { p.LeaderEpoch-- }), kerr.FencedLeaderEpoch},
		{"old partition epoch", 1, []int32{1}, stale(func(p *kmsg.AlterPartitionRequestTopicPartition) { p.PartitionEpoch-- }), kerr.InvalidUpdateVersion},
		{"newer epoch", 1, []int32{1}, stale(func(p *kmsg.AlterPartitionRequestTopicPartition) { p.PartitionEpoch++ }), kerr.NotController},
		{"not the leader", 2, []int32{2}, nil, kerr.InvalidRequest},
		{"without the leader", 1, []int32{2, 3}, nil, kerr.InvalidRequest},
		{"not a replica", 1, []int32{1, 4}, nil, kerr.InvalidRequest},
		{"epoch mismatch", 1, []int32{1, 2}, stale(func(p *kmsg.AlterPartitionRequestTopicPartition) { p.NewEpochISR[1].BrokerEpoch = 99 }), kerr.IneligibleReplica},
		{"unknown partition", 1, []int32{1}, stale(func(p *kmsg.AlterPartitionRequestTopicPartition) { p.Partition = 7 }), kerr.UnknownTopicOrPartition},
		{"unknown topic id", 1, []int32{1}, func(r *kmsg.AlterPartitionRequest) { r.Topics[0].TopicID = [16]byte{7} }, kerr.UnknownTopicID},
		{"stale broker epoch", 1, []int32{1}, func(r *kmsg.AlterPartitionRequest) { r.BrokerEpoch = 99 }, kerr.StaleBrokerEpoch},
	} {
		if sp := h.alterISR(tc.broker, "t", 0, tc.isr, tc.edit); sp.ErrorCode != tc.want.Code {
			t.Errorf("%s: answered %d, want %s", tc.name, sp.ErrorCode, tc.want.Message)
		}
	}
	// A fenced broker is not eligible; before v2 that is OPERATION_NOT_ATTEMPTED.
	h.expire(3)
	old := func(r *kmsg.AlterPartitionRequest) {
		r.Version = 1
		tp, _ := h.img.Topic("t")
		r.Topics[0].Topic = tp.Name
		r.Topics[0].Partitions[0].NewISR = []int32{1, 2, 3}
	}
	if sp := h.alterISR(1, "t", 0, []int32{1, 2, 3}, old); sp.ErrorCode != kerr.OperationNotAttempted.Code {
		t.Fatalf("fenced member at v1 answered %d", sp.ErrorCode)
	}
	if sp := h.alterISR(1, "t", 0, []int32{1, 2, 3}, nil); sp.ErrorCode != kerr.IneligibleReplica.Code {
		t.Fatalf("fenced member at v3 answered %d", sp.ErrorCode)
	}
}

func reassignReq(topic string, idx int32, replicas []int32) *kmsg.AlterPartitionAssignmentsRequest {
	r := kmsg.NewPtrAlterPartitionAssignmentsRequest()
	rt := kmsg.NewAlterPartitionAssignmentsRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewAlterPartitionAssignmentsRequestTopicPartition()
	rp.Partition, rp.Replicas = idx, replicas
	rt.Partitions = append(rt.Partitions, rp)
	r.Topics = append(r.Topics, rt)
	return r
}

func (h *harness) reassign(topic string, idx int32, replicas []int32) kmsg.AlterPartitionAssignmentsResponseTopicPartition {
	h.t.Helper()
	resp, _ := h.handle(reassignReq(topic, idx, replicas))
	return resp.(*kmsg.AlterPartitionAssignmentsResponse).Topics[0].Partitions[0]
}

func (h *harness) listReassignments() []kmsg.ListPartitionReassignmentsResponseTopic {
	resp, _ := h.handle(kmsg.NewPtrListPartitionReassignmentsRequest())
	return resp.(*kmsg.ListPartitionReassignmentsResponse).Topics
}

func TestReassignmentCompletesWhenTargetsJoinISR(t *testing.T) {
	h := threeBrokers(t, testConfig(), []int32{1, 2})
	if sp := h.reassign("t", 0, []int32{2, 3}); sp.ErrorCode != 0 {
		t.Fatalf("reassign answered %+v", sp)
	}
	p := h.partition("t", 0)
	if !slices.Equal(p.Replicas, []int32{2, 3, 1}) || !slices.Equal(p.AddingReplicas, []int32{3}) ||
		!slices.Equal(p.RemovingReplicas, []int32{1}) || p.Leader != 1 || p.LeaderEpoch != 0 {
		t.Fatalf("reassigning partition %+v", p)
	}
	ls := h.listReassignments()
	if len(ls) != 1 || ls[0].Partitions[0].Partition != 0 || !slices.Equal(ls[0].Partitions[0].AddingReplicas, []int32{3}) {
		t.Fatalf("list answered %+v", ls)
	}
	// Broker 3 catches up: the leader adds it to the ISR, which completes
	// the reassignment and moves the leadership off broker 1.
	sp := h.alterISR(1, "t", 0, []int32{1, 2, 3}, nil)
	if sp.ErrorCode != kerr.NewLeaderElected.Code {
		t.Fatalf("completing AlterPartition answered %+v", sp)
	}
	p = h.partition("t", 0)
	if !slices.Equal(p.Replicas, []int32{2, 3}) || !slices.Equal(p.Isr, []int32{2, 3}) || p.IsReassigning() || p.Leader != 2 {
		t.Fatalf("completed partition %+v", p)
	}
	if ls := h.listReassignments(); len(ls) != 0 {
		t.Fatalf("list after completion %+v", ls)
	}
	// Reordering existing replicas completes at once.
	h.reassign("t", 0, []int32{3, 2})
	if p := h.partition("t", 0); !slices.Equal(p.Replicas, []int32{3, 2}) || p.IsReassigning() {
		t.Fatalf("reordered partition %+v", p)
	}
}

func TestReassignmentCancelAndRefusals(t *testing.T) {
	h := threeBrokers(t, testConfig(), []int32{1, 2})
	if sp := h.reassign("t", 0, nil); sp.ErrorCode != kerr.NoReassignmentInProgress.Code || deref(sp.ErrorMessage) != kerr.NoReassignmentInProgress.Description {
		t.Fatalf("cancel with nothing to cancel: %+v", sp)
	}
	for _, tc := range []struct {
		topic    string
		idx      int32
		replicas []int32
		code     *kerr.Error
		msg      string
	}{
		{"nope", 0, []int32{1}, kerr.UnknownTopicOrPartition, "Unable to find a topic named nope."},
		{"t", 4, []int32{1}, kerr.UnknownTopicOrPartition, "Unable to find partition t:4."},
		{"t", 0, []int32{}, kerr.InvalidReplicaAssignment, "The manual partition assignment includes an empty replica list."},
		{"t", 0, []int32{1, 8}, kerr.InvalidReplicaAssignment, "The manual partition assignment includes broker 8, but no such broker is registered."},
	} {
		if sp := h.reassign(tc.topic, tc.idx, tc.replicas); sp.ErrorCode != tc.code.Code || deref(sp.ErrorMessage) != tc.msg {
			t.Errorf("reassign %s-%d %v: %d %q", tc.topic, tc.idx, tc.replicas, sp.ErrorCode, deref(sp.ErrorMessage))
		}
	}
	h.reassign("t", 0, []int32{3})
	if sp := h.reassign("t", 0, nil); sp.ErrorCode != 0 {
		t.Fatalf("cancel: %+v", sp)
	}
	if p := h.partition("t", 0); !slices.Equal(p.Replicas, []int32{1, 2}) || p.IsReassigning() || p.Leader != 1 {
		t.Fatalf("cancelled partition %+v", p)
	}
}

func electReq(typ int8, topic string, parts ...int32) *kmsg.ElectLeadersRequest {
	r := kmsg.NewPtrElectLeadersRequest()
	r.Version, r.ElectionType = 2, typ
	if topic != "" {
		rt := kmsg.NewElectLeadersRequestTopic()
		rt.Topic, rt.Partitions = topic, parts
		r.Topics = append(r.Topics, rt)
	}
	return r
}

func TestElectLeaders(t *testing.T) {
	h := threeBrokers(t, testConfig(), []int32{1, 2}, []int32{2, 3}, []int32{3, 1})
	// Broker 1 goes away and comes back: t-0 is led by 2, not preferred.
	h.expire(1)
	h.handle(registration(1, 2))
	h.heartbeat(1, false, false)
	if p := h.partition("t", 0); p.Leader != 2 {
		t.Fatalf("t-0 before election %+v", p)
	}
	// Broker 1 is not in t-0's ISR yet: the preferred leader is not available.
	resp, _ := h.handle(electReq(electionPreferred, "t", 0, 1, 9))
	ps := resp.(*kmsg.ElectLeadersResponse).Topics[0].Partitions
	if ps[0].ErrorCode != kerr.PreferredLeaderNotAvailable.Code || ps[1].ErrorCode != kerr.ElectionNotNeeded.Code ||
		ps[2].ErrorCode != kerr.UnknownTopicOrPartition.Code || deref(ps[2].ErrorMessage) != "No such partition as t-9" {
		t.Fatalf("preferred election answered %+v", ps)
	}
	h.alterISR(2, "t", 0, []int32{2, 1}, nil)
	resp, _ = h.handle(electReq(electionPreferred, "t", 0))
	if ps := resp.(*kmsg.ElectLeadersResponse).Topics[0].Partitions; ps[0].ErrorCode != 0 || ps[0].ErrorMessage != nil {
		t.Fatalf("preferred election answered %+v", ps)
	}
	if p := h.partition("t", 0); p.Leader != 1 {
		t.Fatalf("t-0 after preferred election %+v", p)
	}
	// All partitions: only those needing an election are listed.
	resp, _ = h.handle(electReq(electionPreferred, ""))
	if ts := resp.(*kmsg.ElectLeadersResponse).Topics; len(ts) != 1 || len(ts[0].Partitions) != 0 {
		t.Fatalf("election of all partitions answered %+v", ts)
	}
	// Unclean: a partition whose only ISR member is fenced.
	h.partitionTo("t", 1, []int32{2, 3}, []int32{2})
	h.expire(2)
	if p := h.partition("t", 1); p.Leader != image.NoLeader {
		t.Fatalf("t-1 with its ISR fenced %+v", p)
	}
	resp, _ = h.handle(electReq(electionUnclean, "t", 1, 2))
	ps = resp.(*kmsg.ElectLeadersResponse).Topics[0].Partitions
	if ps[0].ErrorCode != 0 || ps[1].ErrorCode != kerr.ElectionNotNeeded.Code {
		t.Fatalf("unclean election answered %+v", ps)
	}
	if p := h.partition("t", 1); p.Leader != 3 || p.LeaderRecoveryState != image.LeaderRecovering {
		t.Fatalf("t-1 after unclean election %+v", p)
	}
	// No live replica at all.
	h.partitionTo("t", 2, []int32{2}, []int32{2})
	h.tick(time.Second)
	resp, _ = h.handle(electReq(electionUnclean, "t", 2))
	if ps := resp.(*kmsg.ElectLeadersResponse).Topics[0].Partitions; ps[0].ErrorCode != kerr.EligibleLeadersNotAvailable.Code {
		t.Fatalf("unclean election without replicas answered %+v", ps)
	}
}

func TestAutoLeaderRebalance(t *testing.T) {
	cfg := testConfig()
	cfg.AutoLeaderRebalance = true
	cfg.LeaderImbalanceCheckInterval = time.Minute
	cfg.ImbalancePercentage = 40
	var assignments [][]int32
	for range 4 {
		assignments = append(assignments, []int32{1, 2})
	}
	h := threeBrokers(t, cfg, assignments...)
	// Broker 1 goes and comes back; its partitions are led by 2.
	h.expire(1)
	h.handle(registration(1, 2))
	h.heartbeat(1, false, false)
	// All four partitions prefer broker 1 and are led by 2 (100 %), but
	// only one has broker 1 back in its ISR: that one moves.
	h.alterISR(2, "t", 0, []int32{2, 1}, nil)
	for range 15 {
		h.heartbeatAll()
		h.tick(5 * time.Second)
	}
	if p := h.partition("t", 0); p.Leader != 1 {
		t.Fatalf("t-0 after rebalance %+v", p)
	}
	if p := h.partition("t", 1); p.Leader != 2 {
		t.Fatalf("t-1 (1 not in ISR) after rebalance %+v", p)
	}
	// The others rejoin the ISR and move back too.
	h.alterISR(2, "t", 1, []int32{2, 1}, nil)
	h.alterISR(2, "t", 2, []int32{2, 1}, nil)
	h.alterISR(2, "t", 3, []int32{2, 1}, nil)
	for range 15 {
		h.heartbeatAll()
		h.tick(5 * time.Second)
	}
	for i := int32(0); i < 4; i++ {
		if p := h.partition("t", i); p.Leader != 1 {
			t.Fatalf("t-%d after rebalance %+v", i, p)
		}
	}
}

func TestRebalanceRespectsPercentage(t *testing.T) {
	cfg := testConfig()
	cfg.AutoLeaderRebalance = true
	cfg.LeaderImbalanceCheckInterval = time.Second
	cfg.ImbalancePercentage = 50
	h := threeBrokers(t, cfg, []int32{1, 2}, []int32{1, 2}, []int32{1, 2}, []int32{1, 2})
	// Move leadership of one partition of four off broker 1 (25 %).
	h.partitionTo("t", 0, []int32{1, 2}, []int32{2})
	h.tick(2 * time.Second)
	if p := h.partition("t", 0); p.Leader != 2 {
		t.Fatalf("t-0 %+v", p)
	}
	h.alterISR(2, "t", 0, []int32{2, 1}, nil)
	for range 3 {
		h.heartbeatAll()
		h.tick(2 * time.Second)
	}
	if p := h.partition("t", 0); p.Leader != 2 {
		t.Fatalf("25%% imbalance under 50%% moved the leader: %+v", p)
	}
	h.c.cfg.ImbalancePercentage = 20
	h.tick(2 * time.Second)
	if p := h.partition("t", 0); p.Leader != 1 {
		t.Fatalf("25%% imbalance over 20%% did not move the leader: %+v", p)
	}
}

func TestTickScanAfterActivate(t *testing.T) {
	h := threeBrokers(t, testConfig(), []int32{1, 2}, []int32{1, 2})
	// A log written by another controller: t-0 leaderless with an active
	// ISR member, t-1 reassigning with its targets already in the ISR.
	tp, _ := h.img.Topic("t")
	leaderless := metadata.NewPartitionChangeRecord()
	leaderless.TopicID, leaderless.PartitionID, leaderless.Leader = tp.ID, 0, image.NoLeader
	reassigning := metadata.NewPartitionChangeRecord()
	reassigning.TopicID, reassigning.PartitionID = tp.ID, 1
	reassigning.Replicas, reassigning.AddingReplicas, reassigning.RemovingReplicas = []int32{2, 1}, []int32{}, []int32{1}
	reassigning.Directories = []metadata.Uuid{defaultDir(h.img, 2), defaultDir(h.img, 1)}
	h.apply([]image.VersionedRecord{{Record: &leaderless, Version: 2}, {Record: &reassigning, Version: 2}})

	h.c = New(testConfig())
	h.c.Activate(h.now, h.img)
	h.tick(100 * time.Millisecond)
	if p := h.partition("t", 0); p.Leader != 1 {
		t.Fatalf("leaderless partition after the first tick: %+v", p)
	}
	if p := h.partition("t", 1); !slices.Equal(p.Replicas, []int32{2}) || p.IsReassigning() || p.Leader != 2 {
		t.Fatalf("reassignment after the first tick: %+v", p)
	}
	// The scan is not repeated on every tick.
	h.partitionTo("t", 0, []int32{1, 2}, []int32{1, 2})
	h.apply([]image.VersionedRecord{{Record: &leaderless, Version: 2}})
	if h.tick(time.Second); h.partition("t", 0).Leader != image.NoLeader {
		t.Fatal("partition scanned again within the scan interval")
	}
	h.heartbeatAll()
	h.tick(5 * time.Second)
	h.heartbeatAll()
	if h.tick(5 * time.Second); h.partition("t", 0).Leader != 1 {
		t.Fatal("partition not scanned after the scan interval")
	}
}

func TestTooLargeElectionRefused(t *testing.T) {
	h := newHarness(t, testConfig(), 0)
	h.register(1)
	h.register(2)
	h.createTopic("a", 6000, 2)
	h.createTopic("b", 6000, 2)
	// Every partition led by its second replica: 12,000 elections needed.
	var recs []image.VersionedRecord
	for _, name := range []string{"a", "b"} {
		tp, _ := h.img.Topic(name)
		for _, p := range tp.Partitions() {
			rec := metadata.NewPartitionChangeRecord()
			rec.TopicID, rec.PartitionID, rec.Leader = tp.ID, p.Index, p.Replicas[1]
			recs = append(recs, image.VersionedRecord{Record: &rec, Version: 2})
		}
	}
	h.apply(recs)
	resp, written := h.handle(electReq(electionPreferred, ""))
	if written != nil {
		t.Fatalf("refused election wrote %d records", len(written))
	}
	for _, tr := range resp.(*kmsg.ElectLeadersResponse).Topics {
		for _, pr := range tr.Partitions {
			if pr.ErrorCode != kerr.PolicyViolation.Code {
				t.Fatalf("partition %s-%d answered %d", tr.Topic, pr.Partition, pr.ErrorCode)
			}
		}
	}
}
