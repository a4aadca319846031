package server

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/osprey-kafka/osprey/admin"
	"github.com/osprey-kafka/osprey/broker/supervisor"
	"github.com/osprey-kafka/osprey/collector"
	"github.com/osprey-kafka/osprey/internal/testenv"
	"github.com/osprey-kafka/osprey/server/service"
)

// newSecuredRuntimeEnv is the console on a one-broker Osprey runtime cluster with a SASL_PLAINTEXT
// listener (PLAIN for the console's admin, SCRAM for the users it creates) and the ACL authorizer on,
// admin being the only super user.
func newSecuredRuntimeEnv(t *testing.T) (*apiEnv, string) {
	t.Helper()
	ctx := context.Background()
	props := map[string]string{
		// The supervisor names the listener PLAINTEXT on the port it picks; the map makes it SASL.
		"listener.security.protocol.map":                 "PLAINTEXT:SASL_PLAINTEXT",
		"sasl.enabled.mechanisms":                        "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512",
		"sasl.mechanism.inter.broker.protocol":           "PLAIN",
		"listener.name.plaintext.plain.sasl.jaas.config": `org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret" user_admin="admin-secret";`,
		"authorizer.class.name":                          "kafka.security.authorizer.AclAuthorizer",
		"super.users":                                    "User:admin",
		"offsets.topic.replication.factor":               "1",
		"transaction.state.log.replication.factor":       "1",
	}
	sup, err := supervisor.New(supervisor.Options{Brokers: 1, Mode: supervisor.InProcess, DataDir: t.TempDir(), Logger: quietLogger(), Properties: props})
	if err != nil {
		t.Fatal(err)
	}
	if err := sup.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sup.Close() })
	st := openTestStore(t)
	svc := service.New(service.Options{Store: st, Logger: quietLogger(), DataDir: t.TempDir(),
		Collector: collector.Config{OffsetsInterval: time.Hour, GroupsInterval: time.Hour}})
	if _, err := svc.SetupAdminToken(ctx, testToken); err != nil {
		t.Fatal(err)
	}
	bootstrap := sup.BootstrapServers()
	cfg := admin.Config{Bootstrap: strings.Split(bootstrap, ","), SASL: admin.SASLConfig{Mechanism: admin.SASLPlain, Username: "admin", Password: "admin-secret"}}
	if err := svc.AddCluster(ctx, service.ClusterSpec{Name: "rt", Source: "config", Admin: cfg}); err != nil {
		t.Fatal(err)
	}
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Stop)
	return &apiEnv{t: t, st: st, svc: svc, srv: newTestServer(t, Options{Service: svc, Logger: quietLogger()})}, bootstrap
}

// The security endpoints against Osprey's own runtime with SASL and the ACL authorizer: ACLs made
// through the console decide the checker's answers, the broker's super.users is read and applied, a
// SCRAM user made through the console (salted by the console) signs in with the default 8192
// iterations, and quotas round-trip.
func TestSecurityOnRuntime(t *testing.T) {
	e, bootstrap := newSecuredRuntimeEnv(t)
	const base = "/api/v1/clusters/rt"
	code, body := e.call("POST", base+"/acls", testToken, map[string]any{"bindings": []any{
		aclBinding("User:alice", "WRITE", "ALLOW", "TOPIC", "pay-", "PREFIXED"),
		aclBinding("User:*", "READ", "DENY", "TOPIC", "pay-secret", "LITERAL"),
	}})
	if code != 201 || body["created"] != float64(2) {
		t.Fatalf("create = %d %v", code, body)
	}
	if code, body := e.call("GET", base+"/acls?patternType=PREFIXED", "", nil); code != 200 || len(body["acls"].([]any)) != 1 || body["total"] != float64(2) {
		t.Fatalf("list = %d %v", code, body)
	}
	check := func(q url.Values) map[string]any {
		t.Helper()
		code, body := e.call("GET", base+"/acls/check?"+q.Encode(), "", nil)
		if code != 200 {
			t.Fatalf("check %v = %d %v", q, code, body)
		}
		return body
	}
	d := check(url.Values{"principal": {"User:alice"}, "operation": {"DESCRIBE"}, "resourceType": {"TOPIC"}, "resourceName": {"pay-eu"}})
	if d["allowed"] != true || d["reason"] != "allow_acl" {
		t.Fatalf("alice DESCRIBE pay-eu (implied by WRITE) = %v", d)
	}
	d = check(url.Values{"principal": {"User:alice"}, "operation": {"READ"}, "resourceType": {"TOPIC"}, "resourceName": {"pay-secret"}})
	if d["allowed"] != false || d["reason"] != "deny_acl" {
		t.Fatalf("alice READ pay-secret = %v", d)
	}
	// admin is a super user only if the broker's DescribeConfigs reports super.users; when it does not,
	// the answer must say Kafka's default (none) was assumed.
	d = check(url.Values{"principal": {"User:admin"}, "operation": {"ALTER"}, "resourceType": {"CLUSTER"}, "resourceName": {"kafka-cluster"}})
	s := d["settings"].(map[string]any)
	if fmt.Sprint(s["missing"]) == "[]" {
		if d["allowed"] != true || d["reason"] != "super_user" || !strings.Contains(s["authorizerClassName"].(string), "AclAuthorizer") {
			t.Fatalf("admin (super.users from the broker) = %v", d)
		}
	} else if d["reason"] != "no_acl_denied" || !strings.Contains(d["explain"].(string), "does not report super.users") {
		t.Fatalf("admin with super.users unreported = %v", d)
	} else {
		t.Logf("the runtime's DescribeConfigs does not report %v", s["missing"])
	}
	if code, body := e.call("POST", base+"/acls/delete", testToken, aclBinding("User:*", "READ", "DENY", "TOPIC", "pay-secret", "LITERAL")); code != 200 || body["deleted"] != float64(1) {
		t.Fatalf("delete = %d %v", code, body)
	}

	code, body = e.call("PUT", base+"/scram-users/carol", testToken, map[string]any{"mechanism": "SCRAM-SHA-512", "generate": true})
	gen, _ := body["generatedPassword"].(string)
	if code != 200 || gen == "" || body["iterations"] != float64(8192) {
		t.Fatalf("create carol = %d %v", code, body)
	}
	// The broker learns of the credential from its metadata store a moment after the answer.
	testenv.WaitFor(t, 15*time.Second, func() error {
		cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(bootstrap, ",")...), kgo.SASL(scram.Auth{User: "carol", Pass: gen}.AsSha512Mechanism()), kgo.RequestRetries(0))
		if err != nil {
			return err
		}
		defer cl.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := cl.Ping(ctx); err != nil {
			return fmt.Errorf("carol signs in with the console's credential: %w", err)
		}
		return nil
	})
	if code, body := e.call("GET", base+"/scram-users", "", nil); code != 200 || !strings.Contains(fmt.Sprint(body), "name:carol") {
		t.Fatalf("users = %d %v", code, body)
	}

	if code, body := e.call("PUT", base+"/quotas", testToken, map[string]any{"user": "carol", "set": map[string]any{"producer_byte_rate": 1048576}}); code != 204 {
		t.Fatalf("quota = %d %v", code, body)
	}
	if code, body := e.call("GET", base+"/quotas", "", nil); code != 200 || !strings.Contains(fmt.Sprint(body), "map[user:carol values:map[producer_byte_rate:1.048576e+06]]") {
		t.Fatalf("quotas = %d %v", code, body)
	}
}
