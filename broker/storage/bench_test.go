package storage

import (
	"io"
	"log/slog"
	"net"
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
