package zk

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/osprey-kafka/osprey/broker/metastore"
	"github.com/osprey-kafka/osprey/broker/metastore/metastoretest"
	"github.com/osprey-kafka/osprey/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// sniffer is a test dialer that remembers each session's password from the
// connect response (go-zookeeper does not expose it), can cut the current
// connections and can hold new dials. Expiring a session the way Kazoo and
// Curator tests do needs the password: a second connection that presents
// the same session id and password takes the session over, and a
// closeSession request on it ends the session on the server at once (no
// waiting for the session timeout, no server restart).
type sniffer struct {
	mu     sync.Mutex
	passwd map[int64][]byte
	conns  []net.Conn
	hold   chan struct{} // non-nil: dials wait until it is closed
	// held, when set, is signalled by each dial that starts waiting on hold.
	held chan struct{}
	// late, when set, wraps the next connections in a lateConn that
	// reports to it.
	late *lateWatches
}

func newSniffer() *sniffer { return &sniffer{passwd: map[int64][]byte{}} }

func (sn *sniffer) dial(network, addr string, timeout time.Duration) (net.Conn, error) {
	sn.mu.Lock()
	hold, held := sn.hold, sn.held
	sn.mu.Unlock()
	if hold != nil {
		if held != nil {
			select {
			case held <- struct{}{}:
			default:
			}
		}
		<-hold
	}
	c, err := net.DialTimeout(network, addr, timeout)
	if err != nil {
		return nil, err
	}
	sn.mu.Lock()
	sn.conns = append(sn.conns, c)
	late := sn.late
	sn.mu.Unlock()
	sc := &sniffConn{Conn: c, sn: sn}
	if late != nil {
		return newLateConn(sc, late), nil
	}
	return sc, nil
}

type sniffConn struct {
	net.Conn
	sn   *sniffer
	buf  []byte
	done bool
}

// Read records the first frame the server sends, the connect response:
// length, protocolVersion, timeOut, sessionId, passwd (length-prefixed).
func (c *sniffConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if !c.done && n > 0 {
		c.buf = append(c.buf, p[:n]...)
		if len(c.buf) >= 4 {
			size := int(binary.BigEndian.Uint32(c.buf))
			if len(c.buf) >= 4+size && size >= 20 {
				body := c.buf[4 : 4+size]
				id := int64(binary.BigEndian.Uint64(body[8:]))
				plen := int(binary.BigEndian.Uint32(body[16:]))
				if id != 0 && len(body) >= 20+plen {
					c.sn.mu.Lock()
					c.sn.passwd[id] = append([]byte{}, body[20:20+plen]...)
					c.sn.mu.Unlock()
				}
				c.done = true
				c.buf = nil
			}
		}
	}
	return n, err
}

// cut closes every connection dialled so far (a network failure).
func (sn *sniffer) cut() {
	sn.mu.Lock()
	defer sn.mu.Unlock()
	for _, c := range sn.conns {
		_ = c.Close()
	}
	sn.conns = nil
}

// expire ends session id on the server through a second connection.
func (sn *sniffer) expire(t *testing.T, addr string, id int64) {
	t.Helper()
	sn.mu.Lock()
	pw, ok := sn.passwd[id]
	// Hold the client's reconnection so it cannot win the session back
	// before the closeSession request is processed.
	hold := make(chan struct{})
	sn.hold = hold
	sn.mu.Unlock()
	defer func() {
		sn.mu.Lock()
		sn.hold = nil
		sn.mu.Unlock()
		close(hold)
	}()
	if !ok {
		t.Fatalf("no password seen for session 0x%x", id)
	}
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	body := binary.BigEndian.AppendUint32(nil, 0) // protocolVersion
	body = binary.BigEndian.AppendUint64(body, 0) // lastZxidSeen
	body = binary.BigEndian.AppendUint32(body, 10000)
	body = binary.BigEndian.AppendUint64(body, uint64(id))
	body = binary.BigEndian.AppendUint32(body, uint32(len(pw)))
	body = append(body, pw...)
	body = append(body, 0) // readOnly
	if err := writeFrame(c, body); err != nil {
		t.Fatal(err)
	}
	resp, err := readFrame(c)
	if err != nil {
		t.Fatalf("connect response: %v", err)
	}
	if len(resp) < 16 || int64(binary.BigEndian.Uint64(resp[8:])) != id {
		t.Fatalf("session 0x%x not taken over (response %x)", id, resp)
	}
	// closeSession: xid 1, opcode -11, no body.
	req := binary.BigEndian.AppendUint32(nil, 1)
	req = binary.BigEndian.AppendUint32(req, uint32(0xfffffff5))
	if err := writeFrame(c, req); err != nil {
		t.Fatal(err)
	}
	if _, err := readFrame(c); err != nil {
		t.Fatalf("closeSession reply: %v", err)
	}
}

func writeFrame(w io.Writer, body []byte) error {
	_, err := w.Write(append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...))
	return err
}

func readFrame(r io.Reader) ([]byte, error) {
	var h [4]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, err
	}
	b := make([]byte, binary.BigEndian.Uint32(h[:]))
	_, err := io.ReadFull(r, b)
	return b, err
}

type zkEnv struct {
	addr   string
	chroot string
	sn     *sniffer
}

func newZKEnv(t *testing.T) (*zkEnv, metastoretest.Env) {
	addr, chroot := testenv.ZooKeeperChroot(t)
	e := &zkEnv{addr: addr, chroot: chroot, sn: newSniffer()}
	return e, metastoretest.Env{
		Open: func(t *testing.T) metastore.Session {
			t.Helper()
			return e.open(t, 10*time.Second)
		},
		Expire: func(t *testing.T, s metastore.Session) {
			t.Helper()
			e.sn.expire(t, e.addr, s.ID())
			metastoretest.WaitState(t, s, metastore.StateExpired)
		},
	}
}

func (e *zkEnv) open(t *testing.T, timeout time.Duration) *Session {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := Connect(ctx, Config{Servers: []string{e.addr}, Chroot: e.chroot, SessionTimeout: timeout,
		Logger: quiet(), Dialer: e.sn.dial})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	metastoretest.Run(t, func(t *testing.T) metastoretest.Env {
		_, env := newZKEnv(t)
		return env
	})
}

func TestChrootCreatedAndHidden(t *testing.T) {
	e, _ := newZKEnv(t)
	e.chroot += "/nested/deeper"
	ctx := context.Background()
	s := e.open(t, 10*time.Second)
	p, err := s.Create(ctx, "/seq-", []byte("x"), metastore.Sequential)
	if err != nil || p != "/seq-0000000000" {
		t.Fatalf("create: %q %v", p, err)
	}
	raw, err := Connect(ctx, Config{Servers: []string{e.addr}, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if data, _, err := raw.Get(ctx, e.chroot+"/seq-0000000000"); err != nil || string(data) != "x" {
		t.Fatalf("raw read: %q %v", data, err)
	}
	res, err := s.Multi(ctx, metastore.CreateOp("/m-", nil, metastore.Sequential|metastore.Ephemeral))
	if err != nil || res[0].Path != "/m-0000000001" {
		t.Fatalf("multi create in chroot: %+v %v", res, err)
	}
}

func TestParseConnectString(t *testing.T) {
	cases := []struct {
		in      string
		servers []string
		chroot  string
		ok      bool
	}{
		{"z1:2181", []string{"z1:2181"}, "", true},
		{"z1:2181,z2:2181/kafka", []string{"z1:2181", "z2:2181"}, "/kafka", true},
		{"z1:2181/kafka/a/", []string{"z1:2181"}, "/kafka/a", true},
		{"/kafka", nil, "", false},
		{"z1:2181/ka//fka", nil, "", false},
	}
	for _, c := range cases {
		servers, chroot, err := ParseConnectString(c.in)
		if (err == nil) != c.ok {
			t.Errorf("%q: err %v", c.in, err)
			continue
		}
		if c.ok && (fmt.Sprint(servers) != fmt.Sprint(c.servers) || chroot != c.chroot) {
			t.Errorf("%q: %v %q", c.in, servers, chroot)
		}
	}
}

// TestDisconnectKeepsSession cuts the TCP connection: the session reports
// disconnected, reconnects within its timeout and keeps its ephemeral
// node and its watches.
func TestDisconnectKeepsSession(t *testing.T) {
	e, _ := newZKEnv(t)
	ctx := context.Background()
	s := e.open(t, 10*time.Second)
	other := e.open(t, 10*time.Second)
	if _, err := s.Create(ctx, "/eph", []byte("x"), metastore.Ephemeral); err != nil {
		t.Fatal(err)
	}
	_, _, ch, err := s.GetW(ctx, "/eph")
	if err != nil {
		t.Fatal(err)
	}
	changed := s.Changed()
	id := s.ID()
	e.sn.mu.Lock()
	e.sn.hold = make(chan struct{})
	hold := e.sn.hold
	e.sn.mu.Unlock()
	// Cut only s's connection: other's conns are in the same sniffer, so cut
	// all and let both reconnect.
	e.sn.cut()
	<-changed
	if st := s.State(); st != metastore.StateDisconnected {
		t.Fatalf("state after cut: %v", st)
	}
	// Requests made while disconnected wait for the reconnection (go-zookeeper
	// queues them); the caller's context bounds the wait.
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	_, _, err = s.Get(short, "/eph")
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, metastore.ErrConnectionLoss) {
		t.Fatalf("get while disconnected: %v", err)
	}
	e.sn.mu.Lock()
	e.sn.hold = nil
	e.sn.mu.Unlock()
	close(hold)
	metastoretest.WaitState(t, s, metastore.StateConnected)
	if s.ID() != id {
		t.Fatalf("session id changed: %x → %x", id, s.ID())
	}
	metastoretest.WaitState(t, other, metastore.StateConnected)
	if _, err := other.Set(ctx, "/eph", []byte("y"), metastore.AnyVersion); err != nil {
		t.Fatal(err)
	}
	if ev := metastoretest.WaitEvent(t, ch); ev.Type != metastore.EventNodeDataChanged {
		t.Fatalf("watch after reconnect: %+v", ev)
	}
	_, st, err := other.Get(ctx, "/eph")
	if err != nil || st.EphemeralOwner != id {
		t.Fatalf("ephemeral after reconnect: %+v %v", st, err)
	}
}

// lateWatches configures lateConn: readsHeld says whether the client above
// is holding its reads; early records a reply handed to the client before
// the connection's setWatches request was written.
type lateWatches struct {
	readsHeld func() bool
	early     atomic.Bool
}

// lateConn reads the server's bytes ahead of the client and writes a
// setWatches request only once a reply after the connect response has
// arrived and either the client has taken it or is holding its reads. A
// client that hands replies to go-zookeeper before setWatches is written
// is caught with such a reply every time.
type lateConn struct {
	net.Conn // the sniffConn
	lw       *lateWatches

	mu      sync.Mutex
	buf     []byte // received, not yet handed to the client
	err     error  // the receive error, once buf is drained
	first   int    // length of the connect response frame; 0 until known
	got     int    // bytes received
	given   int    // bytes handed to the client
	written bool   // setWatches has been written
	more    chan struct{}
	changed *sync.Cond // on mu; broadcast when got or given grows
}

func newLateConn(c net.Conn, lw *lateWatches) *lateConn {
	l := &lateConn{Conn: c, lw: lw, more: make(chan struct{}, 1)}
	l.changed = sync.NewCond(&l.mu)
	go l.pump()
	return l
}

func (l *lateConn) pump() {
	b := make([]byte, 64<<10)
	for {
		n, err := l.Conn.Read(b)
		l.mu.Lock()
		l.buf = append(l.buf, b[:n]...)
		l.got += n
		if l.first == 0 && l.got >= 4 {
			l.first = 4 + int(binary.BigEndian.Uint32(l.buf))
		}
		if err != nil {
			l.err = err
		}
		l.changed.Broadcast()
		l.mu.Unlock()
		select {
		case l.more <- struct{}{}:
		default:
		}
		if err != nil {
			return
		}
	}
}

func (l *lateConn) Read(p []byte) (int, error) {
	for {
		l.mu.Lock()
		if len(l.buf) > 0 {
			n := copy(p, l.buf)
			l.buf = l.buf[n:]
			l.given += n
			if l.first > 0 && l.given > l.first && !l.written {
				l.lw.early.Store(true)
			}
			l.changed.Broadcast()
			l.mu.Unlock()
			return n, nil
		}
		err := l.err
		l.mu.Unlock()
		if err != nil {
			return 0, err
		}
		<-l.more
	}
}

func (l *lateConn) Write(p []byte) (int, error) {
	if len(p) >= 12 && int32(binary.BigEndian.Uint32(p[8:])) == opSetWatches {
		// Whether the client holds its reads is settled before setWatches is
		// written (go-zookeeper reports the session, and the Session holds
		// reads, before it sends setWatches); what this waits for is the
		// server's reply arriving and, unless reads are held, the client
		// taking it. Past the deadline setWatches goes out anyway and the
		// test fails on its own checks.
		held := l.lw.readsHeld()
		expired := false
		timer := time.AfterFunc(5*time.Second, func() {
			l.mu.Lock()
			expired = true
			l.changed.Broadcast()
			l.mu.Unlock()
		})
		l.mu.Lock()
		for !expired && !(l.first > 0 && l.got > l.first && (held || l.given > l.first)) {
			l.changed.Wait()
		}
		l.mu.Unlock()
		timer.Stop()
	}
	n, err := l.Conn.Write(p)
	if len(p) >= 12 && int32(binary.BigEndian.Uint32(p[8:])) == opSetWatches {
		l.mu.Lock()
		l.written = true
		l.mu.Unlock()
	}
	return n, err
}

// readsHeld reports whether g is holding reads for a setWatches request.
func (g *gatedConn) readsHeld() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.held == nil {
		return false
	}
	select {
	case <-g.held:
		return false
	default:
		return true
	}
}

// TestReconnectRearmsWatchesBeforeReplies reconnects a session that has a
// watch while a request is queued, and makes the server's reply to that
// request arrive before go-zookeeper has written its setWatches request.
// go-zookeeper v1.0.4 reads its last-seen zxid to build setWatches while its
// receive loop, already running, stores the zxid of each reply, with nothing
// ordering the two (go-zookeeper/zk pull request #35): a reply handed to it
// before setWatches is written is the data race -race reports now and then
// in TestDisconnectKeepsSession. The Session must hold such replies back.
func TestReconnectRearmsWatchesBeforeReplies(t *testing.T) {
	e, _ := newZKEnv(t)
	ctx := context.Background()
	s := e.open(t, 10*time.Second)
	if _, err := s.Create(ctx, "/n", []byte("x"), 0); err != nil {
		t.Fatal(err)
	}
	_, _, ch, err := s.GetW(ctx, "/n")
	if err != nil {
		t.Fatal(err)
	}
	lw := &lateWatches{readsHeld: func() bool {
		s.mu.Lock()
		g := s.tcp
		s.mu.Unlock()
		return g.readsHeld()
	}}
	hold, held := make(chan struct{}), make(chan struct{}, 1)
	e.sn.mu.Lock()
	e.sn.hold, e.sn.held = hold, held
	e.sn.late = lw
	e.sn.mu.Unlock()
	e.sn.cut()
	// Once go-zookeeper is dialling again it has dropped the requests it
	// had queued; this one stays queued after its context ends and goes
	// out ahead of setWatches on the new connection.
	<-held
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	_, _, err = s.Get(short, "/n")
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("get while disconnected: %v", err)
	}
	e.sn.mu.Lock()
	e.sn.hold = nil
	e.sn.mu.Unlock()
	close(hold)
	metastoretest.WaitState(t, s, metastore.StateConnected)
	if _, err := s.Set(ctx, "/n", []byte("y"), metastore.AnyVersion); err != nil {
		t.Fatal(err)
	}
	if ev := metastoretest.WaitEvent(t, ch); ev.Type != metastore.EventNodeDataChanged {
		t.Fatalf("watch after reconnect: %+v", ev)
	}
	if lw.early.Load() {
		t.Fatal("a reply reached go-zookeeper before its setWatches request was written")
	}
}

// TestExpiredSessionDoesNotComeBack checks that after an expiry the client
// does not silently continue on a fresh session (go-zookeeper would).
func TestExpiredSessionDoesNotComeBack(t *testing.T) {
	e, env := newZKEnv(t)
	ctx := context.Background()
	s := e.open(t, 10*time.Second)
	env.Expire(t, s)
	select {
	case <-s.Done():
	default:
		t.Fatal("Done not closed")
	}
	if _, err := s.Create(ctx, "/x", nil, metastore.Ephemeral); !errors.Is(err, metastore.ErrSessionExpired) {
		t.Fatalf("create after expiry: %v", err)
	}
	// The connection is closed by the session itself: Close returns
	// promptly and leaves the state at expired.
	done := make(chan struct{})
	go func() { _ = s.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close of an expired session hangs")
	}
	if s.State() != metastore.StateExpired {
		t.Fatalf("state %v", s.State())
	}
}

func TestConnectTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	// A server that accepts and never answers.
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = Connect(ctx, Config{Servers: []string{ln.Addr().String()}, Logger: quiet()})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("connect to a silent server: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("connect returned after %v", d)
	}
}

// TestNoGoroutineLeak opens sessions with watches, expires some, closes all,
// and checks that every goroutine (ours and go-zookeeper's) has ended.
func TestNoGoroutineLeak(t *testing.T) {
	e, env := newZKEnv(t)
	ctx := context.Background()
	warm := e.open(t, 10*time.Second) // chroot created, cleanup session known
	_ = warm.Close()
	base := runtime.NumGoroutine()
	for i := 0; i < 10; i++ {
		s, err := Connect(ctx, Config{Servers: []string{e.addr}, Chroot: e.chroot, SessionTimeout: 10 * time.Second,
			Logger: quiet(), Dialer: e.sn.dial})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, _, err := s.ExistsW(ctx, "/nothing"); err != nil {
			t.Fatal(err)
		}
		if _, _, _, err := s.ChildrenW(ctx, "/"); err != nil {
			t.Fatal(err)
		}
		if i%3 == 0 {
			env.Expire(t, s)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	testenv.WaitFor(t, 10*time.Second, func() error {
		if n := runtime.NumGoroutine(); n > base {
			buf := make([]byte, 1<<16)
			return fmt.Errorf("%d goroutines, %d before:\n%s", n, base, buf[:runtime.Stack(buf, true)])
		}
		return nil
	})
}

// TestKeeperOnZooKeeper: after the ensemble expires the session, the Keeper
// opens a new one and re-creates the ephemeral registration.
func TestKeeperOnZooKeeper(t *testing.T) {
	e, env := newZKEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cfg := Config{Servers: []string{e.addr}, Chroot: e.chroot, SessionTimeout: 10 * time.Second, Logger: quiet(), Dialer: e.sn.dial}
	k := metastore.NewKeeper(Connector(cfg), func(ctx context.Context, s metastore.Session) error {
		_, err := s.Create(ctx, "/broker-1", nil, metastore.Ephemeral)
		return err
	}, quiet())
	k.Start()
	defer k.Close()
	s1, err := k.WaitSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	env.Expire(t, s1)
	observer := e.open(t, 10*time.Second)
	metastoretest.WaitState(t, observer, metastore.StateConnected)
	testenv.WaitFor(t, 20*time.Second, func() error {
		_, st, err := observer.Get(ctx, "/broker-1")
		if err == nil && st.EphemeralOwner == s1.ID() {
			err = errors.New("still registered by the expired session")
		}
		if err != nil {
			return fmt.Errorf("no re-registration by a new session: %+v %w", st, err)
		}
		return nil
	})
	if err := k.Close(); err != nil {
		t.Fatal(err)
	}
	if ok, _, err := observer.Exists(ctx, "/broker-1"); err != nil || ok {
		t.Fatalf("registration after Close: %v %v", ok, err)
	}
}
