// Package snapshot writes and reads KRaft snapshot files: the
// `<offset>-<epoch>.checkpoint` files of the __cluster_metadata log and the
// bootstrap.checkpoint that `storage format` leaves in each log directory.
//
// The layout is Apache Kafka's (RecordsSnapshotWriter, BatchAccumulator,
// BatchBuilder and MemoryRecords in apache/kafka's raft and clients modules):
// uncompressed v2 record batches whose base offsets count from 0 and whose
// partition leader epoch is the snapshot's epoch.
//
//   - a control batch (attributes 0x20, producer id -1, producer epoch -1,
//     base sequence -1, first and max timestamp the time it was written)
//     holding the SnapshotHeaderRecord and, when kraft.version is 1 or more,
//     a KRaftVersionRecord and then a VotersRecord, one control record each:
//     key version 0 and the control type, value the message at version 0,
//     timestamp and offset deltas 0, 1, 2, no headers;
//   - data batches (attributes 0) of framed metadata records: key null,
//     attributes 0, timestamp delta 0, offset delta i, no headers; a batch
//     ends before it would pass MaxBatchSize;
//   - a control batch holding the SnapshotFooterRecord.
//
// A snapshot is immutable once written: files are written to a temporary
// name, fsynced and renamed into place (internal/atomicfile).
package snapshot

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"

	"github.com/twmb/franz-go/pkg/kbin"

	"github.com/osprey-kafka/osprey/broker/kraft/metadata"
	"github.com/osprey-kafka/osprey/broker/storage"
)

// Suffix is a snapshot file's extension.
const Suffix = ".checkpoint"

// MaxBatchSize is the largest batch Kafka's KRaft client writes
// (KafkaRaftClient.MAX_BATCH_SIZE_BYTES, 8 MiB); the format command writes
// both of its files with it.
const MaxBatchSize = 8 * 1024 * 1024

// FileName is the name of the snapshot whose next offset is offset (the
// snapshot holds everything before it) at epoch: 20 and 10 zero-padded
// digits, as Kafka's Snapshots.filenameFromSnapshotId.
func FileName(offset int64, epoch int32) string {
	return fmt.Sprintf("%020d-%010d%s", offset, epoch, Suffix)
}

// BootstrapFileName is the voter-set snapshot the format command writes in
// __cluster_metadata-0 for a dynamic quorum (Snapshots.BOOTSTRAP_SNAPSHOT_ID:
// offset 0, epoch 0).
var BootstrapFileName = FileName(0, 0)

// Options says what a snapshot holds besides its data records.
type Options struct {
	// Epoch is the snapshot id's epoch: every batch's partition leader epoch.
	Epoch int32
	// LastContainedLogTimestamp goes in the SnapshotHeaderRecord.
	LastContainedLogTimestamp int64
	// KRaftVersion, when 1 or more, adds a KRaftVersionRecord after the
	// header (as RecordsSnapshotWriter does when reconfiguration is
	// supported); 0 writes none.
	KRaftVersion int16
	// Voters, when set, adds a VotersRecord after the KRaftVersionRecord; it
	// needs KRaftVersion >= 1, as in Kafka.
	Voters *metadata.VotersRecord
	// NowMs is the batches' timestamp (Kafka's clock when each batch was
	// built; one value here).
	NowMs int64
	// MaxBatchSize bounds data batches; 0 means MaxBatchSize.
	MaxBatchSize int
}

const (
	attrControl      = 0x20
	batchHeaderSize  = storage.BatchHeaderSize
	offBatchLength   = 8
	offCRC           = 17
	offAttributes    = 21
	offLastOffDelta  = 23
	offFirstTs       = 27
	offMaxTs         = 35
	offProducerID    = 43
	offProducerEpoch = 51
	offBaseSequence  = 53
	offRecordCount   = 57
)

var crc32c = crc32.MakeTable(crc32.Castagnoli)

// Append appends a whole snapshot holding records (framed metadata records,
// as metadata.Marshal makes them) to dst.
func Append(dst []byte, o Options, records [][]byte) ([]byte, error) {
	if o.Voters != nil && o.KRaftVersion < 1 {
		return dst, errors.New("snapshot: a voter set needs kraft.version 1 or more")
	}
	maxBatch := o.MaxBatchSize
	if maxBatch <= 0 {
		maxBatch = MaxBatchSize
	}
	header, err := metadata.MarshalControl(&metadata.SnapshotHeaderRecord{
		LastContainedLogTimestamp: o.LastContainedLogTimestamp,
	}, 0)
	if err != nil {
		return dst, err
	}
	ctl := [][]byte{appendControlRecord(nil, 0, metadata.ControlSnapshotHeader, header)}
	if o.KRaftVersion >= 1 {
		v, err := metadata.MarshalControl(&metadata.KRaftVersionRecord{KRaftVersion: o.KRaftVersion}, 0)
		if err != nil {
			return dst, err
		}
		ctl = append(ctl, appendControlRecord(nil, int32(len(ctl)), metadata.ControlKRaftVersion, v))
		if o.Voters != nil {
			v, err := metadata.MarshalControl(o.Voters, 0)
			if err != nil {
				return dst, err
			}
			ctl = append(ctl, appendControlRecord(nil, int32(len(ctl)), metadata.ControlKRaftVoters, v))
		}
	}
	next := int64(0)
	dst = appendBatch(dst, next, o.Epoch, attrControl, o.NowMs, ctl)
	next += int64(len(ctl))

	var batch [][]byte
	size := batchHeaderSize
	for _, r := range records {
		rec := appendDataRecord(nil, int32(len(batch)), r)
		if len(batch) > 0 && size+len(rec) > maxBatch {
			dst = appendBatch(dst, next, o.Epoch, 0, o.NowMs, batch)
			next += int64(len(batch))
			batch, size = nil, batchHeaderSize
			rec = appendDataRecord(nil, 0, r)
		}
		if size+len(rec) > maxBatch {
			return dst, fmt.Errorf("snapshot: a record of %d bytes does not fit a batch of at most %d bytes", len(r), maxBatch)
		}
		batch = append(batch, rec)
		size += len(rec)
	}
	if len(batch) > 0 {
		dst = appendBatch(dst, next, o.Epoch, 0, o.NowMs, batch)
		next += int64(len(batch))
	}

	footer, err := metadata.MarshalControl(&metadata.SnapshotFooterRecord{}, 0)
	if err != nil {
		return dst, err
	}
	return appendBatch(dst, next, o.Epoch, attrControl, o.NowMs,
		[][]byte{appendControlRecord(nil, 0, metadata.ControlSnapshotFooter, footer)}), nil
}

// appendControlRecord appends one control record at offsetDelta: its key is
// ControlRecordType's (version 0, type), its value the message.
func appendControlRecord(dst []byte, offsetDelta int32, t metadata.ControlType, value []byte) []byte {
	return appendRecord(dst, offsetDelta, metadata.AppendControlKey(nil, t), value)
}

// appendDataRecord appends one metadata record with a null key, as
// BatchBuilder.writeRecord does.
func appendDataRecord(dst []byte, offsetDelta int32, value []byte) []byte {
	return appendRecord(dst, offsetDelta, nil, value)
}

// appendRecord appends a v2 record: length, attributes 0, timestamp delta 0,
// offset delta, key (nil = null), value, no headers.
func appendRecord(dst []byte, offsetDelta int32, key, value []byte) []byte {
	var body []byte
	body = append(body, 0)
	body = kbin.AppendVarlong(body, 0)
	body = kbin.AppendVarint(body, offsetDelta)
	body = kbin.AppendVarintBytes(body, key)
	body = kbin.AppendVarintBytes(body, value)
	body = kbin.AppendVarint(body, 0)
	dst = kbin.AppendVarint(dst, int32(len(body)))
	return append(dst, body...)
}

// appendBatch appends an uncompressed v2 batch of the encoded records at
// baseOffset, its CRC-32C computed over attributes to the end.
func appendBatch(dst []byte, baseOffset int64, epoch int32, attrs int16, ts int64, records [][]byte) []byte {
	start := len(dst)
	dst = append(dst, make([]byte, batchHeaderSize)...)
	for _, r := range records {
		dst = append(dst, r...)
	}
	b := dst[start:]
	be := binary.BigEndian
	be.PutUint64(b[0:], uint64(baseOffset))
	be.PutUint32(b[offBatchLength:], uint32(len(b)-12))
	be.PutUint32(b[12:], uint32(epoch))
	b[16] = 2 // magic
	be.PutUint16(b[offAttributes:], uint16(attrs))
	be.PutUint32(b[offLastOffDelta:], uint32(len(records)-1))
	be.PutUint64(b[offFirstTs:], uint64(ts))
	be.PutUint64(b[offMaxTs:], uint64(ts))
	be.PutUint64(b[offProducerID:], ^uint64(0))    // -1: no producer id
	be.PutUint16(b[offProducerEpoch:], ^uint16(0)) // -1
	be.PutUint32(b[offBaseSequence:], ^uint32(0))  // -1
	be.PutUint32(b[offRecordCount:], uint32(len(records)))
	be.PutUint32(b[offCRC:], crc32.Checksum(b[offAttributes:], crc32c))
	return dst
}
