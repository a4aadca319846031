package zk

import (
	"context"
	"encoding/binary"
	"net"
	"os"
	"sync"
	"time"

	gozk "github.com/go-zookeeper/zk"
)

// On a reconnection go-zookeeper v1.0.4 starts its send and receive loops and
// then builds its setWatches request from the last zxid it has seen, a field
// its receive loop stores on every reply with nothing ordering the two
// (go-zookeeper/zk pull request #35, open since 2020). A reply read before
// setWatches is built (a request queued during the disconnection goes out
// first) is a data race that -race reports. The Session keeps go-zookeeper
// off that path: on a reconnected connection, replies are handed to
// go-zookeeper only once its setWatches request has been written, and
// setWatches is built before it is queued for writing.
//
// On a session's first connection go-zookeeper holds no watch when it starts
// its loops, so it builds no setWatches unless its loop goroutine stalls
// until a watch set through the new Session has been answered; replies are
// not held there (no setWatches may follow to release them).
//
// go-zookeeper writes setWatches only while it holds at least one watch, so
// every Session holds one that never fires: an exists watch on sentinelPath
// (no chroot; its parent is never created). Whether that watch is still held
// can be read without a lock from its channel: go-zookeeper sends an event
// into it when it drops the watch, and nothing else receives from it.

// sentinelPath is watched for existence by every Session and never created.
const sentinelPath = "/zookeeper/osprey-reconnect-sentinel/never-created"

// opSetWatches is ZooKeeper's opcode for re-arming watches on a new connection.
const opSetWatches = 101

// watchSentinel sets the sentinel watch; it runs once, before the Session is
// handed out, so no other watch exists yet.
func (s *Session) watchSentinel(ctx context.Context, conn *gozk.Conn) error {
	var ch <-chan gozk.Event
	raw := &Session{conn: conn, log: s.log, st: s.st, loopEnd: s.loopEnd}
	err := raw.call(ctx, "exists", sentinelPath, false, func() (err error) {
		_, _, ch, err = conn.ExistsW(sentinelPath)
		return err
	})
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.sentinel = ch
	s.mu.Unlock()
	return nil
}

// holdRepliesIfReconnected runs on go-zookeeper's loop goroutine when a
// connection has its session, before the loop starts reading replies on it.
// On a reconnection (the sentinel is set) with the sentinel watch still held,
// setWatches will be written, so replies wait for it.
func (s *Session) holdRepliesIfReconnected() {
	s.mu.Lock()
	c, sentinel := s.tcp, s.sentinel
	s.mu.Unlock()
	if c != nil && sentinel != nil && len(sentinel) == 0 {
		c.holdReads()
	}
}

// gatedConn is the connection go-zookeeper is given. Reads can be held until
// a setWatches request has been written on it.
type gatedConn struct {
	net.Conn
	closed    chan struct{}
	closeOnce sync.Once

	mu           sync.Mutex
	held         chan struct{} // non-nil while reads wait; closed to release them
	readDeadline time.Time
}

func newGatedConn(c net.Conn) *gatedConn {
	return &gatedConn{Conn: c, closed: make(chan struct{})}
}

// holdReads makes Read wait until setWatches has been written.
func (g *gatedConn) holdReads() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.held == nil {
		g.held = make(chan struct{})
	}
}

// Read waits while reads are held (until setWatches is written, the
// connection is closed or the read deadline passes), then reads.
func (g *gatedConn) Read(p []byte) (int, error) {
	g.mu.Lock()
	held, deadline := g.held, g.readDeadline
	g.mu.Unlock()
	if held != nil {
		var expired <-chan time.Time
		if !deadline.IsZero() {
			t := time.NewTimer(time.Until(deadline))
			defer t.Stop()
			expired = t.C
		}
		select {
		case <-held:
		case <-g.closed:
			return 0, net.ErrClosed
		case <-expired:
			return 0, os.ErrDeadlineExceeded
		}
	}
	return g.Conn.Read(p)
}

// Write writes p, a whole request frame (length, xid, opcode, body), and
// releases held reads once it is a setWatches request. The release comes
// after the write: a reply read from then on is ordered after the request,
// which go-zookeeper built before queueing it.
func (g *gatedConn) Write(p []byte) (int, error) {
	n, err := g.Conn.Write(p)
	if len(p) >= 12 && int32(binary.BigEndian.Uint32(p[8:12])) == opSetWatches {
		g.mu.Lock()
		if g.held != nil {
			select {
			case <-g.held:
			default:
				close(g.held)
			}
		}
		g.mu.Unlock()
	}
	return n, err
}

// SetReadDeadline also bounds a held Read.
func (g *gatedConn) SetReadDeadline(t time.Time) error {
	g.mu.Lock()
	g.readDeadline = t
	g.mu.Unlock()
	return g.Conn.SetReadDeadline(t)
}

// SetDeadline also bounds a held Read.
func (g *gatedConn) SetDeadline(t time.Time) error {
	g.mu.Lock()
	g.readDeadline = t
	g.mu.Unlock()
	return g.Conn.SetDeadline(t)
}

// Close closes the connection and ends a held Read.
func (g *gatedConn) Close() error {
	g.closeOnce.Do(func() { close(g.closed) })
	return g.Conn.Close()
}
