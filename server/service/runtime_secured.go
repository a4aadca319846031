package service

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/osprey-kafka/osprey/admin"
)

// A secured runtime cluster's brokers listen SASL_PLAINTEXT with PLAIN (for the console's admin user,
// defined in the listener's JAAS config, and for inter-broker traffic) and SCRAM-SHA-256/512 (for the
// users made from the console's Users page), with the ACL authorizer on, the admin the only super user
// and nothing allowed to anyone else without an ACL. The admin's credentials are generated when the
// cluster is created and kept in the cluster's data directory (security.json, mode 0600) so that the
// cluster comes back secured when the console restarts; they never appear in an API answer or a log.

// runtimeAdminUser is the super user a secured runtime cluster is created with.
const runtimeAdminUser = "osprey-admin"

const runtimeSecurityFile = "security.json"

// runtimeSecurity is a secured runtime cluster's admin credential.
type runtimeSecurity struct {
	User     string `json:"user"`
	Password string `json:"password"`
}

// newRuntimeSecurity generates the admin credential and writes it to dir/security.json.
func newRuntimeSecurity(dir string) (*runtimeSecurity, error) {
	buf := make([]byte, 24)
	if _, err := rand.Read(buf); err != nil {
		return nil, fmt.Errorf("generating the admin password: %w", err)
	}
	sec := &runtimeSecurity{User: runtimeAdminUser, Password: base64.RawURLEncoding.EncodeToString(buf)}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("runtime cluster directory: %w", err)
	}
	data, err := json.Marshal(sec)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, runtimeSecurityFile), data, 0o600); err != nil {
		return nil, fmt.Errorf("writing the cluster's credentials: %w", err)
	}
	return sec, nil
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
	return &sec, nil
}

// brokerProperties are the broker settings that secure the cluster. The supervisor names the data
// listener PLAINTEXT; the protocol map makes it SASL. ZooKeeper mode only: the supervisor waits for
// KRaft brokers to register with a client that does not authenticate.
func (sec *runtimeSecurity) brokerProperties() map[string]string {
	jaas := fmt.Sprintf(`org.apache.kafka.common.security.plain.PlainLoginModule required username=%q password=%q user_%s=%q;`,
		sec.User, sec.Password, sec.User, sec.Password)
	props := map[string]string{
		"listener.security.protocol.map":                 "PLAINTEXT:SASL_PLAINTEXT",
		"sasl.enabled.mechanisms":                        "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512",
		"sasl.mechanism.inter.broker.protocol":           "PLAIN",
		"listener.name.plaintext.plain.sasl.jaas.config": jaas,
		"authorizer.class.name":                          "kafka.security.authorizer.AclAuthorizer",
		"super.users":                                    "User:" + sec.User,
		"allow.everyone.if.no.acl.found":                 "false",
	}
	return props
}

// saslConfig is how the console connects to the cluster.
func (sec *runtimeSecurity) saslConfig() admin.SASLConfig {
	return admin.SASLConfig{Mechanism: admin.SASLPlain, Username: sec.User, Password: sec.Password}
}
