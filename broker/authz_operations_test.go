package broker

import (
	"math"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"
)

// opBits is Kafka's bit field of operations (bit n: operation code n).
func opBits(ops ...kadm.ACLOperation) int32 {
	var b int32
	for _, op := range ops {
		b |= 1 << int8(op)
	}
	return b
}

// The *_authorized_operations fields hold, as in Kafka, the operations of
// the resource type the principal may perform (implied ones included, a
// DENY removing its operation); the cluster's field is 0 without DESCRIBE
// on the cluster; a field not asked for keeps INT32_MIN.
func TestAuthorizedOperationsFields(t *testing.T) {
	b := newTestBroker(t, withSecuredListener(t))
	ctx := testCtx(t, 30*time.Second)
	adminCl := userClient(t, b, "admin")
	admin := kadm.NewClient(adminCl)
	if _, err := admin.CreateTopics(ctx, 1, 1, nil, "ops-t", "ops-d", "secret"); err != nil {
		t.Fatal(err)
	}
	lit, pre := kadm.ACLPatternLiteral, kadm.ACLPatternPrefixed
	for _, a := range []*kadm.ACLBuilder{
		kadm.NewACLs().Allow("User:alice").Topics("ops-t").Operations(kadm.OpRead, kadm.OpAlterConfigs).ResourcePatternType(lit),
		kadm.NewACLs().Allow("User:alice").Topics("ops-d").Operations(kadm.OpAll).ResourcePatternType(lit),
		kadm.NewACLs().Deny("User:alice").Topics("ops-d").Operations(kadm.OpDelete).ResourcePatternType(lit),
		kadm.NewACLs().Allow("User:alice").Clusters().Operations(kadm.OpDescribe, kadm.OpIdempotentWrite).ResourcePatternType(lit),
		kadm.NewACLs().Allow("User:alice").Groups("ops-").Operations(kadm.OpRead).ResourcePatternType(pre),
		kadm.NewACLs().Allow("User:alice").Groups("ops-cg").Operations(kadm.OpDelete).ResourcePatternType(lit),
		kadm.NewACLs().Allow("User:bob").Topics("ops-t").Operations(kadm.OpDescribe).ResourcePatternType(lit),
	} {
		mustCreateACLs(ctx, t, admin, a)
	}
	alice, bob := userClient(t, b, "alice"), userClient(t, b, "bob")
	const notAsked = math.MinInt32
	wantTopic := map[string]int32{
		"ops-t":  opBits(kadm.OpRead, kadm.OpDescribe, kadm.OpDescribeConfigs, kadm.OpAlterConfigs),
		"ops-d":  opBits(kadm.OpRead, kadm.OpWrite, kadm.OpCreate, kadm.OpDescribe, kadm.OpAlter, kadm.OpDescribeConfigs, kadm.OpAlterConfigs),
		"secret": notAsked, // refused: TOPIC_AUTHORIZATION_FAILED, field untouched
	}
	wantCluster := opBits(kadm.OpDescribe, kadm.OpIdempotentWrite)

	metadata := func(cl *kgo.Client, version int16, topics, cluster bool) *kmsg.MetadataResponse {
		t.Helper()
		req := kmsg.NewPtrMetadataRequest()
		req.Version = version
		for _, n := range []string{"ops-t", "ops-d", "secret"} {
			rt := kmsg.NewMetadataRequestTopic()
			rt.Topic = kmsg.StringPtr(n)
			req.Topics = append(req.Topics, rt)
		}
		req.IncludeTopicAuthorizedOperations, req.IncludeClusterAuthorizedOperations = topics, cluster
		resp, err := req.RequestWith(ctx, cl.Broker(int(b.cfg.BrokerID)))
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	// Pinned to v10, the last version with the cluster field.
	v10 := userClient(t, b, "alice", kgo.MaxVersions(kversion.V2_7_0()))
	resp := metadata(v10, 10, true, true)
	if resp.AuthorizedOperations != wantCluster {
		t.Errorf("Metadata v10 cluster operations %d, want %d", resp.AuthorizedOperations, wantCluster)
	}
	for _, mt := range resp.Topics {
		if got, want := mt.AuthorizedOperations, wantTopic[*mt.Topic]; got != want {
			t.Errorf("Metadata topic %s operations %d, want %d (error %v)", *mt.Topic, got, want, kerr.ErrorForCode(mt.ErrorCode))
		}
	}
	resp = metadata(alice, 12, false, false)
	for _, mt := range resp.Topics {
		if mt.AuthorizedOperations != notAsked {
			t.Errorf("not asked: topic %s operations %d", *mt.Topic, mt.AuthorizedOperations)
		}
	}
	bobV10 := userClient(t, b, "bob", kgo.MaxVersions(kversion.V2_7_0()))
	if resp := metadata(bobV10, 10, false, true); resp.AuthorizedOperations != 0 {
		t.Errorf("bob without cluster DESCRIBE: %d, want 0", resp.AuthorizedOperations)
	}

	describeCluster := func(cl *kgo.Client, include bool) int32 {
		t.Helper()
		req := kmsg.NewPtrDescribeClusterRequest()
		req.IncludeClusterAuthorizedOperations = include
		resp, err := req.RequestWith(ctx, cl)
		if err != nil || resp.ErrorCode != 0 {
			t.Fatalf("DescribeCluster: %+v %v", resp, err)
		}
		return resp.ClusterAuthorizedOperations
	}
	if got := describeCluster(alice, true); got != wantCluster {
		t.Errorf("DescribeCluster alice: %d, want %d", got, wantCluster)
	}
	if got := describeCluster(bob, true); got != 0 {
		t.Errorf("DescribeCluster bob: %d, want 0", got)
	}
	if got := describeCluster(alice, false); got != notAsked {
		t.Errorf("DescribeCluster not asked: %d", got)
	}
	if got := describeCluster(adminCl, true); got != opBits(kadm.OpCreate, kadm.OpClusterAction,
		kadm.OpDescribeConfigs, kadm.OpAlterConfigs, kadm.OpIdempotentWrite, kadm.OpAlter, kadm.OpDescribe) {
		t.Errorf("DescribeCluster super user: %d, want every cluster operation", got)
	}

	// A consumer group alice may read (prefixed) and delete (literal).
	cg := &cgClient{t: t, cl: alice, ctx: ctx}
	wantCode(t, "join ops-cg", cg.join("ops-cg", "m1", nil, "ops-t").ErrorCode, nil)
	cgReq := kmsg.NewPtrConsumerGroupDescribeRequest()
	cgReq.Groups, cgReq.IncludeAuthorizedOperations = []string{"ops-cg"}, true
	cgResp, err := cgReq.RequestWith(ctx, alice.Broker(int(b.cfg.BrokerID)))
	if err != nil || len(cgResp.Groups) != 1 || cgResp.Groups[0].ErrorCode != 0 {
		t.Fatalf("ConsumerGroupDescribe: %+v %v", cgResp, err)
	}
	if got, want := cgResp.Groups[0].AuthorizedOperations, opBits(kadm.OpRead, kadm.OpDescribe, kadm.OpDelete); got != want {
		t.Errorf("ConsumerGroupDescribe operations %d, want %d", got, want)
	}

	// DescribeGroups v5 describes an unknown group as Dead without error.
	dg := kmsg.NewPtrDescribeGroupsRequest()
	dg.Version = 5
	dg.Groups, dg.IncludeAuthorizedOperations = []string{"ops-g"}, true
	dgResp, err := dg.RequestWith(ctx, v10.Broker(int(b.cfg.BrokerID)))
	if err != nil || len(dgResp.Groups) != 1 || dgResp.Groups[0].ErrorCode != 0 {
		t.Fatalf("DescribeGroups: %+v %v", dgResp, err)
	}
	if got, want := dgResp.Groups[0].AuthorizedOperations, opBits(kadm.OpRead, kadm.OpDescribe); got != want {
		t.Errorf("DescribeGroups operations %d, want %d", got, want)
	}
}
