package service

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// A secured runtime cluster's TLS key material, made when the cluster is created and kept in
// <cluster dir>/tls: its own certificate authority (ca.pem, ca-key.pem) and one certificate for its
// brokers (broker.pem: key and chain, as ssl.keystore.type=PEM reads it), valid for the loopback
// names the brokers listen on and advertise. The console and the brokers trust that CA alone. The
// keys are owner-only files and never leave the directory (not in an API answer, not in a log).

const (
	runtimeTLSDir      = "tls"
	runtimeCAFile      = "ca.pem"
	runtimeCAKeyFile   = "ca-key.pem"
	runtimeBrokerFile  = "broker.pem"
	runtimeCertsValid  = 5 * 365 * 24 * time.Hour
	runtimeCertsBefore = time.Hour // backdated: a clock a little behind still accepts them
)

// runtimeHosts are the names a runtime cluster's broker certificate is valid for: the supervisor's
// listen address (127.0.0.1) and the other ways a client on this machine may name it.
var runtimeHosts = []string{"127.0.0.1", "::1", "localhost"}

// runtimePKI is where a cluster's TLS files are.
type runtimePKI struct{ dir string }

func (p runtimePKI) caFile() string     { return filepath.Join(p.dir, runtimeCAFile) }
func (p runtimePKI) brokerFile() string { return filepath.Join(p.dir, runtimeBrokerFile) }

// ensureRuntimePKI returns the cluster's TLS files, making them when the CA or the broker
// certificate is missing (a cluster secured before TLS was part of it gets them at its next start).
func ensureRuntimePKI(clusterDir string) (runtimePKI, error) {
	p := runtimePKI{dir: filepath.Join(clusterDir, runtimeTLSDir)}
	_, caErr := os.Stat(p.caFile())
	_, brokerErr := os.Stat(p.brokerFile())
	if caErr == nil && brokerErr == nil {
		return p, nil
	}
	if !errors.Is(caErr, fs.ErrNotExist) && caErr != nil {
		return p, fmt.Errorf("cluster CA: %w", caErr)
	}
	if err := os.MkdirAll(p.dir, 0o700); err != nil {
		return p, fmt.Errorf("cluster TLS directory: %w", err)
	}
	if err := p.generate(); err != nil {
		return p, err
	}
	return p, nil
}

// generate makes a new CA and a broker certificate it signs (ECDSA P-256).
func (p runtimePKI) generate() error {
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("cluster CA key: %w", err)
	}
	caTmpl := &x509.Certificate{SerialNumber: serial(), Subject: pkix.Name{CommonName: "Osprey runtime cluster CA", Organization: []string{"Osprey"}},
		NotBefore: now.Add(-runtimeCertsBefore), NotAfter: now.Add(runtimeCertsValid), IsCA: true, BasicConstraintsValid: true,
		MaxPathLenZero: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return fmt.Errorf("cluster CA certificate: %w", err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return fmt.Errorf("cluster CA certificate: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("broker key: %w", err)
	}
	tmpl := &x509.Certificate{SerialNumber: serial(), Subject: pkix.Name{CommonName: "osprey-broker", Organization: []string{"Osprey"}},
		NotBefore: now.Add(-runtimeCertsBefore), NotAfter: now.Add(runtimeCertsValid),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}
	for _, h := range runtimeHosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return fmt.Errorf("broker certificate: %w", err)
	}
	caKeyPEM, err := keyPEM(caKey)
	if err != nil {
		return err
	}
	brokerKeyPEM, err := keyPEM(key)
	if err != nil {
		return err
	}
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	broker := append(append(brokerKeyPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...), caPEM...)
	// The keys first and the CA last: a CA file without its key would be a half-made set.
	for _, f := range []struct {
		name string
		data []byte
	}{{runtimeCAKeyFile, caKeyPEM}, {runtimeBrokerFile, broker}, {runtimeCAFile, caPEM}} {
		if err := os.WriteFile(filepath.Join(p.dir, f.name), f.data, 0o600); err != nil {
			return fmt.Errorf("writing the cluster's %s: %w", f.name, err)
		}
	}
	return nil
}

func keyPEM(k *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, fmt.Errorf("encoding a key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// serial is a random 128-bit certificate serial number.
func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err)) // crypto/rand does not fail on supported platforms
	}
	return n
}
