package storage

import (
	"encoding/binary"
	"fmt"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Records are decoded only for ListOffsets by timestamp, never on the
// append or fetch path.

var (
	decompressorOnce sync.Once
	decompressor     kgo.Decompressor
)

func getDecompressor() kgo.Decompressor {
	decompressorOnce.Do(func() { decompressor = kgo.DefaultDecompressor() })
	return decompressor
}

// findRecordByTimestamp returns the offset and timestamp of the first
// record in batch whose timestamp is >= ts.
func findRecordByTimestamp(batch []byte, h BatchHeader, ts int64) (int64, int64, bool, error) {
	if h.MaxTimestamp < ts {
		return 0, 0, false, nil
	}
	if h.LogAppendTime() {
		// Every record carries the append time (the batch's maxTimestamp).
		return h.BaseOffset, h.MaxTimestamp, true, nil
	}
	recs := batch[BatchHeaderSize:]
	if c := h.Compression(); c != 0 {
		var err error
		recs, err = getDecompressor().Decompress(recs, kgo.CompressionCodecType(c))
		if err != nil {
			return 0, 0, false, fmt.Errorf("%w: decompressing batch at offset %d: %v", ErrCorruptMessage, h.BaseOffset, err)
		}
	}
	for i := int32(0); i < h.RecordCount && len(recs) > 0; i++ {
		length, n := binary.Varint(recs)
		if n <= 0 || length < 0 || int64(len(recs)-n) < length {
			return 0, 0, false, fmt.Errorf("%w: record %d of batch at offset %d", ErrCorruptMessage, i, h.BaseOffset)
		}
		rec := recs[n : n+int(length)]
		recs = recs[n+int(length):]
		if len(rec) < 1 {
			return 0, 0, false, fmt.Errorf("%w: empty record in batch at offset %d", ErrCorruptMessage, h.BaseOffset)
		}
		tsDelta, n1 := binary.Varint(rec[1:]) // skip attributes
		if n1 <= 0 {
			return 0, 0, false, fmt.Errorf("%w: record timestamp in batch at offset %d", ErrCorruptMessage, h.BaseOffset)
		}
		offDelta, n2 := binary.Varint(rec[1+n1:])
		if n2 <= 0 {
			return 0, 0, false, fmt.Errorf("%w: record offset in batch at offset %d", ErrCorruptMessage, h.BaseOffset)
		}
		if t := h.FirstTimestamp + tsDelta; t >= ts {
			return h.BaseOffset + offDelta, t, true, nil
		}
	}
	// maxTimestamp said a record qualifies but none did: trust the header
	// (as Kafka would for an inconsistent batch) rather than skip it.
	return h.LastOffset(), h.MaxTimestamp, true, nil
}
