package txn

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// Producer-state snapshots (<offset>.snapshot in a partition's directory) in Apache Kafka's format
// (ProducerStateManager, version 1), so that a log directory moves between Kafka and Osprey with its
// producers: version int16, crc uint32 (CRC32C of everything after it), then an array (int32 count)
// of entries {producer id int64, epoch int16, last sequence int32, last offset int64, offset delta
// int32, timestamp int64, coordinator epoch int32, current transaction first offset int64 (-1 when
// none)}. A snapshot named offset N holds the state of every batch below N.

// ProducerEntry is one producer's state in a snapshot.
type ProducerEntry struct {
	ProducerID int64
	Epoch      int16
	// LastSequence, LastOffset and OffsetDelta describe the producer's last data batch (its last
	// sequence, its last offset, and last minus first offset); LastOffset is -1 when the producer
	// has written only markers here.
	LastSequence int32
	LastOffset   int64
	OffsetDelta  int32
	Timestamp    int64 // max timestamp of the last batch
	// CoordinatorEpoch is the epoch of the coordinator that wrote the producer's last marker.
	CoordinatorEpoch int32
	// CurrentTxnFirstOffset is the first offset of the producer's open transaction, -1 if none.
	CurrentTxnFirstOffset int64
}

// SnapshotVersion is the format version written and the only one read.
const SnapshotVersion = 1

const (
	snapshotHeaderLen = 2 + 4 + 4 // version, crc, array length
	snapshotEntryLen  = 8 + 2 + 4 + 8 + 4 + 8 + 4 + 8
	snapshotCRCStart  = 2 + 4
)

// ErrCorruptSnapshot is returned for a snapshot that is truncated, of another version or whose
// CRC does not match (Kafka's CorruptSnapshotException): the caller ignores the file.
var ErrCorruptSnapshot = errors.New("corrupt producer snapshot")

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// EncodeSnapshot encodes entries as a version 1 snapshot.
func EncodeSnapshot(entries []ProducerEntry) []byte {
	b := make([]byte, snapshotHeaderLen, snapshotHeaderLen+len(entries)*snapshotEntryLen)
	binary.BigEndian.PutUint16(b, SnapshotVersion)
	binary.BigEndian.PutUint32(b[6:], uint32(len(entries)))
	for _, e := range entries {
		b = binary.BigEndian.AppendUint64(b, uint64(e.ProducerID))
		b = binary.BigEndian.AppendUint16(b, uint16(e.Epoch))
		b = binary.BigEndian.AppendUint32(b, uint32(e.LastSequence))
		b = binary.BigEndian.AppendUint64(b, uint64(e.LastOffset))
		b = binary.BigEndian.AppendUint32(b, uint32(e.OffsetDelta))
		b = binary.BigEndian.AppendUint64(b, uint64(e.Timestamp))
		b = binary.BigEndian.AppendUint32(b, uint32(e.CoordinatorEpoch))
		b = binary.BigEndian.AppendUint64(b, uint64(e.CurrentTxnFirstOffset))
	}
	binary.BigEndian.PutUint32(b[2:], crc32.Checksum(b[snapshotCRCStart:], castagnoli))
	return b
}

// DecodeSnapshot decodes a snapshot, checking its version, CRC and length.
func DecodeSnapshot(b []byte) ([]ProducerEntry, error) {
	if len(b) < snapshotHeaderLen {
		return nil, fmt.Errorf("%w: %d bytes", ErrCorruptSnapshot, len(b))
	}
	if v := int16(binary.BigEndian.Uint16(b)); v != SnapshotVersion {
		return nil, fmt.Errorf("%w: version %d", ErrCorruptSnapshot, v)
	}
	if stored, computed := binary.BigEndian.Uint32(b[2:]), crc32.Checksum(b[snapshotCRCStart:], castagnoli); stored != computed {
		return nil, fmt.Errorf("%w: stored crc %d, computed %d", ErrCorruptSnapshot, stored, computed)
	}
	n := int32(binary.BigEndian.Uint32(b[6:]))
	if n < 0 || len(b) != snapshotHeaderLen+int(n)*snapshotEntryLen {
		return nil, fmt.Errorf("%w: %d entries in %d bytes", ErrCorruptSnapshot, n, len(b))
	}
	out := make([]ProducerEntry, 0, n)
	for p := b[snapshotHeaderLen:]; len(p) > 0; p = p[snapshotEntryLen:] {
		out = append(out, ProducerEntry{
			ProducerID:            int64(binary.BigEndian.Uint64(p)),
			Epoch:                 int16(binary.BigEndian.Uint16(p[8:])),
			LastSequence:          int32(binary.BigEndian.Uint32(p[10:])),
			LastOffset:            int64(binary.BigEndian.Uint64(p[14:])),
			OffsetDelta:           int32(binary.BigEndian.Uint32(p[22:])),
			Timestamp:             int64(binary.BigEndian.Uint64(p[26:])),
			CoordinatorEpoch:      int32(binary.BigEndian.Uint32(p[34:])),
			CurrentTxnFirstOffset: int64(binary.BigEndian.Uint64(p[38:])),
		})
	}
	return out, nil
}
