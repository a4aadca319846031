package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/osprey-kafka/osprey/internal/testenv"
	"github.com/osprey-kafka/osprey/server/service"
)

// A secured runtime cluster (ZooKeeper mode) made from the runtime-cluster API: SASL_SSL brokers
// with a CA made for the cluster, the console connected with its generated SCRAM-SHA-512 admin
// credential (never shown), a client without TLS and SASL refused, and it is the runtime
// that enforces what the console manages — a SCRAM user made from the console signs in with franz-go,
// is refused a topic it has no ACL for (nothing written), and may write once the console adds one.
func TestSecuredRuntimeCluster(t *testing.T) {
	e := newAPIEnv(t)
	for _, bad := range []map[string]any{
		{"name": "sec", "brokers": 1, "secured": "yes"},
	} {
		if code, body := e.call("POST", "/api/v1/runtime/clusters", testToken, bad); code != 400 || errorCode(body) == "" {
			t.Errorf("create %v = %d %v, want 400 with an error code", bad, code, body)
		}
	}
	code, body := e.call("POST", "/api/v1/runtime/clusters", testToken, map[string]any{"name": "sec", "brokers": 1, "secured": true})
	if code != 201 {
		t.Fatalf("create = %d %v", code, body)
	}
	t.Cleanup(func() { _ = e.svc.DeleteRuntimeCluster(context.Background(), service.Caller{}, "sec") })
	if body["securityProtocol"] != "SASL_SSL" || body["saslMechanism"] != "SCRAM-SHA-512" || body["adminUser"] != "osprey-admin" {
		t.Fatalf("created %v, want securityProtocol SASL_SSL, saslMechanism SCRAM-SHA-512 and adminUser osprey-admin", body)
	}
	raw, _ := json.Marshal(body)
	if strings.Contains(strings.ToLower(string(raw)), "password") || strings.Contains(string(raw), "PRIVATE KEY") {
		t.Fatalf("the answer mentions a password or a key: %s", raw)
	}
	bootstrap := strings.Split(body["bootstrapServers"].(string), ",")
	ca := x509.NewCertPool()
	if pem, _ := body["caCertificate"].(string); !ca.AppendCertsFromPEM([]byte(pem)) {
		t.Fatalf("caCertificate %q is not a PEM certificate", pem)
	}
	trustCA := kgo.DialTLSConfig(&tls.Config{MinVersion: tls.VersionTLS12, RootCAs: ca})

	// Without TLS and SASL the broker does not answer.
	plain, err := kgo.NewClient(kgo.SeedBrokers(bootstrap...), kgo.RequestRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	pctx, pcancel := context.WithTimeout(context.Background(), 3*time.Second)
	if err := plain.Ping(pctx); err == nil {
		t.Fatal("a client without SASL was answered")
	}
	pcancel()
	plain.Close()

	// The console works on it with its admin credential.
	if code, body := e.call("POST", "/api/v1/clusters/sec/topics", testToken, map[string]any{"name": "orders", "partitions": 1, "replicationFactor": 1}); code != 201 {
		t.Fatalf("create topic = %d %v", code, body)
	}
	code, body = e.call("PUT", "/api/v1/clusters/sec/scram-users/dave", testToken, map[string]any{"mechanism": "SCRAM-SHA-512", "generate": true})
	pass, _ := body["generatedPassword"].(string)
	if code != 200 || pass == "" {
		t.Fatalf("create dave = %d %v", code, body)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap...), trustCA, kgo.SASL(scram.Auth{User: "dave", Pass: pass}.AsSha512Mechanism()),
		kgo.RequestRetries(0), kgo.ProducerLinger(0), kgo.RecordRetries(1))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	produce := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return cl.ProduceSync(ctx, &kgo.Record{Topic: "orders", Value: []byte("hello")}).FirstErr()
	}
	// The broker learns of the credential a moment after the console's answer; until it has, the
	// sign-in fails. Once signed in, writing without an ACL is refused.
	testenv.WaitFor(t, 20*time.Second, func() error {
		err := produce()
		if errors.Is(err, kerr.TopicAuthorizationFailed) {
			return nil
		}
		return fmt.Errorf("dave's produce without an ACL = %v, want TOPIC_AUTHORIZATION_FAILED", err)
	})
	if code, body := e.call("POST", "/api/v1/clusters/sec/acls", testToken, map[string]any{"bindings": []any{
		aclBinding("User:dave", "WRITE", "ALLOW", "TOPIC", "orders", "LITERAL"),
	}}); code != 201 {
		t.Fatalf("create ACL = %d %v", code, body)
	}
	testenv.WaitFor(t, 20*time.Second, func() error {
		if err := produce(); err != nil {
			return fmt.Errorf("dave's produce with a WRITE ACL: %w", err)
		}
		return nil
	})
}
