package broker

import (
	"context"
	"errors"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/osprey-kafka/osprey/broker/metastore"
	"github.com/osprey-kafka/osprey/broker/zkdata"
)

// clientQuotaStore is where client quotas are kept: the zkCluster keeps
// them in ZooKeeper as Kafka does, a kraftCluster reads them from the
// metadata image (and forwards changes to the controller), a broker
// without a metadata store keeps them in memory.
type clientQuotaStore interface {
	// clientQuotaTable reads every entity's quotas as stored.
	clientQuotaTable(ctx context.Context) (quotaTable, error)
	// alterClientQuota applies one validated alteration.
	alterClientQuota(ctx context.Context, alt quotaAlteration) error
}

func (b *Broker) clientQuotaStore() clientQuotaStore {
	if s, ok := b.cluster.(clientQuotaStore); ok {
		return s
	}
	return memoryQuotaStore{b}
}

// memoryQuotaStore keeps the quotas of a broker without a metadata store
// in its quota table only: they do not survive a restart.
type memoryQuotaStore struct{ b *Broker }

func (m memoryQuotaStore) clientQuotaTable(context.Context) (quotaTable, error) {
	return m.b.quotas.snapshot(), nil
}

func (m memoryQuotaStore) alterClientQuota(_ context.Context, alt quotaAlteration) error {
	m.b.quotas.mu.Lock()
	defer m.b.quotas.mu.Unlock()
	next := maps.Clone(m.b.quotas.table)
	next[alt.entity] = applyQuotaOps(next[alt.entity], alt.ops)
	if len(next[alt.entity]) == 0 {
		delete(next, alt.entity)
	}
	m.b.quotas.setLocked(next)
	return nil
}

// applyQuotaOps returns a copy of values with ops applied.
func applyQuotaOps(values map[string]float64, ops []quotaOp) map[string]float64 {
	out := maps.Clone(values)
	if out == nil {
		out = map[string]float64{}
	}
	for _, op := range ops {
		if op.remove {
			delete(out, op.key)
		} else {
			out[op.key] = op.value
		}
	}
	return out
}

// zkQuotaNode is where an entity's quotas live in ZooKeeper: the config
// type and the (sanitized) entity name under it.
func zkQuotaNode(e quotaEntity) (entityType, name string) {
	z := func(n quotaName) string {
		if n.def {
			return defaultBrokerEntity // "<default>", the same for every type
		}
		return zkdata.SanitizeEntityName(n.name)
	}
	switch {
	case e.ip.set:
		return zkdata.ConfigTypeIP, z(e.ip)
	case e.user.set && e.client.set:
		return zkdata.ConfigTypeUser, z(e.user) + "/" + zkdata.ConfigTypeClient + "/" + z(e.client)
	case e.user.set:
		return zkdata.ConfigTypeUser, z(e.user)
	default:
		return zkdata.ConfigTypeClient, z(e.client)
	}
}

// zkQuotaValue is a quota as Kafka writes it in ZooKeeper: LONG and INT
// keys as integers, DOUBLE keys as Java's Double.toString.
func zkQuotaValue(key string, v float64) string {
	kind, ok := userClientQuotaKeys[key]
	if !ok {
		kind = ipQuotaKeys[key]
	}
	if kind == quotaDouble {
		return javaDoubleString(v)
	}
	return strconv.FormatInt(int64(v), 10)
}

// javaDoubleString formats v as java.lang.Double.toString does: plain
// with at least one decimal between 10^-3 and 10^7, else "1.0E7" style.
func javaDoubleString(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "Infinity"
	case math.IsInf(v, -1):
		return "-Infinity"
	case v == 0:
		if math.Signbit(v) {
			return "-0.0"
		}
		return "0.0"
	}
	if a := math.Abs(v); a >= 1e-3 && a < 1e7 {
		s := strconv.FormatFloat(v, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	s := strconv.FormatFloat(v, 'E', -1, 64) // 1E+07, 1.5E-05
	mant, exp, _ := strings.Cut(s, "E")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	neg := strings.HasPrefix(exp, "-")
	exp = strings.TrimLeft(strings.TrimLeft(exp, "+-"), "0")
	if neg {
		exp = "-" + exp
	}
	return mant + "E" + exp
}

// alterClientQuota writes one entity's quotas with the shared
// read-modify-write of its config node (zk_entity_config.go).
func (zc *zkCluster) alterClientQuota(ctx context.Context, alt quotaAlteration) error {
	typ, name := zkQuotaNode(alt.entity)
	return zc.updateEntityConfig(ctx, typ, name, func(cfg map[string]string) error {
		for _, op := range alt.ops {
			if op.remove {
				delete(cfg, op.key)
			} else {
				cfg[op.key] = zkQuotaValue(op.key, op.value)
			}
		}
		return nil
	})
}

// clientQuotaTable reads /config/users (with their clients),
// /config/clients and /config/ips.
func (zc *zkCluster) clientQuotaTable(ctx context.Context) (quotaTable, error) {
	s, err := zc.keeper.WaitSession(ctx)
	if err != nil {
		return nil, err
	}
	return readQuotaTable(ctx, s, zc.log.Warn)
}

// readQuotaTable reads every quota entity from ZooKeeper. Values that are
// not numbers are skipped with a warning, as Kafka's brokers log them.
func readQuotaTable(ctx context.Context, s metastore.Session, warn func(string, ...any)) (quotaTable, error) {
	t := quotaTable{}
	name := func(z string) quotaName {
		if z == defaultBrokerEntity {
			return defaultQuota
		}
		n, err := zkdata.DesanitizeEntityName(z)
		if err != nil {
			n = z // not written by a Sanitizer: taken as it is
		}
		return namedQuota(n)
	}
	add := func(e quotaEntity, cfg map[string]string, keys map[string]quotaKeyKind) {
		values := map[string]float64{}
		for k, v := range cfg {
			if _, ok := keys[k]; !ok {
				continue
			}
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				warn("client quota value is not a number", "entity", e.String(), "key", k, "value", v)
				continue
			}
			values[k] = f
		}
		if len(values) > 0 {
			t[e] = values
		}
	}
	users, err := readEntityConfigs(ctx, s, zkdata.ConfigTypeUser, zkdata.ConfigTypeClient)
	if err != nil {
		return nil, err
	}
	for key, cfg := range users {
		u, c, both := strings.Cut(key, "/"+zkdata.ConfigTypeClient+"/")
		e := quotaEntity{user: name(u)}
		if both {
			e.client = name(c)
		}
		add(e, cfg, userClientQuotaKeys)
	}
	clients, err := readEntityConfigs(ctx, s, zkdata.ConfigTypeClient, "")
	if err != nil {
		return nil, err
	}
	for key, cfg := range clients {
		add(quotaEntity{client: name(key)}, cfg, userClientQuotaKeys)
	}
	ips, err := readEntityConfigs(ctx, s, zkdata.ConfigTypeIP, "")
	if err != nil {
		return nil, err
	}
	for key, cfg := range ips {
		add(quotaEntity{ip: name(key)}, cfg, ipQuotaKeys)
	}
	return t, nil
}

// applyClientQuotas installs the quotas stored in ZooKeeper. The cache
// reload runs it after every watch event and every couple of seconds; the
// entities are read again only when /config/changes lists other
// notifications than at the last read (every write of a quota, by this
// runtime or Kafka's tools, adds one).
func (zc *zkCluster) applyClientQuotas(ctx context.Context, s metastore.Session) error {
	changes, _, err := s.Children(ctx, zkdata.ConfigChangesPath)
	if err != nil && !errors.Is(err, metastore.ErrNoNode) {
		return err
	}
	slices.Sort(changes)
	q := zc.b.quotas
	if q.zkChanges != nil && slices.Equal(changes, q.zkChanges) {
		return nil
	}
	t, err := readQuotaTable(ctx, s, zc.log.Warn)
	if err != nil {
		return err
	}
	q.set(t)
	q.zkChanges = append([]string{}, changes...)
	return nil
}
