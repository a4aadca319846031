package quorum

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Entries travel in Fetch responses as Kafka record batches (magic 2), one batch per entry: the
// batch's base offset and partition leader epoch are the entry's offset and epoch, a control entry
// sets the batch's control bit, and the payload is the value of the batch's single record. This is
// the shape of Apache Kafka's metadata log, so a network transport can put the bytes on the wire.

var crc32c = crc32.MakeTable(crc32.Castagnoli)

const (
	batchAttrControl = 0x20
	// batchCRCStart is where the CRC-covered part of a batch starts: after base offset (8),
	// length (4), partition leader epoch (4), magic (1) and the CRC itself (4).
	batchCRCStart = 21
)

// controlKey is the key of a control record of type t: ControlRecordKey version 0 (kmsg names
// type 2, LeaderChange, by its older name QuorumReassignment).
func controlKey(t ControlType) []byte {
	return (&kmsg.ControlRecordKey{Version: 0, Type: kmsg.ControlRecordKeyType(t)}).AppendTo(nil)
}

// parseControlKey reads a control record's type; as Kafka does, a key version other than 0 is
// read as version 0.
func parseControlKey(b []byte) (ControlType, error) {
	if len(b) < 4 {
		return 0, fmt.Errorf("control record key of %d bytes, want at least 4", len(b))
	}
	return ControlType(binary.BigEndian.Uint16(b[2:4])), nil
}

// leaderChangeValue is the LeaderChangeMessage (version 0) a leader writes as its epoch's first
// entry: the leader, the voters, and the voters that granted it their vote.
func leaderChangeValue(leader int32, voters []int32, granting []int32) []byte {
	m := kmsg.LeaderChangeMessage{Version: 0, LeaderID: leader}
	for _, v := range voters {
		m.Voters = append(m.Voters, kmsg.LeaderChangeMessageVoter{VoterID: v})
	}
	for _, v := range granting {
		m.GrantingVoters = append(m.GrantingVoters, kmsg.LeaderChangeMessageVoter{VoterID: v})
	}
	return m.AppendTo(nil)
}

// encodeEntries appends entries to dst as record batches.
func encodeEntries(dst []byte, entries []Entry) []byte {
	for _, e := range entries {
		rec := kmsg.Record{Value: e.Data}
		if e.Control {
			t := e.ControlType
			if t == 0 {
				t = ControlLeaderChange
			}
			rec.Key = controlKey(t)
		}
		body := rec.AppendTo(nil)
		// The record's length field counts the bytes after itself; it was encoded as a one-byte
		// varint 0 above.
		rec.Length = int32(len(body) - 1)
		body = rec.AppendTo(nil)
		b := kmsg.RecordBatch{
			FirstOffset:          e.Offset,
			PartitionLeaderEpoch: e.Epoch,
			Magic:                2,
			ProducerID:           -1,
			ProducerEpoch:        -1,
			FirstSequence:        -1,
			NumRecords:           1,
			Records:              body,
		}
		if e.Control {
			b.Attributes = batchAttrControl
		}
		start := len(dst)
		dst = b.AppendTo(dst)
		batch := dst[start:]
		binary.BigEndian.PutUint32(batch[8:12], uint32(len(batch)-12))
		binary.BigEndian.PutUint32(batch[17:21], crc32.Checksum(batch[batchCRCStart:], crc32c))
	}
	return dst
}

// decodeEntries reads the record batches encodeEntries writes, checking each batch's CRC.
func decodeEntries(src []byte) ([]Entry, error) {
	return decodeEntriesInto(nil, src, math.MinInt64, math.MaxInt)
}

// decodeEntriesInto appends to out the entries of src's batches at offsets ≥ from, up to max
// of them, and stops there: batches before from are skipped on their header (base offset) and
// the batches after the last one wanted are not decoded (nor CRC-checked).
func decodeEntriesInto(out []Entry, src []byte, from int64, max int) ([]Entry, error) {
	for taken := 0; len(src) > 0 && taken < max; {
		if len(src) < 12 {
			return nil, fmt.Errorf("record batch header truncated: %d bytes", len(src))
		}
		size := 12 + int(binary.BigEndian.Uint32(src[8:12]))
		if size < batchCRCStart || size > len(src) {
			return nil, fmt.Errorf("record batch of %d bytes in %d remaining", size, len(src))
		}
		if int64(binary.BigEndian.Uint64(src[:8])) < from {
			// One record per batch: the base offset is the entry's offset.
			src = src[size:]
			continue
		}
		var b kmsg.RecordBatch
		if err := b.ReadFrom(src[:size]); err != nil {
			return nil, fmt.Errorf("decode record batch: %w", err)
		}
		if got := crc32.Checksum(src[batchCRCStart:size], crc32c); int32(got) != b.CRC {
			return nil, fmt.Errorf("record batch at offset %d: crc mismatch", b.FirstOffset)
		}
		if b.NumRecords != 1 {
			return nil, fmt.Errorf("record batch at offset %d has %d records, want 1", b.FirstOffset, b.NumRecords)
		}
		var rec kmsg.Record
		err := rec.ReadFrom(b.Records)
		if err != nil {
			return nil, fmt.Errorf("decode record at offset %d: %w", b.FirstOffset, err)
		}
		e := Entry{
			Offset:  b.FirstOffset,
			Epoch:   b.PartitionLeaderEpoch,
			Control: b.Attributes&batchAttrControl != 0,
			Data:    rec.Value,
		}
		if e.Control {
			if e.ControlType, err = parseControlKey(rec.Key); err != nil {
				return nil, fmt.Errorf("record batch at offset %d: %w", b.FirstOffset, err)
			}
		}
		out = append(out, e)
		taken++
		src = src[size:]
	}
	return out, nil
}
