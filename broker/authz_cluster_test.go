package broker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/osprey-kafka/osprey/broker/acl"
	"github.com/osprey-kafka/osprey/broker/metastore"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// withAuthorizer turns on the ACL authorizer with the given super users
// (on PLAINTEXT listeners every connection is User:ANONYMOUS).
func withAuthorizer(superUsers ...string) testBrokerOpt {
	return func(c *Config) {
		c.Authz = AuthzConfig{AuthorizerClass: aclAuthorizerClass, SuperUsers: superUsers}
	}
}

// aclCounts checks that every running broker's authorizer holds want ACLs.
func aclCounts(brokers []*Broker) func(want int) error {
	return func(want int) error {
		for _, b := range brokers {
			if n := b.authz.Len(); n != want {
				return fmt.Errorf("broker %d holds %d ACLs", b.BrokerID(), n)
			}
		}
		return nil
	}
}

func TestACLRoundTripSingleBroker(t *testing.T) {
	b := newTestBroker(t, withAuthorizer("User:ANONYMOUS"))
	c := &testCluster{t: t, brokers: []*Broker{b}}
	aclRoundTrip(testCtx(t, 30*time.Second), t, c.admin(), aclCounts(c.brokers))
}

func TestACLRoundTripZooKeeper(t *testing.T) { testACLRoundTripZooKeeper(t, localConnector(t)) }

// On a real ZooKeeper ensemble (deploy/scripts/services.sh).
func TestACLRoundTripRealZooKeeper(t *testing.T) { testACLRoundTripZooKeeper(t, zkConnector(t)) }

func testACLRoundTripZooKeeper(t *testing.T, conn metastore.Connector) {
	c := newTestCluster(t, 2, conn, withAuthorizer("User:ANONYMOUS"))
	ctx := testCtx(t, 60*time.Second)
	aclRoundTrip(ctx, t, c.admin(), aclCounts(c.running()))

	// Stored as Kafka stores them: alice's ACLs are gone, so the literal
	// orders node is deleted; bob's prefixed DENY is in the extended tree.
	s, err := conn.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if ok, _, err := s.Exists(ctx, "/kafka-acl/Topic/orders"); err != nil || ok {
		t.Fatalf("/kafka-acl/Topic/orders exists=%v (%v), want deleted with its last ACL", ok, err)
	}
	data, _, err := s.Get(ctx, "/kafka-acl-extended/prefixed/Topic/ord")
	if err != nil {
		t.Fatal(err)
	}
	var node struct {
		Version int                 `json:"version"`
		ACLs    []map[string]string `json:"acls"`
	}
	if err := json.Unmarshal(data, &node); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"principal": "User:bob", "permissionType": "Deny", "operation": "Write", "host": "10.0.0.9"}
	if node.Version != 1 || len(node.ACLs) != 1 || fmt.Sprint(node.ACLs[0]) != fmt.Sprint(want) {
		t.Fatalf("prefixed node %s, want version 1 with %v", data, want)
	}
	changes, _, err := s.Children(ctx, "/kafka-acl-extended-changes")
	if err != nil || len(changes) == 0 || !strings.HasPrefix(changes[0], "acl_changes_") {
		t.Fatalf("extended change notifications %v (%v)", changes, err)
	}
	lit, _, err := s.Children(ctx, "/kafka-acl-changes")
	if err != nil || len(lit) < 2 {
		t.Fatalf("literal change notifications %v (%v): want one per change", lit, err)
	}
	first, _, err := s.Get(ctx, "/kafka-acl-changes/"+lit[0])
	if err != nil || string(first) != "TOPIC:orders" {
		t.Fatalf("first literal change %q (%v), want TOPIC:orders", first, err)
	}
}

// An ACL written to the store by someone else (another broker, Kafka's
// own tools) reaches every broker through the change notification.
func TestACLZooKeeperNotificationRefreshesBrokers(t *testing.T) {
	conn := localConnector(t)
	c := newTestCluster(t, 2, conn, withAuthorizer("User:ANONYMOUS"))
	ctx := testCtx(t, 30*time.Second)
	s, err := conn.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r := acl.Resource{Type: acl.ResourceGroup, Name: "payments", Pattern: acl.PatternLiteral}
	e := acl.Entry{Principal: "User:carol", Host: "*", Operation: acl.OpRead, Permission: acl.PermissionAllow}
	if err := metastore.EnsurePath(ctx, s, acl.ZKTypePath(r.Pattern, r.Type)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, acl.ZKPath(r), acl.EncodeZKEntries([]acl.Entry{e}), metastore.Persistent); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, acl.ZKLiteralChangesPath+"/"+acl.ZKChangePrefix, []byte("Group:payments"), metastore.Sequential); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "both brokers to allow carol", func() bool {
		for _, b := range c.running() {
			if !b.authz.Authorize("User:carol", "10.1.1.1", acl.OpRead, acl.ResourceGroup, "payments").Allowed {
				return false
			}
		}
		return true
	})
}

func TestACLsDisabledWithoutAuthorizer(t *testing.T) {
	b := newTestBroker(t)
	ctx := testCtx(t, 30*time.Second)
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	err = describeErr(kadm.NewClient(cl).DescribeACLs(ctx, kadm.NewACLs().AnyResource().Allow().Deny().AllowHosts().DenyHosts().
		ResourcePatternType(kadm.ACLPatternAny).Operations(kadm.OpAny)))
	if !errors.Is(err, kerr.SecurityDisabled) {
		t.Fatalf("DescribeACLs without authorizer: %v, want SECURITY_DISABLED", err)
	}
}

func mustCreateACLs(ctx context.Context, t testing.TB, adm *kadm.Client, b *kadm.ACLBuilder) {
	t.Helper()
	res, err := adm.CreateACLs(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Err != nil {
			t.Fatalf("create ACL %s %s: %v", r.Principal, r.Name, r.Err)
		}
	}
}

// aclRoundTrip creates, describes (with a MATCH filter) and deletes ACLs
// through adm, checking each step's answer, and waits until every broker
// in check sees the result.
func aclRoundTrip(ctx context.Context, t *testing.T, adm *kadm.Client, check func(want int) error) {
	t.Helper()
	mustCreateACLs(ctx, t, adm, kadm.NewACLs().Allow("User:alice").Topics("orders").Operations(kadm.OpRead, kadm.OpWrite).
		ResourcePatternType(kadm.ACLPatternLiteral))
	mustCreateACLs(ctx, t, adm, kadm.NewACLs().Deny("User:bob").AllowHosts().DenyHosts("10.0.0.9").Topics("ord").
		Operations(kadm.OpWrite).ResourcePatternType(kadm.ACLPatternPrefixed))
	mustCreateACLs(ctx, t, adm, kadm.NewACLs().Allow("User:alice").Groups("g1").Operations(kadm.OpRead).
		ResourcePatternType(kadm.ACLPatternLiteral))
	waitFor(t, 10*time.Second, "every broker to see 4 ACLs", func() bool { return check(4) == nil })

	desc, err := adm.DescribeACLs(ctx, kadm.NewACLs().Topics("orders").ResourcePatternType(kadm.ACLPatternMatch).
		Allow().Deny().AllowHosts().DenyHosts().Operations(kadm.OpAny))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range desc {
		if d.Err != nil {
			t.Fatal(d.Err)
		}
		for _, a := range d.Described {
			got = append(got, fmt.Sprintf("%s %s %s %s %s %s %s", a.Type, a.Pattern, a.Name, a.Principal, a.Host, a.Operation, a.Permission))
		}
	}
	slices.Sort(got)
	want := []string{
		"TOPIC LITERAL orders User:alice * READ ALLOW",
		"TOPIC LITERAL orders User:alice * WRITE ALLOW",
		"TOPIC PREFIXED ord User:bob 10.0.0.9 WRITE DENY",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("described\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	del, err := adm.DeleteACLs(ctx, kadm.NewACLs().Allow("User:alice").AnyResource().ResourcePatternType(kadm.ACLPatternAny).
		AllowHosts().Operations(kadm.OpAny))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, d := range del {
		if d.Err != nil {
			t.Fatal(d.Err)
		}
		n += len(d.Deleted)
	}
	if n != 3 {
		t.Fatalf("deleted %d ACLs, want alice's 3: %+v", n, del)
	}
	waitFor(t, 10*time.Second, "every broker to see 1 ACL", func() bool { return check(1) == nil })
}

// describeErr is the request's error or else the first result's.
func describeErr(res kadm.DescribeACLsResults, err error) error {
	if err != nil {
		return err
	}
	for _, r := range res {
		if r.Err != nil {
			return r.Err
		}
	}
	return nil
}

func TestACLRoundTripKRaft(t *testing.T) {
	c := newKRaftTestCluster(t, 2, withAuthorizer("User:ANONYMOUS"))
	ctx := testCtx(t, 60*time.Second)
	aclRoundTrip(ctx, t, c.admin(), aclCounts(c.running()))
	// The remaining ACL is enforced from the image on every broker.
	waitFor(t, 10*time.Second, "bob denied writes from 10.0.0.9 everywhere", func() bool {
		for _, b := range c.running() {
			d := b.authz.Authorize("User:bob", "10.0.0.9", acl.OpWrite, acl.ResourceTopic, "orders")
			if d.Allowed || d.Rule != acl.RuleDenyACL {
				return false
			}
		}
		return true
	})
}

// A single broker keeps its ACLs in its log dir across restarts.
func TestACLSingleBrokerSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	ctx := testCtx(t, 30*time.Second)
	b := newTestBroker(t, withDir(dir), withAuthorizer("User:ANONYMOUS"))
	adm := (&testCluster{t: t, brokers: []*Broker{b}}).admin()
	mustCreateACLs(ctx, t, adm, kadm.NewACLs().Allow("User:alice").Topics("orders").Operations(kadm.OpRead, kadm.OpWrite).
		ResourcePatternType(kadm.ACLPatternLiteral))
	del, err := adm.DeleteACLs(ctx, kadm.NewACLs().Allow("User:alice").Topics("orders").AllowHosts().Operations(kadm.OpWrite).
		ResourcePatternType(kadm.ACLPatternLiteral))
	if err != nil || len(del) != 1 || len(del[0].Deleted) != 1 {
		t.Fatalf("delete: %+v, %v", del, err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	b2 := newTestBroker(t, withDir(dir), withAuthorizer("User:ANONYMOUS"))
	got := b2.authz.Bindings(acl.MatchAll)
	want := acl.Binding{Resource: acl.Resource{Type: acl.ResourceTopic, Name: "orders", Pattern: acl.PatternLiteral},
		Entry: acl.Entry{Principal: "User:alice", Host: "*", Operation: acl.OpRead, Permission: acl.PermissionAllow}}
	if len(got) != 1 || got[0] != want {
		t.Fatalf("after restart: %v, want [%v]", got, want)
	}
}

// Applied change notifications older than Kafka's 15 minutes are deleted.
func TestACLChangeNotificationsPurged(t *testing.T) {
	conn := localConnector(t)
	ctx := testCtx(t, 10*time.Second)
	s, err := conn.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := metastore.EnsurePath(ctx, s, acl.ZKLiteralChangesPath); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := s.Create(ctx, acl.ZKLiteralChangesPath+"/"+acl.ZKChangePrefix, []byte("TOPIC:t"), metastore.Sequential); err != nil {
			t.Fatal(err)
		}
	}
	names, _, err := s.Children(ctx, acl.ZKLiteralChangesPath)
	if err != nil || len(names) != 3 {
		t.Fatalf("children %v, %v", names, err)
	}
	// Fresh ones stay; once expired, those applied (sequence 0 and 1) go.
	purgeACLChanges(ctx, s, acl.ZKLiteralChangesPath, names, 1, time.Now())
	if left, _, _ := s.Children(ctx, acl.ZKLiteralChangesPath); len(left) != 3 {
		t.Fatalf("fresh notifications purged: %v", left)
	}
	purgeACLChanges(ctx, s, acl.ZKLiteralChangesPath, names, 1, time.Now().Add(aclChangeExpiry+time.Minute))
	left, _, _ := s.Children(ctx, acl.ZKLiteralChangesPath)
	if len(left) != 1 || changeSeq(left[0]) != 2 {
		t.Fatalf("after the purge %v, want only the unapplied acl_changes_0000000002", left)
	}
}

// DescribeConfigs tells what the broker authorizes with.
func TestACLConfigsDescribed(t *testing.T) {
	b := newTestBroker(t, func(c *Config) {
		c.Authz = AuthzConfig{AuthorizerClass: aclAuthorizerClass, SuperUsers: []string{"User:ANONYMOUS", "User:admin"}, AllowIfNoACL: true}
	})
	ctx := testCtx(t, 10*time.Second)
	rcs, err := (&testCluster{t: t, brokers: []*Broker{b}}).admin().DescribeBrokerConfigs(ctx, b.BrokerID())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, rc := range rcs {
		for _, c := range rc.Configs {
			got[c.Key] = c.MaybeValue()
		}
	}
	want := map[string]string{"authorizer.class.name": aclAuthorizerClass, "super.users": "User:ANONYMOUS;User:admin",
		"allow.everyone.if.no.acl.found": "true"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
}
