package admin

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"
)

// SASL mechanisms accepted in Config.SASL.Mechanism.
const (
	SASLPlain       = "PLAIN"
	SASLScramSHA256 = "SCRAM-SHA-256"
	SASLScramSHA512 = "SCRAM-SHA-512"
)

// Config describes how to reach one cluster.
type Config struct {
	// Name is the cluster's name in Osprey (used in logs and errors).
	Name string
	// Bootstrap lists host:port addresses of some brokers.
	Bootstrap []string
	// ZooKeeper is an optional connect string, "h1:2181,h2:2181/chroot".
	ZooKeeper string
	// ZKSessionTimeout is the ZooKeeper session timeout asked for (default 15 s; the server clamps
	// it to between 2 and 20 of its ticks). Past two thirds of it without an answer the session's
	// connection is dropped and opened again.
	ZKSessionTimeout time.Duration
	SASL             SASLConfig
	TLS              TLSConfig
	// Timeout bounds each call that has no earlier context deadline (default 10 s).
	Timeout time.Duration
	// DialTimeout bounds establishing a connection (default 5 s).
	DialTimeout time.Duration
	// MaxConnsPerBroker caps concurrent raw requests per broker (default 2).
	MaxConnsPerBroker int
	// ClientID is sent in request headers (default "osprey").
	ClientID string
}

// SASLConfig selects SASL authentication; an empty Mechanism disables it.
type SASLConfig struct {
	Mechanism string
	Username  string
	Password  string
}

// TLSConfig configures TLS towards the brokers.
type TLSConfig struct {
	Enabled            bool
	CAFile             string
	CertFile           string
	KeyFile            string
	InsecureSkipVerify bool
}

// String hides the password so a Config can be logged.
func (s SASLConfig) String() string {
	if s.Mechanism == "" {
		return "none"
	}
	return fmt.Sprintf("%s user=%q password=<redacted>", s.Mechanism, s.Username)
}

func (c *Config) withDefaults() Config {
	out := *c
	if out.Timeout <= 0 {
		out.Timeout = 10 * time.Second
	}
	if out.DialTimeout <= 0 {
		out.DialTimeout = 5 * time.Second
	}
	if out.MaxConnsPerBroker <= 0 {
		out.MaxConnsPerBroker = 2
	}
	if out.ClientID == "" {
		out.ClientID = "osprey"
	}
	if out.ZKSessionTimeout <= 0 {
		out.ZKSessionTimeout = 15 * time.Second
	}
	return out
}

// Validate reports configuration errors without doing any I/O other than
// reading certificate files.
func (c *Config) Validate() error {
	var errs []error
	if len(c.Bootstrap) == 0 && c.ZooKeeper == "" {
		errs = append(errs, errors.New("bootstrap servers: at least one host:port is required (or a ZooKeeper connect string to find the brokers in)"))
	}
	for _, b := range c.Bootstrap {
		if !strings.Contains(b, ":") {
			errs = append(errs, fmt.Errorf("bootstrap server %q: want host:port", b))
		}
	}
	switch strings.ToUpper(c.SASL.Mechanism) {
	case "":
	case SASLPlain, SASLScramSHA256, SASLScramSHA512:
		if c.SASL.Username == "" {
			errs = append(errs, errors.New("sasl: username is required"))
		}
	default:
		errs = append(errs, fmt.Errorf("sasl: unknown mechanism %q (want PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512)", c.SASL.Mechanism))
	}
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		errs = append(errs, errors.New("tls: certFile and keyFile must be given together"))
	}
	if c.ZooKeeper != "" {
		if _, _, err := ParseZKConnect(c.ZooKeeper); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// tlsConfig builds the *tls.Config, or nil when TLS is disabled.
func (t TLSConfig) tlsConfig() (*tls.Config, error) {
	if !t.Enabled {
		return nil, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: t.InsecureSkipVerify} //nolint:gosec // operator's explicit choice
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("reading tls ca file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls ca file %s: no PEM certificates found", t.CAFile)
		}
		tc.RootCAs = pool
	}
	if t.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("loading tls client certificate: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// ParseZKConnect splits "h1:2181,h2:2181/chroot" into servers and a chroot
// ("" or "/chroot", without a trailing slash).
func ParseZKConnect(s string) (servers []string, chroot string, err error) {
	hosts := s
	if i := strings.IndexByte(s, '/'); i >= 0 {
		hosts, chroot = s[:i], strings.TrimRight(s[i:], "/")
	}
	for _, h := range strings.Split(hosts, ",") {
		h = strings.TrimSpace(h)
		if h == "" {
			continue
		}
		if !strings.Contains(h, ":") {
			h += ":2181"
		}
		servers = append(servers, h)
	}
	if len(servers) == 0 {
		return nil, "", fmt.Errorf("zookeeper connect string %q: no servers", s)
	}
	return servers, chroot, nil
}

// LogValue lets a Config be logged with slog without its password.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("name", c.Name),
		slog.String("bootstrap", strings.Join(c.Bootstrap, ",")),
		slog.String("zookeeper", c.ZooKeeper),
		slog.String("sasl", c.SASL.String()),
		slog.Bool("tls", c.TLS.Enabled),
	)
}
