package broker

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/plain"
)

// testPKI is a certificate authority made in the test, with the files
// clients and the broker read written to dir.
type testPKI struct {
	t      testing.TB
	dir    string
	ca     *x509.Certificate
	caKey  *ecdsa.PrivateKey
	caFile string // PEM
	serial int64
}

func newTestPKI(t testing.TB) *testPKI {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "osprey test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(der)
	p := &testPKI{t: t, dir: t.TempDir(), ca: ca, caKey: key, serial: 1}
	p.caFile = p.write("ca.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	return p
}

func (p *testPKI) write(name string, data []byte) string {
	p.t.Helper()
	path := filepath.Join(p.dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		p.t.Fatal(err)
	}
	return path
}

// issued is a certificate and key in PEM, and the files holding them.
type issued struct {
	certPEM, keyPEM   []byte
	certFile, keyFile string
	bundleFile        string // key and certificate in one PEM file (a Kafka PEM keystore)
	pair              tls.Certificate
	subject           pkix.Name
}

// issue signs a certificate for subject, valid for 127.0.0.1 and
// localhost, usable by servers and clients.
func (p *testPKI) issue(name string, subject pkix.Name) issued {
	p.t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		p.t.Fatal(err)
	}
	p.serial++
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(p.serial), Subject: subject,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		DNSNames:    []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.ca, &key.PublicKey, p.caKey)
	if err != nil {
		p.t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		p.t.Fatal(err)
	}
	is := issued{subject: subject}
	is.certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	is.keyPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	is.certFile = p.write(name+".crt", is.certPEM)
	is.keyFile = p.write(name+".key", is.keyPEM)
	is.bundleFile = p.write(name+".pem", append(append([]byte(nil), is.keyPEM...), is.certPEM...))
	is.pair, err = tls.X509KeyPair(is.certPEM, is.keyPEM)
	if err != nil {
		p.t.Fatal(err)
	}
	return is
}

// pkcs12 writes the certificate and key as a PKCS12 store with openssl,
// in the legacy (3DES, SHA-1 MAC) encryption the broker reads.
func (p *testPKI) pkcs12(is issued, name, password string) string {
	p.t.Helper()
	out := filepath.Join(p.dir, name)
	cmd := exec.Command("openssl", "pkcs12", "-export", "-in", is.certFile, "-inkey", is.keyFile, "-out", out,
		"-passout", "pass:"+password, "-keypbe", "PBE-SHA1-3DES", "-certpbe", "PBE-SHA1-3DES", "-macalg", "sha1")
	if b, err := cmd.CombinedOutput(); err != nil {
		p.t.Fatalf("openssl pkcs12: %v: %s", err, b)
	}
	return out
}

// clientTLS trusts the CA and, given a certificate, presents it.
func (p *testPKI) clientTLS(client *issued) *tls.Config {
	pool := x509.NewCertPool()
	pool.AddCert(p.ca)
	cfg := &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
	if client != nil {
		cfg.Certificates = []tls.Certificate{client.pair}
	}
	return cfg
}

// withSecurity sets listeners and the security properties as a
// server.properties file would.
func withSecurity(t testing.TB, listeners string, props map[string]string) testBrokerOpt {
	return func(c *Config) {
		c.Listeners = splitList(listeners)
		for k, v := range props {
			ok, err := c.parseSecurityProperty(k, v)
			if !ok || err != nil {
				t.Fatalf("property %s: ok=%v err=%v", k, ok, err)
			}
		}
		if err := c.finishSecurity(props); err != nil {
			t.Fatal(err)
		}
	}
}

// plainJAAS is a PlainLoginModule config with the broker's own user admin
// and the given users.
func plainJAAS(users map[string]string) string {
	s := `org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret" user_admin="admin-secret"`
	for u, p := range users {
		s += " user_" + u + `="` + p + `"`
	}
	return s + ";"
}

// saslPlainClient is a franz-go client authenticating with PLAIN.
func saslPlainClient(t *testing.T, addr, user, pass string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	opts = append([]kgo.Opt{kgo.SeedBrokers(addr), kgo.SASL(plain.Auth{User: user, Pass: pass}.AsMechanism()),
		kgo.AllowAutoTopicCreation()}, opts...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// rawDo sends one request on a bare connection (no SASL from the client
// library) and decodes the answer.
func rawDo(ctx context.Context, k *kafkaConn, req kmsg.Request) (kmsg.Response, error) {
	resp := req.ResponseKind()
	err := k.do(ctx, req, resp)
	return resp, err
}

// rawPlainAuth runs SaslHandshake v1 and SaslAuthenticate (version v) with
// PLAIN credentials on k.
func rawPlainAuth(ctx context.Context, t *testing.T, k *kafkaConn, v int16, user, pass string) *kmsg.SASLAuthenticateResponse {
	t.Helper()
	hs := kmsg.NewPtrSASLHandshakeRequest()
	hs.Version, hs.Mechanism = 1, "PLAIN"
	hr, err := rawDo(ctx, k, hs)
	if err != nil {
		t.Fatalf("SaslHandshake: %v", err)
	}
	if code := hr.(*kmsg.SASLHandshakeResponse).ErrorCode; code != 0 {
		t.Fatalf("SaslHandshake error %d", code)
	}
	au := kmsg.NewPtrSASLAuthenticateRequest()
	au.Version, au.SASLAuthBytes = v, []byte("\x00"+user+"\x00"+pass)
	ar, err := rawDo(ctx, k, au)
	if err != nil {
		t.Fatalf("SaslAuthenticate: %v", err)
	}
	return ar.(*kmsg.SASLAuthenticateResponse)
}
