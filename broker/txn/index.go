package txn

import (
	"encoding/binary"
	"fmt"
)

// AbortedTxn is one entry of a segment's transaction index (.txnindex), in
// Kafka's format (storage's AbortedTxn, version 0): the producer id, the
// first and last offsets of the aborted transaction (the last is its abort
// marker) and the partition's last stable offset when it was aborted.
type AbortedTxn struct {
	ProducerID       int64
	FirstOffset      int64
	LastOffset       int64
	LastStableOffset int64
}

// IndexEntrySize is the size of one .txnindex entry:
// version int16, producer id int64, first, last and last stable offsets int64.
const IndexEntrySize = 2 + 8 + 8 + 8 + 8

const indexVersion = 0

// AppendEntry appends e's encoding to dst.
func AppendEntry(dst []byte, e AbortedTxn) []byte {
	dst = binary.BigEndian.AppendUint16(dst, indexVersion)
	dst = binary.BigEndian.AppendUint64(dst, uint64(e.ProducerID))
	dst = binary.BigEndian.AppendUint64(dst, uint64(e.FirstOffset))
	dst = binary.BigEndian.AppendUint64(dst, uint64(e.LastOffset))
	return binary.BigEndian.AppendUint64(dst, uint64(e.LastStableOffset))
}

// DecodeIndex reads a .txnindex file's content. A torn last entry (a crash
// during its write) is dropped and reported by valid, the length of the
// whole entries; an entry of another version is an error.
func DecodeIndex(b []byte) (entries []AbortedTxn, valid int, err error) {
	for len(b)-valid >= IndexEntrySize {
		e := b[valid : valid+IndexEntrySize]
		if v := binary.BigEndian.Uint16(e); v != indexVersion {
			return entries, valid, fmt.Errorf("transaction index entry at byte %d: version %d, want %d", valid, v, indexVersion)
		}
		entries = append(entries, AbortedTxn{
			ProducerID:       int64(binary.BigEndian.Uint64(e[2:])),
			FirstOffset:      int64(binary.BigEndian.Uint64(e[10:])),
			LastOffset:       int64(binary.BigEndian.Uint64(e[18:])),
			LastStableOffset: int64(binary.BigEndian.Uint64(e[26:])),
		})
		valid += IndexEntrySize
	}
	return entries, valid, nil
}
