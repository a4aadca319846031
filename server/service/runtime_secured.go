package service

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/osprey-kafka/osprey/admin"
	"github.com/osprey-kafka/osprey/broker/supervisor"
)

// A secured runtime cluster, in either metadata mode, has one data listener, SASL_SSL: TLS with a
// certificate from the cluster's own CA (runtime_pki.go), then SCRAM-SHA-256/512. It starts with two
// SCRAM-SHA-512 users, written before its brokers first run (ZooKeeper mode: /config/users in the
// metadata store; KRaft mode: the bootstrap metadata the nodes are formatted with): the console's
// admin user, which the console connects as, and the brokers' own user for inter-broker traffic.
// Both are super users; the ACL authorizer is on and nobody else may do anything without an ACL.
// The passwords are generated when the cluster is created and kept in the cluster's data directory
// (security.json, mode 0600) so that the cluster comes back secured when the console restarts; they
// never appear in an API answer or a log. The KRaft CONTROLLER listener stays PLAINTEXT on loopback.

// runtimeAdminUser is the super user a secured runtime cluster is created with; runtimeBrokerUser
// is the user its brokers sign in to each other as.
const (
	runtimeAdminUser  = "osprey-admin"
	runtimeBrokerUser = "osprey-broker"
)

const runtimeSecurityFile = "security.json"

// runtimeListener is a secured cluster's data listener, its name and protocol.
const runtimeListener = "SASL_SSL"

// runtimeMechanism is the SCRAM mechanism of the admin and broker users.
const runtimeMechanism = "SCRAM-SHA-512"

// runtimeSecurity is a secured runtime cluster's credentials and TLS files.
type runtimeSecurity struct {
	User           string `json:"user"`
	Password       string `json:"password"`
	BrokerUser     string `json:"broker_user,omitempty"`
	BrokerPassword string `json:"broker_password,omitempty"`

	pki runtimePKI // not in the file: made and found by ensureRuntimePKI
}

func newPassword() (string, error) {
	buf := make([]byte, 24)
	if _, err := rand.Read(buf); err != nil {
		return "", fmt.Errorf("generating a password: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(buf), nil
}

// newRuntimeSecurity generates the credentials, writes them to dir/security.json and makes the
// cluster's CA and broker certificate.
func newRuntimeSecurity(dir string) (*runtimeSecurity, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("runtime cluster directory: %w", err)
	}
	sec := &runtimeSecurity{User: runtimeAdminUser}
	var err error
	if sec.Password, err = newPassword(); err != nil {
		return nil, err
	}
	if err := sec.completeAndSave(dir); err != nil {
		return nil, err
	}
	return sec, nil
}

// completeAndSave adds what a cluster secured by an earlier version lacks (the brokers' user, the
// TLS files), saving the credentials when they changed.
func (sec *runtimeSecurity) completeAndSave(dir string) error {
	if sec.BrokerUser == "" || sec.BrokerPassword == "" {
		pw, err := newPassword()
		if err != nil {
			return err
		}
		sec.BrokerUser, sec.BrokerPassword = runtimeBrokerUser, pw
		data, err := json.Marshal(sec)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, runtimeSecurityFile), data, 0o600); err != nil {
			return fmt.Errorf("writing the cluster's credentials: %w", err)
		}
	}
	pki, err := ensureRuntimePKI(dir)
	if err != nil {
		return err
	}
	sec.pki = pki
	return nil
}

// readRuntimeSecurity reads dir/security.json; nil (and no error) for a cluster that is not secured.
func readRuntimeSecurity(dir string) (*runtimeSecurity, error) {
	data, err := os.ReadFile(filepath.Join(dir, runtimeSecurityFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the cluster's credentials: %w", err)
	}
	var sec runtimeSecurity
	if err := json.Unmarshal(data, &sec); err != nil || sec.User == "" || sec.Password == "" {
		return nil, fmt.Errorf("%s in %s is not a credential", runtimeSecurityFile, dir)
	}
	if err := sec.completeAndSave(dir); err != nil {
		return nil, err
	}
	return &sec, nil
}

// supervise sets what secures the cluster on the supervisor's options: the listener, the broker
// settings, the users it starts with and how the supervisor's own client signs in.
func (sec *runtimeSecurity) supervise(opts *supervisor.Options) error {
	tlsCfg, err := sec.clientTLS()
	if err != nil {
		return err
	}
	jaas := fmt.Sprintf(`org.apache.kafka.common.security.scram.ScramLoginModule required username=%q password=%q;`,
		sec.BrokerUser, sec.BrokerPassword)
	authorizer := "kafka.security.authorizer.AclAuthorizer"
	if opts.KRaft {
		authorizer = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
	}
	opts.Listener = runtimeListener
	opts.Properties = map[string]string{
		"sasl.enabled.mechanisms":                               "SCRAM-SHA-256,SCRAM-SHA-512",
		"sasl.mechanism.inter.broker.protocol":                  runtimeMechanism,
		"listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config": jaas,
		"ssl.keystore.type":                                     "PEM",
		"ssl.keystore.location":                                 sec.pki.brokerFile(),
		"ssl.truststore.type":                                   "PEM",
		"ssl.truststore.location":                               sec.pki.caFile(),
		"authorizer.class.name":                                 authorizer,
		"super.users":                                           "User:" + sec.User + ";User:" + sec.BrokerUser,
		"allow.everyone.if.no.acl.found":                        "false",
	}
	if opts.KRaft {
		// The CONTROLLER listener too: TLS from the same CA, then PLAIN as the brokers' user (SCRAM
		// cannot sign in there: its credentials live in the metadata log the controllers serve).
		plainJAAS := fmt.Sprintf(`org.apache.kafka.common.security.plain.PlainLoginModule required username=%q password=%q user_%s=%q;`,
			sec.BrokerUser, sec.BrokerPassword, sec.BrokerUser, sec.BrokerPassword)
		opts.Properties["listener.security.protocol.map"] = "CONTROLLER:SASL_SSL," + runtimeListener + ":" + runtimeListener
		opts.Properties["listener.name.controller.sasl.enabled.mechanisms"] = "PLAIN"
		opts.Properties["sasl.mechanism.controller.protocol"] = "PLAIN"
		opts.Properties["listener.name.controller.plain.sasl.jaas.config"] = plainJAAS
	}
	opts.ScramUsers = []supervisor.ScramUser{
		{Mechanism: runtimeMechanism, Name: sec.User, Password: sec.Password},
		{Mechanism: runtimeMechanism, Name: sec.BrokerUser, Password: sec.BrokerPassword},
	}
	opts.ClientOptions = []kgo.Opt{kgo.DialTLSConfig(tlsCfg),
		kgo.SASL(scram.Auth{User: sec.User, Pass: sec.Password}.AsSha512Mechanism())}
	return nil
}

// clientTLS trusts the cluster's CA alone.
func (sec *runtimeSecurity) clientTLS() (*tls.Config, error) {
	pem, err := os.ReadFile(sec.pki.caFile())
	if err != nil {
		return nil, fmt.Errorf("reading the cluster's CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no certificate", sec.pki.caFile())
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool}, nil
}

// clientConfig is how the console connects to the cluster: SCRAM-SHA-512 as the admin over TLS
// that trusts the cluster's CA.
func (sec *runtimeSecurity) clientConfig() (admin.SASLConfig, admin.TLSConfig) {
	return admin.SASLConfig{Mechanism: admin.SASLScramSHA512, Username: sec.User, Password: sec.Password},
		admin.TLSConfig{Enabled: true, CAFile: sec.pki.caFile()}
}
