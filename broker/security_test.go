package broker

import (
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/osprey-kafka/osprey/internal/testenv"
)

func parseProps(t *testing.T, s string) (Config, error) {
	t.Helper()
	return ParseProperties(strings.NewReader(s), slog.New(slog.DiscardHandler))
}

func TestSecurityPropertiesParse(t *testing.T) {
	cfg, err := parseProps(t, `
listeners=PLAINTEXT://:9092,INTERNAL://:9093,EXTERNAL://:9094
advertised.listeners=PLAINTEXT://a:9092,INTERNAL://b:9093,EXTERNAL://c:9094
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,INTERNAL:SASL_PLAINTEXT,EXTERNAL:SASL_SSL
inter.broker.listener.name=INTERNAL
sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256
listener.name.external.sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=PLAIN
listener.name.internal.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required \
  username="admin" password="admin-secret" user_admin="admin-secret" user_alice="alice \"quoted\" secret";
listener.name.external.ssl.keystore.location=/etc/kafka/broker.p12
listener.name.external.ssl.keystore.password=ks-secret
ssl.client.auth=requested
ssl.truststore.location=/etc/kafka/ca.pem
ssl.principal.mapping.rules=RULE:^CN=([^,]+),OU=ops.*$/$1-ops/L,DEFAULT
connections.max.reauth.ms=60000
`)
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.interBrokerListener(); got != "INTERNAL" {
		t.Errorf("inter-broker listener %q", got)
	}
	in, err := cfg.listenerSecurity("INTERNAL")
	if err != nil {
		t.Fatal(err)
	}
	if in.Protocol != protoSASLPlaintext || strings.Join(in.Mechanisms, ",") != "PLAIN,SCRAM-SHA-256" {
		t.Errorf("INTERNAL: %+v", in)
	}
	users := in.JAAS["PLAIN"].PlainUsers()
	if users["alice"] != `alice "quoted" secret` || users["admin"] != "admin-secret" || len(users) != 2 {
		t.Errorf("PLAIN users %v", users)
	}
	ex, err := cfg.listenerSecurity("EXTERNAL")
	if err != nil {
		t.Fatal(err)
	}
	if ex.TLS == nil || ex.TLS.KeystoreType != "PKCS12" || ex.TLS.KeystorePassword != "ks-secret" || ex.TLS.ClientAuth != "requested" {
		t.Errorf("EXTERNAL TLS %+v", ex.TLS)
	}
	if strings.Join(ex.Mechanisms, ",") != "SCRAM-SHA-512" {
		t.Errorf("EXTERNAL mechanisms %v (listener.name prefix must win)", ex.Mechanisms)
	}
	if cfg.Security.ReauthMax != time.Minute {
		t.Errorf("reauth %v", cfg.Security.ReauthMax)
	}
	// The written properties read back the same.
	again, err := ConfigFromProperties(cfg.Properties(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("round trip: %v", err)
	}
	in2, _ := again.listenerSecurity("INTERNAL")
	if again.interBrokerListener() != "INTERNAL" || in2.JAAS["PLAIN"].PlainUsers()["alice"] != users["alice"] {
		t.Errorf("round trip lost security settings")
	}
}

func TestSecurityPropertiesRefused(t *testing.T) {
	const sasl = "listeners=SASL_PLAINTEXT://:9092\nsasl.enabled.mechanisms=PLAIN\n"
	const jaas = `listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="TOPSECRET" user_admin="TOPSECRET";` + "\n"
	for _, tc := range []struct{ props, key string }{
		{"listeners=FOO://:9092", "listeners"},
		{"listener.security.protocol.map=A:TLS", "listener.security.protocol.map"},
		{sasl, "listener.name.sasl_plaintext.plain.sasl.jaas.config"},
		{"listeners=SASL_PLAINTEXT://:9092\nsasl.enabled.mechanisms=GSSAPI\n" + jaas, "sasl.enabled.mechanisms"},
		{sasl + "listener.name.sasl_plaintext.plain.sasl.jaas.config=PlainLoginModule demanded user_a=\"TOPSECRET\";", "sasl.jaas.config"},
		{sasl + "listener.name.sasl_plaintext.plain.sasl.jaas.config=PlainLoginModule required user_a=\"TOPSECRET", "sasl.jaas.config"},
		{sasl + jaas + "sasl.mechanism.inter.broker.protocol=SCRAM-SHA-256", "sasl.mechanism.inter.broker.protocol"},
		{"listeners=SSL://:9093", "ssl.keystore.location"},
		{"listeners=SSL://:9093\nssl.keystore.location=/k.jks", "ssl.keystore.type"},
		{"listeners=SSL://:9093\nssl.keystore.location=/k.pem\nssl.client.auth=always", "ssl.client.auth"},
		{"listeners=SSL://:9093\nssl.keystore.location=/k.pem\nssl.client.auth=required", "ssl.truststore.location"},
		{"listeners=SSL://:9093\nssl.keystore.location=/k.pem\nssl.enabled.protocols=TLSv1.1,TLSv1.2", "ssl.enabled.protocols"},
		{"listeners=SSL://:9093\nssl.keystore.location=/k.pem\nssl.principal.mapping.rules=RULE:^CN=(.*)$/$1", "ssl.principal.mapping.rules"},
		{"listeners=PLAINTEXT://:9092\ninter.broker.listener.name=INTERNAL", "inter.broker.listener.name"},
		{"inter.broker.listener.name=PLAINTEXT\nsecurity.inter.broker.protocol=PLAINTEXT", "security.inter.broker.protocol"},
		{"connections.max.reauth.ms=soon", "connections.max.reauth.ms"},
	} {
		_, err := parseProps(t, tc.props)
		if err == nil || !strings.Contains(err.Error(), tc.key) {
			t.Errorf("%q: error %v does not name %s", tc.props, err, tc.key)
			continue
		}
		if strings.Contains(err.Error(), "TOPSECRET") {
			t.Errorf("%q: error shows a secret: %v", tc.props, err)
		}
	}
}

func TestPrincipalMappingRules(t *testing.T) {
	rules, err := parsePrincipalRules(`RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/, RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/L, RULE:^.*[Cc][Nn]=([a-zA-Z0-9.]*).*$/$1/U, DEFAULT`)
	if err != nil {
		t.Fatal(err)
	}
	for dn, want := range map[string]string{ // Kafka's documented examples
		"CN=serviceuser,OU=ServiceUsers,O=Unknown,L=Unknown,ST=Unknown,C=Unknown": "serviceuser",
		"CN=adminUser,OU=Admin,O=Unknown,L=Unknown,ST=Unknown,C=Unknown":          "adminuser@admin",
		"CN=kafka1.example.org,O=x": "KAFKA1.EXAMPLE.ORG",
		"O=nothing":                 "O=nothing",
	} {
		if got, err := mapPrincipal(rules, dn); err != nil || got != want {
			t.Errorf("%s -> %q, %v; want %q", dn, got, err, want)
		}
	}
	only, _ := parsePrincipalRules(`RULE:^CN=(.*)$/$1/`)
	if _, err := mapPrincipal(only, "O=x"); err == nil {
		t.Error("a name no rule matches was mapped")
	}
}

// saslBroker starts a broker whose only listener is SASL_PLAINTEXT with
// PLAIN users admin and alice.
func saslBroker(t *testing.T, extra map[string]string) *Broker {
	props := map[string]string{
		"sasl.enabled.mechanisms":                             "PLAIN",
		"listener.name.sasl_plaintext.plain.sasl.jaas.config": plainJAAS(map[string]string{"alice": "alice-secret"}),
	}
	for k, v := range extra {
		props[k] = v
	}
	return newTestBroker(t, withSecurity(t, "SASL_PLAINTEXT://127.0.0.1:0", props))
}

// franz-go over SASL_PLAINTEXT with PLAIN: the right password produces and
// consumes; a wrong one is refused with SASL_AUTHENTICATION_FAILED and the
// failure is counted for the listener.
func TestSASLPlainFranzGo(t *testing.T) {
	b := saslBroker(t, nil)
	ctx := testCtx(t, 60*time.Second)
	cl := saslPlainClient(t, b.Addr(), "alice", "alice-secret", kgo.ConsumeTopics("sasl-t"))
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "sasl-t", Value: []byte("hello")}).FirstErr(); err != nil {
		t.Fatalf("produce as alice: %v", err)
	}
	fs := cl.PollFetches(ctx)
	if err := fs.Err(); err != nil || fs.NumRecords() != 1 || string(fs.Records()[0].Value) != "hello" {
		t.Fatalf("consume: %v, %d records", err, fs.NumRecords())
	}

	bad := saslPlainClient(t, b.Addr(), "alice", "wrong", kgo.RequestRetries(0))
	err := bad.Ping(ctx)
	if !errors.Is(err, kerr.SaslAuthenticationFailed) {
		t.Fatalf("wrong password: err %v, want SASL_AUTHENTICATION_FAILED", err)
	}
	if n := counterValue(b.authFails.failures.WithLabelValues("SASL_PLAINTEXT")); n < 1 {
		t.Errorf("failures counted %v", n)
	}
}

// On the wire: a wrong password is answered, then the connection closes; a
// request before authentication closes it unanswered; v0 and v2
// SaslAuthenticate work.
func TestSASLWireBehaviour(t *testing.T) {
	b := saslBroker(t, map[string]string{"connection.failed.authentication.delay.ms": "0"})
	ctx := testCtx(t, 30*time.Second)
	dial := func() *kafkaConn {
		k, err := dialKafka(ctx, b.Addr(), "raw", nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { k.Close() })
		return k
	}

	k := dial()
	if _, err := rawDo(ctx, k, kmsg.NewPtrMetadataRequest()); err == nil {
		t.Fatal("Metadata before authentication was answered")
	}

	k = dial()
	if _, err := rawDo(ctx, k, kmsg.NewPtrApiVersionsRequest()); err != nil {
		t.Fatalf("ApiVersions before authentication: %v", err)
	}
	ar := rawPlainAuth(ctx, t, k, 2, "alice", "nope")
	if ar.ErrorCode != kerr.SaslAuthenticationFailed.Code || ar.ErrorMessage == nil || strings.Contains(*ar.ErrorMessage, "nope") {
		t.Fatalf("wrong password answered %d %v", ar.ErrorCode, ar.ErrorMessage)
	}
	if _, err := rawDo(ctx, k, kmsg.NewPtrApiVersionsRequest()); err == nil {
		t.Fatal("connection still open after a failed authentication")
	}

	for _, v := range []int16{0, 2} {
		k = dial()
		if ar := rawPlainAuth(ctx, t, k, v, "alice", "alice-secret"); ar.ErrorCode != 0 {
			t.Fatalf("v%d: error %d", v, ar.ErrorCode)
		}
		if _, err := rawDo(ctx, k, kmsg.NewPtrMetadataRequest()); err != nil {
			t.Fatalf("v%d: Metadata after authentication: %v", v, err)
		}
	}

	// A failed re-authentication ends the session: the connection closes.
	k = dial()
	rawPlainAuth(ctx, t, k, 2, "alice", "alice-secret")
	if ar := rawPlainAuth(ctx, t, k, 2, "alice", "wrong"); ar.ErrorCode != kerr.SaslAuthenticationFailed.Code {
		t.Fatalf("re-authentication with a wrong password answered %d", ar.ErrorCode)
	}
	if _, err := rawDo(ctx, k, kmsg.NewPtrMetadataRequest()); err == nil {
		t.Fatal("Metadata served after a failed re-authentication")
	}

	// An unknown mechanism: UNSUPPORTED_SASL_MECHANISM with the list.
	k = dial()
	hs := kmsg.NewPtrSASLHandshakeRequest()
	hs.Version, hs.Mechanism = 1, "GSSAPI"
	hr, err := rawDo(ctx, k, hs)
	if err != nil {
		t.Fatal(err)
	}
	if r := hr.(*kmsg.SASLHandshakeResponse); r.ErrorCode != kerr.UnsupportedSaslMechanism.Code || strings.Join(r.SupportedMechanisms, ",") != "PLAIN" {
		t.Fatalf("GSSAPI handshake: %+v", r)
	}
}

// SaslHandshake v0: the exchange continues in bare length-prefixed tokens.
func TestSASLHandshakeV0RawTokens(t *testing.T) {
	b := saslBroker(t, nil)
	ctx := testCtx(t, 30*time.Second)
	k, err := dialKafka(ctx, b.Addr(), "raw", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	hs := kmsg.NewPtrSASLHandshakeRequest()
	hs.Version, hs.Mechanism = 0, "PLAIN"
	if hr, err := rawDo(ctx, k, hs); err != nil || hr.(*kmsg.SASLHandshakeResponse).ErrorCode != 0 {
		t.Fatalf("v0 handshake: %v", err)
	}
	tok := []byte("\x00alice\x00alice-secret")
	frame := append([]byte{0, 0, 0, byte(len(tok))}, tok...)
	if _, err := k.c.Write(frame); err != nil {
		t.Fatal(err)
	}
	var ans [4]byte
	k.c.SetReadDeadline(time.Now().Add(10 * time.Second)) //nolint:errcheck
	if _, err := k.c.Read(ans[:]); err != nil || ans != [4]byte{} {
		t.Fatalf("raw token answer %v, %v; want an empty token", ans, err)
	}
	if _, err := rawDo(ctx, k, kmsg.NewPtrMetadataRequest()); err != nil {
		t.Fatalf("Metadata after v0 authentication: %v", err)
	}
}

// KIP-368: the session lifetime is connections.max.reauth.ms; a connection
// that does not re-authenticate is closed at its next request after that,
// while franz-go, which re-authenticates, keeps working.
func TestSASLReauthentication(t *testing.T) {
	b := saslBroker(t, map[string]string{"connections.max.reauth.ms": "1000"})
	ctx := testCtx(t, 60*time.Second)
	k, err := dialKafka(ctx, b.Addr(), "raw", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	ar := rawPlainAuth(ctx, t, k, 1, "alice", "alice-secret")
	if ar.ErrorCode != 0 || ar.SessionLifetimeMillis != 1000 {
		t.Fatalf("authenticate: error %d lifetime %d, want 1000", ar.ErrorCode, ar.SessionLifetimeMillis)
	}
	start := time.Now()
	testenv.WaitFor(t, 10*time.Second, func() error {
		if _, err := rawDo(ctx, k, kmsg.NewPtrMetadataRequest()); err == nil {
			return errors.New("still served")
		}
		return nil
	})
	if since := time.Since(start); since < 900*time.Millisecond {
		t.Fatalf("closed after %v, before the session ended", since)
	}

	cl := saslPlainClient(t, b.Addr(), "alice", "alice-secret")
	clStart := time.Now()
	testenv.WaitFor(t, 20*time.Second, func() error {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "reauth", Value: []byte("x")}).FirstErr(); err != nil {
			return fmt.Errorf("produce: %w", err)
		}
		if since := time.Since(clStart); since < 2500*time.Millisecond {
			return fmt.Errorf("only %v of a 1 s session lifetime so far", since)
		}
		return nil
	})
}

// Repeated failures from one address are answered ever more slowly, up to
// a bound.
func TestAuthFailureDelay(t *testing.T) {
	var f authFailures
	now := time.Now()
	var got []time.Duration
	for i := range 8 {
		got = append(got, f.record("10.0.0.1", 100*time.Millisecond, now.Add(time.Duration(i)*time.Second)))
	}
	if got[0] != 100*time.Millisecond || got[1] != 200*time.Millisecond || got[7] != maxAuthFailDelay {
		t.Errorf("delays %v", got)
	}
	if d := f.record("10.0.0.2", 100*time.Millisecond, now); d != 100*time.Millisecond {
		t.Errorf("another address waits %v", d)
	}
	if d := f.record("10.0.0.1", 100*time.Millisecond, now.Add(time.Hour)); d != 100*time.Millisecond {
		t.Errorf("after a quiet hour %v", d)
	}
}

// TLS: an SSL listener with a PEM keystore and one with a PKCS12 keystore;
// franz-go fetches over TLS from file-backed logs (read+write, not
// sendfile); mutual TLS maps the client certificate's name to the
// principal.
func TestTLSListeners(t *testing.T) {
	pki := newTestPKI(t)
	srv := pki.issue("broker", pkix.Name{CommonName: "broker"})
	p12 := pki.pkcs12(srv, "broker.p12", "ks-secret")
	alice := pki.issue("alice", pkix.Name{CommonName: "alice", OrganizationalUnit: []string{"eng"}, Organization: []string{"acme"}})
	b := newTestBroker(t, withDir(t.TempDir()), withSecurity(t, "SSL://127.0.0.1:0,MTLS://127.0.0.1:0,PLAINTEXT://127.0.0.1:0", map[string]string{
		"listener.security.protocol.map":             "SSL:SSL,MTLS:SSL,PLAINTEXT:PLAINTEXT",
		"listener.name.ssl.ssl.keystore.location":    srv.bundleFile,
		"listener.name.mtls.ssl.keystore.location":   p12,
		"listener.name.mtls.ssl.keystore.type":       "PKCS12",
		"listener.name.mtls.ssl.keystore.password":   "ks-secret",
		"listener.name.mtls.ssl.client.auth":         "required",
		"listener.name.mtls.ssl.truststore.location": pki.caFile,
		"ssl.principal.mapping.rules":                "RULE:^CN=([^,]+),OU=eng,.*$/$1/L,DEFAULT",
	}))
	ctx := testCtx(t, 60*time.Second)

	cl, err := kgo.NewClient(kgo.SeedBrokers(b.ListenerAddr("SSL")), kgo.DialTLSConfig(pki.clientTLS(nil)),
		kgo.AllowAutoTopicCreation(), kgo.ConsumeTopics("tls-t"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	big := strings.Repeat("0123456789abcdef", 64<<10) // 1 MiB: several TLS records per fetch
	for i := range 4 {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "tls-t", Value: []byte(fmt.Sprintf("%d%s", i, big[:len(big)/4]))}).FirstErr(); err != nil {
			t.Fatalf("produce over TLS: %v", err)
		}
	}
	got := 0
	for got < 4 {
		fs := cl.PollFetches(ctx)
		if err := fs.Err(); err != nil {
			t.Fatalf("fetch over TLS: %v", err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			if want := fmt.Sprintf("%d%s", got, big[:len(big)/4]); string(r.Value) != want {
				t.Fatalf("record %d differs (len %d)", got, len(r.Value))
			}
			got++
		})
	}

	// Mutual TLS: no certificate is refused; alice's maps to User:alice.
	anon, _ := kgo.NewClient(kgo.SeedBrokers(b.ListenerAddr("MTLS")), kgo.DialTLSConfig(pki.clientTLS(nil)), kgo.RequestRetries(0))
	defer anon.Close()
	if err := anon.Ping(ctx); err == nil {
		t.Fatal("MTLS listener served a client without a certificate")
	}
	mc, _ := kgo.NewClient(kgo.SeedBrokers(b.ListenerAddr("MTLS")), kgo.DialTLSConfig(pki.clientTLS(&alice)))
	defer mc.Close()
	if err := mc.Ping(ctx); err != nil {
		t.Fatalf("MTLS with alice's certificate: %v", err)
	}
	testenv.WaitFor(t, 5*time.Second, func() error {
		for _, p := range connPrincipals(b, "MTLS") {
			if p == "User:alice" {
				return nil
			}
		}
		return fmt.Errorf("principals on MTLS: %v", connPrincipals(b, "MTLS"))
	})

	// The metadata a client gets names the endpoints of its own listener.
	for _, name := range []string{"SSL", "PLAINTEXT"} {
		host, port := b.cluster.Brokers()[0].at(name)
		if want := b.ListenerAddr(name); fmt.Sprintf("%s:%d", host, port) != want {
			t.Errorf("%s endpoint %s:%d, want %s", name, host, port, want)
		}
	}
}

// connPrincipals lists the principals of the open connections on listener.
func connPrincipals(b *Broker, listener string) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for c := range b.conns {
		if c.listener != nil && c.listener.name == listener {
			out = append(out, c.Principal())
		}
	}
	return out
}

// A bad keystore password fails Start with the property to fix.
func TestTLSKeystoreErrors(t *testing.T) {
	pki := newTestPKI(t)
	srv := pki.issue("broker", pkix.Name{CommonName: "broker"})
	p12 := pki.pkcs12(srv, "broker.p12", "right")
	cfg := testConfig(withSecurity(t, "SSL://127.0.0.1:0", map[string]string{
		"ssl.keystore.location": p12, "ssl.keystore.password": "wrong"}))
	b, err := New(cfg, WithLogger(testLogger(t)))
	if err != nil {
		t.Fatal(err)
	}
	err = b.Start(testCtx(t, 10*time.Second))
	if err == nil {
		b.Close()
		t.Fatal("started with a wrong keystore password")
	}
	if !strings.Contains(err.Error(), "ssl.keystore.password") {
		t.Errorf("error %v does not name ssl.keystore.password", err)
	}
}

// Inline PEM key material (ssl.keystore.type=PEM with the certificate chain
// and key in the properties) serves TLS too.
func TestTLSInlinePEM(t *testing.T) {
	pki := newTestPKI(t)
	srv := pki.issue("broker", pkix.Name{CommonName: "broker"})
	b := newTestBroker(t, withSecurity(t, "SSL://127.0.0.1:0", map[string]string{
		"ssl.keystore.type": "PEM", "ssl.keystore.certificate.chain": string(srv.certPEM), "ssl.keystore.key": string(srv.keyPEM)}))
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()), kgo.DialTLSConfig(pki.clientTLS(nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.Ping(testCtx(t, 20*time.Second)); err != nil {
		t.Fatal(err)
	}
}

// Three brokers whose inter-broker listener is SASL_PLAINTEXT replicate:
// the followers' fetches and the controller's requests authenticate with
// the JAAS config's username and password.
func TestInterBrokerSASLReplication(t *testing.T) {
	props := map[string]string{
		"listener.security.protocol.map":                "PLAINTEXT:PLAINTEXT,INTERNAL:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT",
		"inter.broker.listener.name":                    "INTERNAL",
		"sasl.enabled.mechanisms":                       "PLAIN",
		"sasl.mechanism.inter.broker.protocol":          "PLAIN",
		"listener.name.internal.plain.sasl.jaas.config": plainJAAS(nil),
	}
	t.Run("zookeeper", func(t *testing.T) {
		testInterBrokerSASL(t, newTestCluster(t, 3, localConnector(t), withSecurity(t, "PLAINTEXT://127.0.0.1:0,INTERNAL://127.0.0.1:0", props)))
	})
	t.Run("kraft", func(t *testing.T) {
		// The KRaft helper names the PLAINTEXT and CONTROLLER listeners; INTERNAL is added.
		testInterBrokerSASL(t, newKRaftTestCluster(t, 3, func(c *Config) {
			withSecurity(t, strings.Join(append(c.Listeners, "INTERNAL://127.0.0.1:0"), ","), props)(c)
		}))
	})
}

func testInterBrokerSASL(t *testing.T, c *testCluster) {
	testInterBrokerReplication(t, c)
	var auths float64
	for _, b := range c.brokers {
		auths += counterValue(b.authFails.successes.WithLabelValues("INTERNAL"))
	}
	if auths < 2 {
		t.Errorf("%v SASL authentications on INTERNAL; the brokers did not authenticate to each other", auths)
	}
}

// testInterBrokerReplication replicates acks=all through a cluster whose
// clients use PLAINTEXT and whose brokers talk on INTERNAL.
func testInterBrokerReplication(t *testing.T, c *testCluster) {
	ctx := testCtx(t, 90*time.Second)
	adm := c.admin()
	if _, err := adm.CreateTopic(ctx, 3, 3, nil, "ib"); err != nil {
		t.Fatal(err)
	}
	c.waitFullISR("ib", 30*time.Second)
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.addrs()...), kgo.RequiredAcks(kgo.AllISRAcks()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for i := range 30 {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "ib", Value: []byte(fmt.Sprint(i))}).FirstErr(); err != nil {
			t.Fatalf("produce acks=all: %v", err)
		}
	}
	c.waitFullISR("ib", 30*time.Second)
	for _, b := range c.brokers {
		// Clients on PLAINTEXT are sent the PLAINTEXT endpoints.
		for _, bi := range b.cluster.Brokers() {
			if host, port := bi.at("PLAINTEXT"); port == bi.Port {
				t.Errorf("broker %d: PLAINTEXT endpoint %s:%d is the inter-broker one", bi.ID, host, port)
			}
		}
	}
}

// Brokers whose inter-broker listener is SSL with client auth required
// replicate: each presents its keystore's certificate to the others and
// checks theirs against the truststore.
func TestInterBrokerMutualTLSReplication(t *testing.T) {
	pki := newTestPKI(t)
	srv := pki.issue("broker", pkix.Name{CommonName: "broker", Organization: []string{"osprey"}})
	c := newTestCluster(t, 3, localConnector(t), withSecurity(t, "PLAINTEXT://127.0.0.1:0,INTERNAL://127.0.0.1:0", map[string]string{
		"listener.security.protocol.map":                 "PLAINTEXT:PLAINTEXT,INTERNAL:SSL",
		"inter.broker.listener.name":                     "INTERNAL",
		"listener.name.internal.ssl.keystore.location":   srv.bundleFile,
		"listener.name.internal.ssl.truststore.location": pki.caFile,
		"listener.name.internal.ssl.client.auth":         "required",
	}))
	testInterBrokerReplication(t, c)
	var principals []string
	for _, b := range c.brokers {
		principals = append(principals, connPrincipals(b, "INTERNAL")...)
	}
	if !slices.Contains(principals, "User:CN=broker,O=osprey") {
		t.Errorf("principals on INTERNAL %v, want the brokers' certificate name", principals)
	}
}

func counterValue(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		return -1
	}
	return m.GetCounter().GetValue()
}

// DescribeConfigs reports secrets as Kafka does: null and sensitive.
func TestDescribeConfigsHidesSecrets(t *testing.T) {
	b := saslBroker(t, nil)
	ctx := testCtx(t, 30*time.Second)
	cl := saslPlainClient(t, b.Addr(), "admin", "admin-secret")
	req := kmsg.NewPtrDescribeConfigsRequest()
	res := kmsg.NewDescribeConfigsRequestResource()
	res.ResourceType, res.ResourceName = kmsg.ConfigResourceTypeBroker, "0"
	req.Resources = append(req.Resources, res)
	req.IncludeSynonyms = true
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, c := range resp.Resources[0].Configs {
		for _, s := range c.ConfigSynonyms {
			if s.Value != nil && strings.Contains(*s.Value, "secret") {
				t.Errorf("%s synonym shows %q", c.Name, *s.Value)
			}
		}
		if c.Value != nil && strings.Contains(*c.Value, "secret") {
			t.Errorf("%s = %q", c.Name, *c.Value)
		}
		if c.Name == "listener.name.sasl_plaintext.plain.sasl.jaas.config" {
			found = true
			if c.Value != nil || !c.IsSensitive {
				t.Errorf("JAAS config: value %v sensitive %v", c.Value, c.IsSensitive)
			}
		}
		if c.Name == "sasl.enabled.mechanisms" && (c.Value == nil || *c.Value != "PLAIN") {
			t.Errorf("sasl.enabled.mechanisms = %v", c.Value)
		}
	}
	if !found {
		t.Error("the JAAS config is not listed")
	}
}

// A secured broker starts from the server.properties its configuration
// writes (what the cluster supervisor does): inline PEM survives as \n
// escapes, and a PEM written on one line is read too.
func TestSecurityPropertiesFileRoundTrip(t *testing.T) {
	pki := newTestPKI(t)
	srv := pki.issue("broker", pkix.Name{CommonName: "broker"})
	oneLine := strings.ReplaceAll(string(srv.keyPEM), "\n", "")
	cfg := testConfig(withSecurity(t, "SASL_SSL://127.0.0.1:0", map[string]string{
		"sasl.enabled.mechanisms":                       "PLAIN",
		"listener.name.sasl_ssl.plain.sasl.jaas.config": plainJAAS(map[string]string{"alice": "alice-secret"}),
		"ssl.keystore.type":                             "PEM",
		"ssl.keystore.certificate.chain":                string(srv.certPEM),
		"ssl.keystore.key":                              oneLine,
	}))
	path := t.TempDir() + "/server.properties"
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.WriteProperties(f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	loaded, err := LoadConfigFile(path, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	b := startTestBroker(t, loaded)
	cl := saslPlainClient(t, b.Addr(), "alice", "alice-secret", kgo.DialTLSConfig(pki.clientTLS(nil)))
	if err := cl.Ping(testCtx(t, 20*time.Second)); err != nil {
		t.Fatalf("SASL_SSL from the written file: %v", err)
	}
}

// jaasOptionName is the option an error names ("option <name>: <reason>";
// the name may itself hold colons), whose text FuzzParseJAAS does not count
// as a leaked value.
var jaasOptionName = regexp.MustCompile(`option (.*): [^:]*$`)

func FuzzParseJAAS(f *testing.F) {
	for _, s := range []string{
		`org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="a\"b" user_x=y;`,
		`M required;`, `M optional k="unterminated`, `M required k=v; M required;`, `;`, ``,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		j, err := ParseJAAS(s)
		if err != nil {
			// Errors never quote an option's value (they may name the module
			// and options, which can contain the same text).
			names := j.LoginModule
			for k := range j.Options {
				names += "\x00" + k
			}
			msg := err.Error()
			if m := jaasOptionName.FindStringSubmatch(msg); m != nil {
				names += "\x00" + m[1]
			}
			for _, v := range j.Options {
				if len(v) >= 6 && strings.Contains(msg, v) && !strings.Contains(names, v) {
					t.Fatalf("error %q shows the value %q", err, v)
				}
			}
			return
		}
		if j.LoginModule == "" || j.Options == nil {
			t.Fatalf("accepted %q as %+v", s, j)
		}
	})
}

// A PEM keystore whose key openssl encrypted (PBES2) is read with
// ssl.key.password; a wrong password stops the start naming the key.
func TestTLSEncryptedPEMKey(t *testing.T) {
	pki := newTestPKI(t)
	srv := pki.issue("broker", pkix.Name{CommonName: "broker"})
	for _, args := range [][]string{
		{"-v2", "aes-256-cbc"},
		{"-v2", "aes-128-cbc", "-v2prf", "hmacWithSHA1"},
		{"-v2", "des3", "-v2prf", "hmacWithSHA512"},
	} {
		enc := pki.dir + "/enc-" + strings.Join(args, "") + ".pem"
		cmd := exec.Command("openssl", append([]string{"pkcs8", "-topk8", "-in", srv.keyFile, "-out", enc, "-passout", "pass:key-secret"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("openssl %v: %v: %s", args, err, out)
		}
		key, err := os.ReadFile(enc)
		if err != nil {
			t.Fatal(err)
		}
		bundle := pki.write("bundle-"+strings.Join(args, "")+".pem", append(key, srv.certPEM...))
		b := newTestBroker(t, withSecurity(t, "SSL://127.0.0.1:0", map[string]string{
			"ssl.keystore.location": bundle, "ssl.key.password": "key-secret"}))
		cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()), kgo.DialTLSConfig(pki.clientTLS(nil)))
		if err != nil {
			t.Fatal(err)
		}
		if err := cl.Ping(testCtx(t, 20*time.Second)); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		cl.Close()

		wrong, err := New(testConfig(withSecurity(t, "SSL://127.0.0.1:0", map[string]string{
			"ssl.keystore.location": bundle, "ssl.key.password": "not-it"})), WithLogger(testLogger(t)))
		if err != nil {
			t.Fatal(err)
		}
		if err := wrong.Start(testCtx(t, 10*time.Second)); err == nil || !strings.Contains(err.Error(), "ssl.key.password") {
			wrong.Close()
			t.Fatalf("%v with a wrong key password: %v", args, err)
		}
	}
}

// PKCS12 stores as openssl 3 writes them by default (PBES2: AES-256-CBC,
// PBKDF2 with HMAC-SHA256) serve TLS; a wrong store password is named.
func TestTLSPKCS12PBES2(t *testing.T) {
	pki := newTestPKI(t)
	srv := pki.issue("broker", pkix.Name{CommonName: "broker"})
	p12 := pki.dir + "/aes.p12"
	cmd := exec.Command("openssl", "pkcs12", "-export", "-in", srv.certFile, "-inkey", srv.keyFile, "-out", p12, "-passout", "pass:ks-secret")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("openssl: %v: %s", err, out)
	}
	b := newTestBroker(t, withSecurity(t, "SSL://127.0.0.1:0", map[string]string{
		"ssl.keystore.location": p12, "ssl.keystore.password": "ks-secret", "ssl.keystore.type": "PKCS12"}))
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()), kgo.DialTLSConfig(pki.clientTLS(nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.Ping(testCtx(t, 20*time.Second)); err != nil {
		t.Fatal(err)
	}
	_, err = (TLSSettings{KeystoreType: "PKCS12", KeystoreLocation: p12, KeystorePassword: "nope"}).loadKeyPair()
	if err == nil || !strings.Contains(err.Error(), "wrong password") {
		t.Fatalf("wrong store password: %v", err)
	}
	// keytool's own PKCS12 (the JDK default store type since 9, PBES2 since 12).
	jdk := pki.dir + "/jdk.p12"
	cmd = exec.Command("keytool", "-importkeystore", "-srckeystore", pki.pkcs12(srv, "legacy.p12", "src-secret"), "-srcstoretype", "PKCS12",
		"-srcstorepass", "src-secret", "-destkeystore", jdk, "-deststoretype", "PKCS12", "-deststorepass", "jdk-secret", "-noprompt")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("keytool: %v: %s", err, out)
	}
	if _, err := (TLSSettings{KeystoreType: "PKCS12", KeystoreLocation: jdk, KeystorePassword: "jdk-secret"}).loadKeyPair(); err != nil {
		t.Fatalf("keytool's PKCS12: %v", err)
	}
}
