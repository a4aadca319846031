package txn

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Records of __transaction_state in Apache Kafka's format, so that Kafka's
// own tools (kafka-dump-log --transaction-log-decoder) read them:
// TransactionLogKey v0 {transactional id} and TransactionLogValue v0
// {producer id, epoch, timeout, status, partitions, last update, start}.
// A null value (tombstone) removes an expired transactional id.

// Key encodes the record key of txnID.
func Key(txnID string) []byte {
	k := kmsg.NewTxnMetadataKey()
	k.Version = 0
	k.TransactionalID = txnID
	return k.AppendTo(nil)
}

// Value encodes m as a TransactionLogValue v0. Empty transactions write a
// null partition list, as Kafka does.
func Value(m Metadata) []byte {
	v := kmsg.NewTxnMetadataValue()
	v.Version = 0
	v.ProducerID, v.ProducerEpoch, v.TimeoutMillis = m.ProducerID, m.Epoch, m.TimeoutMs
	v.State = kmsg.TransactionState(m.State)
	v.LastUpdateTimestamp, v.StartTimestamp = m.UpdateMs, m.StartMs
	if m.State != Empty {
		v.Topics = []kmsg.TxnMetadataValueTopic{}
		for _, tp := range m.Partitions {
			if n := len(v.Topics); n == 0 || v.Topics[n-1].Topic != tp.Topic {
				t := kmsg.NewTxnMetadataValueTopic()
				t.Topic = tp.Topic
				v.Topics = append(v.Topics, t)
			}
			last := &v.Topics[len(v.Topics)-1]
			last.Partitions = append(last.Partitions, tp.Partition)
		}
	}
	return v.AppendTo(nil)
}

// ErrNotTxnRecord is returned for a key that is not a transaction record
// (an unknown key version).
var ErrNotTxnRecord = errors.New("not a transaction log record")

// Decode reads one __transaction_state record. A nil value returns the
// id with ok=false (the id was removed).
func Decode(key, value []byte) (txnID string, m Metadata, ok bool, err error) {
	if len(key) < 2 || binary.BigEndian.Uint16(key) != 0 {
		return "", Metadata{}, false, ErrNotTxnRecord
	}
	var k kmsg.TxnMetadataKey
	if err := k.ReadFrom(key); err != nil {
		return "", Metadata{}, false, fmt.Errorf("transaction log key: %w", err)
	}
	if value == nil {
		return k.TransactionalID, Metadata{}, false, nil
	}
	var v kmsg.TxnMetadataValue
	if err := v.ReadFrom(value); err != nil {
		return "", Metadata{}, false, fmt.Errorf("transaction log value of %q: %w", k.TransactionalID, err)
	}
	m = Metadata{TxnID: k.TransactionalID, ProducerID: v.ProducerID, Epoch: v.ProducerEpoch,
		TimeoutMs: v.TimeoutMillis, State: State(v.State), StartMs: v.StartTimestamp, UpdateMs: v.LastUpdateTimestamp}
	for _, t := range v.Topics {
		for _, p := range t.Partitions {
			m.Partitions = append(m.Partitions, TP{Topic: t.Topic, Partition: p})
		}
	}
	return k.TransactionalID, m, true, nil
}

// Control records (the commit and abort markers written to each partition
// of a transaction): key {version 0, type 0 abort / 1 commit}, value
// {version 0, coordinator epoch}, in a control batch.

// MarkerKey encodes a control record key.
func MarkerKey(commit bool) []byte {
	k := kmsg.NewControlRecordKey()
	k.Version = 0
	k.Type = kmsg.ControlRecordKeyTypeAbort
	if commit {
		k.Type = kmsg.ControlRecordKeyTypeCommit
	}
	return k.AppendTo(nil)
}

// MarkerValue encodes an end-transaction marker value.
func MarkerValue(coordinatorEpoch int32) []byte {
	v := kmsg.NewEndTxnMarker()
	v.Version = 0
	v.CoordinatorEpoch = coordinatorEpoch
	return v.AppendTo(nil)
}

// ParseMarkerKey reads a control record key: commit is set for a commit
// marker; ok is false for another control type or a bad key.
func ParseMarkerKey(key []byte) (commit, ok bool) {
	var k kmsg.ControlRecordKey
	if k.ReadFrom(key) != nil {
		return false, false
	}
	switch k.Type {
	case kmsg.ControlRecordKeyTypeCommit:
		return true, true
	case kmsg.ControlRecordKeyTypeAbort:
		return false, true
	}
	return false, false
}
