package broker

import (
	"math"
	"strconv"
	"time"
)

// TxnConfig holds the broker's transaction.* properties.
type TxnConfig struct {
	StateLogPartitions   int32         // transaction.state.log.num.partitions (default 50)
	StateLogRF           int16         // transaction.state.log.replication.factor (default 3)
	StateLogSegmentBytes int64         // transaction.state.log.segment.bytes (default 100 MiB)
	MaxTimeout           time.Duration // transaction.max.timeout.ms (default 15 minutes)
	// AbortCheckInterval is transaction.abort.timed.out.transaction.cleanup.interval.ms
	// (default 10 s): how often expired transactions are looked for.
	AbortCheckInterval time.Duration
	// IDExpiration is transactional.id.expiration.ms (default 7 days):
	// how long an id without an open transaction is kept.
	IDExpiration time.Duration
}

func defaultTxnConfig() TxnConfig {
	return TxnConfig{StateLogPartitions: 50, StateLogRF: 3, StateLogSegmentBytes: 100 << 20,
		MaxTimeout: 15 * time.Minute, AbortCheckInterval: 10 * time.Second, IDExpiration: 7 * 24 * time.Hour}
}

// parseTxnProperty parses a transaction.* property; ok is false for other
// keys.
func (c *Config) parseTxnProperty(k, v string) (ok bool, err error) {
	t := &c.Txn
	msDur := func(dst *time.Duration) {
		var n int32
		n, err = parseInt32(v, 1, math.MaxInt32)
		*dst = time.Duration(n) * time.Millisecond
	}
	switch k {
	case "transaction.state.log.num.partitions":
		t.StateLogPartitions, err = parseInt32(v, 1, math.MaxInt32)
	case "transaction.state.log.replication.factor":
		var n int32
		n, err = parseInt32(v, 1, math.MaxInt16)
		t.StateLogRF = int16(n)
	case "transaction.state.log.segment.bytes":
		var n int32
		n, err = parseInt32(v, 1, math.MaxInt32)
		t.StateLogSegmentBytes = int64(n)
	case "transaction.max.timeout.ms":
		msDur(&t.MaxTimeout)
	case "transaction.abort.timed.out.transaction.cleanup.interval.ms":
		msDur(&t.AbortCheckInterval)
	case "transactional.id.expiration.ms":
		msDur(&t.IDExpiration)
	default:
		return false, nil
	}
	return true, err
}

// addTxnProperties adds the transaction.* properties (Properties).
func (c Config) addTxnProperties(props map[string]string) {
	t := c.Txn
	props["transaction.state.log.num.partitions"] = strconv.Itoa(int(t.StateLogPartitions))
	props["transaction.state.log.replication.factor"] = strconv.Itoa(int(t.StateLogRF))
	props["transaction.state.log.segment.bytes"] = strconv.FormatInt(t.StateLogSegmentBytes, 10)
	props["transaction.max.timeout.ms"] = strconv.FormatInt(t.MaxTimeout.Milliseconds(), 10)
	props["transaction.abort.timed.out.transaction.cleanup.interval.ms"] = strconv.FormatInt(t.AbortCheckInterval.Milliseconds(), 10)
	props["transactional.id.expiration.ms"] = strconv.FormatInt(t.IDExpiration.Milliseconds(), 10)
}

// txnStateTopicConfigs are the topic configs __transaction_state is
// created with: compacted, as in Kafka.
func (c Config) txnStateTopicConfigs() map[string]string {
	m := map[string]string{"cleanup.policy": "compact"}
	if c.Txn.StateLogSegmentBytes > 0 {
		m["segment.bytes"] = strconv.FormatInt(c.Txn.StateLogSegmentBytes, 10)
	}
	return m
}
