package broker

import (
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Client quotas as Kafka's ClientQuotaManager enforces them. Quotas are set
// per entity (user, client id, user+client id, their <default> forms, ip)
// with DescribeClientQuotas / AlterClientQuotas (48/49_*.go) and stored as
// Kafka stores them (ZooKeeper: /config/users, /config/clients; KRaft:
// ClientQuotaRecord). Every broker keeps the whole quota table in memory
// (clientQuotas.table) and measures each client's rate over
// quota.window.num windows of quota.window.size.seconds. A request that takes the
// measured rate over the quota gets a throttle time
// (observed − quota) / quota × window, returned in the response's
// throttle_time_ms; the connection then stops reading for that long
// (request.go, conn.go) — the response is delayed too for request versions
// older than KIP-219's (Produce < v6, Fetch < v8), whose clients do not
// throttle themselves.
//
// Enforced: producer_byte_rate on Produce (record bytes),
// consumer_byte_rate on consumer Fetch (record bytes; a throttled fetch
// answers no data, as Kafka's does), request_percentage on the time
// handlers run (quota_throttle.go), controller_mutation_rate on the
// partitions CreateTopics, CreatePartitions and DeleteTopics create or
// delete (quota_mutation.go), connection_creation_rate of ip entities on
// accepted connections (quota_connections.go).

// The quota configuration keys.
const (
	quotaProducerByteRate       = "producer_byte_rate"
	quotaConsumerByteRate       = "consumer_byte_rate"
	quotaRequestPercentage      = "request_percentage"
	quotaControllerMutationRate = "controller_mutation_rate"
	quotaConnectionCreationRate = "connection_creation_rate"
)

// quotaKeyKind is a quota key's type, which decides which values are valid.
type quotaKeyKind uint8

const (
	quotaLong quotaKeyKind = iota
	quotaInt
	quotaDouble
)

// userClientQuotaKeys are the keys of user and client-id entities, ipQuotaKeys
// those of ip entities (Kafka's QuotaConfigs).
var (
	userClientQuotaKeys = map[string]quotaKeyKind{
		quotaProducerByteRate:       quotaLong,
		quotaConsumerByteRate:       quotaLong,
		quotaRequestPercentage:      quotaDouble,
		quotaControllerMutationRate: quotaDouble,
	}
	ipQuotaKeys = map[string]quotaKeyKind{quotaConnectionCreationRate: quotaInt}
)

// QuotaConfig is how client rates are measured: over Windows samples of
// WindowSize each (quota.window.num, default 11, and
// quota.window.size.seconds, default 1, as in Kafka); the controller
// mutation token bucket holds ControllerWindows × ControllerWindowSize
// seconds of its rate (controller.quota.window.num, default 11, and
// controller.quota.window.size.seconds, default 1).
type QuotaConfig struct {
	Windows              int
	WindowSize           time.Duration
	ControllerWindows    int
	ControllerWindowSize time.Duration
	// MaxConnectionCreationRate is max.connection.creation.rate: new
	// connections per second the broker accepts over all listeners
	// (0: unlimited, Kafka's Int.MaxValue default).
	MaxConnectionCreationRate int
}

func defaultQuotaConfig() QuotaConfig {
	return QuotaConfig{Windows: 11, WindowSize: time.Second, ControllerWindows: 11, ControllerWindowSize: time.Second}
}

// parseQuotaProperty parses the quota.window.* properties.
func (c *Config) parseQuotaProperty(k, v string) (ok bool, err error) {
	switch k {
	case "quota.window.num":
		n, err := parseInt32(v, 1, math.MaxInt32)
		c.Quota.Windows = int(n)
		return true, err
	case "quota.window.size.seconds":
		n, err := parseInt32(v, 1, math.MaxInt32)
		c.Quota.WindowSize = time.Duration(n) * time.Second
		return true, err
	case "controller.quota.window.num":
		n, err := parseInt32(v, 1, math.MaxInt32)
		c.Quota.ControllerWindows = int(n)
		return true, err
	case "controller.quota.window.size.seconds":
		n, err := parseInt32(v, 1, math.MaxInt32)
		c.Quota.ControllerWindowSize = time.Duration(n) * time.Second
		return true, err
	case "max.connection.creation.rate":
		n, err := parseInt32(v, 0, math.MaxInt32)
		c.Quota.MaxConnectionCreationRate = int(n)
		if n == math.MaxInt32 {
			c.Quota.MaxConnectionCreationRate = 0
		}
		return true, err
	}
	return false, nil
}

// Entity types, as in the protocol.
const (
	entityUser     = "user"
	entityClientID = "client-id"
	entityIP       = "ip"
)

// quotaName is one component of a quota entity: absent, the default entity
// (a null name in the protocol, <default> in ZooKeeper), or a name.
type quotaName struct {
	set  bool
	def  bool
	name string
}

func namedQuota(n string) quotaName { return quotaName{set: true, name: n} }

var defaultQuota = quotaName{set: true, def: true}

// quotaEntity is what a quota is set on. Comparable: used as a map key.
type quotaEntity struct {
	user, client, ip quotaName
}

// String is the entity as Kafka prints a ClientQuotaEntity's parts.
func (e quotaEntity) String() string {
	var parts []string
	add := func(typ string, n quotaName) {
		if !n.set {
			return
		}
		v := n.name
		if n.def {
			v = "<default>"
		}
		parts = append(parts, typ+"="+v)
	}
	add(entityUser, e.user)
	add(entityClientID, e.client)
	add(entityIP, e.ip)
	return "{" + strings.Join(parts, ", ") + "}"
}

// quotaTable holds the quotas set: entity → key → value. Values handed out
// are never modified; a change builds a new table.
type quotaTable map[quotaEntity]map[string]float64

// quotaMatch is the quota that applies to a request, with the metric tags
// of the sensor that measures it (clients sharing a quota share a sensor).
type quotaMatch struct {
	entity             quotaEntity
	limit              float64
	userTag, clientTag string
}

// resolve finds the quota for key that applies to user (the principal's
// name, without "User:") and clientID, in Kafka's order:
// /config/users/<user>/clients/<client-id>, /config/users/<user>/clients/<default>,
// /config/users/<user>, /config/users/<default>/clients/<client-id>,
// /config/users/<default>/clients/<default>, /config/users/<default>,
// /config/clients/<client-id>, /config/clients/<default>.
// It reports false when none sets key.
func (t quotaTable) resolve(key, user, clientID string) (quotaMatch, bool) {
	u, c := namedQuota(user), namedQuota(clientID)
	levels := []struct {
		e                  quotaEntity
		userTag, clientTag string
	}{
		{quotaEntity{user: u, client: c}, user, clientID},
		{quotaEntity{user: u, client: defaultQuota}, user, clientID},
		{quotaEntity{user: u}, user, ""},
		{quotaEntity{user: defaultQuota, client: c}, user, clientID},
		{quotaEntity{user: defaultQuota, client: defaultQuota}, user, clientID},
		{quotaEntity{user: defaultQuota}, user, ""},
		{quotaEntity{client: c}, "", clientID},
		{quotaEntity{client: defaultQuota}, "", clientID},
	}
	for _, l := range levels {
		if v, ok := t[l.e][key]; ok {
			return quotaMatch{entity: l.e, limit: v, userTag: l.userTag, clientTag: l.clientTag}, true
		}
	}
	return quotaMatch{}, false
}

// rateSample is one window of a sampledRate.
type rateSample struct {
	start time.Time
	value float64
}

// sampledRate is Kafka's Rate over a SampledStat: values summed in up to
// num windows of size each, divided by the time they cover (at least
// num−1 full windows, so that a fresh sensor does not see a huge rate).
type sampledRate struct {
	samples []rateSample
	cur     int
	last    time.Time // last record, for idle expiry
}

func (r *sampledRate) record(v float64, now time.Time, num int, size time.Duration) {
	r.last = now
	if len(r.samples) == 0 {
		r.samples = append(r.samples, rateSample{start: now})
	}
	if now.Sub(r.samples[r.cur].start) >= size {
		r.cur = (r.cur + 1) % num
		if r.cur >= len(r.samples) {
			r.samples = append(r.samples, rateSample{start: now})
		} else {
			r.samples[r.cur] = rateSample{start: now}
		}
	}
	r.samples[r.cur].value += v
}

// purge resets samples older than the whole window.
func (r *sampledRate) purge(now time.Time, num int, size time.Duration) {
	expire := time.Duration(num) * size
	for i := range r.samples {
		if now.Sub(r.samples[i].start) >= expire {
			r.samples[i] = rateSample{start: now}
		}
	}
}

// windowSize is the time the rate is measured over (Kafka's Rate.windowSize).
func (r *sampledRate) windowSize(now time.Time, num int, size time.Duration) time.Duration {
	r.purge(now, num, size)
	oldest := now
	for _, s := range r.samples {
		if s.start.Before(oldest) {
			oldest = s.start
		}
	}
	elapsed := now.Sub(oldest)
	if full := int(elapsed / size); full < num-1 {
		elapsed += time.Duration(num-1-full) * size
	}
	return elapsed
}

// measure is the rate per second.
func (r *sampledRate) measure(now time.Time, num int, size time.Duration) float64 {
	w := r.windowSize(now, num, size)
	var total float64
	for _, s := range r.samples {
		total += s.value
	}
	return total / w.Seconds()
}

// sensorKey names one rate sensor: the quota key and the metric tags.
type sensorKey struct {
	key, user, client string
}

// sensorIdleExpiry drops sensors of clients gone quiet (Kafka: one hour).
const sensorIdleExpiry = time.Hour

// clientQuotas is a broker's quota table and rate sensors. mu guards all
// but keys, which request paths read without it.
type clientQuotas struct {
	// keys holds the quota keys some entity sets (written under mu): a key
	// no entity sets costs a request one atomic load, not the lock.
	keys    atomic.Pointer[map[string]bool]
	mu      sync.Mutex
	table   quotaTable
	sensors map[sensorKey]*sampledRate
	buckets map[sensorKey]*tokenBucket // controller_mutation_rate
	num     int
	size    time.Duration
	// ctrlNum and ctrlSize size the controller mutation token buckets.
	ctrlNum  int
	ctrlSize time.Duration
	records  int // records since the last idle sweep

	// zkChanges are the /config/changes notifications at the last read of
	// the quotas from ZooKeeper (nil: never read); only the zkCluster's
	// reload, one goroutine, uses it.
	zkChanges []string
}

func newClientQuotas(cfg QuotaConfig) *clientQuotas {
	def := defaultQuotaConfig()
	if cfg.Windows < 1 || cfg.WindowSize <= 0 {
		cfg.Windows, cfg.WindowSize = def.Windows, def.WindowSize
	}
	if cfg.ControllerWindows < 1 || cfg.ControllerWindowSize <= 0 {
		cfg.ControllerWindows, cfg.ControllerWindowSize = def.ControllerWindows, def.ControllerWindowSize
	}
	return &clientQuotas{table: quotaTable{}, sensors: map[sensorKey]*sampledRate{}, buckets: map[sensorKey]*tokenBucket{},
		num: cfg.Windows, size: cfg.WindowSize, ctrlNum: cfg.ControllerWindows, ctrlSize: cfg.ControllerWindowSize}
}

// set replaces the quota table (sensors and their history are kept).
func (q *clientQuotas) set(t quotaTable) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.setLocked(t)
}

// setLocked replaces the table. q.mu held.
func (q *clientQuotas) setLocked(t quotaTable) {
	q.table = t
	keys := map[string]bool{}
	for _, values := range t {
		for k := range values {
			keys[k] = true
		}
	}
	q.keys.Store(&keys)
}

// anySets reports whether some entity sets key.
func (q *clientQuotas) anySets(key string) bool {
	k := q.keys.Load()
	return k != nil && (*k)[key]
}

// snapshot is the quota table in force; the caller must not modify it.
func (q *clientQuotas) snapshot() quotaTable {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.table
}

// record charges value to the sensor that measures key for (user,
// clientID) and returns the throttle time: zero within the quota (or when
// no quota applies), else the time it takes the rate to fall back to it.
// With unrecordIfThrottled the value is taken back when throttled (a
// throttled fetch sends no data).
func (q *clientQuotas) record(key, user, clientID string, value float64, now time.Time, unrecordIfThrottled bool) time.Duration {
	if !q.anySets(key) {
		return 0
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	m, ok := q.table.resolve(key, user, clientID)
	if !ok || m.limit <= 0 {
		return 0
	}
	sk := sensorKey{key, m.userTag, m.clientTag}
	s := q.sensors[sk]
	if s == nil {
		s = &sampledRate{}
		q.sensors[sk] = s
	}
	q.sweepLocked(now)
	s.record(value, now, q.num, q.size)
	rate := s.measure(now, q.num, q.size)
	if rate <= m.limit {
		return 0
	}
	throttle := time.Duration((rate - m.limit) / m.limit * float64(s.windowSize(now, q.num, q.size)))
	if unrecordIfThrottled {
		s.record(-value, now, q.num, q.size)
	}
	return throttle
}

// maxValueInWindow is the most that can be recorded for key without being
// throttled for sure (Kafka's getMaxValueInQuotaWindow: limit × (num−1) ×
// size); +Inf when no quota applies.
func (q *clientQuotas) maxValueInWindow(key, user, clientID string) float64 {
	if !q.anySets(key) {
		return math.Inf(1)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	m, ok := q.table.resolve(key, user, clientID)
	if !ok || m.limit <= 0 {
		return math.Inf(1)
	}
	return m.limit * float64(q.num-1) * q.size.Seconds()
}

// sweepLocked drops idle sensors now and then. q.mu held.
func (q *clientQuotas) sweepLocked(now time.Time) {
	q.records++
	if q.records < 1024 {
		return
	}
	q.records = 0
	for k, s := range q.sensors {
		if now.Sub(s.last) > sensorIdleExpiry {
			delete(q.sensors, k)
		}
	}
	for k, tb := range q.buckets {
		if now.Sub(tb.last) > sensorIdleExpiry {
			delete(q.buckets, k)
		}
	}
}

// quotaUser is the user name quotas are set for: the principal's name
// without its "User:" type.
func quotaUser(principal string) string {
	if _, name, ok := strings.Cut(principal, ":"); ok {
		return name
	}
	return principal
}
