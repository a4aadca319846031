package storage

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"

	"github.com/twmb/franz-go/pkg/kgo"
)

// attrDeleteHorizon is the batch attribute bit (KIP-534) saying that the
// batch's firstTimestamp holds its delete horizon: the time after which the
// cleaner removes its tombstones. Record timestamps stay firstTimestamp +
// timestampDelta, so their deltas are rewritten when the bit is set.
const attrDeleteHorizon = 0x40

// cleanerRecord is one record of a batch as the cleaner sees it.
type cleanerRecord struct {
	body      []byte // the record without its length prefix
	tsDelta   int64
	tsEnd     int // body[tsEnd:] follows the timestampDelta varint
	offDelta  int64
	key       []byte // nil for a null key
	tombstone bool   // null value
}

// batchRecords returns the batch's record bytes, decompressed.
func batchRecords(h BatchHeader, batch []byte) ([]byte, error) {
	recs := batch[BatchHeaderSize:]
	if c := h.Compression(); c != 0 {
		out, err := getDecompressor().Decompress(recs, kgo.CompressionCodecType(c))
		if err != nil {
			return nil, fmt.Errorf("%w: decompressing batch at offset %d: %v", ErrCorruptMessage, h.BaseOffset, err)
		}
		return out, nil
	}
	return recs, nil
}

// forEachRecord walks the records of a decompressed batch body.
func forEachRecord(h BatchHeader, recs []byte, fn func(r cleanerRecord)) error {
	bad := func(what string) error {
		return fmt.Errorf("%w: record %s in batch at offset %d", ErrCorruptMessage, what, h.BaseOffset)
	}
	for i := int32(0); i < h.RecordCount; i++ {
		length, n := binary.Varint(recs)
		if n <= 0 || length < 1 || int64(len(recs)-n) < length {
			return bad("length")
		}
		body := recs[n : n+int(length)]
		recs = recs[n+int(length):]
		p := 1 // attributes
		var r cleanerRecord
		r.body = body
		var k int
		if r.tsDelta, k = binary.Varint(body[p:]); k <= 0 {
			return bad("timestamp")
		}
		p += k
		r.tsEnd = p
		if r.offDelta, k = binary.Varint(body[p:]); k <= 0 {
			return bad("offset")
		}
		p += k
		keyLen, k := binary.Varint(body[p:])
		if k <= 0 || keyLen < -1 || int64(len(body)-p-k) < max(keyLen, 0) {
			return bad("key")
		}
		p += k
		if keyLen >= 0 {
			r.key = body[p : p+int(keyLen)]
			p += int(keyLen)
		}
		valLen, k := binary.Varint(body[p:])
		if k <= 0 || valLen < -1 {
			return bad("value")
		}
		r.tombstone = valLen < 0
		fn(r)
	}
	return nil
}

// keyedRecordCount counts the records of a batch that have a key.
func keyedRecordCount(h BatchHeader, recs []byte) (int, error) {
	n := 0
	err := forEachRecord(h, recs, func(r cleanerRecord) {
		if r.key != nil {
			n++
		}
	})
	return n, err
}

// rebuildBatch writes a batch holding the kept records of the original one
// to dst: same base offset and last offset delta (Kafka preserves the last
// offset so the producer's last sequence survives), leader epoch,
// producer id, epoch and base sequence, codec. horizon >= 0 sets the delete
// horizon (firstTimestamp = horizon, record timestamp deltas rebased). With
// no records it writes the empty batch Kafka keeps for a producer's last
// batch.
func rebuildBatch(dst []byte, orig []byte, h BatchHeader, kept []cleanerRecord, horizon int64, comp kgo.Compressor, cbuf *bytes.Buffer) ([]byte, error) {
	attrs := h.Attributes
	firstTs, maxTs := h.FirstTimestamp, h.MaxTimestamp
	if horizon >= 0 {
		attrs |= attrDeleteHorizon
		firstTs = horizon
	}
	var raw []byte
	if len(kept) > 0 {
		maxTs = -1
		for _, r := range kept {
			ts := h.FirstTimestamp + r.tsDelta
			maxTs = max(maxTs, ts)
			delta := r.tsDelta
			if horizon >= 0 {
				delta = ts - horizon
			}
			if delta == r.tsDelta {
				raw = binary.AppendVarint(raw, int64(len(r.body)))
				raw = append(raw, r.body...)
				continue
			}
			var tsv [binary.MaxVarintLen64]byte
			tn := binary.PutVarint(tsv[:], delta)
			raw = binary.AppendVarint(raw, int64(1+tn+len(r.body)-r.tsEnd))
			raw = append(raw, r.body[0])
			raw = append(raw, tsv[:tn]...)
			raw = append(raw, r.body[r.tsEnd:]...)
		}
		if h.LogAppendTime() {
			maxTs = h.MaxTimestamp
		}
	} else {
		attrs &^= attrCompressionMask
	}
	if c := h.Compression(); c != 0 && len(kept) > 0 {
		cbuf.Reset()
		out, typ := comp.Compress(cbuf, raw)
		if typ < 0 || out == nil {
			return dst, fmt.Errorf("%w: recompressing batch at offset %d", ErrStorage, h.BaseOffset)
		}
		attrs = attrs&^attrCompressionMask | int16(typ)
		raw = out
	}
	start := len(dst)
	dst = append(dst, orig[:BatchHeaderSize]...)
	dst = append(dst, raw...)
	b := dst[start:]
	be := binary.BigEndian
	be.PutUint32(b[offBatchLength:], uint32(len(b)-logOverhead))
	be.PutUint16(b[offAttributes:], uint16(attrs))
	be.PutUint64(b[offFirstTs:], uint64(firstTs))
	be.PutUint64(b[offMaxTs:], uint64(maxTs))
	be.PutUint32(b[offRecordCount:], uint32(len(kept)))
	be.PutUint32(b[offCRC:], crc32.Checksum(b[offAttributes:], crc32c))
	return dst, nil
}

// deleteHorizon returns the batch's delete horizon, if it has one.
func (h BatchHeader) deleteHorizon() (int64, bool) {
	if h.Attributes&attrDeleteHorizon == 0 {
		return 0, false
	}
	return h.FirstTimestamp, true
}
