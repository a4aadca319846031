package broker

import (
	"bytes"
	"context"
	"crypto/x509/pkix"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Clients nobody here wrote against the secured listeners: kcat
// (librdkafka) and kafka-python.

// kcatFails runs kcat and returns its stderr, failing the test if kcat
// succeeded.
func kcatFails(t *testing.T, ctx context.Context, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(ctx, kcatPath(t), args...)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Run(); err == nil {
		t.Fatalf("kcat %v succeeded", args)
	}
	return errb.String()
}

func TestKcatSASLPlain(t *testing.T) {
	b := saslBroker(t, nil)
	ctx := testCtx(t, 90*time.Second)
	addr := b.Addr()
	sasl := func(user, pass string) []string {
		return []string{"-b", addr, "-X", "security.protocol=SASL_PLAINTEXT", "-X", "sasl.mechanisms=PLAIN",
			"-X", "sasl.username=" + user, "-X", "sasl.password=" + pass}
	}
	runKcat(t, ctx, "k1:v1\nk2:v2\n", append(sasl("alice", "alice-secret"), "-P", "-t", "kc-sasl", "-K:")...)
	msgs := parseKcatJSON(t, runKcat(t, ctx, "", append(sasl("alice", "alice-secret"), "-C", "-t", "kc-sasl", "-e", "-J", "-o", "beginning")...))
	if len(msgs) != 2 || msgs[0].Payload != "v1" || msgs[1].Key != "k2" {
		t.Fatalf("kcat consumed %+v", msgs)
	}
	stderr := kcatFails(t, ctx, append(sasl("alice", "wrong"), "-L", "-m", "5")...)
	if !strings.Contains(stderr, "Authentication failed") && !strings.Contains(stderr, "SASL") {
		t.Errorf("kcat with a wrong password: %s", stderr)
	}
}

func TestKcatSSLAndMutualTLS(t *testing.T) {
	pki := newTestPKI(t)
	srv := pki.issue("broker", pkix.Name{CommonName: "broker"})
	p12 := pki.pkcs12(srv, "broker.p12", "ks-secret")
	bob := pki.issue("bob", pkix.Name{CommonName: "bob", OrganizationalUnit: []string{"eng"}})
	b := newTestBroker(t, withSecurity(t, "SSL://127.0.0.1:0,MTLS://127.0.0.1:0", map[string]string{
		"listener.security.protocol.map":             "SSL:SSL,MTLS:SSL",
		"ssl.keystore.type":                          "PKCS12",
		"ssl.keystore.location":                      p12,
		"ssl.keystore.password":                      "ks-secret",
		"listener.name.mtls.ssl.client.auth":         "required",
		"listener.name.mtls.ssl.truststore.location": pki.caFile,
		"ssl.principal.mapping.rules":                "RULE:^CN=([^,]+),OU=eng$/$1/U",
	}))
	ctx := testCtx(t, 90*time.Second)
	ssl := []string{"-b", b.ListenerAddr("SSL"), "-X", "security.protocol=SSL", "-X", "ssl.ca.location=" + pki.caFile}
	runKcat(t, ctx, "a\nb\nc\n", append(ssl, "-P", "-t", "kc-ssl")...)
	msgs := parseKcatJSON(t, runKcat(t, ctx, "", append(ssl, "-C", "-t", "kc-ssl", "-e", "-J", "-o", "beginning")...))
	if len(msgs) != 3 || msgs[2].Payload != "c" {
		t.Fatalf("kcat over SSL consumed %+v", msgs)
	}

	mtls := []string{"-b", b.ListenerAddr("MTLS"), "-X", "security.protocol=SSL", "-X", "ssl.ca.location=" + pki.caFile}
	kcatFails(t, ctx, append(mtls, "-L", "-m", "5")...)
	withCert := append(mtls, "-X", "ssl.certificate.location="+bob.certFile, "-X", "ssl.key.location="+bob.keyFile)
	if out := runKcat(t, ctx, "", append(withCert, "-L", "-J")...); !strings.Contains(out, "kc-ssl") {
		t.Fatalf("kcat -L over mutual TLS: %s", out)
	}
	// The principal comes from bob's certificate through the rule. kcat has
	// exited; ask again with a connection that stays open.
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.ListenerAddr("MTLS")), kgo.DialTLSConfig(pki.clientTLS(&bob)))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if ps := connPrincipals(b, "MTLS"); len(ps) == 0 || ps[0] != "User:BOB" {
		t.Fatalf("principals on MTLS %v, want User:BOB", ps)
	}
}

// pythonKafka is Debian's python3 with python3-kafka (kafka-python); the
// package is a required test dependency (deploy/scripts/install-deps.sh).
func pythonKafka(t *testing.T) string {
	t.Helper()
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import kafka").Run(); err != nil {
		t.Fatalf("kafka-python not importable by %s (apt-get install python3-kafka): %v", py, err)
	}
	return py
}

// kafkaPythonScript produces three records and reads them back with the
// given client settings (a Python dict literal), printing the values.
const kafkaPythonScript = `
import sys, json
from kafka import KafkaProducer, KafkaConsumer
opts = json.loads(sys.argv[2])
p = KafkaProducer(bootstrap_servers=sys.argv[1], api_version=(2, 5, 0), **opts)
for i in range(3):
    p.send(sys.argv[3], ("py-%d" % i).encode()).get(timeout=30)
p.close()
c = KafkaConsumer(sys.argv[3], bootstrap_servers=sys.argv[1], api_version=(2, 5, 0), auto_offset_reset="earliest",
                  consumer_timeout_ms=10000, **opts)
print(",".join(m.value.decode() for m in c))
c.close()
`

func runKafkaPython(t *testing.T, ctx context.Context, addr, topic, opts string) (string, error) {
	t.Helper()
	cmd := exec.CommandContext(ctx, pythonKafka(t), "-c", kafkaPythonScript, addr, opts, topic)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if err != nil {
		return errb.String(), err
	}
	return strings.TrimSpace(out.String()), nil
}

func TestKafkaPythonSASLPlainAndSSL(t *testing.T) {
	pki := newTestPKI(t)
	srv := pki.issue("broker", pkix.Name{CommonName: "broker"})
	b := newTestBroker(t, withSecurity(t, "SASL_PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0", map[string]string{
		"sasl.enabled.mechanisms":                             "PLAIN",
		"listener.name.sasl_plaintext.plain.sasl.jaas.config": plainJAAS(map[string]string{"carol": "carol-secret"}),
		"ssl.keystore.location":                               srv.bundleFile,
	}))
	ctx := testCtx(t, 120*time.Second)
	sasl := `{"security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": "PLAIN", "sasl_plain_username": "carol", "sasl_plain_password": "%s"}`
	out, err := runKafkaPython(t, ctx, b.ListenerAddr("SASL_PLAINTEXT"), "py-sasl", fmt.Sprintf(sasl, "carol-secret"))
	if err != nil || out != "py-0,py-1,py-2" {
		t.Fatalf("kafka-python over SASL_PLAINTEXT: %q, %v", out, err)
	}
	// kafka-python retries a refused login until max_block_ms; the broker
	// counts each refusal.
	failures := counterValue(b.authFails.failures.WithLabelValues("SASL_PLAINTEXT"))
	wrong := strings.TrimSuffix(fmt.Sprintf(sasl, "nope"), "}") + `, "max_block_ms": 3000}`
	if _, err := runKafkaPython(t, ctx, b.ListenerAddr("SASL_PLAINTEXT"), "py-sasl", wrong); err == nil {
		t.Fatal("kafka-python with a wrong password succeeded")
	}
	if n := counterValue(b.authFails.failures.WithLabelValues("SASL_PLAINTEXT")) - failures; n < 1 {
		t.Errorf("kafka-python's wrong password: %v failures counted", n)
	}
	ssl := fmt.Sprintf(`{"security_protocol": "SSL", "ssl_cafile": %q}`, pki.caFile)
	if out, err := runKafkaPython(t, ctx, b.ListenerAddr("SSL"), "py-ssl", ssl); err != nil || out != "py-0,py-1,py-2" {
		t.Fatalf("kafka-python over SSL: %q, %v", out, err)
	}
}
