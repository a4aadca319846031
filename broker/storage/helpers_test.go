package storage

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// testRecord is what a test puts in a batch and expects back.
type testRecord struct {
	Offset  int64
	TsDelta int64
	Key     []byte
	Value   []byte
	Headers []kmsg.Header
}

// batchOpts describes a batch built by makeBatch.
type batchOpts struct {
	firstTs int64
	records []testRecord
	codec   int8 // 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd
}

var codecs = map[int8]kgo.CompressionCodec{
	1: kgo.GzipCompression(), 2: kgo.SnappyCompression(), 3: kgo.Lz4Compression(), 4: kgo.ZstdCompression(),
}

// makeBatch encodes a producer-style v2 batch (base offset 0, epoch -1)
// with franz-go's kmsg types and a real compressor.
func makeBatch(t testing.TB, o batchOpts) []byte {
	t.Helper()
	var raw []byte
	maxDelta := int64(0)
	for i, r := range o.records {
		rec := kmsg.Record{TimestampDelta64: r.TsDelta, OffsetDelta: int32(i), Key: r.Key, Value: r.Value, Headers: r.Headers}
		body := rec.AppendTo(nil)[1:] // encoded with Length 0, a one-byte varint
		raw = binary.AppendVarint(raw, int64(len(body)))
		raw = append(raw, body...)
		maxDelta = max(maxDelta, r.TsDelta)
	}
	attrs := int16(0)
	if o.codec != 0 {
		c, err := kgo.DefaultCompressor(codecs[o.codec])
		if err != nil {
			t.Fatal(err)
		}
		out, typ := c.Compress(new(bytes.Buffer), raw)
		if int8(typ) != o.codec {
			t.Fatalf("compressor used codec %d, want %d", typ, o.codec)
		}
		raw = append([]byte(nil), out...)
		attrs = int16(o.codec)
	}
	b := kmsg.RecordBatch{
		FirstOffset: 0, Length: int32(BatchHeaderSize - logOverhead + len(raw)), PartitionLeaderEpoch: -1, Magic: 2,
		Attributes: attrs, LastOffsetDelta: int32(len(o.records) - 1), FirstTimestamp: o.firstTs,
		MaxTimestamp: o.firstTs + maxDelta, ProducerID: -1, ProducerEpoch: -1, FirstSequence: -1,
		NumRecords: int32(len(o.records)), Records: raw,
	}
	enc := b.AppendTo(nil)
	binary.BigEndian.PutUint32(enc[offCRC:], crc32.Checksum(enc[offAttributes:], crc32c))
	return enc
}

// simpleBatch makes a batch of n records with values of size valueSize
// and timestamps ts, ts+1, ...
func simpleBatch(t testing.TB, ts int64, n, valueSize int, tag string) []byte {
	t.Helper()
	recs := make([]testRecord, n)
	for i := range recs {
		v := bytes.Repeat([]byte{byte('a' + i%26)}, valueSize)
		recs[i] = testRecord{TsDelta: int64(i), Key: fmt.Appendf(nil, "%s-%d", tag, i), Value: v}
	}
	return makeBatch(t, batchOpts{firstTs: ts, records: recs})
}

// decodeBatches decodes every record of stored batches, checking CRCs.
func decodeBatches(t testing.TB, b []byte) ([]BatchHeader, []testRecord) {
	t.Helper()
	hs, err := ParseBatchHeaders(b)
	if err != nil {
		t.Fatalf("stored batches do not parse: %v", err)
	}
	var out []testRecord
	dec := kgo.DefaultDecompressor()
	for len(b) > 0 {
		var rb kmsg.RecordBatch
		if err := rb.ReadFrom(b); err != nil {
			t.Fatal(err)
		}
		b = b[int(rb.Length)+logOverhead:]
		raw, err := dec.Decompress(rb.Records, kgo.CompressionCodecType(rb.Attributes&7))
		if err != nil {
			t.Fatal(err)
		}
		for i := int32(0); i < rb.NumRecords; i++ {
			l, n := binary.Varint(raw)
			var r kmsg.Record
			if err := r.ReadFrom(raw[:n+int(l)]); err != nil {
				t.Fatal(err)
			}
			raw = raw[n+int(l):]
			out = append(out, testRecord{Offset: rb.FirstOffset + int64(r.OffsetDelta), TsDelta: rb.FirstTimestamp + r.TimestampDelta64,
				Key: r.Key, Value: r.Value, Headers: r.Headers})
		}
	}
	return hs, out
}

// readAll reads the whole log [start, end) through Read.
func readAll(t testing.TB, l Log) []byte {
	t.Helper()
	var out []byte
	off := l.LogStartOffset()
	end := l.LogEndOffset()
	for off < end {
		r, err := l.Read(off, 1<<20, end, true)
		if err != nil {
			t.Fatalf("read at %d: %v", off, err)
		}
		b, err := r.AppendTo(nil)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(b) == 0 {
			t.Fatalf("empty read at %d with end %d", off, end)
		}
		hs, err := ParseBatchHeaders(b)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b...)
		off = hs[len(hs)-1].LastOffset() + 1
	}
	return out
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.UnixMilli(1_700_000_000_000)} }

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// logBuffer captures slog output for assertions.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newTestLogger(t testing.TB) (*slog.Logger, *logBuffer) {
	lb := &logBuffer{}
	w := io.MultiWriter(lb, testWriter{t})
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo})), lb
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// testConfig is a default config with small sizes for tests.
func testConfig(mod func(*Config)) Config {
	c := DefaultConfig()
	if mod != nil {
		mod(&c)
	}
	return c
}

// logKinds runs a test against both implementations.
type logFactory func(t *testing.T, cfg Config, clk *clock) Log

var logKinds = []struct {
	name string
	make logFactory
}{
	{"memory", func(t *testing.T, cfg Config, clk *clock) Log {
		l := NewMemoryLog(cfg).(*memoryLog)
		l.now = clk.now
		return l
	}},
	{"file", func(t *testing.T, cfg Config, clk *clock) Log {
		l, err := openFileLog(t.TempDir()+"/topic-0", cfg, logState{-1, -1, -1}, slog.New(slog.DiscardHandler), clk.now)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		return l
	}},
}

// newTestManager opens a Manager on a temp dir (or the given dir).
func newTestManager(t *testing.T, dir string, clk *clock) (*Manager, *logBuffer) {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	logger, lb := newTestLogger(t)
	m, err := OpenManager(dir, logger, WithClock(clk.now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m, lb
}

func contextWithCancel() (context.Context, context.CancelFunc) {
	return context.WithCancel(context.Background())
}
