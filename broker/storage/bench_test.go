package storage

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"
)

func benchLog(b *testing.B, cfg Config) Log {
	b.Helper()
	l, err := openFileLog(b.TempDir()+"/bench-0", cfg, logState{-1, -1, -1}, slog.New(slog.DiscardHandler), time.Now)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { l.Close() })
	return l
}

// BenchmarkAppend1KiB appends one ~1 KiB single-record batch per op to a
// file log (no fsync: flush.messages is left to the OS, as Kafka's default).
func BenchmarkAppend1KiB(b *testing.B) {
	l := benchLog(b, testConfig(func(c *Config) { c.SegmentBytes = 64 << 20 }))
	batch := simpleBatch(b, time.Now().UnixMilli(), 1, 1024-BatchHeaderSize-20, "k")
	b.SetBytes(int64(len(batch)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := l.Append(batch, 1); err != nil {
			b.Fatal(err)
		}
		if i%(128<<10) == 0 && i > 0 {
			// Keep the disk footprint bounded on long runs.
			l.SetHighWatermark(l.LogEndOffset())
			if _, err := l.DeleteRecordsBefore(l.LogEndOffset()); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkRead reads 1 MiB fetches of 1 KiB batches from a 64 MiB log,
// into memory and over a loopback TCP connection (sendfile).
func BenchmarkRead(b *testing.B) {
	l := benchLog(b, testConfig(func(c *Config) { c.SegmentBytes = 16 << 20 }))
	batch := simpleBatch(b, time.Now().UnixMilli(), 1, 1024-BatchHeaderSize-20, "k")
	for l.Size() < 64<<20 {
		if _, err := l.Append(batch, 1); err != nil {
			b.Fatal(err)
		}
	}
	end := l.LogEndOffset()
	fetch := func(i int) ReadResult {
		off := int64(i*1024) % end
		r, err := l.Read(off, 1<<20, end, true)
		if err != nil {
			b.Fatal(err)
		}
		return r
	}
	b.Run("AppendTo", func(b *testing.B) {
		var buf []byte
		b.SetBytes(1 << 20)
		for i := 0; i < b.N; i++ {
			r := fetch(i)
			var err error
			if buf, err = r.AppendTo(buf[:0]); err != nil {
				b.Fatal(err)
			}
			r.Close()
		}
	})
	b.Run("SendfileTCP", func(b *testing.B) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		defer ln.Close()
		done := make(chan struct{})
		go func() {
			defer close(done)
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
			_, _ = io.Copy(io.Discard, c)
		}()
		conn, err := net.DialTimeout("tcp", ln.Addr().String(), 5*time.Second)
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(1 << 20)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			r := fetch(i)
			if _, err := r.WriteTo(conn); err != nil {
				b.Fatal(err)
			}
			r.Close()
		}
		b.StopTimer()
		conn.Close()
		<-done
	})
}

// BenchmarkCleaner cleans a log of OSPREY_CLEANER_BENCH_MB MiB (default 64;
// the figure is 1024) of ~100-byte records whose keys are 10%
// unique, and reports the cleaner's throughput in bytes read per second and
// the heap it allocated beyond its offset map (which is sized to hold the
// keys). Compare MB/s with BenchmarkAppend1KiB, the log's sequential write.
func BenchmarkCleaner(b *testing.B) {
	mb := 64
	if v, err := strconv.Atoi(os.Getenv("OSPREY_CLEANER_BENCH_MB")); err == nil && v > 0 {
		mb = v
	}
	const recSize, perBatch = 100, 50
	total := int64(mb) << 20
	records := total / recSize
	keys := records / 10
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		clk := newClock()
		m, err := OpenManager(b.TempDir(), nil, WithClock(clk.now))
		if err != nil {
			b.Fatal(err)
		}
		l, err := m.GetOrCreate("bench", 0, testConfig(func(c *Config) {
			c.CleanupPolicy = CleanupCompact
			c.SegmentBytes = 64 << 20
		}))
		if err != nil {
			b.Fatal(err)
		}
		value := bytes.Repeat([]byte("v"), recSize-40)
		for n := int64(0); n < records; n += perBatch {
			recs := make([]testRecord, perBatch)
			for j := range recs {
				recs[j] = testRecord{Key: fmt.Appendf(nil, "key-%012d", (n+int64(j))*7919%keys), Value: value}
			}
			if _, err := l.Append(makeBatch(b, batchOpts{firstTs: clk.now().UnixMilli(), records: recs}), 0); err != nil {
				b.Fatal(err)
			}
		}
		fl := l.(*fileLog)
		fl.mu.Lock()
		_ = fl.roll(fl.end(), clk.now().UnixMilli())
		fl.mu.Unlock()
		l.SetHighWatermark(l.LogEndOffset())
		ccf := DefaultCleanerConfig()
		ccf.DedupeBufferSize = max(int64(float64(keys)/0.9*offsetMapSlot)+offsetMapSlot*64, 1<<20)
		c, err := NewCleaner(ccf, []*Manager{m}, nil, WithCleanerClock(clk.now))
		if err != nil {
			b.Fatal(err)
		}
		size := l.Size()
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		b.StartTimer()
		start := time.Now()
		for {
			ok, err := c.CleanOnce()
			if err != nil {
				b.Fatal(err)
			}
			if !ok {
				break
			}
		}
		elapsed := time.Since(start)
		b.StopTimer()
		runtime.ReadMemStats(&after)
		tot := c.Totals()
		b.ReportMetric(float64(tot.BytesRead)/elapsed.Seconds()/(1<<20), "MB/s-read")
		b.ReportMetric(float64(size)/(1<<20), "MiB-log")
		b.ReportMetric(float64(l.Size())/(1<<20), "MiB-after")
		b.ReportMetric(float64(ccf.DedupeBufferSize)/(1<<20), "MiB-dedupe-buffer")
		b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/(1<<20), "MiB-allocated")
		m.Close()
	}
}
