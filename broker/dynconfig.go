package broker

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/osprey-kafka/osprey/broker/metastore"
	"github.com/osprey-kafka/osprey/broker/zkdata"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Dynamic broker configs (KIP-226) as Kafka keeps them in ZooKeeper mode:
// /config/brokers/<id> for one broker and /config/brokers/<default> for
// all, a per-broker value winning over the default, which wins over
// server.properties. AlterConfigs and IncrementalAlterConfigs write them
// (as kafka-configs.sh --bootstrap-server does), kafka-configs.sh
// --zookeeper writes the znodes directly; both announce the change with a
// /config/changes notification that every broker follows (zkcluster.go).
// Without a metadata store they live in memory only.

// defaultBrokerEntity names the cluster-wide default entity in ZooKeeper
// (the empty resource name in the Kafka API).
const defaultBrokerEntity = "<default>"

// dynamicBrokerKeys are the broker configs this runtime can change while
// running (all of type LONG, at least 0); Kafka has more, which are
// refused here as static.
var dynamicBrokerKeys = []string{"follower.replication.throttled.rate", "leader.replication.throttled.rate"}

// unlimitedRate is Kafka's default for the throttle rates (Long.MaxValue).
const unlimitedRate = math.MaxInt64

// dynamicConfigs holds the dynamic broker configs in force here.
type dynamicConfigs struct {
	mu   sync.Mutex
	def  map[string]string // <default>
	self map[string]string // this broker's entity
}

// setDynamicConfig installs an entity's dynamic configs (entity
// defaultBrokerEntity or this broker's id) and applies the rates.
func (b *Broker) setDynamicConfig(entity string, cfg map[string]string) {
	b.dyn.mu.Lock()
	defer b.dyn.mu.Unlock()
	if entity == defaultBrokerEntity {
		b.dyn.def = maps.Clone(cfg)
	} else {
		b.dyn.self = maps.Clone(cfg)
	}
	rate := func(key string, static int64) int64 {
		for _, m := range []map[string]string{b.dyn.self, b.dyn.def} {
			if n, err := strconv.ParseInt(strings.TrimSpace(m[key]), 10, 64); err == nil && n >= 0 {
				return n
			}
		}
		return static
	}
	// The lock is held so that two updates apply in the order they stored.
	b.repl.leaderThrottle.setRate(rate("leader.replication.throttled.rate", b.cfg.LeaderReplicationThrottle))
	b.repl.followerThrottle.setRate(rate("follower.replication.throttled.rate", b.cfg.FollowerReplicationThrottle))
}

// dynamicConfig returns a copy of an entity's dynamic configs in force.
func (b *Broker) dynamicConfig(entity string) map[string]string {
	b.dyn.mu.Lock()
	defer b.dyn.mu.Unlock()
	m := b.dyn.self
	if entity == defaultBrokerEntity {
		m = b.dyn.def
	}
	if m == nil {
		return map[string]string{}
	}
	return maps.Clone(m)
}

// staticThrottleRate is a throttle rate from server.properties with its
// source (Kafka's default, Long.MaxValue, when unset or unlimited).
func staticThrottleRate(v int64) (string, kmsg.ConfigSource) {
	if v <= 0 || v == unlimitedRate {
		return strconv.FormatInt(unlimitedRate, 10), kmsg.ConfigSourceDefaultConfig
	}
	return strconv.FormatInt(v, 10), kmsg.ConfigSourceStaticBrokerConfig
}

// brokerConfigStore persists dynamic broker configs; zkCluster implements
// it with the metadata store, a Broker without one keeps them in memory.
type brokerConfigStore interface {
	brokerEntityConfig(ctx context.Context, entity string) (map[string]string, error)
	setBrokerEntityConfig(ctx context.Context, entity string, cfg map[string]string) error
}

// brokerEntityConfig reads /config/brokers/<entity> (missing: empty).
func (zc *zkCluster) brokerEntityConfig(ctx context.Context, entity string) (map[string]string, error) {
	s, err := zc.keeper.WaitSession(ctx)
	if err != nil {
		return nil, err
	}
	data, _, err := s.Get(ctx, zkdata.ConfigEntityPath(zkdata.ConfigTypeBroker, entity))
	if errors.Is(err, metastore.ErrNoNode) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading config of broker entity %s: %w", entity, err)
	}
	return zkdata.DecodeConfig(data)
}

// setBrokerEntityConfig writes /config/brokers/<entity> and the change
// notification, as Kafka's AdminZkClient.changeBrokerConfig does.
func (zc *zkCluster) setBrokerEntityConfig(ctx context.Context, entity string, cfg map[string]string) error {
	cl, err := zc.client(ctx)
	if err != nil {
		return err
	}
	_, err = cl.SetEntityConfig(ctx, zkdata.ConfigTypeBroker, entity, cfg)
	return err
}

// memoryBrokerConfigs is the store of a broker without a metadata store.
type memoryBrokerConfigs struct{ b *Broker }

func (m memoryBrokerConfigs) brokerEntityConfig(_ context.Context, entity string) (map[string]string, error) {
	return m.b.dynamicConfig(entity), nil
}

func (m memoryBrokerConfigs) setBrokerEntityConfig(_ context.Context, entity string, cfg map[string]string) error {
	m.b.setDynamicConfig(entity, cfg)
	return nil
}

func (b *Broker) brokerConfigStore() brokerConfigStore {
	if s, ok := b.cluster.(brokerConfigStore); ok {
		return s
	}
	return memoryBrokerConfigs{b}
}

// apiError is a Kafka error code with its message.
type apiError struct {
	code int16
	msg  string
}

func (e *apiError) result() (int16, *string) {
	if e == nil {
		return 0, nil
	}
	return e.code, kmsg.StringPtr(e.msg)
}

// brokerEntity maps a broker resource name to its entity: "" is the
// default; any other name must be this broker's id (Kafka's
// "Unexpected broker id": a per-broker config is sent to that broker).
func (b *Broker) brokerEntity(name string) (string, *apiError) {
	if name == "" {
		return defaultBrokerEntity, nil
	}
	id, err := strconv.ParseInt(name, 10, 32)
	if err != nil {
		return "", &apiError{errInvalidRequest, "Broker id must be an integer, but it is: " + name}
	}
	if int32(id) != b.cfg.BrokerID {
		return "", &apiError{errInvalidRequest, fmt.Sprintf("Unexpected broker id, expected %d, but received %s", b.cfg.BrokerID, name)}
	}
	return strconv.Itoa(int(id)), nil
}

// invalidBrokerConfig is Kafka's answer to a ConfigException in ZooKeeper
// mode (ZkAdminManager wraps it in an InvalidRequestException).
func invalidBrokerConfig(name, msg string) *apiError {
	return &apiError{errInvalidRequest, fmt.Sprintf("Invalid config value for resource ConfigResource(type=BROKER, name='%s'): %s", name, msg)}
}

// validateBrokerConfigs checks the keys a request sets and their values.
func validateBrokerConfigs(name string, set map[string]string) *apiError {
	var static []string
	for _, k := range sortedKeys(set) {
		if !slices.Contains(dynamicBrokerKeys, k) {
			static = append(static, k)
		}
	}
	if len(static) > 0 {
		return invalidBrokerConfig(name, "Cannot update these configs dynamically: Set("+strings.Join(static, ", ")+")")
	}
	for _, k := range sortedKeys(set) {
		v := set[k]
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		switch {
		case err != nil:
			return invalidBrokerConfig(name, fmt.Sprintf("Invalid value %s for configuration %s: Not a number of type LONG", v, k))
		case n < 0:
			return invalidBrokerConfig(name, fmt.Sprintf("Invalid value %s for configuration %s: Value must be at least 0", v, k))
		}
	}
	return nil
}

// alterBrokerConfigs changes the dynamic configs of a broker resource:
// with replace, set becomes the entity's whole config (AlterConfigs);
// otherwise set and del patch it (IncrementalAlterConfigs). Everything is
// validated before anything is written.
func (b *Broker) alterBrokerConfigs(name string, set map[string]string, del []string, replace, validateOnly bool) *apiError {
	entity, aerr := b.brokerEntity(name)
	if aerr != nil {
		return aerr
	}
	if aerr := validateBrokerConfigs(name, set); aerr != nil {
		return aerr
	}
	if validateOnly {
		return nil
	}
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	store := b.brokerConfigStore()
	next := map[string]string{}
	if !replace {
		cur, err := store.brokerEntityConfig(ctx, entity)
		if err != nil {
			return &apiError{errUnknown, err.Error()}
		}
		next = cur
		for _, k := range del {
			delete(next, k)
		}
	}
	maps.Copy(next, set)
	if err := store.setBrokerEntityConfig(ctx, entity, next); err != nil {
		return &apiError{errUnknown, err.Error()}
	}
	// The notification brings it to every broker; this one applies it
	// now so that a DescribeConfigs right after sees it.
	b.setDynamicConfig(entity, next)
	b.log.Info("altered dynamic broker configs", "entity", entity, "configs", next)
	return nil
}

// incrementalBrokerOps turns IncrementalAlterConfigs ops for a broker
// resource into sets and deletes, refusing what Kafka refuses.
func incrementalBrokerOps(configs []kmsg.IncrementalAlterConfigsRequestResourceConfig) (map[string]string, []string, *apiError) {
	seen := map[string]int{}
	for _, c := range configs {
		seen[c.Name]++
	}
	var dup, null []string
	for _, k := range sortedKeys(seen) {
		if seen[k] > 1 {
			dup = append(dup, k)
		}
	}
	if len(dup) > 0 {
		return nil, nil, &apiError{errInvalidRequest, "Error due to duplicate config keys : " + strings.Join(dup, ",")}
	}
	set := map[string]string{}
	var del []string
	for _, c := range configs {
		switch c.Op {
		case kmsg.IncrementalAlterConfigOpSet:
			if c.Value == nil {
				null = append(null, "SET:"+c.Name)
				continue
			}
			set[c.Name] = *c.Value
		case kmsg.IncrementalAlterConfigOpDelete:
			del = append(del, c.Name)
		case kmsg.IncrementalAlterConfigOpAppend, kmsg.IncrementalAlterConfigOpSubtract:
			// The dynamic keys are LONGs, not lists.
			verb := "append"
			if c.Op == kmsg.IncrementalAlterConfigOpSubtract {
				verb = "subtract"
			}
			return nil, nil, &apiError{errInvalidRequest, fmt.Sprintf("Config value %s is not allowed for config key: %s", verb, c.Name)}
		default:
			return nil, nil, &apiError{errInvalidRequest, fmt.Sprintf("unknown config operation %d for %s", c.Op, c.Name)}
		}
	}
	if len(null) > 0 {
		return nil, nil, &apiError{errInvalidRequest, "Null value not supported for : " + strings.Join(null, ",")}
	}
	return set, del, nil
}

// brokerConfigEntry is one DescribeConfigs entry of a broker resource.
type brokerConfigEntry struct {
	name, value string
	source      kmsg.ConfigSource
	readOnly    bool
	synonyms    []kmsg.DescribeConfigsResponseResourceConfigConfigSynonym
}

func synonym(name, value string, src kmsg.ConfigSource) kmsg.DescribeConfigsResponseResourceConfigConfigSynonym {
	s := kmsg.NewDescribeConfigsResponseResourceConfigConfigSynonym()
	s.Name, s.Value, s.Source = name, kmsg.StringPtr(value), src
	return s
}

// describeBrokerConfigs lists a broker entity's configs as Kafka does: for
// this broker every config with its effective value and source, synonyms
// in precedence order (per-broker, default, static, Kafka default); for
// the default entity only its dynamic values.
func (b *Broker) describeBrokerConfigs(entity string) []brokerConfigEntry {
	def := b.dynamicConfig(defaultBrokerEntity)
	if entity == defaultBrokerEntity {
		var out []brokerConfigEntry
		for _, k := range sortedKeys(def) {
			if !slices.Contains(dynamicBrokerKeys, k) {
				continue
			}
			out = append(out, brokerConfigEntry{name: k, value: def[k], source: kmsg.ConfigSourceDynamicDefaultBrokerConfig,
				synonyms: []kmsg.DescribeConfigsResponseResourceConfigConfigSynonym{synonym(k, def[k], kmsg.ConfigSourceDynamicDefaultBrokerConfig)}})
		}
		return out
	}
	self := b.dynamicConfig(entity)
	static := b.cfg.brokerConfigEntries()
	layers := map[string][]kmsg.DescribeConfigsResponseResourceConfigConfigSynonym{}
	for k, v := range static {
		layers[k] = append(layers[k], synonym(k, v, kmsg.ConfigSourceStaticBrokerConfig))
	}
	for _, k := range dynamicBrokerKeys {
		var syn []kmsg.DescribeConfigsResponseResourceConfigConfigSynonym
		if v, ok := self[k]; ok {
			syn = append(syn, synonym(k, v, kmsg.ConfigSourceDynamicBrokerConfig))
		}
		if v, ok := def[k]; ok {
			syn = append(syn, synonym(k, v, kmsg.ConfigSourceDynamicDefaultBrokerConfig))
		}
		sv := b.cfg.LeaderReplicationThrottle
		if k == "follower.replication.throttled.rate" {
			sv = b.cfg.FollowerReplicationThrottle
		}
		v, src := staticThrottleRate(sv)
		if src == kmsg.ConfigSourceStaticBrokerConfig {
			syn = append(syn, synonym(k, v, src))
		}
		syn = append(syn, synonym(k, strconv.FormatInt(unlimitedRate, 10), kmsg.ConfigSourceDefaultConfig))
		layers[k] = syn
	}
	out := make([]brokerConfigEntry, 0, len(layers))
	for _, k := range sortedKeys(layers) {
		syn := layers[k]
		out = append(out, brokerConfigEntry{name: k, value: deref(syn[0].Value), source: syn[0].Source,
			readOnly: !slices.Contains(dynamicBrokerKeys, k), synonyms: syn})
	}
	return out
}
