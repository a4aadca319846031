package broker

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/osprey-kafka/osprey/broker/kafkawire"
	"github.com/osprey-kafka/osprey/broker/storage"
)

// Config is one broker's configuration. Field comments give the Apache Kafka
// property each one is read from.
type Config struct {
	BrokerID            int32    // broker.id
	Rack                string   // broker.rack
	Listeners           []string // listeners, e.g. PLAINTEXT://127.0.0.1:9092
	AdvertisedListeners []string // advertised.listeners (defaults to listeners)
	LogDirs             []string // log.dirs or log.dir; empty = in-memory logs
	ClusterID           string   // osprey.cluster.id (else read from meta.properties or generated)

	NumPartitions            int32 // num.partitions
	DefaultReplicationFactor int16 // default.replication.factor
	MinInsyncReplicas        int32 // min.insync.replicas

	LogSegmentBytes        int64         // log.segment.bytes
	LogRoll                time.Duration // log.roll.ms / log.roll.hours
	LogRetention           time.Duration // log.retention.ms|minutes|hours; <0 = forever
	LogRetentionBytes      int64         // log.retention.bytes; <0 = unlimited
	LogRetentionCheck      time.Duration // log.retention.check.interval.ms
	LogIndexIntervalBytes  int32         // log.index.interval.bytes
	LogFlushIntervalMsgs   int64         // log.flush.interval.messages (fsync after this many messages)
	LogFlushInterval       time.Duration // log.flush.interval.ms (fsync after this long)
	LogCleanupPolicy       string        // log.cleanup.policy (delete, compact, compact,delete)
	LogMessageTimestamp    string        // log.message.timestamp.type (CreateTime, LogAppendTime)
	AutoCreateTopics       bool          // auto.create.topics.enable
	DeleteTopicEnable      bool          // delete.topic.enable
	MessageMaxBytes        int32         // message.max.bytes
	SocketRequestMaxBytes  int32         // socket.request.max.bytes
	ReplicaFetchMaxBytes   int32         // replica.fetch.max.bytes
	OffsetsTopicPartitions int32         // offsets.topic.num.partitions
	// OffsetsTopicReplicationFactor is offsets.topic.replication.factor,
	// capped at the number of live brokers when the topic is created.
	OffsetsTopicReplicationFactor int16
	OffsetsRetention              time.Duration // offsets.retention.minutes
	OffsetsTopicSegmentBytes      int64         // offsets.topic.segment.bytes (segment.bytes of __consumer_offsets)

	LogCleaner LogCleanerConfig // log.cleaner.*; parsed in log_cleaner.go
	Txn        TxnConfig        // transaction.*; parsed in txn_config.go
	Quota      QuotaConfig      // quota.window.*; parsed in quota.go
	// Consumer is group.consumer.* and group.coordinator.rebalance.protocols;
	// parsed in consumer_group_config.go.
	Consumer ConsumerGroupConfig
	// Share is group.share.*; parsed in share_group_config.go.
	Share ShareGroupConfig
	Authz AuthzConfig // authorizer.class.name, super.users, ...; parsed in authz_config.go

	GroupInitialRebalanceDelay time.Duration // group.initial.rebalance.delay.ms
	GroupMinSessionTimeout     time.Duration // group.min.session.timeout.ms
	GroupMaxSessionTimeout     time.Duration // group.max.session.timeout.ms

	MetricsListen string // metrics.listen (Osprey): Prometheus endpoint address, e.g. :9404

	Security SecurityConfig // listener protocols, SASL and TLS; parsed in security_config.go

	// Cluster mode; parsed in cluster_config.go.
	ZooKeeperConnect             string        // zookeeper.connect ("" = single broker unless WithMetaStore)
	ZooKeeperSessionTimeout      time.Duration // zookeeper.session.timeout.ms
	ReplicaLagTimeMax            time.Duration // replica.lag.time.max.ms
	UncleanLeaderElection        bool          // unclean.leader.election.enable
	AutoLeaderRebalance          bool          // auto.leader.rebalance.enable
	LeaderImbalancePerBrokerPct  int32         // leader.imbalance.per.broker.percentage
	LeaderImbalanceCheckInterval time.Duration // leader.imbalance.check.interval.seconds
	LeaderReplicationThrottle    int64         // leader.replication.throttled.rate (bytes/s; <=0 or MaxInt64 = none)
	FollowerReplicationThrottle  int64         // follower.replication.throttled.rate (bytes/s)

	// KRaft mode; parsed in kraft_config.go. No process.roles = ZooKeeper or
	// single-broker mode, where these keys are read but have no effect.
	ProcessRoles                     []string      // process.roles: broker, controller or both
	NodeID                           int32         // node.id (-1 = not set); the broker id in KRaft mode
	ControllerQuorumVoters           []QuorumVoter // controller.quorum.voters (id@host:port,...)
	ControllerQuorumBootstrapServers []string      // controller.quorum.bootstrap.servers (host:port,...)
	ControllerListenerNames          []string      // controller.listener.names
	ControllerListeners              []string      // the entries of listeners named in controller.listener.names
	MetadataLogDir                   string        // metadata.log.dir ("" = the first of log.dirs)
	BrokerSessionTimeout             time.Duration // broker.session.timeout.ms: a broker silent this long is fenced
	BrokerHeartbeatInterval          time.Duration // broker.heartbeat.interval.ms
	QuorumElectionTimeout            time.Duration // controller.quorum.election.timeout.ms
	QuorumFetchTimeout               time.Duration // controller.quorum.fetch.timeout.ms
	MetadataLogSegmentBytes          int64         // metadata.log.segment.bytes
	MetadataMaxIdleInterval          time.Duration // metadata.max.idle.interval.ms: the active controller writes a NoOpRecord this often
	MetadataSnapshotMaxBytes         int64         // metadata.log.max.record.bytes.between.snapshots
	MetadataSnapshotInterval         time.Duration // metadata.log.max.snapshot.interval.ms (0: no snapshots by time)
}

// DefaultConfig returns Apache Kafka's defaults, with one listener on
// 127.0.0.1 on a random port and no log directory (memory logs).
func DefaultConfig() Config {
	return Config{
		BrokerID:                      0,
		Listeners:                     []string{"PLAINTEXT://127.0.0.1:0"},
		NumPartitions:                 1,
		DefaultReplicationFactor:      1,
		MinInsyncReplicas:             1,
		LogSegmentBytes:               1 << 30,
		LogRoll:                       7 * 24 * time.Hour,
		LogRetention:                  7 * 24 * time.Hour,
		LogRetentionBytes:             -1,
		LogRetentionCheck:             5 * time.Minute,
		LogIndexIntervalBytes:         4096,
		AutoCreateTopics:              true,
		DeleteTopicEnable:             true,
		MessageMaxBytes:               1048588,
		SocketRequestMaxBytes:         104857600,
		ReplicaFetchMaxBytes:          1048576,
		OffsetsTopicPartitions:        50,
		OffsetsTopicReplicationFactor: 3,
		OffsetsRetention:              7 * 24 * time.Hour,
		OffsetsTopicSegmentBytes:      100 << 20,
		LogCleaner:                    defaultLogCleanerConfig(),
		Txn:                           defaultTxnConfig(),
		Quota:                         defaultQuotaConfig(),
		Security:                      defaultSecurityConfig(),
		Consumer:                      defaultConsumerGroupConfig(),
		Share:                         defaultShareGroupConfig(),
		GroupInitialRebalanceDelay:    3 * time.Second,
		GroupMinSessionTimeout:        6 * time.Second,
		GroupMaxSessionTimeout:        30 * time.Minute,
		LogFlushIntervalMsgs:          math.MaxInt64,
		LogFlushInterval:              -1,
		LogCleanupPolicy:              "delete",
		LogMessageTimestamp:           "CreateTime",
		ZooKeeperSessionTimeout:       18 * time.Second,
		ReplicaLagTimeMax:             30 * time.Second,
		AutoLeaderRebalance:           true,
		LeaderImbalancePerBrokerPct:   10,
		LeaderImbalanceCheckInterval:  300 * time.Second,
		LeaderReplicationThrottle:     math.MaxInt64,
		FollowerReplicationThrottle:   math.MaxInt64,
		NodeID:                        -1,
		// Kafka's KRaft defaults.
		BrokerSessionTimeout:     9 * time.Second,
		BrokerHeartbeatInterval:  2 * time.Second,
		QuorumElectionTimeout:    time.Second,
		QuorumFetchTimeout:       2 * time.Second,
		MetadataLogSegmentBytes:  1 << 30,
		MetadataMaxIdleInterval:  500 * time.Millisecond,
		MetadataSnapshotMaxBytes: 20 << 20,
		MetadataSnapshotInterval: time.Hour,
	}
}

// knownIgnored are Kafka properties accepted without effect (no warning):
// they are common in server.properties files and harmless to ignore here.
var knownIgnored = map[string]bool{
	"num.network.threads": true, "num.io.threads": true, "socket.send.buffer.bytes": true,
	"socket.receive.buffer.bytes": true, "num.recovery.threads.per.data.dir": true,
	"transaction.state.log.replication.factor": true,
	"transaction.state.log.min.isr":            true, "zookeeper.connect": true, "zookeeper.connection.timeout.ms": true,
	"replica.lag.time.max.ms": true, "unclean.leader.election.enable": true, "auto.leader.rebalance.enable": true,
	"controlled.shutdown.enable": true, "compression.type": true, "leader.imbalance.per.broker.percentage": true,
	"leader.imbalance.check.interval.seconds": true,
}

// ParseProperties reads a Java-style properties stream (key=value or
// key: value, # and ! comments, backslash line continuations) with Apache
// Kafka's broker property names over DefaultConfig. Unknown keys are logged
// as warnings; a bad value fails with the key's name.
func ParseProperties(r io.Reader, log *slog.Logger) (Config, error) {
	props, err := ReadProperties(r)
	if err != nil {
		return Config{}, err
	}
	return ConfigFromProperties(props, log)
}

// LoadConfigFile reads a server.properties file.
func LoadConfigFile(path string, log *slog.Logger) (Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return Config{}, fmt.Errorf("opening broker config: %w", err)
	}
	defer f.Close()
	cfg, err := ParseProperties(f, log)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// ReadProperties reads a Java-style properties stream into a map.
func ReadProperties(r io.Reader) (map[string]string, error) {
	props := map[string]string{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var pending string
	for sc.Scan() {
		line := strings.TrimLeft(sc.Text(), " \t\f")
		if pending == "" && (line == "" || line[0] == '#' || line[0] == '!') {
			continue
		}
		if strings.HasSuffix(line, `\`) && !strings.HasSuffix(line, `\\`) {
			pending += strings.TrimSuffix(line, `\`)
			continue
		}
		line = pending + line
		pending = ""
		i := strings.IndexAny(line, "=:")
		var k, v string
		if i < 0 {
			k = strings.TrimSpace(line)
		} else {
			k, v = strings.TrimSpace(line[:i]), strings.TrimSpace(line[i+1:])
		}
		if k != "" {
			props[k] = v
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading properties: %w", err)
	}
	return props, nil
}

// ConfigFromProperties applies Kafka broker properties over DefaultConfig.
// It is kept whole because it is one flat switch with a case per property
// key: a reader looks up a key in one place, and splitting it would only
// scatter that table.
func ConfigFromProperties(props map[string]string, log *slog.Logger) (Config, error) {
	if log == nil {
		log = slog.Default()
	}
	cfg := DefaultConfig()
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	// Retention: the most precise key wins, as in Kafka (ms > minutes > hours).
	var retHours, retMinutes, retMs, rollHours, rollMs *int64
	for _, k := range keys {
		v := props[k]
		var err error
		switch k {
		case "broker.id":
			cfg.BrokerID, err = parseInt32(v, 0, math.MaxInt32)
		case "broker.rack":
			cfg.Rack = v
		case "listeners":
			// KRaft controller listeners (named in controller.listener.names)
			// are kept apart: the data plane listens on the others only.
			cfg.Listeners, cfg.ControllerListeners, err = parseListeners(v, splitList(props["controller.listener.names"]))
		case "advertised.listeners":
			cfg.AdvertisedListeners, _, err = parseListeners(v, splitList(props["controller.listener.names"]))
		case "log.dirs", "log.dir":
			if k == "log.dir" && props["log.dirs"] != "" {
				continue // log.dirs takes precedence
			}
			cfg.LogDirs = splitList(v)
			if len(cfg.LogDirs) == 0 {
				err = fmt.Errorf("empty list")
			}
		case "osprey.cluster.id":
			cfg.ClusterID = v
		case "num.partitions":
			cfg.NumPartitions, err = parseInt32(v, 1, math.MaxInt32)
		case "default.replication.factor":
			var n int32
			n, err = parseInt32(v, 1, math.MaxInt16)
			cfg.DefaultReplicationFactor = int16(n)
		case "min.insync.replicas":
			cfg.MinInsyncReplicas, err = parseInt32(v, 1, math.MaxInt32)
		case "log.segment.bytes":
			var n int32
			n, err = parseInt32(v, 14, math.MaxInt32)
			cfg.LogSegmentBytes = int64(n)
		case "log.roll.ms":
			rollMs, err = parseInt64Ptr(v, 1)
		case "log.roll.hours":
			rollHours, err = parseInt64Ptr(v, 1)
		case "log.retention.ms":
			retMs, err = parseInt64Ptr(v, -1)
		case "log.retention.minutes":
			retMinutes, err = parseInt64Ptr(v, -1)
		case "log.retention.hours":
			retHours, err = parseInt64Ptr(v, -1)
		case "log.retention.bytes":
			cfg.LogRetentionBytes, err = parseInt64(v, -1)
		case "log.retention.check.interval.ms":
			var n int64
			n, err = parseInt64(v, 1)
			cfg.LogRetentionCheck = time.Duration(n) * time.Millisecond
		case "log.index.interval.bytes":
			cfg.LogIndexIntervalBytes, err = parseInt32(v, 0, math.MaxInt32)
		case "log.flush.interval.messages":
			cfg.LogFlushIntervalMsgs, err = parseInt64(v, 1)
		case "log.flush.interval.ms":
			var n int64
			n, err = parseInt64(v, 0)
			cfg.LogFlushInterval = time.Duration(n) * time.Millisecond
		case "log.cleanup.policy":
			cfg.LogCleanupPolicy = v
			_, err = storage.DefaultConfig().WithOverrides(map[string]string{"cleanup.policy": v})
		case "log.message.timestamp.type":
			cfg.LogMessageTimestamp = v
			if v != storage.CreateTime && v != storage.LogAppendTime {
				err = fmt.Errorf("want CreateTime or LogAppendTime")
			}
		case "auto.create.topics.enable":
			cfg.AutoCreateTopics, err = strconv.ParseBool(v)
		case "delete.topic.enable":
			cfg.DeleteTopicEnable, err = strconv.ParseBool(v)
		case "message.max.bytes":
			cfg.MessageMaxBytes, err = parseInt32(v, 0, math.MaxInt32)
		case "socket.request.max.bytes":
			cfg.SocketRequestMaxBytes, err = parseInt32(v, 1, math.MaxInt32)
		case "replica.fetch.max.bytes":
			cfg.ReplicaFetchMaxBytes, err = parseInt32(v, 0, math.MaxInt32)
		case "offsets.topic.replication.factor":
			var n int32
			n, err = parseInt32(v, 1, math.MaxInt16)
			cfg.OffsetsTopicReplicationFactor = int16(n)
		case "offsets.topic.num.partitions":
			cfg.OffsetsTopicPartitions, err = parseInt32(v, 1, math.MaxInt32)
		case "offsets.retention.minutes":
			var n int64
			n, err = parseInt64(v, 1)
			cfg.OffsetsRetention = time.Duration(n) * time.Minute
		case "group.initial.rebalance.delay.ms":
			var n int64
			n, err = parseInt64(v, 0)
			cfg.GroupInitialRebalanceDelay = time.Duration(n) * time.Millisecond
		case "group.min.session.timeout.ms":
			var n int64
			n, err = parseInt64(v, 0)
			cfg.GroupMinSessionTimeout = time.Duration(n) * time.Millisecond
		case "group.max.session.timeout.ms":
			var n int64
			n, err = parseInt64(v, 0)
			cfg.GroupMaxSessionTimeout = time.Duration(n) * time.Millisecond
		case "metrics.listen":
			if v != "" {
				_, _, err = net.SplitHostPort(v)
			}
			cfg.MetricsListen = v
		default:
			if ok, perr := cfg.parseClusterProperty(k, v); ok {
				err = perr
			} else if ok, perr := cfg.parseKRaftProperty(k, v); ok {
				err = perr
			} else if ok, perr := cfg.parseCleanerProperty(k, v); ok {
				err = perr
			} else if ok, perr := cfg.parseTxnProperty(k, v); ok {
				err = perr
			} else if ok, perr := cfg.parseQuotaProperty(k, v); ok {
				err = perr
			} else if ok, perr := cfg.parseSecurityProperty(k, v); ok {
				err = perr
			} else if ok, perr := cfg.parseConsumerGroupProperty(k, v); ok {
				err = perr
			} else if ok, perr := cfg.parseShareGroupProperty(k, v); ok {
				err = perr
			} else if ok, perr := cfg.parseAuthzProperty(k, v); ok {
				err = perr
			} else if !knownIgnored[k] {
				log.Warn("unknown broker property ignored", "key", k)
			}
		}
		if err != nil && sensitiveKey(k) {
			return Config{}, fmt.Errorf("property %s: %w", k, err)
		}
		if err != nil {
			return Config{}, fmt.Errorf("property %s=%q: %w", k, v, err)
		}
	}
	switch {
	case retMs != nil:
		cfg.LogRetention = msDuration(*retMs)
	case retMinutes != nil:
		cfg.LogRetention = msDuration(*retMinutes * 60_000)
	case retHours != nil:
		cfg.LogRetention = msDuration(*retHours * 3_600_000)
	}
	switch {
	case rollMs != nil:
		cfg.LogRoll = time.Duration(*rollMs) * time.Millisecond
	case rollHours != nil:
		cfg.LogRoll = time.Duration(*rollHours) * time.Hour
	}
	if err := cfg.finishKRaft(props); err != nil {
		return Config{}, err
	}
	if err := cfg.finishSecurity(props); err != nil {
		return Config{}, err
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// msDuration maps Kafka's -1 ("forever") to a negative duration.
func msDuration(ms int64) time.Duration {
	if ms < 0 {
		return -1
	}
	return time.Duration(ms) * time.Millisecond
}

// Validate checks cross-field constraints.
func (c Config) Validate() error {
	if len(c.Listeners) == 0 && !(c.KRaft() && !c.HasRole(RoleBroker)) {
		return fmt.Errorf("property listeners: at least one listener is required")
	}
	if c.GroupMinSessionTimeout > c.GroupMaxSessionTimeout {
		return fmt.Errorf("property group.min.session.timeout.ms: larger than group.max.session.timeout.ms")
	}
	if err := c.validateConsumerGroups(); err != nil {
		return err
	}
	if c.SocketRequestMaxBytes < kafkawire.MinRequestFrame {
		return fmt.Errorf("property socket.request.max.bytes: too small")
	}
	if c.OffsetsTopicPartitions < 1 {
		return fmt.Errorf("property offsets.topic.num.partitions: must be at least 1")
	}
	if c.LogRetentionCheck <= 0 {
		return fmt.Errorf("property log.retention.check.interval.ms: must be positive")
	}
	if err := c.brokerLogDefaults().Validate(); err != nil {
		return fmt.Errorf("log properties: %w", err)
	}
	return c.validateSecurity()
}

func parseInt32(v string, lo, hi int64) (int32, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("not an integer")
	}
	if n < lo || n > hi {
		return 0, fmt.Errorf("out of range [%d, %d]", lo, hi)
	}
	return int32(n), nil
}

func parseInt64(v string, lo int64) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("not an integer")
	}
	if n < lo {
		return 0, fmt.Errorf("must be at least %d", lo)
	}
	return n, nil
}

func parseInt64Ptr(v string, lo int64) (*int64, error) {
	n, err := parseInt64(v, lo)
	if err != nil {
		return nil, err
	}
	return &n, nil
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// listener is a parsed NAME://host:port entry.
type listener struct {
	name, host string
	port       int
}

func parseListener(s string) (listener, error) {
	name, hp, ok := strings.Cut(s, "://")
	if !ok || name == "" {
		return listener{}, fmt.Errorf("listener %q: want NAME://host:port", s)
	}
	host, port, err := net.SplitHostPort(hp)
	if err != nil {
		return listener{}, fmt.Errorf("listener %q: %w", s, err)
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 0 || p > 65535 {
		return listener{}, fmt.Errorf("listener %q: bad port", s)
	}
	return listener{name: name, host: host, port: p}, nil
}

// parseListeners splits a listeners value into the data-plane listeners and
// the KRaft controller listeners (named in controllerNames). Each data
// listener's name must map to a protocol in listener.security.protocol.map
// (checked by validateSecurity).
func parseListeners(v string, controllerNames []string) (l, controller []string, err error) {
	all := splitList(v)
	if len(all) == 0 {
		return nil, nil, fmt.Errorf("empty list")
	}
	for _, s := range all {
		if _, err := parseListener(s); err != nil {
			return nil, nil, err
		}
		if isControllerListener(s, controllerNames) {
			controller = append(controller, s)
			continue
		}
		l = append(l, s)
	}
	return l, controller, nil
}

// Properties returns the configuration under Apache Kafka's property names
// (empty values left out), e.g. for a supervisor writing server.properties.
// ConfigFromProperties(c.Properties()) gives back c.
func (c Config) Properties() map[string]string {
	props := c.brokerConfigEntries()
	props["log.flush.interval.messages"] = strconv.FormatInt(c.LogFlushIntervalMsgs, 10)
	if c.LogFlushInterval >= 0 {
		props["log.flush.interval.ms"] = strconv.FormatInt(c.LogFlushInterval.Milliseconds(), 10)
	}
	props["log.cleanup.policy"] = c.LogCleanupPolicy
	props["log.message.timestamp.type"] = c.LogMessageTimestamp
	props["replica.fetch.max.bytes"] = strconv.Itoa(int(c.ReplicaFetchMaxBytes))
	props["offsets.retention.minutes"] = strconv.FormatInt(int64(c.OffsetsRetention/time.Minute), 10)
	props["osprey.cluster.id"] = c.ClusterID
	props["metrics.listen"] = c.MetricsListen
	c.addClusterProperties(props)
	c.addKRaftProperties(props)
	c.addCleanerProperties(props)
	c.addTxnProperties(props)
	c.addConsumerGroupProperties(props)
	c.addAuthzProperties(props)
	c.addSecurityProperties(props)
	for k, v := range props {
		if v == "" {
			delete(props, k)
		}
	}
	return props
}

// WriteProperties writes c as a server.properties file body, keys sorted.
func (c Config) WriteProperties(w io.Writer) error {
	props := c.Properties()
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if _, err := fmt.Fprintf(w, "%s=%s\n", k, props[k]); err != nil {
			return err
		}
	}
	return nil
}

// BrokerID is the broker's id.
func (b *Broker) BrokerID() int32 { return b.cfg.BrokerID }

// ClusterID is the cluster id (from meta.properties), valid after Start.
func (b *Broker) ClusterID() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cluster == nil {
		return ""
	}
	return b.cluster.ClusterID()
}
