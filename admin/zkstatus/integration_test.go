package zkstatus

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/osprey-kafka/osprey/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func ctx30(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestRealZooKeeper(t *testing.T) {
	addr, chroot := testenv.ZooKeeperChroot(t)
	ctx := ctx30(t)
	if err := Ruok(ctx, addr); err != nil {
		t.Fatal(err)
	}
	before, err := Srvr(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	if before.Mode != ModeStandalone || !strings.HasPrefix(before.Version, "3.8.") || before.NodeCount < 3 {
		t.Fatalf("Srvr = %+v; want a standalone 3.8 server with at least /, /zookeeper, the chroot", before)
	}

	// A session that writes: the zxid moves on by at least our writes, and
	// cons lists the session.
	c, events, err := zk.Connect([]string{addr}, 10*time.Second, zk.WithLogInfo(false))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	testenv.WaitFor(t, 30*time.Second, func() error {
		select {
		case ev := <-events:
			if ev.State == zk.StateHasSession {
				return nil
			}
		default:
		}
		return errors.New("no session yet")
	})
	const writes = 5
	for i := 0; i < writes; i++ {
		if _, err := c.Create(chroot+"/n", nil, zk.FlagSequence|zk.FlagEphemeral, zk.WorldACL(zk.PermAll)); err != nil {
			t.Fatal(err)
		}
	}
	after, err := Srvr(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	if after.Zxid-before.Zxid < writes || after.Received <= before.Received {
		t.Errorf("zxid %v -> %v, received %d -> %d after %d writes", before.Zxid, after.Zxid, before.Received, after.Received, writes)
	}

	m, err := Mntr(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	if m.ServerState != ModeStandalone || m.Version != before.Version+", built on "+before.BuiltOn ||
		m.EphemeralsCount < writes || m.ZnodeCount < writes || m.NumAliveConnections < 1 || len(m.Values) < 50 {
		t.Errorf("Mntr: state=%s version=%q ephemerals=%d znodes=%d conns=%d values=%d",
			m.ServerState, m.Version, m.EphemeralsCount, m.ZnodeCount, m.NumAliveConnections, len(m.Values))
	}

	conns, err := Cons(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, cn := range conns {
		if cn.HasSession && cn.SessionID == c.SessionID() {
			found = true
			if cn.Timeout <= 0 || cn.Received < writes || time.Since(cn.Established) > time.Minute {
				t.Errorf("our connection: %+v", cn)
			}
		}
	}
	if !found {
		t.Errorf("cons does not list our session %#x: %+v", c.SessionID(), conns)
	}
}

// TestCallsLeaveNoConnections checks from both sides that every call closes
// its connection: the client's dialer sees each closed, and the server's
// count of live connections does not grow.
func TestCallsLeaveNoConnections(t *testing.T) {
	addr := testenv.ZooKeeper(t)
	ctx := ctx30(t)
	base, err := Mntr(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	d := &countingDialer{}
	c := &Client{Dial: d.dial}
	const rounds = 50
	for i := 0; i < rounds; i++ {
		if err := c.Ruok(ctx, addr); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Srvr(ctx, addr); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Mntr(ctx, addr); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Cons(ctx, addr); err != nil {
			t.Fatal(err)
		}
	}
	d.check(t, 4*rounds)
	// Other test processes may share this server: allow a few of theirs.
	testenv.WaitFor(t, 10*time.Second, func() error {
		m, err := Mntr(ctx, addr)
		if err != nil {
			return err
		}
		// This mntr's own connection counts too.
		if m.NumAliveConnections > base.NumAliveConnections+5 {
			return errors.New("server still counts " + m.Values["zk_num_alive_connections"] +
				" live connections, was " + base.Values["zk_num_alive_connections"])
		}
		return nil
	})
}
