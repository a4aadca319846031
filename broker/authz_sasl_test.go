package broker

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
)

// Users of the secured test brokers: admin is the super user.
var aclTestUsers = map[string]string{"admin": "admin-secret", "alice": "alice-secret", "bob": "bob-secret"}

// withSecuredListener makes the broker's only listener SASL_PLAINTEXT
// with PLAIN users from aclTestUsers and turns the ACL authorizer on with
// User:admin as super user.
func withSecuredListener(t testing.TB) testBrokerOpt {
	return func(c *Config) {
		jaas := `org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret"`
		for u, p := range aclTestUsers {
			jaas += fmt.Sprintf(" user_%s=%q", u, p)
		}
		props := map[string]string{
			"listeners":                                           "SASL_PLAINTEXT://127.0.0.1:0",
			"sasl.enabled.mechanisms":                             "PLAIN",
			"sasl.mechanism.inter.broker.protocol":                "PLAIN",
			"listener.name.sasl_plaintext.plain.sasl.jaas.config": jaas + ";",
			"authorizer.class.name":                               standardAuthorizerClass,
			"super.users":                                         "User:admin",
		}
		parsed, err := ConfigFromProperties(props, nil)
		if err != nil {
			t.Fatalf("secured config: %v", err)
		}
		c.Listeners, c.AdvertisedListeners = parsed.Listeners, nil
		c.Security, c.Authz = parsed.Security, parsed.Authz
	}
}

// userClient connects to b as user over SASL PLAIN.
func userClient(t testing.TB, b *Broker, user string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	opts = append([]kgo.Opt{kgo.SeedBrokers(b.Addr()), kgo.SASL(plain.Auth{User: user, Pass: aclTestUsers[user]}.AsMechanism()),
		kgo.RetryTimeout(3 * time.Second)}, opts...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func TestACLProduceRefusedWithoutWrite(t *testing.T) {
	b := newTestBroker(t, withSecuredListener(t))
	ctx := testCtx(t, 30*time.Second)
	admin := kadm.NewClient(userClient(t, b, "admin"))
	if _, err := admin.CreateTopic(ctx, 1, 1, nil, "orders"); err != nil {
		t.Fatal(err)
	}
	// alice may write and read orders; bob may only read it.
	acls := kadm.NewACLs().Allow("User:alice").Topics("orders").Operations(kadm.OpWrite, kadm.OpRead).
		ResourcePatternType(kadm.ACLPatternLiteral)
	bobACL := kadm.NewACLs().Allow("User:bob").Topics("orders").Operations(kadm.OpRead).ResourcePatternType(kadm.ACLPatternLiteral)
	for _, a := range []*kadm.ACLBuilder{acls, bobACL} {
		res, err := admin.CreateACLs(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res {
			if r.Err != nil {
				t.Fatalf("create ACL %+v: %v", r, r.Err)
			}
		}
	}

	bob := userClient(t, b, "bob", kgo.DisableIdempotentWrite())
	err := bob.ProduceSync(ctx, &kgo.Record{Topic: "orders", Value: []byte("from bob")}).FirstErr()
	if !errors.Is(err, kerr.TopicAuthorizationFailed) {
		t.Fatalf("bob's produce: %v, want TOPIC_AUTHORIZATION_FAILED", err)
	}
	alice := userClient(t, b, "alice")
	if err := alice.ProduceSync(ctx, &kgo.Record{Topic: "orders", Value: []byte("from alice")}).FirstErr(); err != nil {
		t.Fatalf("alice's produce: %v", err)
	}
	// bob's record never reached the log: the only record is alice's.
	hw := b.data.get("orders", 0).log.HighWatermark()
	if hw != 1 {
		t.Fatalf("high watermark %d, want 1 (alice's record only)", hw)
	}
	reader := userClient(t, b, "bob", kgo.ConsumeTopics("orders"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	fs := reader.PollFetches(ctx)
	if err := fs.Err(); err != nil {
		t.Fatal(err)
	}
	var got []string
	fs.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
	if !slices.Equal(got, []string{"from alice"}) {
		t.Fatalf("orders holds %q, want only alice's record", got)
	}
}

func TestACLMetadataListsDescribableTopics(t *testing.T) {
	b := newTestBroker(t, withSecuredListener(t))
	ctx := testCtx(t, 30*time.Second)
	admin := kadm.NewClient(userClient(t, b, "admin"))
	if _, err := admin.CreateTopics(ctx, 1, 1, nil, "app-orders", "app-payments", "secret"); err != nil {
		t.Fatal(err)
	}
	mustCreateACLs(ctx, t, admin, kadm.NewACLs().Allow("User:alice").Topics("app-").Operations(kadm.OpRead).
		ResourcePatternType(kadm.ACLPatternPrefixed))
	alice := kadm.NewClient(userClient(t, b, "alice"))
	md, err := alice.Metadata(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := md.Topics.Names(); !slices.Equal(got, []string{"app-orders", "app-payments"}) {
		t.Fatalf("alice sees %v, want the app- topics only", got)
	}
	// kadm turns the topic's error into the call's error.
	md, err = alice.Metadata(ctx, "secret")
	if err == nil {
		err = md.Topics["secret"].Err
	}
	if !errors.Is(err, kerr.TopicAuthorizationFailed) {
		t.Fatalf("named secret topic: %v, want TOPIC_AUTHORIZATION_FAILED", err)
	}
	// The super user needs no ACL.
	md, err = admin.Metadata(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := md.Topics.Names(); !slices.Contains(got, "secret") {
		t.Fatalf("admin sees %v, want every topic", got)
	}
}

func TestACLAdminNeedsClusterAlter(t *testing.T) {
	b := newTestBroker(t, withSecuredListener(t))
	ctx := testCtx(t, 30*time.Second)
	alice := kadm.NewClient(userClient(t, b, "alice"))
	res, err := alice.CreateACLs(ctx, kadm.NewACLs().Allow("User:alice").Topics("x").Operations(kadm.OpAll).
		ResourcePatternType(kadm.ACLPatternLiteral))
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || !errors.Is(res[0].Err, kerr.ClusterAuthorizationFailed) {
		t.Fatalf("alice's CreateACLs: %+v, want CLUSTER_AUTHORIZATION_FAILED", res)
	}
	err = describeErr(alice.DescribeACLs(ctx, kadm.NewACLs().AnyResource().Allow().Deny().AllowHosts().DenyHosts().ResourcePatternType(kadm.ACLPatternAny).Operations(kadm.OpAny)))
	if !errors.Is(err, kerr.ClusterAuthorizationFailed) {
		t.Fatalf("alice's DescribeACLs: %v, want CLUSTER_AUTHORIZATION_FAILED", err)
	}
}

func TestACLGroupsAndClusterChecks(t *testing.T) {
	b := newTestBroker(t, withSecuredListener(t))
	ctx := testCtx(t, 30*time.Second)
	admin := kadm.NewClient(userClient(t, b, "admin"))
	if _, err := admin.CreateTopic(ctx, 1, 1, nil, "orders"); err != nil {
		t.Fatal(err)
	}
	mustCreateACLs(ctx, t, admin, kadm.NewACLs().Allow("User:alice").Topics("orders").Groups("alice-app").
		Operations(kadm.OpRead).ResourcePatternType(kadm.ACLPatternLiteral))

	// alice consumes in her group; bob, with no ACL at all, may not.
	alice := userClient(t, b, "alice", kgo.ConsumerGroup("alice-app"), kgo.ConsumeTopics("orders"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err := userClient(t, b, "admin").ProduceSync(ctx, &kgo.Record{Topic: "orders", Value: []byte("x")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if fs := alice.PollFetches(ctx); fs.Err() != nil || fs.NumRecords() != 1 {
		t.Fatalf("alice's group consume: %v, %d records", fs.Err(), fs.NumRecords())
	}
	bob := kadm.NewClient(userClient(t, b, "bob"))
	described, err := bob.DescribeGroups(ctx, "alice-app")
	if err == nil {
		err = described["alice-app"].Err
	}
	if !errors.Is(err, kerr.GroupAuthorizationFailed) {
		t.Fatalf("bob describing alice-app: %v, want GROUP_AUTHORIZATION_FAILED", err)
	}
	listed, err := bob.ListGroups(ctx)
	if err != nil || len(listed) != 0 {
		t.Fatalf("bob lists %v (%v), want no group", listed.Groups(), err)
	}
	if _, err := bob.ListPartitionReassignments(ctx, kadm.TopicsSet{"orders": {0: {}}}); !errors.Is(err, kerr.ClusterAuthorizationFailed) {
		t.Fatalf("bob listing reassignments: %v, want CLUSTER_AUTHORIZATION_FAILED", err)
	}
	// The super user sees the group without any ACL.
	if listed, err := admin.ListGroups(ctx); err != nil || len(listed) != 1 {
		t.Fatalf("admin lists %v (%v), want alice-app", listed.Groups(), err)
	}
}

func TestACLTransactionalIDNeedsWrite(t *testing.T) {
	b := newTestBroker(t, withSecuredListener(t), func(c *Config) { c.Txn.StateLogRF, c.Txn.StateLogPartitions = 1, 4 })
	ctx := testCtx(t, 30*time.Second)
	admin := kadm.NewClient(userClient(t, b, "admin"))
	if _, err := admin.CreateTopic(ctx, 1, 1, nil, "orders"); err != nil {
		t.Fatal(err)
	}
	// alice may write the topic and use transactional id "alice-tx", not "other-tx".
	mustCreateACLs(ctx, t, admin, kadm.NewACLs().Allow("User:alice").Topics("orders").Operations(kadm.OpWrite).
		ResourcePatternType(kadm.ACLPatternLiteral))
	mustCreateACLs(ctx, t, admin, kadm.NewACLs().Allow("User:alice").TransactionalIDs("alice-tx").Operations(kadm.OpWrite).
		ResourcePatternType(kadm.ACLPatternLiteral))

	other := userClient(t, b, "alice", kgo.TransactionalID("other-tx"), kgo.DefaultProduceTopic("orders"))
	// Refused at InitProducerId, which franz-go sends when the transaction begins.
	err := other.BeginTransaction()
	if err == nil {
		err = other.ProduceSync(ctx, &kgo.Record{Value: []byte("x")}).FirstErr()
	}
	if !errors.Is(err, kerr.TransactionalIDAuthorizationFailed) {
		t.Fatalf("produce under other-tx: %v, want TRANSACTIONAL_ID_AUTHORIZATION_FAILED", err)
	}
	mine := userClient(t, b, "alice", kgo.TransactionalID("alice-tx"), kgo.DefaultProduceTopic("orders"))
	if err := mine.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := mine.ProduceSync(ctx, &kgo.Record{Value: []byte("y")}).FirstErr(); err != nil {
		t.Fatalf("produce under alice-tx: %v", err)
	}
	if err := mine.EndTransaction(ctx, kgo.TryCommit); err != nil {
		t.Fatalf("commit: %v", err)
	}
}
