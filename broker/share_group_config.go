package broker

import (
	"math"
	"strconv"
	"time"

	"github.com/osprey-kafka/osprey/broker/sharegroup"
)

// ShareGroupConfig holds the group.share.* properties (KIP-932).
type ShareGroupConfig struct {
	// Enable is group.share.enable (false, as in Kafka 4.1): without it
	// the share-group APIs answer UNSUPPORTED_VERSION.
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
}

func defaultShareGroupConfig() ShareGroupConfig {
	d := sharegroup.DefaultConfig()
	return ShareGroupConfig{RecordLockDuration: d.LockDuration, DeliveryCountLimit: d.DeliveryLimit,
		MaxRecordLocks: int32(d.MaxRecordLocks), SessionTimeout: 45 * time.Second,
		HeartbeatInterval: 5 * time.Second, MaxSize: 200}
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
	default:
		return false, nil
	}
	return true, err
}
