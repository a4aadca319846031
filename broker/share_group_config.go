package broker

import (
	"math"
	"strconv"
	"time"

	"github.com/osprey-kafka/osprey/broker/kraft/bootstrap"
	"github.com/osprey-kafka/osprey/broker/sharegroup"
)

// ShareGroupConfig holds the group.share.* properties (KIP-932).
type ShareGroupConfig struct {
	// Enable is group.share.enable (false, as in Kafka 4.1): without it,
	// and without share.version 1 finalized in KRaft mode, the share-group
	// APIs answer UNSUPPORTED_VERSION.
	Enable bool
	// RecordLockDuration is group.share.record.lock.duration.ms (30 s).
	RecordLockDuration time.Duration
	// DeliveryCountLimit is group.share.delivery.count.limit (5).
	DeliveryCountLimit int32
	// MaxRecordLocks is group.share.partition.max.record.locks (2000).
	MaxRecordLocks int32
	// SessionTimeout is group.share.session.timeout.ms (45 s).
	SessionTimeout time.Duration
	// HeartbeatInterval is group.share.heartbeat.interval.ms (5 s).
	HeartbeatInterval time.Duration
	// MaxSize is group.share.max.size (200 members).
	MaxSize int32

	// The share coordinator's __share_group_state (share.coordinator.*):
	// StateTopicPartitions is state.topic.num.partitions (50),
	// StateTopicRF state.topic.replication.factor (3), StateTopicMinISR
	// state.topic.min.isr (2), StateTopicSegmentBytes
	// state.topic.segment.bytes (100 MiB), SnapshotUpdateRecords
	// snapshot.update.records.per.snapshot (500) and StateWriteTimeout
	// write.timeout.ms (5 s).
	StateTopicPartitions   int32
	StateTopicRF           int16
	StateTopicMinISR       int32
	StateTopicSegmentBytes int64
	SnapshotUpdateRecords  int32
	StateWriteTimeout      time.Duration
}

func defaultShareGroupConfig() ShareGroupConfig {
	d := sharegroup.DefaultConfig()
	return ShareGroupConfig{RecordLockDuration: d.LockDuration, DeliveryCountLimit: d.DeliveryLimit,
		MaxRecordLocks: int32(d.MaxRecordLocks), SessionTimeout: 45 * time.Second,
		HeartbeatInterval: 5 * time.Second, MaxSize: 200,
		StateTopicPartitions: 50, StateTopicRF: 3, StateTopicMinISR: 2, StateTopicSegmentBytes: 100 << 20,
		SnapshotUpdateRecords: 500, StateWriteTimeout: 5 * time.Second}
}

// featureLevels is a cluster with finalized feature levels (KRaft mode).
type featureLevels interface {
	featureLevel(name string) (int16, bool)
}

// shareGroupsEnabled reports whether the share-group APIs are served:
// group.share.enable, or (KRaft mode) share.version 1 or above finalized in
// the metadata log, as Kafka's ShareVersion.supportsShareGroups. The level is
// read per request so that a feature update takes effect without a restart.
func (b *Broker) shareGroupsEnabled() bool {
	if b.cfg.Share.Enable {
		return true
	}
	fl, ok := b.cluster.(featureLevels)
	if !ok {
		return false
	}
	l, _ := fl.featureLevel(bootstrap.ShareVersionFeature)
	return l >= 1
}

// partitionConfig is what a share-partition obeys.
func (c ShareGroupConfig) partitionConfig() sharegroup.Config {
	return sharegroup.Config{LockDuration: c.RecordLockDuration, DeliveryLimit: c.DeliveryCountLimit,
		MaxRecordLocks: int(c.MaxRecordLocks)}
}

// parseShareGroupProperty parses a group.share.* property; ok is false
// for other keys.
func (c *Config) parseShareGroupProperty(k, v string) (ok bool, err error) {
	sc := &c.Share
	ms := func(dst *time.Duration) {
		var n int32
		n, err = parseInt32(v, 1, math.MaxInt32)
		*dst = time.Duration(n) * time.Millisecond
	}
	switch k {
	case "group.share.enable":
		sc.Enable, err = strconv.ParseBool(v)
	case "group.share.record.lock.duration.ms":
		ms(&sc.RecordLockDuration)
	case "group.share.delivery.count.limit":
		sc.DeliveryCountLimit, err = parseInt32(v, 2, 10)
	case "group.share.partition.max.record.locks":
		sc.MaxRecordLocks, err = parseInt32(v, 100, 10000)
	case "group.share.session.timeout.ms":
		ms(&sc.SessionTimeout)
	case "group.share.heartbeat.interval.ms":
		ms(&sc.HeartbeatInterval)
	case "group.share.max.size":
		sc.MaxSize, err = parseInt32(v, 1, 1000)
	case "share.coordinator.state.topic.num.partitions":
		sc.StateTopicPartitions, err = parseInt32(v, 1, math.MaxInt32)
	case "share.coordinator.state.topic.replication.factor":
		var n int32
		n, err = parseInt32(v, 1, math.MaxInt16)
		sc.StateTopicRF = int16(n)
	case "share.coordinator.state.topic.min.isr":
		sc.StateTopicMinISR, err = parseInt32(v, 1, math.MaxInt16)
	case "share.coordinator.state.topic.segment.bytes":
		var n int32
		n, err = parseInt32(v, 1<<20, math.MaxInt32)
		sc.StateTopicSegmentBytes = int64(n)
	case "share.coordinator.snapshot.update.records.per.snapshot":
		sc.SnapshotUpdateRecords, err = parseInt32(v, 0, 500)
	case "share.coordinator.write.timeout.ms":
		ms(&sc.StateWriteTimeout)
	default:
		return false, nil
	}
	return true, err
}

// stateTopicConfigs are the topic configs __share_group_state is created
// with: Kafka's (delete policy, producer compression, the segment size,
// min.insync.replicas no larger than the replication factor), and
// retention.ms=-1: Kafka prunes the topic with DeleteRecords below the
// oldest snapshot still needed, which this runtime does not do, so time
// retention must not drop a share-partition's only snapshot.
func (c ShareGroupConfig) stateTopicConfigs(rf int16) map[string]string {
	return map[string]string{
		"cleanup.policy":      "delete",
		"compression.type":    "producer",
		"segment.bytes":       strconv.FormatInt(c.StateTopicSegmentBytes, 10),
		"min.insync.replicas": strconv.Itoa(int(min(c.StateTopicMinISR, int32(rf)))),
		"retention.ms":        "-1",
	}
}
