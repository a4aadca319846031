package broker

import (
	"context"
	"fmt"

	"github.com/osprey-kafka/osprey/broker/metastore"
	"github.com/osprey-kafka/osprey/broker/sasl"
	"github.com/osprey-kafka/osprey/broker/zkdata"
)

// WriteZKScramCredential sets user's SCRAM credential for mechanism
// (SCRAM-SHA-256 or SCRAM-SHA-512, a fresh salt, iterations 4096-16384) in
// /config/users/<user> of a ZooKeeper-mode metadata store, keeping the
// node's other keys, and notifies running brokers through /config/changes:
// what kafka-configs.sh --zookeeper --alter --add-config
// 'SCRAM-SHA-512=[password=…]' does, so that a cluster can start with its
// users in place. Only the salt and keys are stored; errors never carry the
// password.
func WriteZKScramCredential(ctx context.Context, s metastore.Session, user, mechanism, password string, iterations int) error {
	if !sasl.ValidIterations(iterations) {
		return fmt.Errorf("SCRAM credential of %s: iterations must be from %d to %d, got %d", user, sasl.MinIterations, sasl.MaxIterations, iterations)
	}
	cred, err := sasl.NewCredential(mechanism, password, nil, iterations)
	if err != nil {
		return fmt.Errorf("SCRAM credential of %s: %w", user, err)
	}
	name := zkdata.SanitizeEntityName(user)
	err = updateEntityConfigIn(ctx, s, zkdata.ConfigTypeUser, name, func(cfg map[string]string) error {
		cfg[mechanism] = zkdata.EncodeScramCredential(zkdata.ScramCredential{Salt: cred.Salt,
			StoredKey: cred.StoredKey, ServerKey: cred.ServerKey, Iterations: cred.Iterations})
		return nil
	})
	if err != nil {
		return fmt.Errorf("SCRAM credential of %s: %w", user, err)
	}
	return notifyEntityConfigChange(ctx, s, zkdata.ConfigTypeUser, name)
}
