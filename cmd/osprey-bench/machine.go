package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// limitFile is the file the sequential-write test leaves behind for the
// sendfile test (page-cache warm, like a broker's recent segments).
const limitFileName = "seqwrite.bin"

func runMachine(ctx context.Context, o *options, rep *report, lim *limits) {
	d := o.dur(5*time.Second, time.Second)
	v, m, err := loopbackTCP(ctx, d)
	if err != nil {
		rep.add(row{Section: "machine", Name: "loopback TCP", Status: statusNotRun, Why: err.Error()})
		lim.loopback = math.NaN()
	} else {
		lim.loopback = v
		rep.add(row{Section: "machine", Name: "loopback TCP (1 stream, 1 MiB writes)", Value: mbps(v),
			Why: fmt.Sprintf("%.1f cores busy", m.cores())})
	}
	rep.note("Loopback TCP: one writer and one reader goroutine over 127.0.0.1, 1 MiB writes and reads, %v.", d)

	size := o.size(1<<30, 128<<20)
	path := filepath.Join(o.dir, limitFileName)
	// Median of 3 (the disk is shared with other processes; one run is noisy).
	var (
		ws []float64
		n  int64
	)
	for i := 0; i < int(o.size(3, 1)) && err == nil; i++ {
		var w float64
		w, n, err = seqWrite(ctx, path, size, o.dur(30*time.Second, 5*time.Second))
		ws = append(ws, w)
	}
	if err == nil {
		rep.note("Sequential write runs: %s.", joinRates(ws))
	}
	v = medianOf(ws)
	if err != nil {
		rep.add(row{Section: "machine", Name: "sequential file write", Status: statusNotRun, Why: err.Error()})
		lim.diskSeq = math.NaN()
	} else {
		lim.diskSeq = v
		rep.add(row{Section: "machine", Name: fmt.Sprintf("sequential file write (%s, fsync at end)", humanBytes(float64(n))), Value: mbps(v)})
	}
	rep.note("Sequential file write: 1 MiB writes of random bytes to a new file in the scratch directory (the same "+
		"file system as the broker logs), up to %s or %v, then one fsync; the time includes the fsync; median of %d runs.",
		humanBytes(float64(size)), o.dur(30*time.Second, 5*time.Second), int(o.size(3, 1)))

	v, err = sendfileRate(ctx, path, o.dur(5*time.Second, time.Second))
	if err != nil {
		rep.add(row{Section: "machine", Name: "sendfile file→socket", Status: statusNotRun, Why: err.Error()})
		lim.sendfile = math.NaN()
	} else {
		lim.sendfile = v
		rep.add(row{Section: "machine", Name: "sendfile file→socket (warm page cache)", Value: mbps(v)})
	}
	rep.note("sendfile: io.Copy from the *os.File written above to a *net.TCPConn on 127.0.0.1 (Go uses sendfile(2) "+
		"for this), file re-sent from the start until %v passed; a goroutine reads and discards.", o.dur(5*time.Second, time.Second))
}

// sink accepts one connection on 127.0.0.1 and discards what it reads,
// returning the bytes read when the peer closes.
func sink(ln net.Listener) <-chan int64 {
	out := make(chan int64, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			out <- 0
			return
		}
		defer c.Close()
		n, _ := io.CopyBuffer(io.Discard, c, make([]byte, 1<<20))
		out <- n
	}()
	return out
}

func loopbackTCP(ctx context.Context, d time.Duration) (float64, *meter, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, nil, fmt.Errorf("listening: %w", err)
	}
	defer ln.Close()
	got := sink(ln)
	var dl net.Dialer
	c, err := dl.DialContext(ctx, "tcp", ln.Addr().String())
	if err != nil {
		return 0, nil, fmt.Errorf("dialing: %w", err)
	}
	buf := make([]byte, 1<<20)
	_, _ = rand.Read(buf)
	m := startMeter()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if _, err := c.Write(buf); err != nil {
			c.Close()
			return 0, nil, fmt.Errorf("writing: %w", err)
		}
	}
	c.Close()
	n := <-got
	m.stop()
	return float64(n) / m.wall.Seconds(), m, nil
}

func seqWrite(ctx context.Context, path string, size int64, maxDur time.Duration) (float64, int64, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, 0, fmt.Errorf("creating %s: %w", path, err)
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	_, _ = rand.Read(buf)
	start := time.Now()
	var n int64
	for n < size && time.Since(start) < maxDur && ctx.Err() == nil {
		w, err := f.Write(buf)
		n += int64(w)
		if err != nil {
			return 0, 0, fmt.Errorf("writing %s: %w", path, err)
		}
	}
	if err := f.Sync(); err != nil {
		return 0, 0, fmt.Errorf("fsync %s: %w", path, err)
	}
	return float64(n) / time.Since(start).Seconds(), n, nil
}

func sendfileRate(ctx context.Context, path string, d time.Duration) (float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("opening %s: %w", path, err)
	}
	defer f.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("listening: %w", err)
	}
	defer ln.Close()
	got := sink(ln)
	var dl net.Dialer
	c, err := dl.DialContext(ctx, "tcp", ln.Addr().String())
	if err != nil {
		return 0, fmt.Errorf("dialing: %w", err)
	}
	tc, ok := c.(*net.TCPConn)
	if !ok {
		c.Close()
		return 0, errors.New("not a TCP connection")
	}
	start := time.Now()
	for time.Since(start) < d && ctx.Err() == nil {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			tc.Close()
			return 0, fmt.Errorf("seeking: %w", err)
		}
		// *net.TCPConn.ReadFrom(*os.File) is sendfile(2) on Linux.
		if _, err := io.Copy(tc, f); err != nil {
			tc.Close()
			return 0, fmt.Errorf("sendfile: %w", err)
		}
	}
	tc.Close()
	n := <-got
	return float64(n) / time.Since(start).Seconds(), nil
}

func medianOf(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[len(s)/2]
}

func joinRates(v []float64) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = mbps(x)
	}
	return strings.Join(parts, ", ")
}
