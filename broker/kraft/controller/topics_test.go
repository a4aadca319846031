package controller

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/osprey-kafka/osprey/broker/kraft/image"
	"github.com/osprey-kafka/osprey/broker/kraft/metadata"
)

func TestCreateTopic(t *testing.T) {
	cfg := testConfig()
	cfg.DefaultPartitions, cfg.DefaultReplicationFactor = 6, 3
	h := newHarness(t, cfg, 0)
	for id := int32(1); id <= 3; id++ {
		h.register(id)
	}
	resp, recs := h.handle(createTopicReq("orders", -1, -1, "retention.ms", "1000"))
	st := resp.(*kmsg.CreateTopicsResponse).Topics[0]
	if st.ErrorCode != 0 || st.NumPartitions != 6 || st.ReplicationFactor != 3 || st.TopicID == [16]byte{} ||
		len(st.Configs) != 1 || st.Configs[0].Name != "retention.ms" || deref(st.Configs[0].Value) != "1000" {
		t.Fatalf("CreateTopics answered %+v", st)
	}
	// TopicRecord, ConfigRecord, then the PartitionRecords (v2 at 4.0-IV3).
	if _, ok := recs[0].Record.(*metadata.TopicRecord); !ok {
		t.Fatalf("first record %T", recs[0].Record)
	}
	if _, ok := recs[1].Record.(*metadata.ConfigRecord); !ok {
		t.Fatalf("second record %T", recs[1].Record)
	}
	if parts := recordsOf[*metadata.PartitionRecord](recs); len(parts) != 6 || recs[2].Version != 2 {
		t.Fatalf("%d partition records, v%d", len(parts), recs[2].Version)
	}
	tp, _ := h.img.Topic("orders")
	if tp.ID != metadata.Uuid(st.TopicID) {
		t.Fatal("answered id is not the topic's")
	}
	leaders := map[int32]int{}
	for _, p := range tp.Partitions() {
		if len(p.Replicas) != 3 || !slices.Equal(p.Isr, p.Replicas) || p.Leader != p.Replicas[0] {
			t.Fatalf("partition %+v", p)
		}
		if p.Directories[0] != metadata.Uuid(dirOf(p.Replicas[0])) {
			t.Fatalf("partition %d directories %v", p.Index, p.Directories)
		}
		leaders[p.Leader]++
	}
	if leaders[1] != 2 || leaders[2] != 2 || leaders[3] != 2 {
		t.Fatalf("leaders spread %v", leaders)
	}
	if v, _ := h.img.Config(image.ConfigResource{Type: image.ResourceTopic, Name: "orders"}, "retention.ms"); v != "1000" {
		t.Fatalf("retention.ms = %q", v)
	}
}

func TestCreateTopicRefusals(t *testing.T) {
	cfg := testConfig()
	cfg.ValidateTopicConfig = func(k, v string) error {
		if k != "retention.ms" {
			return errors.New("Unknown topic config name: " + k)
		}
		return nil
	}
	long := strings.Repeat("a", 250)
	for _, tc := range []struct {
		name    string
		req     func() *kmsg.CreateTopicsRequest
		code    *kerr.Error
		message string
	}{
		{"exists", func() *kmsg.CreateTopicsRequest { return createTopicReq("a.b", 1, 1) }, kerr.TopicAlreadyExists, "Topic 'a.b' already exists."},
		{"collision", func() *kmsg.CreateTopicsRequest { return createTopicReq("a_b", 1, 1) }, kerr.InvalidTopicException, "Topic 'a_b' collides with existing topic: a.b"},
		{"empty name", func() *kmsg.CreateTopicsRequest { return createTopicReq("", 1, 1) }, kerr.InvalidTopicException, "Topic name is invalid: the empty string is not allowed"},
		{"dot", func() *kmsg.CreateTopicsRequest { return createTopicReq(".", 1, 1) }, kerr.InvalidTopicException, "Topic name is invalid: '.' is not allowed"},
		{"too long", func() *kmsg.CreateTopicsRequest { return createTopicReq(long, 1, 1) }, kerr.InvalidTopicException, "Topic name is invalid: the length of '" + long + "' is longer than the max allowed length 249"},
		{"bad chars", func() *kmsg.CreateTopicsRequest { return createTopicReq("a b", 1, 1) }, kerr.InvalidTopicException, "Topic name is invalid: 'a b' contains one or more characters other than ASCII alphanumerics, '.', '_' and '-'"},
		{"rf 0", func() *kmsg.CreateTopicsRequest { return createTopicReq("x", 1, 0) }, kerr.InvalidReplicationFactor, "Replication factor must be larger than 0, or -1 to use the default value."},
		{"partitions 0", func() *kmsg.CreateTopicsRequest { return createTopicReq("x", 0, 1) }, kerr.InvalidPartitions, "Number of partitions was set to an invalid non-positive value."},
		{"rf above brokers", func() *kmsg.CreateTopicsRequest { return createTopicReq("x", 1, 5) }, kerr.InvalidReplicationFactor, "Unable to replicate the partition 5 time(s): The target replication factor of 5 cannot be reached because only 4 broker(s) are registered."},
		{"bad config", func() *kmsg.CreateTopicsRequest { return createTopicReq("x", 1, 1, "bogus", "1") }, kerr.InvalidConfig, "Unknown topic config name: bogus"},
		{"null config", func() *kmsg.CreateTopicsRequest {
			r := createTopicReq("x", 1, 1, "retention.ms", "1")
			r.Topics[0].Configs[0].Value = nil
			return r
		}, kerr.InvalidConfig, "Null value not supported for topic configs: retention.ms"},
		{"assignment with rf", func() *kmsg.CreateTopicsRequest { return withAssignment(createTopicReq("x", -1, 2), []int32{1, 2}) }, kerr.InvalidRequest, "A manual partition assignment was specified, but replication factor was not set to -1."},
		{"assignment unknown broker", func() *kmsg.CreateTopicsRequest { return withAssignment(createTopicReq("x", -1, -1), []int32{1, 9}) }, kerr.InvalidReplicaAssignment, "The manual partition assignment includes broker 9, but no such broker is registered."},
		{"assignment duplicate broker", func() *kmsg.CreateTopicsRequest { return withAssignment(createTopicReq("x", -1, -1), []int32{2, 2}) }, kerr.InvalidReplicaAssignment, "The manual partition assignment includes the broker 2 more than once."},
		{"assignment uneven", func() *kmsg.CreateTopicsRequest {
			return withAssignment(createTopicReq("x", -1, -1), []int32{1, 2}, []int32{3})
		}, kerr.InvalidReplicaAssignment, "The manual partition assignment includes a partition with 1 replica(s), but this is not consistent with previous partitions, which have 2 replica(s)."},
		{"assignment gap", func() *kmsg.CreateTopicsRequest {
			r := withAssignment(createTopicReq("x", -1, -1), []int32{1})
			r.Topics[0].ReplicaAssignment[0].Partition = 1
			return r
		}, kerr.InvalidReplicaAssignment, "partitions should be a consecutive 0-based integer sequence"},
		{"assignment only fenced", func() *kmsg.CreateTopicsRequest { return withAssignment(createTopicReq("x", -1, -1), []int32{4}) }, kerr.InvalidReplicaAssignment, "All brokers specified in the manual partition assignment for partition 0 are fenced or in controlled shutdown."},
		{"duplicate in request", func() *kmsg.CreateTopicsRequest {
			r := createTopicReq("x", 1, 1)
			r.Topics = append(r.Topics, r.Topics[0])
			return r
		}, kerr.InvalidRequest, "Duplicate topic name."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, cfg, 0)
			for id := int32(1); id <= 3; id++ {
				h.register(id)
			}
			h.handle(registration(4, 1)) // registered, fenced
			h.createTopic("a.b", 1, 1)
			resp, recs := h.handle(tc.req())
			st := resp.(*kmsg.CreateTopicsResponse).Topics[0]
			if st.ErrorCode != tc.code.Code || deref(st.ErrorMessage) != tc.message || recs != nil {
				t.Fatalf("answered %d %q with %d records, want %d %q", st.ErrorCode, deref(st.ErrorMessage), len(recs), tc.code.Code, tc.message)
			}
			if st.NumPartitions != -1 || st.ReplicationFactor != -1 {
				t.Fatalf("refusal with partitions %d rf %d", st.NumPartitions, st.ReplicationFactor)
			}
		})
	}
}

func withAssignment(r *kmsg.CreateTopicsRequest, replicas ...[]int32) *kmsg.CreateTopicsRequest {
	for i, rs := range replicas {
		ra := kmsg.NewCreateTopicsRequestTopicReplicaAssignment()
		ra.Partition, ra.Replicas = int32(i), rs
		r.Topics[0].ReplicaAssignment = append(r.Topics[0].ReplicaAssignment, ra)
	}
	return r
}

func TestCreateTopicValidateOnlyAndFenced(t *testing.T) {
	h := newHarness(t, testConfig(), 0)
	req := createTopicReq("x", 1, 1)
	resp, _ := h.handle(req)
	if st := resp.(*kmsg.CreateTopicsResponse).Topics[0]; st.ErrorCode != kerr.InvalidReplicationFactor.Code ||
		deref(st.ErrorMessage) != "Unable to replicate the partition 1 time(s): All brokers are currently fenced." {
		t.Fatalf("no brokers: %d %s", st.ErrorCode, deref(st.ErrorMessage))
	}
	h.register(1)
	req.ValidateOnly = true
	resp, recs := h.handle(req)
	if st := resp.(*kmsg.CreateTopicsResponse).Topics[0]; st.ErrorCode != 0 || st.NumPartitions != 1 || recs != nil {
		t.Fatalf("validate only: %+v, %d records", st, len(recs))
	}
	if h.img.NumTopics() != 0 {
		t.Fatal("validate only created the topic")
	}
	// Two topics colliding with each other in one request.
	two := createTopicReq("p.q", 1, 1)
	two.Topics = append(two.Topics, createTopicReq("p_q", 1, 1).Topics[0])
	resp, _ = h.handle(two)
	ts := resp.(*kmsg.CreateTopicsResponse).Topics
	if ts[0].ErrorCode != 0 || ts[1].ErrorCode != kerr.InvalidTopicException.Code {
		t.Fatalf("colliding pair: %d %d", ts[0].ErrorCode, ts[1].ErrorCode)
	}
}

func TestCreateTopicMetadataVersions(t *testing.T) {
	for _, tc := range []struct {
		mv      int16
		version int16
	}{{14, 0}, {17, 1}, {25, 2}} {
		h := newHarness(t, testConfig(), tc.mv)
		req := registration(1, 1)
		if tc.mv < image.MetadataVersion37IV2 {
			req.LogDirs = nil
		}
		h.handle(req)
		h.heartbeat(1, false, false)
		_, recs := h.handle(createTopicReq("x", 1, 1))
		pr := recordsOf[*metadata.PartitionRecord](recs)
		if len(pr) != 1 || recs[1].Version != tc.version || (tc.version == 0) != (pr[0].Directories == nil) {
			t.Fatalf("mv %d: partition record v%d %+v", tc.mv, recs[1].Version, pr)
		}
	}
}

func deleteReq(names ...string) *kmsg.DeleteTopicsRequest {
	r := kmsg.NewPtrDeleteTopicsRequest()
	r.Version = 6
	for _, n := range names {
		dt := kmsg.NewDeleteTopicsRequestTopic()
		dt.Topic = kmsg.StringPtr(n)
		r.Topics = append(r.Topics, dt)
	}
	return r
}

func TestDeleteTopics(t *testing.T) {
	h := newHarness(t, testConfig(), 0)
	h.register(1)
	h.createTopic("a", 2, 1, "retention.ms", "5")
	b := h.createTopic("b", 1, 1)
	h.createTopic("c", 1, 1)

	req := deleteReq("a", "zzz")
	byID := kmsg.NewDeleteTopicsRequestTopic()
	byID.TopicID = b.TopicID
	unknownID := kmsg.NewDeleteTopicsRequestTopic()
	unknownID.TopicID = [16]byte{9}
	both := kmsg.NewDeleteTopicsRequestTopic()
	both.Topic, both.TopicID = kmsg.StringPtr("c"), [16]byte{9}
	neither := kmsg.NewDeleteTopicsRequestTopic()
	req.Topics = append(req.Topics, byID, unknownID, both, neither)
	resp, recs := h.handle(req)
	want := []struct {
		code *kerr.Error
		msg  string
	}{
		{nil, ""},
		{kerr.UnknownTopicOrPartition, kerr.UnknownTopicOrPartition.Description},
		{nil, ""},
		{kerr.UnknownTopicID, kerr.UnknownTopicID.Description},
		{kerr.InvalidRequest, "You may not specify both topic name and topic id."},
		{kerr.InvalidRequest, "Neither topic name nor id were specified."},
	}
	for i, st := range resp.(*kmsg.DeleteTopicsResponse).Topics {
		code := int16(0)
		if want[i].code != nil {
			code = want[i].code.Code
		}
		if st.ErrorCode != code || (code != 0 && deref(st.ErrorMessage) != want[i].msg) {
			t.Errorf("topic %d: %d %q, want %d %q", i, st.ErrorCode, deref(st.ErrorMessage), code, want[i].msg)
		}
	}
	if len(recordsOf[*metadata.RemoveTopicRecord](recs)) != 2 || h.img.NumTopics() != 1 {
		t.Fatalf("records %v, %d topics left", recs, h.img.NumTopics())
	}
	if h.img.Configs(image.ConfigResource{Type: image.ResourceTopic, Name: "a"}) != nil {
		t.Fatal("deleted topic kept its configuration")
	}
	// v0-5 names.
	old := kmsg.NewPtrDeleteTopicsRequest()
	old.Version, old.TopicNames = 5, []string{"c", "c"}
	resp, _ = h.handle(old)
	for _, st := range resp.(*kmsg.DeleteTopicsResponse).Topics {
		if st.ErrorCode != kerr.InvalidRequest.Code || deref(st.ErrorMessage) != "Duplicate topic name." {
			t.Fatalf("duplicate names: %+v", st)
		}
	}
}

func createPartitionsReq(topic string, count int32, assignment ...[]int32) *kmsg.CreatePartitionsRequest {
	r := kmsg.NewPtrCreatePartitionsRequest()
	r.Version = 3
	t := kmsg.NewCreatePartitionsRequestTopic()
	t.Topic, t.Count = topic, count
	for _, a := range assignment {
		ca := kmsg.NewCreatePartitionsRequestTopicAssignment()
		ca.Replicas = a
		t.Assignment = append(t.Assignment, ca)
	}
	r.Topics = []kmsg.CreatePartitionsRequestTopic{t}
	return r
}

func TestCreatePartitions(t *testing.T) {
	h := threeBrokers(t, testConfig(), []int32{1, 2})
	for _, tc := range []struct {
		name string
		req  *kmsg.CreatePartitionsRequest
		code *kerr.Error
		msg  string
	}{
		{"unknown", createPartitionsReq("nope", 3), kerr.UnknownTopicOrPartition, kerr.UnknownTopicOrPartition.Description},
		{"same", createPartitionsReq("t", 1), kerr.InvalidPartitions, "Topic already has 1 partition(s)."},
		{"fewer", createPartitionsReq("t", 0), kerr.InvalidPartitions, "The topic t currently has 1 partition(s); 0 would not be an increase."},
		{"assignment count", createPartitionsReq("t", 3, []int32{1, 2}), kerr.InvalidReplicaAssignment, "Attempted to add 2 additional partition(s), but only 1 assignment(s) were specified."},
		{"assignment rf", createPartitionsReq("t", 2, []int32{1}), kerr.InvalidReplicaAssignment, "The manual partition assignment includes a partition with 1 replica(s), but this is not consistent with previous partitions, which have 2 replica(s)."},
	} {
		resp, recs := h.handle(tc.req)
		st := resp.(*kmsg.CreatePartitionsResponse).Topics[0]
		if st.ErrorCode != tc.code.Code || deref(st.ErrorMessage) != tc.msg || recs != nil {
			t.Errorf("%s: %d %q, want %d %q", tc.name, st.ErrorCode, deref(st.ErrorMessage), tc.code.Code, tc.msg)
		}
	}
	vo := createPartitionsReq("t", 3)
	vo.ValidateOnly = true
	if resp, recs := h.handle(vo); resp.(*kmsg.CreatePartitionsResponse).Topics[0].ErrorCode != 0 || recs != nil {
		t.Fatalf("validate only wrote %v", recs)
	}
	resp, recs := h.handle(createPartitionsReq("t", 3, []int32{3, 1}, []int32{2, 3}))
	if st := resp.(*kmsg.CreatePartitionsResponse).Topics[0]; st.ErrorCode != 0 || len(recs) != 2 {
		t.Fatalf("manual: %+v %v", st, recs)
	}
	if p := h.partition("t", 1); !slices.Equal(p.Replicas, []int32{3, 1}) || p.Leader != 3 {
		t.Fatalf("t-1: %+v", p)
	}
	h.handle(createPartitionsReq("t", 5))
	for i := int32(3); i < 5; i++ {
		if p := h.partition("t", i); len(p.Replicas) != 2 || p.Leader != p.Replicas[0] {
			t.Fatalf("t-%d: %+v", i, p)
		}
	}
}

func incrementalConfig(typ kmsg.ConfigResourceType, name string, op kmsg.IncrementalAlterConfigOp, key, value string) *kmsg.IncrementalAlterConfigsRequest {
	r := kmsg.NewPtrIncrementalAlterConfigsRequest()
	res := kmsg.NewIncrementalAlterConfigsRequestResource()
	res.ResourceType, res.ResourceName = typ, name
	c := kmsg.NewIncrementalAlterConfigsRequestResourceConfig()
	c.Name, c.Op = key, op
	if op != kmsg.IncrementalAlterConfigOpDelete {
		c.Value = kmsg.StringPtr(value)
	}
	res.Configs = append(res.Configs, c)
	r.Resources = append(r.Resources, res)
	return r
}

func TestIncrementalAlterConfigs(t *testing.T) {
	cfg := testConfig()
	cfg.ValidateTopicConfig = func(k, v string) error {
		if v == "bad" {
			return errors.New("Invalid value bad for configuration " + k)
		}
		return nil
	}
	h := newHarness(t, cfg, 0)
	h.register(1)
	h.createTopic("t", 1, 1)
	topic := image.ConfigResource{Type: image.ResourceTopic, Name: "t"}
	for _, tc := range []struct {
		name    string
		req     *kmsg.IncrementalAlterConfigsRequest
		code    int16
		msg     string
		records int
	}{
		{"set", incrementalConfig(kmsg.ConfigResourceTypeTopic, "t", kmsg.IncrementalAlterConfigOpSet, "retention.ms", "10"), 0, "", 1},
		{"set same", incrementalConfig(kmsg.ConfigResourceTypeTopic, "t", kmsg.IncrementalAlterConfigOpSet, "retention.ms", "10"), 0, "", 0},
		{"invalid", incrementalConfig(kmsg.ConfigResourceTypeTopic, "t", kmsg.IncrementalAlterConfigOpSet, "retention.ms", "bad"), kerr.InvalidConfig.Code, "Invalid value bad for configuration retention.ms", 0},
		{"append", incrementalConfig(kmsg.ConfigResourceTypeTopic, "t", kmsg.IncrementalAlterConfigOpAppend, "cleanup.policy", "compact"), 0, "", 1},
		{"append non-list", incrementalConfig(kmsg.ConfigResourceTypeTopic, "t", kmsg.IncrementalAlterConfigOpAppend, "retention.ms", "1"), kerr.InvalidConfig.Code, "Can't APPEND to key retention.ms because its type is not LIST.", 0},
		{"subtract", incrementalConfig(kmsg.ConfigResourceTypeTopic, "t", kmsg.IncrementalAlterConfigOpSubtract, "cleanup.policy", "delete"), 0, "", 1},
		{"delete", incrementalConfig(kmsg.ConfigResourceTypeTopic, "t", kmsg.IncrementalAlterConfigOpDelete, "retention.ms", ""), 0, "", 1},
		{"unknown topic", incrementalConfig(kmsg.ConfigResourceTypeTopic, "nope", kmsg.IncrementalAlterConfigOpSet, "retention.ms", "1"), kerr.UnknownTopicOrPartition.Code, "The topic 'nope' does not exist.", 0},
		{"broker", incrementalConfig(kmsg.ConfigResourceTypeBroker, "1", kmsg.IncrementalAlterConfigOpSet, "log.cleaner.threads", "2"), 0, "", 1},
		{"broker same value rewritten", incrementalConfig(kmsg.ConfigResourceTypeBroker, "1", kmsg.IncrementalAlterConfigOpSet, "log.cleaner.threads", "2"), 0, "", 1},
		{"cluster default", incrementalConfig(kmsg.ConfigResourceTypeBroker, "", kmsg.IncrementalAlterConfigOpSet, "unclean.leader.election.enable", "true"), 0, "", 1},
		{"unknown broker", incrementalConfig(kmsg.ConfigResourceTypeBroker, "7", kmsg.IncrementalAlterConfigOpSet, "a", "b"), kerr.BrokerIDNotRegistered.Code, "No node with id 7 found.", 0},
		{"bad broker name", incrementalConfig(kmsg.ConfigResourceTypeBroker, "x", kmsg.IncrementalAlterConfigOpSet, "a", "b"), kerr.InvalidRequest.Code, "Invalid broker name x", 0},
		{"group", incrementalConfig(32, "g", kmsg.IncrementalAlterConfigOpSet, "a", "b"), kerr.InvalidRequest.Code, "Unexpected resource type GROUP.", 0},
	} {
		resp, recs := h.handle(tc.req)
		r := resp.(*kmsg.IncrementalAlterConfigsResponse).Resources[0]
		if r.ErrorCode != tc.code || (tc.code != 0 && deref(r.ErrorMessage) != tc.msg) || len(recs) != tc.records {
			t.Errorf("%s: %d %q with %d records, want %d %q with %d", tc.name, r.ErrorCode, deref(r.ErrorMessage), len(recs), tc.code, tc.msg, tc.records)
		}
	}
	if got := h.img.Configs(topic); len(got) != 1 || got["cleanup.policy"] != "compact" {
		t.Fatalf("topic configs %v", got)
	}
	vo := incrementalConfig(kmsg.ConfigResourceTypeTopic, "t", kmsg.IncrementalAlterConfigOpSet, "retention.ms", "3")
	vo.ValidateOnly = true
	if _, recs := h.handle(vo); recs != nil {
		t.Fatalf("validate only wrote %v", recs)
	}
}

func TestLegacyAlterConfigsReplaces(t *testing.T) {
	h := newHarness(t, testConfig(), 0)
	h.register(1)
	h.createTopic("t", 1, 1, "retention.ms", "1", "segment.ms", "2")
	r := kmsg.NewPtrAlterConfigsRequest()
	res := kmsg.NewAlterConfigsRequestResource()
	res.ResourceType, res.ResourceName = kmsg.ConfigResourceTypeTopic, "t"
	c := kmsg.NewAlterConfigsRequestResourceConfig()
	c.Name, c.Value = "retention.ms", kmsg.StringPtr("9")
	res.Configs = append(res.Configs, c)
	r.Resources = append(r.Resources, res, res)
	resp, _ := h.handle(r)
	for _, rr := range resp.(*kmsg.AlterConfigsResponse).Resources {
		if rr.ErrorCode != kerr.InvalidRequest.Code || deref(rr.ErrorMessage) != "Duplicate resource." {
			t.Fatalf("duplicate resource answered %+v", rr)
		}
	}
	r.Resources = r.Resources[:1]
	resp, _ = h.handle(r)
	if rr := resp.(*kmsg.AlterConfigsResponse).Resources[0]; rr.ErrorCode != 0 {
		t.Fatalf("AlterConfigs: %+v", rr)
	}
	if got := h.img.Configs(image.ConfigResource{Type: image.ResourceTopic, Name: "t"}); len(got) != 1 || got["retention.ms"] != "9" {
		t.Fatalf("configs after AlterConfigs: %v", got)
	}
}

func TestTooLargeRequestsRefused(t *testing.T) {
	h := newHarness(t, testConfig(), 0)
	h.register(1)
	two := createTopicReq("a", 5000, 1)
	two.Topics = append(two.Topics, createTopicReq("b", 5000, 1).Topics[0])
	for _, req := range []*kmsg.CreateTopicsRequest{createTopicReq("huge", 1<<30, 1), two} {
		resp, recs := h.handle(req)
		for _, st := range resp.(*kmsg.CreateTopicsResponse).Topics {
			if st.ErrorCode != kerr.PolicyViolation.Code || deref(st.ErrorMessage) != "Unable to perform excessively large batch operation." || recs != nil {
				t.Fatalf("too large CreateTopics: %d %q, %d records", st.ErrorCode, deref(st.ErrorMessage), len(recs))
			}
		}
	}
	if h.img.NumTopics() != 0 {
		t.Fatal("a topic of a refused request was created")
	}
	h.createTopic("c", 9000, 1)
	resp, recs := h.handle(createPartitionsReq("c", 20000))
	if st := resp.(*kmsg.CreatePartitionsResponse).Topics[0]; st.ErrorCode != kerr.PolicyViolation.Code || recs != nil {
		t.Fatalf("too large CreatePartitions: %+v", st)
	}
}
