package admin

import (
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
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

func TestSASLScram(t *testing.T) {
	for _, mech := range []string{SASLScramSHA256, SASLScramSHA512} {
		t.Run(mech, func(t *testing.T) {
			kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.EnableSASL(), kfake.Superuser(mech, "ops", "pa55"), kfake.SeedTopics(2, "s"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(kc.Close)
			ctx := ctxT(t)
			c, err := New(Config{Name: "scram", Bootstrap: kc.ListenAddrs(), SASL: SASLConfig{Mechanism: mech, Username: "ops", Password: "pa55"}}, quietLogger())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			md, err := c.Metadata(ctx, nil)
			if err != nil {
				t.Fatalf("metadata over %s: %v", mech, err)
			}
			if len(md.Topics) != 1 || len(md.Topics[0].Partitions) != 2 {
				t.Fatalf("metadata %+v", md.Topics)
			}
			if _, err := c.CreateTopics(ctx, TopicSpec{Name: "n", Partitions: 1, ReplicationFactor: 1}); err != nil {
				t.Fatalf("kafka-go path over %s: %v", mech, err)
			}
			bad, _ := New(Config{Name: "scram", Bootstrap: kc.ListenAddrs(), SASL: SASLConfig{Mechanism: mech, Username: "ops", Password: "nope"}}, quietLogger())
			defer bad.Close()
			if _, err := bad.Metadata(ctx, nil); err == nil {
				t.Fatal("wrong password accepted")
			}
		})
	}
}

// selfSigned writes a CA-less self-signed certificate for 127.0.0.1 and
// returns the server config and the PEM file path.
func selfSigned(t *testing.T) (*tls.Config, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "osprey-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12}, path
}

func TestTLS(t *testing.T) {
	srv, caFile := selfSigned(t)
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.TLS(srv), kfake.SeedTopics(1, "tls"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kc.Close)
	ctx := ctxT(t)
	c, err := New(Config{Name: "tls", Bootstrap: kc.ListenAddrs(), TLS: TLSConfig{Enabled: true, CAFile: caFile}}, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Metadata(ctx, nil); err != nil {
		t.Fatalf("metadata over TLS: %v", err)
	}
	if _, err := c.DescribeTopicConfigs(ctx, "tls"); err != nil {
		t.Fatalf("kafka-go path over TLS: %v", err)
	}
	// Without the CA the handshake must fail, unless verification is skipped.
	untrusted, _ := New(Config{Name: "tls", Bootstrap: kc.ListenAddrs(), TLS: TLSConfig{Enabled: true}, Timeout: 2 * time.Second}, quietLogger())
	defer untrusted.Close()
	if _, err := untrusted.Metadata(ctx, nil); err == nil {
		t.Fatal("untrusted certificate accepted")
	}
	skip, _ := New(Config{Name: "tls", Bootstrap: kc.ListenAddrs(), TLS: TLSConfig{Enabled: true, InsecureSkipVerify: true}}, quietLogger())
	defer skip.Close()
	if _, err := skip.Metadata(ctx, nil); err != nil {
		t.Fatalf("insecureSkipVerify: %v", err)
	}
	if _, err := New(Config{Name: "tls", Bootstrap: kc.ListenAddrs(), TLS: TLSConfig{Enabled: true, CAFile: filepath.Join(t.TempDir(), "missing.pem")}}, quietLogger()); err == nil {
		t.Fatal("missing CA file accepted")
	}
}
