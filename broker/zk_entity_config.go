package broker

import (
	"context"
	"errors"
	"fmt"
	"maps"

	"github.com/osprey-kafka/osprey/broker/metastore"
	"github.com/osprey-kafka/osprey/broker/zkdata"
)

// Entity configs under /config/<type>/<name> in ZooKeeper mode are shared by
// several owners: a user's node holds both its SCRAM credentials
// (SCRAM-SHA-256, SCRAM-SHA-512) and its client quotas
// (producer_byte_rate, ...). Every writer must therefore read the whole
// map, change only its own keys and write it back with the version it
// read, retrying on a conflict, so that neither drops the other's keys.
// updateEntityConfig does exactly that and then announces the change with
// a /config/changes notification, as Kafka's AdminZkClient.changeConfigs.

// updateEntityConfig applies fn to the config of /config/<entityType>/<name>
// (name already sanitized; "<default>" for a default entity; for a user's
// client: "<user>/clients/<client>") and writes the result back with the
// version read, retrying when another writer got there first. fn sees a
// copy of the current map (empty when the node is missing) and edits it in
// place; an error from fn aborts without writing. Missing parents are
// created. A change notification for the entity follows the write.
func (zc *zkCluster) updateEntityConfig(ctx context.Context, entityType, name string, fn func(cfg map[string]string) error) error {
	s, err := zc.keeper.WaitSession(ctx)
	if err != nil {
		return err
	}
	if err := updateEntityConfigIn(ctx, s, entityType, name, fn); err != nil {
		return err
	}
	return notifyEntityConfigChange(ctx, s, entityType, name)
}

// updateEntityConfigIn is the read-modify-write of updateEntityConfig,
// without the notification.
func updateEntityConfigIn(ctx context.Context, s metastore.Session, entityType, name string, fn func(cfg map[string]string) error) error {
	path := zkdata.ConfigEntityPath(entityType, name)
	for attempt := 0; attempt < 10; attempt++ {
		data, stat, err := s.Get(ctx, path)
		exists := err == nil
		if err != nil && !errors.Is(err, metastore.ErrNoNode) {
			return fmt.Errorf("reading %s: %w", path, err)
		}
		cur := map[string]string{}
		if exists {
			if cur, err = zkdata.DecodeConfig(data); err != nil {
				return fmt.Errorf("decoding %s: %w", path, err)
			}
		}
		next := maps.Clone(cur)
		if err := fn(next); err != nil {
			return err
		}
		enc := zkdata.EncodeConfig(next)
		if exists {
			_, err = s.Set(ctx, path, enc, stat.Version)
		} else {
			if err = metastore.EnsurePath(ctx, s, metastore.Parent(path)); err != nil {
				return fmt.Errorf("creating parents of %s: %w", path, err)
			}
			_, err = s.Create(ctx, path, enc, metastore.Persistent)
		}
		switch {
		case err == nil:
			return nil
		case errors.Is(err, metastore.ErrBadVersion), errors.Is(err, metastore.ErrNodeExists), errors.Is(err, metastore.ErrNoNode):
			continue // another writer changed it meanwhile: read again
		default:
			return fmt.Errorf("writing %s: %w", path, err)
		}
	}
	return fmt.Errorf("writing %s: too many concurrent changes", path)
}

// notifyEntityConfigChange creates /config/changes/config_change_<seq>
// {"version":2,"entity_path":"<type>/<name>"}.
func notifyEntityConfigChange(ctx context.Context, s metastore.Session, entityType, name string) error {
	p := zkdata.ConfigChangeCreatePath()
	data := zkdata.EncodeConfigChange(entityType, name)
	_, err := s.Create(ctx, p, data, metastore.Sequential)
	if errors.Is(err, metastore.ErrNoNode) {
		if err := metastore.EnsurePath(ctx, s, zkdata.ConfigChangesPath); err != nil {
			return err
		}
		_, err = s.Create(ctx, p, data, metastore.Sequential)
	}
	if err != nil {
		return fmt.Errorf("notifying config change of %s/%s: %w", entityType, name, err)
	}
	return nil
}

// readEntityConfigs reads every /config/<entityType>/<name> (names as stored,
// sanitized), and, when childType is set, every
// /config/<entityType>/<name>/<childType>/<child> under the key
// "<name>/<childType>/<child>", as Kafka's fetchAllEntityConfigs and
// fetchAllChildEntityConfigs do. A missing type node is no entities.
func readEntityConfigs(ctx context.Context, s metastore.Session, entityType, childType string) (map[string]map[string]string, error) {
	base := zkdata.ConfigPath + "/" + entityType
	names, _, err := s.Children(ctx, base)
	if errors.Is(err, metastore.ErrNoNode) {
		return map[string]map[string]string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", base, err)
	}
	out := map[string]map[string]string{}
	read := func(key string) error {
		data, _, err := s.Get(ctx, base+"/"+key)
		if errors.Is(err, metastore.ErrNoNode) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading %s/%s: %w", base, key, err)
		}
		cfg, err := zkdata.DecodeConfig(data)
		if err != nil {
			return err
		}
		out[key] = cfg
		return nil
	}
	for _, n := range names {
		if err := read(n); err != nil {
			return nil, err
		}
		if childType == "" {
			continue
		}
		children, _, err := s.Children(ctx, base+"/"+n+"/"+childType)
		if errors.Is(err, metastore.ErrNoNode) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("listing %s/%s/%s: %w", base, n, childType, err)
		}
		for _, c := range children {
			if err := read(n + "/" + childType + "/" + c); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}
