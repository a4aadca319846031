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

func TestRegistrationEpochsAndRecords(t *testing.T) {
	h := newHarness(t, testConfig(), 0)
	resp, recs := h.handle(registration(1, 1))
	rr := resp.(*kmsg.BrokerRegistrationResponse)
	regs := recordsOf[*metadata.RegisterBrokerRecord](recs)
	if rr.ErrorCode != 0 || rr.BrokerEpoch != 1 || len(regs) != 1 || recs[0].Version != 3 {
		t.Fatalf("first registration: %+v, records %+v", rr, recs)
	}
	br, _ := h.img.Broker(1)
	if !br.Fenced || br.Epoch != 1 || len(br.LogDirs) != 1 || br.LogDirs[0] != metadata.Uuid(dirOf(1)) {
		t.Fatalf("registered broker %+v", br)
	}

	// The same incarnation again: same epoch, nothing written.
	resp, recs = h.handle(registration(1, 1))
	if rr := resp.(*kmsg.BrokerRegistrationResponse); rr.ErrorCode != 0 || rr.BrokerEpoch != 1 || recs != nil {
		t.Fatalf("re-registration: %+v, records %v", rr, recs)
	}
	// The same incarnation with another listener: amended, same epoch.
	moved := registration(1, 1)
	moved.Listeners[0].Port = 19091
	_, recs = h.handle(moved)
	if len(recs) != 1 || h.epoch(1) != 1 {
		t.Fatalf("amended registration: records %v, epoch %d", recs, h.epoch(1))
	}

	if got := h.register(2); got != 2 {
		t.Fatalf("second broker epoch %d, want 2", got)
	}
	h.heartbeat(1, false, false)

	// A new incarnation of a live broker is refused until its session ends.
	resp, _ = h.handle(registration(1, 2))
	if rr := resp.(*kmsg.BrokerRegistrationResponse); rr.ErrorCode != kerr.DuplicateBrokerRegistration.Code || rr.BrokerEpoch != -1 {
		t.Fatalf("duplicate registration answered %+v", rr)
	}
	h.now = h.now.Add(10 * time.Second)
	h.heartbeat(2, false, false)
	resp, recs = h.handle(registration(1, 2))
	if rr := resp.(*kmsg.BrokerRegistrationResponse); rr.ErrorCode != 0 || rr.BrokerEpoch != 3 {
		t.Fatalf("new incarnation after session expiry: %+v", rr)
	}
	if br, _ := h.img.Broker(1); !br.Fenced || br.IncarnationID != metadata.Uuid(incarnation(1, 2)) {
		t.Fatalf("new incarnation registered as %+v (records %v)", br, recs)
	}
}

func TestRegistrationRefusals(t *testing.T) {
	for _, tc := range []struct {
		name string
		mv   int16
		edit func(*kmsg.BrokerRegistrationRequest)
		want *kerr.Error
	}{
		{"other cluster", 0, func(r *kmsg.BrokerRegistrationRequest) { r.ClusterID = "elsewhere" }, kerr.InconsistentClusterID},
		{"metadata.version too new for the broker", 0, func(r *kmsg.BrokerRegistrationRequest) { r.Features[0].MaxSupportedVersion = 20 }, kerr.UnsupportedVersion},
		{"no metadata.version range", 0, func(r *kmsg.BrokerRegistrationRequest) { r.Features = nil }, kerr.UnsupportedVersion},
		{"no log dirs from 3.7-IV2", 0, func(r *kmsg.BrokerRegistrationRequest) { r.LogDirs = nil }, kerr.InvalidRegistration},
		{"reserved log dir", 0, func(r *kmsg.BrokerRegistrationRequest) { r.LogDirs = [][16]byte{{15: 2}} }, kerr.InvalidRegistration},
		{"duplicate log dir", 0, func(r *kmsg.BrokerRegistrationRequest) { r.LogDirs = append(r.LogDirs, r.LogDirs[0]) }, kerr.InvalidRegistration},
		{"ZooKeeper broker", 0, func(r *kmsg.BrokerRegistrationRequest) { r.IsMigratingZkBroker = true }, kerr.BrokerIDNotRegistered},
		{"log dirs not needed before 3.7-IV2", 14, func(r *kmsg.BrokerRegistrationRequest) { r.LogDirs = nil }, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, testConfig(), tc.mv)
			req := registration(1, 1)
			tc.edit(req)
			resp, recs := h.handle(req)
			rr := resp.(*kmsg.BrokerRegistrationResponse)
			if tc.want == nil {
				if rr.ErrorCode != 0 || len(recs) != 1 {
					t.Fatalf("answered %+v with %d records", rr, len(recs))
				}
				return
			}
			if rr.ErrorCode != tc.want.Code || rr.BrokerEpoch != -1 || recs != nil {
				t.Fatalf("answered %+v with %d records, want %s", rr, len(recs), tc.want.Message)
			}
		})
	}
	t.Run("directory of another broker", func(t *testing.T) {
		h := newHarness(t, testConfig(), 0)
		h.register(1)
		req := registration(2, 1)
		req.LogDirs = [][16]byte{dirOf(1)}
		resp, _ := h.handle(req)
		if rr := resp.(*kmsg.BrokerRegistrationResponse); rr.ErrorCode != kerr.InvalidRegistration.Code {
			t.Fatalf("answered %+v", rr)
		}
	})
}

func TestHeartbeatUnfencesByMetadataVersion(t *testing.T) {
	for _, tc := range []struct {
		mv         int16
		regVersion int16
		unfence    metadata.Record
		fence      metadata.Record
	}{
		{4, 0, &metadata.UnfenceBrokerRecord{}, &metadata.FenceBrokerRecord{}},
		{7, 1, &metadata.BrokerRegistrationChangeRecord{}, &metadata.BrokerRegistrationChangeRecord{}},
		{25, 3, &metadata.BrokerRegistrationChangeRecord{}, &metadata.BrokerRegistrationChangeRecord{}},
	} {
		h := newHarness(t, testConfig(), tc.mv)
		req := registration(1, 1)
		if tc.mv < image.MetadataVersion37IV2 {
			req.LogDirs = nil
		}
		_, recs := h.handle(req)
		if recs[0].Version != tc.regVersion {
			t.Errorf("mv %d: RegisterBrokerRecord v%d, want v%d", tc.mv, recs[0].Version, tc.regVersion)
		}
		// Not caught up yet: stays fenced.
		resp, recs := h.handle(heartbeatReq(1, 1, -1, false, false))
		if hb := resp.(*kmsg.BrokerHeartbeatResponse); !hb.IsFenced || hb.IsCaughtUp || recs != nil {
			t.Fatalf("mv %d: heartbeat before catching up: %+v %v", tc.mv, hb, recs)
		}
		// Wants to stay fenced: stays fenced.
		resp, recs = h.handle(heartbeatReq(1, 1, 3, true, false))
		if hb := resp.(*kmsg.BrokerHeartbeatResponse); !hb.IsFenced || !hb.IsCaughtUp || recs != nil {
			t.Fatalf("mv %d: heartbeat wanting fence: %+v %v", tc.mv, hb, recs)
		}
		resp, recs = h.handle(heartbeatReq(1, 1, 3, false, false))
		hb := resp.(*kmsg.BrokerHeartbeatResponse)
		if hb.ErrorCode != 0 || hb.IsFenced || !hb.IsCaughtUp || hb.ShouldShutdown {
			t.Fatalf("mv %d: unfencing heartbeat answered %+v", tc.mv, hb)
		}
		if len(recs) != 1 || recs[0].Record.Key() != tc.unfence.Key() {
			t.Fatalf("mv %d: unfencing wrote %v", tc.mv, recs)
		}
		if br, _ := h.img.Broker(1); br.Fenced {
			t.Fatalf("mv %d: still fenced", tc.mv)
		}
		// Its session runs out.
		recs = h.tick(10 * time.Second)
		if len(recs) != 1 || recs[0].Record.Key() != tc.fence.Key() {
			t.Fatalf("mv %d: session expiry wrote %v", tc.mv, recs)
		}
		if br, _ := h.img.Broker(1); !br.Fenced {
			t.Fatalf("mv %d: not fenced after its session", tc.mv)
		}
		// A stale epoch and an unknown broker.
		for _, req := range []*kmsg.BrokerHeartbeatRequest{heartbeatReq(1, 7, 3, false, false), heartbeatReq(9, 1, 3, false, false)} {
			resp, _ := h.handle(req)
			if hb := resp.(*kmsg.BrokerHeartbeatResponse); hb.ErrorCode != kerr.StaleBrokerEpoch.Code {
				t.Fatalf("mv %d: heartbeat %+v answered %+v", tc.mv, req, hb)
			}
		}
	}
}

// threeBrokers registers brokers 1-3 and creates topic t with partitions
// whose replica lists are given (ISR all, first leads).
func threeBrokers(t *testing.T, cfg Config, assignments ...[]int32) *harness {
	t.Helper()
	h := newHarness(t, cfg, 0)
	for id := int32(1); id <= 3; id++ {
		h.register(id)
	}
	req := createTopicReq("t", -1, -1)
	for i, a := range assignments {
		ra := kmsg.NewCreateTopicsRequestTopicReplicaAssignment()
		ra.Partition, ra.Replicas = int32(i), a
		req.Topics[0].ReplicaAssignment = append(req.Topics[0].ReplicaAssignment, ra)
	}
	resp, _ := h.handle(req)
	if st := resp.(*kmsg.CreateTopicsResponse).Topics[0]; st.ErrorCode != 0 {
		t.Fatalf("create t: %d %s", st.ErrorCode, deref(st.ErrorMessage))
	}
	return h
}

func TestSessionExpiryFencesAndElects(t *testing.T) {
	for _, unclean := range []bool{false, true} {
		cfg := testConfig()
		cfg.UncleanLeaderElection = unclean
		h := threeBrokers(t, cfg, []int32{1, 2, 3}, []int32{1, 2, 3}, []int32{1, 2, 3})
		h.partitionTo("t", 1, []int32{1, 2}, []int32{1, 2})
		// t-2's only ISR member is 1, with 3 a follower out of the ISR.
		h.partitionTo("t", 2, []int32{1, 3}, []int32{1})

		recs := h.expire(1)
		if br, _ := h.img.Broker(1); !br.Fenced {
			t.Fatalf("broker 1 not fenced after its session (records %v)", recs)
		}
		if p := h.partition("t", 0); p.Leader != 2 || !slices.Equal(p.Isr, []int32{2, 3}) {
			t.Fatalf("t-0 after fencing: %+v", p)
		}
		if p := h.partition("t", 1); p.Leader != 2 || !slices.Equal(p.Isr, []int32{2}) {
			t.Fatalf("t-1 after fencing: %+v", p)
		}
		p := h.partition("t", 2)
		if unclean {
			if p.Leader != 3 || !slices.Equal(p.Isr, []int32{3}) || p.LeaderRecoveryState != image.LeaderRecovering {
				t.Fatalf("t-2 with unclean election: %+v", p)
			}
		} else if p.Leader != image.NoLeader || !slices.Equal(p.Isr, []int32{1}) {
			// The last ISR member stays in the ISR; the partition is offline.
			t.Fatalf("t-2 without unclean election: %+v", p)
		}
		// Broker 1 comes back (new incarnation), catches up, leads again
		// where it is the only ISR member.
		resp, _ := h.handle(registration(1, 2))
		if rr := resp.(*kmsg.BrokerRegistrationResponse); rr.ErrorCode != 0 {
			t.Fatalf("re-registration: %+v", rr)
		}
		h.heartbeat(1, false, false)
		if p := h.partition("t", 2); !unclean && p.Leader != 1 {
			t.Fatalf("t-2 after broker 1 is back: %+v", p)
		}
	}
}

// partitionTo sets a partition's replicas and ISR directly (a record the
// controller would write for a reassignment), for tests.
func (h *harness) partitionTo(topic string, idx int32, replicas, isr []int32) {
	h.t.Helper()
	tp, _ := h.img.Topic(topic)
	rec := metadata.NewPartitionChangeRecord()
	rec.TopicID, rec.PartitionID, rec.Replicas, rec.Isr = tp.ID, idx, replicas, isr
	if p := h.partition(topic, idx); !slices.Contains(isr, p.Leader) || !isActive(h.img, p.Leader) {
		rec.Leader = image.NoLeader
		if i := slices.IndexFunc(isr, func(id int32) bool { return isActive(h.img, id) }); i >= 0 {
			rec.Leader = isr[i]
		}
	}
	rec.Directories = make([]metadata.Uuid, len(replicas))
	for i, r := range replicas {
		rec.Directories[i] = defaultDir(h.img, r)
	}
	h.apply([]image.VersionedRecord{{Record: &rec, Version: 2}})
}

func TestTopicUncleanConfigOverridesDefault(t *testing.T) {
	h := threeBrokers(t, testConfig(), []int32{1, 2})
	h.partitionTo("t", 0, []int32{1, 2}, []int32{1})
	resp, _ := h.handle(incrementalConfig(kmsg.ConfigResourceTypeTopic, "t", kmsg.IncrementalAlterConfigOpSet, "unclean.leader.election.enable", "true"))
	if r := resp.(*kmsg.IncrementalAlterConfigsResponse).Resources[0]; r.ErrorCode != 0 {
		t.Fatalf("alter config: %+v", r)
	}
	h.expire(1)
	if p := h.partition("t", 0); p.Leader != 2 || p.LeaderRecoveryState != image.LeaderRecovering {
		t.Fatalf("unclean election by topic config: %+v", p)
	}
}

func TestControlledShutdown(t *testing.T) {
	h := threeBrokers(t, testConfig(), []int32{1, 2, 3}, []int32{2, 1, 3}, []int32{1, 2, 3})
	h.partitionTo("t", 1, []int32{2, 1}, []int32{2, 1})
	h.partitionTo("t", 2, []int32{1}, []int32{1})
	resp, recs := h.handle(heartbeatReq(1, h.epoch(1), 10, false, true))
	hb := resp.(*kmsg.BrokerHeartbeatResponse)
	if hb.ShouldShutdown || hb.IsFenced {
		t.Fatalf("first shutdown heartbeat: %+v", hb)
	}
	if cs := recordsOf[*metadata.BrokerRegistrationChangeRecord](recs); len(cs) != 1 || cs[0].InControlledShutdown != 1 || recs[0].Version != 1 {
		t.Fatalf("controlled shutdown records %v", recs)
	}
	br, _ := h.img.Broker(1)
	if !br.InControlledShutdown || br.Fenced {
		t.Fatalf("broker 1 after asking to shut down: %+v", br)
	}
	if p := h.partition("t", 0); p.Leader != 2 || slices.Contains(p.Isr, 1) {
		t.Fatalf("t-0 in controlled shutdown: %+v", p)
	}
	if p := h.partition("t", 1); p.Leader != 2 || slices.Contains(p.Isr, 1) {
		t.Fatalf("t-1 in controlled shutdown: %+v", p)
	}
	// t-2 has only broker 1: it goes offline, broker 1 stays its ISR.
	if p := h.partition("t", 2); p.Leader != image.NoLeader || !slices.Equal(p.Isr, []int32{1}) {
		t.Fatalf("t-2 in controlled shutdown: %+v", p)
	}
	// A broker in controlled shutdown may not rejoin an ISR.
	p := h.partition("t", 0)
	resp, _ = h.handle(alterPartitionReq(2, h.epoch(2), h.img, "t", p, []int32{2, 3, 1}))
	if code := resp.(*kmsg.AlterPartitionResponse).Topics[0].Partitions[0].ErrorCode; code != kerr.IneligibleReplica.Code {
		t.Fatalf("ISR with a broker shutting down answered %d", code)
	}
	hb = h.heartbeat(1, false, true)
	if !hb.ShouldShutdown || !hb.IsFenced {
		t.Fatalf("second shutdown heartbeat: %+v", hb)
	}
	if br, _ := h.img.Broker(1); !br.Fenced {
		t.Fatalf("broker 1 after shutdown: %+v", br)
	}
}

func TestShutdownWithoutLeadershipIsImmediate(t *testing.T) {
	h := threeBrokers(t, testConfig(), []int32{2, 3})
	hb := h.heartbeat(1, false, true)
	if !hb.ShouldShutdown || !hb.IsFenced {
		t.Fatalf("shutdown of a broker leading nothing: %+v", hb)
	}
	// A fenced broker asking to shut down may go at once.
	h2 := newHarness(t, testConfig(), 0)
	h2.handle(registration(5, 1))
	resp, _ := h2.handle(heartbeatReq(5, h2.epoch(5), -1, false, true))
	if hb := resp.(*kmsg.BrokerHeartbeatResponse); !hb.ShouldShutdown {
		t.Fatalf("fenced broker shutdown: %+v", hb)
	}
}

func TestUnregisterBroker(t *testing.T) {
	h := threeBrokers(t, testConfig(), []int32{3, 1})
	req := kmsg.NewPtrUnregisterBrokerRequest()
	req.BrokerID = 3
	resp, recs := h.handle(req)
	if r := resp.(*kmsg.UnregisterBrokerResponse); r.ErrorCode != 0 || len(recordsOf[*metadata.UnregisterBrokerRecord](recs)) != 1 {
		t.Fatalf("unregister: %+v %v", r, recs)
	}
	if _, ok := h.img.Broker(3); ok {
		t.Fatal("broker 3 still registered")
	}
	if p := h.partition("t", 0); p.Leader != 1 || !slices.Equal(p.Isr, []int32{1}) {
		t.Fatalf("t-0 after unregistering 3: %+v", p)
	}
	req.BrokerID = 42
	resp, _ = h.handle(req)
	if r := resp.(*kmsg.UnregisterBrokerResponse); r.ErrorCode != kerr.BrokerIDNotRegistered.Code || deref(r.ErrorMessage) != "Broker ID 42 is not currently registered" {
		t.Fatalf("unregister unknown: %+v", r)
	}
}

func TestActivateRestartsSessions(t *testing.T) {
	h := threeBrokers(t, testConfig(), []int32{1, 2, 3})
	h.now = h.now.Add(time.Hour)
	// A new controller takes over with the committed image: nobody is
	// fenced for the time before it was active.
	h.c = New(testConfig())
	h.c.Activate(h.now, h.img)
	if recs := h.tick(5 * time.Second); recs != nil {
		t.Fatalf("tick right after activation wrote %v", recs)
	}
	h.heartbeatAll(3)
	h.tick(5 * time.Second)
	if br, _ := h.img.Broker(3); !br.Fenced {
		t.Fatal("broker 3 not fenced after a full session without heartbeats")
	}
}

func TestTickBoundsRecords(t *testing.T) {
	h := threeBrokers(t, testConfig(), []int32{1, 2}, []int32{1, 2}, []int32{1, 2}, []int32{1, 2}, []int32{1, 2})
	h.c.maxTickRecords = 2
	h.tick(5 * time.Second)
	h.heartbeatAll(1)
	recs := h.tick(5 * time.Second)
	if len(recs) != 2 || len(recordsOf[*metadata.BrokerRegistrationChangeRecord](recs)) != 0 {
		t.Fatalf("first bounded tick wrote %d records: %v", len(recs), recs)
	}
	for i := 0; i < 3; i++ {
		h.heartbeatAll(1)
		h.tick(100 * time.Millisecond)
	}
	if br, _ := h.img.Broker(1); !br.Fenced {
		t.Fatal("broker 1 not fenced after bounded ticks")
	}
	for i := int32(0); i < 5; i++ {
		if p := h.partition("t", i); p.Leader != 2 {
			t.Fatalf("t-%d: %+v", i, p)
		}
	}
}

func TestControllerRegistration(t *testing.T) {
	req := kmsg.NewPtrControllerRegistrationRequest()
	req.ControllerID, req.IncarnationID = 3000, [16]byte{1}
	l := kmsg.NewControllerRegistrationRequestListener()
	l.Name, l.Host, l.Port = "CONTROLLER", "c1", 9093
	req.Listeners = append(req.Listeners, l)

	old := newHarness(t, testConfig(), 14)
	resp, recs := old.handle(req)
	if r := resp.(*kmsg.ControllerRegistrationResponse); r.ErrorCode != kerr.UnsupportedVersion.Code || recs != nil {
		t.Fatalf("registration at 3.6-IV2: %+v", r)
	}
	h := newHarness(t, testConfig(), 0)
	resp, recs = h.handle(req)
	if r := resp.(*kmsg.ControllerRegistrationResponse); r.ErrorCode != 0 || len(recs) != 1 {
		t.Fatalf("registration: %+v %v", r, recs)
	}
	if _, recs = h.handle(req); recs != nil {
		t.Fatalf("identical re-registration wrote %v", recs)
	}

	dc := kmsg.NewPtrDescribeClusterRequest()
	dc.Version, dc.EndpointType = 1, 2
	dresp, _ := h.handle(dc)
	d := dresp.(*kmsg.DescribeClusterResponse)
	if d.ErrorCode != 0 || d.EndpointType != 2 || d.ClusterID != "test-cluster" || d.ControllerID != 3000 ||
		len(d.Brokers) != 1 || d.Brokers[0].Host != "c1" || d.Brokers[0].Port != 9093 {
		t.Fatalf("DescribeCluster to the controller: %+v", d)
	}
	dc.EndpointType = 1
	dresp, _ = h.handle(dc)
	if d := dresp.(*kmsg.DescribeClusterResponse); d.ErrorCode != kerr.MismatchedEndpointType.Code {
		t.Fatalf("DescribeCluster for brokers: %+v", d)
	}
}

func TestAllocateProducerIDs(t *testing.T) {
	h := threeBrokers(t, testConfig())
	alloc := func(id int32, epoch int64) *kmsg.AllocateProducerIDsResponse {
		req := kmsg.NewPtrAllocateProducerIDsRequest()
		req.BrokerID, req.BrokerEpoch = id, epoch
		resp, _ := h.handle(req)
		return resp.(*kmsg.AllocateProducerIDsResponse)
	}
	if r := alloc(1, h.epoch(1)); r.ErrorCode != 0 || r.ProducerIDStart != 0 || r.ProducerIDLen != 1000 {
		t.Fatalf("first block: %+v", r)
	}
	if r := alloc(2, h.epoch(2)); r.ProducerIDStart != 1000 {
		t.Fatalf("second block: %+v", r)
	}
	// A new active controller continues from the image.
	h.c = New(testConfig())
	h.c.Activate(h.now, h.img)
	if r := alloc(3, h.epoch(3)); r.ProducerIDStart != 2000 || h.img.NextProducerID() != 3000 {
		t.Fatalf("block after failover: %+v, next %d", r, h.img.NextProducerID())
	}
	if r := alloc(3, 99); r.ErrorCode != kerr.StaleBrokerEpoch.Code {
		t.Fatalf("stale epoch: %+v", r)
	}
}
