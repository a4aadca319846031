package supervisor

import (
	"context"
	"fmt"
	"slices"

	"github.com/osprey-kafka/osprey/broker"
	"github.com/osprey-kafka/osprey/broker/kraft/metadata"
	"github.com/osprey-kafka/osprey/broker/metastore"
	"github.com/osprey-kafka/osprey/broker/metastore/zk"
	"github.com/osprey-kafka/osprey/broker/sasl"
)

// checkSecurity checks the data listener's name and the SCRAM users.
// Errors name a user, never a password.
func checkSecurity(opts Options) error {
	if l := opts.listenerName(); !slices.Contains([]string{"PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"}, l) {
		return fmt.Errorf("supervisor: listener %q: want PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL", l)
	}
	for _, u := range opts.ScramUsers {
		switch {
		case !sasl.IsScramMechanism(u.Mechanism):
			return fmt.Errorf("supervisor: SCRAM user %q: mechanism %q is not SCRAM-SHA-256 or SCRAM-SHA-512", u.Name, u.Mechanism)
		case u.Name == "":
			return fmt.Errorf("supervisor: a SCRAM user has no name")
		case u.Password == "":
			return fmt.Errorf("supervisor: SCRAM user %q has no password", u.Name)
		}
	}
	return nil
}

// scramRecords are the SCRAM users as the UserScramCredentialRecords of a
// KRaft node's bootstrap metadata.
func (c *Cluster) scramRecords() ([]metadata.Record, error) {
	var out []metadata.Record
	for _, u := range c.opts.ScramUsers {
		cred, err := sasl.NewCredential(u.Mechanism, u.Password, nil, sasl.MinIterations)
		if err != nil {
			return nil, fmt.Errorf("supervisor: SCRAM user %q: %w", u.Name, err)
		}
		out = append(out, &metadata.UserScramCredentialRecord{Name: u.Name, Mechanism: sasl.ScramMechanismType(u.Mechanism),
			Salt: cred.Salt, StoredKey: cred.StoredKey, ServerKey: cred.ServerKey, Iterations: int32(cred.Iterations)})
	}
	return out, nil
}

// writeZKScramUsers writes the SCRAM users to the ZooKeeper-mode metadata
// store (the in-process one, or the ensemble) before the brokers start.
func (c *Cluster) writeZKScramUsers(ctx context.Context) error {
	if len(c.opts.ScramUsers) == 0 {
		return nil
	}
	s, err := c.connectStore(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	for _, u := range c.opts.ScramUsers {
		if err := broker.WriteZKScramCredential(ctx, s, u.Name, u.Mechanism, u.Password, sasl.MinIterations); err != nil {
			return fmt.Errorf("supervisor: %w", err)
		}
	}
	c.log.Info("SCRAM users written to the metadata store", "users", len(c.opts.ScramUsers))
	return nil
}

// connectStore opens a session on the ZooKeeper-mode metadata store: the
// in-process one, else the ensemble.
func (c *Cluster) connectStore(ctx context.Context) (metastore.Session, error) {
	conn := c.connector
	if conn == nil {
		servers, chroot, err := zk.ParseConnectString(c.opts.ZooKeeper)
		if err != nil {
			return nil, fmt.Errorf("supervisor: zookeeper connect string: %w", err)
		}
		conn = zk.Connector(zk.Config{Servers: servers, Chroot: chroot, Logger: c.log})
	}
	s, err := conn.Connect(ctx)
	if err != nil {
		return nil, fmt.Errorf("supervisor: connecting to the metadata store: %w", err)
	}
	return s, nil
}
