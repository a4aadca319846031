package storage

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"
)

// Record batch v2 header layout (all big-endian). The header is parsed by
// hand on the hot path; records are never decoded there.
const (
	offBaseOffset    = 0  // int64
	offBatchLength   = 8  // int32: bytes after this field
	offLeaderEpoch   = 12 // int32
	offMagic         = 16 // int8
	offCRC           = 17 // uint32, CRC-32C over bytes [21, end)
	offAttributes    = 21 // int16
	offLastOffDelta  = 23 // int32
	offFirstTs       = 27 // int64
	offMaxTs         = 35 // int64
	offProducerID    = 43 // int64
	offProducerEpoch = 51 // int16
	offBaseSequence  = 53 // int32
	offRecordCount   = 57 // int32

	// BatchHeaderSize is the size of a v2 record batch header.
	BatchHeaderSize = 61
	// logOverhead is baseOffset + batchLength, the part not counted in
	// batchLength.
	logOverhead = 12
)

// Attribute bits.
const (
	attrCompressionMask = 0x07
	attrTimestampType   = 0x08 // 1 = LogAppendTime
	attrTransactional   = 0x10
	attrControl         = 0x20
)

var crc32c = crc32.MakeTable(crc32.Castagnoli)

// BatchHeader is a record batch's v2 header, for idempotence checks,
// validation and indexing.
type BatchHeader struct {
	BaseOffset           int64
	BatchLength          int32 // bytes after the batchLength field; the batch is BatchLength+12 bytes
	PartitionLeaderEpoch int32
	Magic                int8
	CRC                  uint32
	Attributes           int16
	LastOffsetDelta      int32
	FirstTimestamp       int64
	MaxTimestamp         int64
	ProducerID           int64
	ProducerEpoch        int16
	BaseSequence         int32
	RecordCount          int32
}

// Size is the whole batch's size in bytes.
func (h BatchHeader) Size() int { return int(h.BatchLength) + logOverhead }

// LastOffset is the batch's last offset.
func (h BatchHeader) LastOffset() int64 { return h.BaseOffset + int64(h.LastOffsetDelta) }

// Compression is the codec: 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd.
func (h BatchHeader) Compression() int8 { return int8(h.Attributes & attrCompressionMask) }

// LogAppendTime reports whether the timestamp type is LogAppendTime.
func (h BatchHeader) LogAppendTime() bool { return h.Attributes&attrTimestampType != 0 }

// Transactional reports the transactional attribute.
func (h BatchHeader) Transactional() bool { return h.Attributes&attrTransactional != 0 }

// Control reports the control-batch attribute.
func (h BatchHeader) Control() bool { return h.Attributes&attrControl != 0 }

// parseHeader decodes the 61 header bytes at b (len(b) >= BatchHeaderSize).
func parseHeader(b []byte) BatchHeader {
	be := binary.BigEndian
	return BatchHeader{
		BaseOffset:           int64(be.Uint64(b[offBaseOffset:])),
		BatchLength:          int32(be.Uint32(b[offBatchLength:])),
		PartitionLeaderEpoch: int32(be.Uint32(b[offLeaderEpoch:])),
		Magic:                int8(b[offMagic]),
		CRC:                  be.Uint32(b[offCRC:]),
		Attributes:           int16(be.Uint16(b[offAttributes:])),
		LastOffsetDelta:      int32(be.Uint32(b[offLastOffDelta:])),
		FirstTimestamp:       int64(be.Uint64(b[offFirstTs:])),
		MaxTimestamp:         int64(be.Uint64(b[offMaxTs:])),
		ProducerID:           int64(be.Uint64(b[offProducerID:])),
		ProducerEpoch:        int16(be.Uint16(b[offProducerEpoch:])),
		BaseSequence:         int32(be.Uint32(b[offBaseSequence:])),
		RecordCount:          int32(be.Uint32(b[offRecordCount:])),
	}
}

// ParseBatchHeaders splits b into v2 record batches and returns their
// headers. It checks framing (each batch's length fits in b and is at
// least a header, magic is 2) and the CRC-32C, but not offsets, so it
// serves both producer input and stored data. Errors wrap
// ErrCorruptMessage or ErrUnsupportedForMessageFormat. An empty b yields
// no headers and no error.
func ParseBatchHeaders(b []byte) ([]BatchHeader, error) {
	var hs []BatchHeader
	err := forEachBatch(b, func(h BatchHeader, _ []byte) error {
		hs = append(hs, h)
		return nil
	})
	return hs, err
}

// forEachBatch walks the batches in b, verifying framing and CRC, and
// calls fn with each header and the batch's bytes (a subslice of b).
func forEachBatch(b []byte, fn func(h BatchHeader, batch []byte) error) error {
	pos := 0
	for pos < len(b) {
		h, size, err := checkBatchAt(b[pos:])
		if err != nil {
			return fmt.Errorf("batch at byte %d: %w", pos, err)
		}
		if err := fn(h, b[pos:pos+size]); err != nil {
			return err
		}
		pos += size
	}
	return nil
}

// checkBatchAt verifies the batch at the start of b: header present, sane
// length, magic 2, CRC. It returns the header and the batch size.
func checkBatchAt(b []byte) (BatchHeader, int, error) {
	if len(b) < BatchHeaderSize {
		if len(b) > offMagic && b[offMagic] != 2 {
			return BatchHeader{}, 0, fmt.Errorf("%w: magic %d", ErrUnsupportedForMessageFormat, int8(b[offMagic]))
		}
		return BatchHeader{}, 0, fmt.Errorf("%w: %d trailing bytes are shorter than a batch header", ErrCorruptMessage, len(b))
	}
	h := parseHeader(b)
	if h.Magic != 2 {
		return h, 0, fmt.Errorf("%w: magic %d", ErrUnsupportedForMessageFormat, h.Magic)
	}
	size := int64(h.BatchLength) + logOverhead
	if size < BatchHeaderSize || size > int64(len(b)) {
		return h, 0, fmt.Errorf("%w: batch length %d with %d bytes available", ErrCorruptMessage, h.BatchLength, len(b)-logOverhead)
	}
	if got := crc32.Checksum(b[offAttributes:size], crc32c); got != h.CRC {
		return h, 0, fmt.Errorf("%w: CRC-32C %08x, batch says %08x", ErrCorruptMessage, got, h.CRC)
	}
	return h, int(size), nil
}

// checkProducerBatch adds the checks Kafka's LogValidator makes on batches
// from a client, beyond framing and CRC.
func checkProducerBatch(h BatchHeader, maxMessageBytes int32) error {
	if h.Size() > int(maxMessageBytes) {
		return fmt.Errorf("%w: %d bytes > max.message.bytes %d", ErrRecordTooLarge, h.Size(), maxMessageBytes)
	}
	if h.Compression() > 4 {
		return fmt.Errorf("%w: unknown compression codec %d", ErrCorruptMessage, h.Compression())
	}
	if h.LastOffsetDelta < 0 || h.RecordCount != h.LastOffsetDelta+1 {
		return fmt.Errorf("%w: recordCount %d but lastOffsetDelta %d", ErrInvalidRecord, h.RecordCount, h.LastOffsetDelta)
	}
	return nil
}

// setBaseOffset and setLeaderEpoch rewrite fields outside the CRC.
func setBaseOffset(batch []byte, off int64) {
	binary.BigEndian.PutUint64(batch[offBaseOffset:], uint64(off))
}

func setLeaderEpoch(batch []byte, epoch int32) {
	binary.BigEndian.PutUint32(batch[offLeaderEpoch:], uint32(epoch))
}

// setLogAppendTime marks the batch LogAppendTime with maxTimestamp = ts and
// recomputes the CRC, as Kafka does for message.timestamp.type=LogAppendTime.
func setLogAppendTime(batch []byte, ts int64) {
	be := binary.BigEndian
	attrs := be.Uint16(batch[offAttributes:]) | attrTimestampType
	be.PutUint16(batch[offAttributes:], attrs)
	be.PutUint64(batch[offMaxTs:], uint64(ts))
	be.PutUint32(batch[offCRC:], crc32.Checksum(batch[offAttributes:], crc32c))
}

// prepared is the outcome of validating and stamping producer batches.
type prepared struct {
	info    AppendInfo
	headers []BatchHeader
}

// prepareAppend validates producer batches and assigns offsets starting
// at next, rewriting the buffer in place. It changes nothing if it fails.
// nowMs is the broker clock for LogAppendTime.
func prepareAppend(b []byte, next int64, leaderEpoch int32, cfg Config, nowMs int64) (prepared, error) {
	var p prepared
	if len(b) == 0 {
		return p, fmt.Errorf("%w: no record batches", ErrInvalidRecord)
	}
	// Validate everything before touching anything, so a failure leaves
	// the caller's buffer as it was.
	var hs []BatchHeader
	compacted := cfg.compacts()
	if err := forEachBatch(b, func(h BatchHeader, batch []byte) error {
		if err := checkProducerBatch(h, cfg.MaxMessageBytes); err != nil {
			return err
		}
		if compacted && !h.Control() {
			if err := checkKeyed(h, batch); err != nil {
				return err
			}
		}
		hs = append(hs, h)
		return nil
	}); err != nil {
		return p, err
	}
	logAppend := cfg.MessageTimestampType == LogAppendTime
	p.info = AppendInfo{FirstOffset: next, MaxTimestamp: -1, OffsetOfMaxTimestamp: -1, LogAppendTime: -1, Bytes: len(b), Batches: len(hs)}
	if logAppend {
		p.info.LogAppendTime = nowMs
	}
	pos := 0
	for i := range hs {
		h := &hs[i]
		batch := b[pos : pos+h.Size()]
		pos += h.Size()
		setBaseOffset(batch, next)
		setLeaderEpoch(batch, leaderEpoch)
		h.BaseOffset, h.PartitionLeaderEpoch = next, leaderEpoch
		if logAppend {
			setLogAppendTime(batch, nowMs)
			h.Attributes |= attrTimestampType
			h.MaxTimestamp = nowMs
		}
		last := h.LastOffset()
		if h.MaxTimestamp > p.info.MaxTimestamp || p.info.OffsetOfMaxTimestamp < 0 || logAppend {
			p.info.MaxTimestamp, p.info.OffsetOfMaxTimestamp = h.MaxTimestamp, last
		}
		p.info.LastOffset = last
		p.info.RecordCount += int64(h.RecordCount)
		next = last + 1
	}
	p.headers = hs
	return p, nil
}

// prepareFollowerAppend checks batches that already carry offsets: they
// start at or after next and ascend.
func prepareFollowerAppend(b []byte, next int64) (prepared, error) {
	var p prepared
	if len(b) == 0 {
		return p, fmt.Errorf("%w: no record batches", ErrInvalidRecord)
	}
	p.info = AppendInfo{FirstOffset: next, MaxTimestamp: -1, OffsetOfMaxTimestamp: -1, LogAppendTime: -1, Bytes: len(b)}
	err := forEachBatch(b, func(h BatchHeader, _ []byte) error {
		// A leader's compacted log has gaps where the cleaner removed whole
		// batches, so (as in Kafka) offsets must only go up: a batch below
		// the log end (or overlapping the previous one) is refused.
		if h.BaseOffset < next {
			return fmt.Errorf("%w: batch base offset %d, expected at least %d", ErrOffsetNotContiguous, h.BaseOffset, next)
		}
		if h.LastOffsetDelta < 0 || h.BaseOffset > math.MaxInt64-int64(h.LastOffsetDelta) {
			return fmt.Errorf("%w: base offset %d, lastOffsetDelta %d", ErrInvalidRecord, h.BaseOffset, h.LastOffsetDelta)
		}
		last := h.LastOffset()
		if h.MaxTimestamp > p.info.MaxTimestamp || p.info.OffsetOfMaxTimestamp < 0 {
			p.info.MaxTimestamp, p.info.OffsetOfMaxTimestamp = h.MaxTimestamp, last
		}
		p.info.LastOffset = last
		p.info.RecordCount += int64(h.RecordCount)
		p.info.Batches++
		p.headers = append(p.headers, h)
		next = last + 1
		return nil
	})
	return p, err
}

// checkKeyed refuses a record without a key, as Kafka's LogValidator does
// for a compacted topic (the cleaner could never keep or remove it by key).
// This is the one place the append path decodes records.
func checkKeyed(h BatchHeader, batch []byte) error {
	recs, err := batchRecords(h, batch)
	if err != nil {
		return err
	}
	keyless := false
	if err := forEachRecord(h, recs, func(r cleanerRecord) { keyless = keyless || r.key == nil }); err != nil {
		return err
	}
	if keyless {
		return fmt.Errorf("%w: compacted topic cannot accept a record without a key (batch at producer offset %d)", ErrInvalidRecord, h.BaseOffset)
	}
	return nil
}
