package snapshot

import (
	"errors"
	"fmt"
	"os"

	"github.com/twmb/franz-go/pkg/kbin"

	"github.com/osprey-kafka/osprey/broker/kraft/metadata"
	"github.com/osprey-kafka/osprey/broker/storage"
)

// Snapshot is a decoded snapshot file.
type Snapshot struct {
	Header metadata.SnapshotHeaderRecord
	// KRaftVersion and Voters are the control records after the header, nil
	// when the snapshot has none (kraft.version 0).
	KRaftVersion *metadata.KRaftVersionRecord
	Voters       *metadata.VotersRecord
	// Records are the data records' values (framed metadata records), in
	// offset order; metadata.Unmarshal decodes each.
	Records [][]byte
	// Batches are the file's batch headers, CRCs checked.
	Batches []storage.BatchHeader
}

// ReadFile reads and parses the snapshot at path.
func ReadFile(path string) (Snapshot, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Snapshot{}, err
	}
	s, err := Parse(b)
	if err != nil {
		return s, fmt.Errorf("snapshot %s: %w", path, err)
	}
	return s, nil
}

// Parse decodes a whole snapshot: batches checked for framing and CRC
// (broker/storage), offsets contiguous from 0, the first record a
// SnapshotHeaderRecord and the last a SnapshotFooterRecord, control records
// only in control batches and nothing after the footer. Compressed batches
// are refused: Kafka writes snapshots uncompressed.
func Parse(b []byte) (Snapshot, error) {
	var s Snapshot
	hs, err := storage.ParseBatchHeaders(b)
	if err != nil {
		return s, err
	}
	if len(hs) == 0 {
		return s, errors.New("empty: no SnapshotHeaderRecord")
	}
	s.Batches = hs
	next, pos := int64(0), 0
	sawHeader, sawFooter := false, false
	for _, h := range hs {
		batch := b[pos : pos+h.Size()]
		pos += h.Size()
		if h.BaseOffset != next {
			return s, fmt.Errorf("batch at offset %d, want %d: snapshot offsets are contiguous from 0", h.BaseOffset, next)
		}
		if h.Compression() != 0 {
			return s, fmt.Errorf("batch at offset %d is compressed (codec %d)", h.BaseOffset, h.Compression())
		}
		if sawFooter {
			return s, fmt.Errorf("batch at offset %d after the SnapshotFooterRecord", h.BaseOffset)
		}
		r := kbin.Reader{Src: batch[storage.BatchHeaderSize:]}
		for i := int32(0); i < h.RecordCount; i++ {
			key, value, delta, err := readRecord(&r)
			if err != nil {
				return s, fmt.Errorf("record %d of batch at offset %d: %w", i, h.BaseOffset, err)
			}
			off := h.BaseOffset + int64(delta)
			if off != next {
				return s, fmt.Errorf("record at offset %d, want %d", off, next)
			}
			next++
			if sawFooter {
				return s, fmt.Errorf("record at offset %d after the SnapshotFooterRecord", off)
			}
			if !h.Control() {
				if !sawHeader {
					return s, fmt.Errorf("data record at offset %d before the SnapshotHeaderRecord", off)
				}
				s.Records = append(s.Records, value)
				continue
			}
			t, err := metadata.ParseControlKey(key)
			if err != nil {
				return s, fmt.Errorf("offset %d: %w", off, err)
			}
			c, err := metadata.UnmarshalControl(t, value, 0)
			if err != nil {
				return s, fmt.Errorf("offset %d: %w", off, err)
			}
			if !sawHeader && t != metadata.ControlSnapshotHeader {
				return s, fmt.Errorf("offset %d: the first record is control type %d, want a SnapshotHeaderRecord", off, t)
			}
			switch m := c.(type) {
			case *metadata.SnapshotHeaderRecord:
				if sawHeader {
					return s, fmt.Errorf("offset %d: a second SnapshotHeaderRecord", off)
				}
				s.Header, sawHeader = *m, true
			case *metadata.SnapshotFooterRecord:
				sawFooter = true
			case *metadata.KRaftVersionRecord:
				s.KRaftVersion = m
			case *metadata.VotersRecord:
				s.Voters = m
			default:
				return s, fmt.Errorf("offset %d: control type %d does not belong in a snapshot", off, t)
			}
		}
		if len(r.Src) != 0 {
			return s, fmt.Errorf("batch at offset %d: %d bytes after its %d records", h.BaseOffset, len(r.Src), h.RecordCount)
		}
	}
	if !sawFooter {
		return s, errors.New("no SnapshotFooterRecord: the snapshot is incomplete")
	}
	return s, nil
}

// readRecord reads one v2 record's key, value and offset delta.
func readRecord(r *kbin.Reader) (key, value []byte, offsetDelta int32, err error) {
	length := r.Varint()
	if !r.Ok() || length < 0 || int(length) > len(r.Src) {
		return nil, nil, 0, fmt.Errorf("record length %d with %d bytes left", length, len(r.Src))
	}
	rr := kbin.Reader{Src: r.Span(int(length))}
	rr.Int8() // attributes, unused
	rr.Varlong()
	offsetDelta = rr.Varint()
	key = rr.VarintBytes()
	value = rr.VarintBytes()
	headers := rr.Varint()
	for i := int32(0); i < headers && rr.Ok(); i++ {
		rr.VarintBytes()
		rr.VarintBytes()
	}
	if !rr.Ok() || len(rr.Src) != 0 {
		return nil, nil, 0, errors.New("record truncated or with trailing bytes")
	}
	return key, value, offsetDelta, nil
}
