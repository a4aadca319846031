package zkstatus

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeServer answers four-letter words from a table, one connection per
// command, the way ZooKeeper does: read the word, write the answer, close.
// The answer "HANG" makes it never answer (until the client gives up).
type fakeServer struct {
	addr     string
	accepted atomic.Int64
	wg       sync.WaitGroup
}

func newFakeServer(t *testing.T, answers map[string]string) *fakeServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &fakeServer{addr: l.Addr().String()}
	done := make(chan struct{})
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s.accepted.Add(1)
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer c.Close()
				buf := make([]byte, 4)
				if _, err := io.ReadFull(c, buf); err != nil {
					return
				}
				answer := answers[string(buf)]
				if answer == "HANG" {
					// Wait for the client to close its end (or the test to end).
					go func() { <-done; c.Close() }()
					_, _ = io.Copy(io.Discard, c)
					return
				}
				_, _ = io.WriteString(c, answer)
			}()
		}
	}()
	t.Cleanup(func() {
		close(done)
		l.Close()
		s.wg.Wait()
	})
	return s
}

// countingDialer counts the connections a Client opens and closes.
type countingDialer struct {
	opened, closed atomic.Int64
}

type countedConn struct {
	net.Conn
	once sync.Once
	d    *countingDialer
}

func (c *countedConn) Close() error {
	c.once.Do(func() { c.d.closed.Add(1) })
	return c.Conn.Close()
}

func (d *countingDialer) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var nd net.Dialer
	c, err := nd.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	d.opened.Add(1)
	return &countedConn{Conn: c, d: d}, nil
}

func (d *countingDialer) check(t *testing.T, wantOpened int64) {
	t.Helper()
	if o, c := d.opened.Load(), d.closed.Load(); o != wantOpened || c != o {
		t.Errorf("connections opened %d, closed %d; want %d opened, all closed", o, c, wantOpened)
	}
}

func TestRecordedAnswersThroughClient(t *testing.T) {
	srv := newFakeServer(t, map[string]string{
		"ruok": readTestdata(t, "standalone_ruok.txt"),
		"srvr": readTestdata(t, "leader_srvr.txt"),
		"mntr": readTestdata(t, "follower_mntr.txt"),
		"cons": readTestdata(t, "standalone_cons.txt"),
	})
	d := &countingDialer{}
	c := &Client{Dial: d.dial}
	ctx := context.Background()
	if err := c.Ruok(ctx, srv.addr); err != nil {
		t.Errorf("Ruok: %v", err)
	}
	if s, err := c.Srvr(ctx, srv.addr); err != nil || s.Mode != ModeLeader {
		t.Errorf("Srvr = %+v, %v", s, err)
	}
	if m, err := c.Mntr(ctx, srv.addr); err != nil || m.ServerState != ModeFollower {
		t.Errorf("Mntr = %v, %v", m, err)
	}
	if conns, err := c.Cons(ctx, srv.addr); err != nil || len(conns) != 3 {
		t.Errorf("Cons = %v, %v", conns, err)
	}
	d.check(t, 4)
	if n := srv.accepted.Load(); n != 4 {
		t.Errorf("server accepted %d connections, want 4 (one per call)", n)
	}
}

func TestRefusalsBecomeErrors(t *testing.T) {
	restricted := newFakeServer(t, map[string]string{
		"ruok": readTestdata(t, "restricted_ruok.txt"),
		"mntr": readTestdata(t, "restricted_mntr.txt"),
		"cons": readTestdata(t, "restricted_cons.txt"),
	})
	noQuorum := newFakeServer(t, map[string]string{
		"ruok": readTestdata(t, "noquorum_ruok.txt"),
		"srvr": readTestdata(t, "noquorum_srvr.txt"),
		"mntr": readTestdata(t, "noquorum_mntr.txt"),
		"cons": readTestdata(t, "noquorum_cons.txt"),
	})
	unknown := newFakeServer(t, map[string]string{"xxxx": readTestdata(t, "standalone_xxxx.txt")})
	ctx := context.Background()
	c := &Client{}

	err := c.Ruok(ctx, restricted.addr)
	if !errors.Is(err, ErrNotWhitelisted) || !strings.Contains(err.Error(), "4lw command not whitelisted") ||
		!strings.Contains(err.Error(), restricted.addr) || !strings.Contains(err.Error(), "ruok") {
		t.Errorf("Ruok on restricted server: %v", err)
	}
	if _, err := c.Mntr(ctx, restricted.addr); !errors.Is(err, ErrNotWhitelisted) {
		t.Errorf("Mntr on restricted server: %v", err)
	}
	if _, err := c.Cons(ctx, restricted.addr); !errors.Is(err, ErrNotWhitelisted) {
		t.Errorf("Cons on restricted server: %v", err)
	}

	// Without a quorum ruok still says imok; the others refuse.
	if err := c.Ruok(ctx, noQuorum.addr); err != nil {
		t.Errorf("Ruok without quorum: %v", err)
	}
	if _, err := c.Srvr(ctx, noQuorum.addr); !errors.Is(err, ErrNotServing) {
		t.Errorf("Srvr without quorum: %v", err)
	}
	if _, err := c.Mntr(ctx, noQuorum.addr); !errors.Is(err, ErrNotServing) {
		t.Errorf("Mntr without quorum: %v", err)
	}
	if _, err := c.Cons(ctx, noQuorum.addr); !errors.Is(err, ErrNotServing) {
		t.Errorf("Cons without quorum: %v", err)
	}

	if _, err := c.Command(ctx, unknown.addr, "xxxx"); !errors.Is(err, ErrEmptyAnswer) {
		t.Errorf("unknown command: %v", err)
	}
	// A server answering something else to ruok is not healthy.
	odd := newFakeServer(t, map[string]string{"ruok": "nope"})
	if err := c.Ruok(ctx, odd.addr); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("Ruok answered nope: %v", err)
	}
}

func TestBadCommandDoesNotDial(t *testing.T) {
	d := &countingDialer{}
	c := &Client{Dial: d.dial}
	for _, cmd := range []string{"RUOK", "ruo", "ruokk", "ru k", ""} {
		if _, err := c.Command(context.Background(), "127.0.0.1:1", cmd); err == nil {
			t.Errorf("Command(%q) succeeded", cmd)
		}
	}
	d.check(t, 0)
}

func TestTimeoutAndCancel(t *testing.T) {
	srv := newFakeServer(t, map[string]string{"srvr": "HANG", "mntr": "HANG"})
	d := &countingDialer{}

	c := &Client{Dial: d.dial, Timeout: 200 * time.Millisecond}
	start := time.Now()
	_, err := c.Srvr(context.Background(), srv.addr)
	if el := time.Since(start); el < 150*time.Millisecond || el > 3*time.Second {
		t.Errorf("Srvr on a silent server returned after %v, want about the 200ms timeout", el)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Srvr on a silent server: %v, want DeadlineExceeded", err)
	}

	// A context deadline shorter than the Timeout wins.
	c2 := &Client{Dial: d.dial, Timeout: time.Minute}
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	start = time.Now()
	if _, err := c2.Mntr(ctx, srv.addr); !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 3*time.Second {
		t.Errorf("Mntr with a 150ms context: %v after %v", err, time.Since(start))
	}

	// Cancelling a context without a deadline ends a blocked read.
	ctx3, cancel3 := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel3)
	start = time.Now()
	if _, err := c2.Srvr(ctx3, srv.addr); !errors.Is(err, context.Canceled) || time.Since(start) > 3*time.Second {
		t.Errorf("Srvr with a cancelled context: %v after %v", err, time.Since(start))
	}
	d.check(t, 3)
}

func TestAnswerSizeLimit(t *testing.T) {
	srv := newFakeServer(t, map[string]string{"mntr": readTestdata(t, "leader_mntr.txt")})
	c := &Client{MaxAnswerBytes: 1000}
	if _, err := c.Mntr(context.Background(), srv.addr); err == nil || !strings.Contains(err.Error(), "longer than 1000 bytes") {
		t.Errorf("Mntr over the limit: %v", err)
	}
}

func TestDialFailure(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	err = Ruok(context.Background(), addr)
	if err == nil || !strings.Contains(err.Error(), "dialing") || !strings.Contains(err.Error(), addr) {
		t.Errorf("Ruok on a closed port: %v", err)
	}
}
