package local

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/osprey-kafka/osprey/broker/metastore"
	"github.com/osprey-kafka/osprey/broker/metastore/metastoretest"
	"github.com/osprey-kafka/osprey/internal/testenv"
)

func newEnv(t *testing.T, opts ...SessionOption) (*Server, metastoretest.Env) {
	srv := NewServer()
	t.Cleanup(func() { _ = srv.Close() })
	return srv, metastoretest.Env{
		Open: func(t *testing.T) metastore.Session {
			t.Helper()
			s, err := srv.NewSession(10*time.Second, opts...)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Close() })
			return s
		},
		Expire: func(t *testing.T, s metastore.Session) {
			t.Helper()
			if err := srv.ExpireSession(s.ID()); err != nil {
				t.Fatal(err)
			}
			metastoretest.WaitState(t, s, metastore.StateExpired)
		},
	}
}

func TestConformance(t *testing.T) {
	metastoretest.Run(t, func(t *testing.T) metastoretest.Env {
		_, env := newEnv(t)
		return env
	})
}

func TestConformanceChroot(t *testing.T) {
	metastoretest.Run(t, func(t *testing.T) metastoretest.Env {
		_, env := newEnv(t, WithChroot("/kafka/cluster-a"))
		return env
	})
}

func TestChrootIsolation(t *testing.T) {
	srv := NewServer()
	defer srv.Close()
	ctx := context.Background()
	a, err := srv.NewSession(time.Second, WithChroot("/a"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := srv.NewSession(time.Second)
	if err != nil {
		t.Fatal(err)
	}
	p, err := a.Create(ctx, "/n-", []byte("x"), metastore.Sequential)
	if err != nil || p != "/n-0000000000" {
		t.Fatalf("create in chroot: %q %v", p, err)
	}
	if data, _, err := raw.Get(ctx, "/a/n-0000000000"); err != nil || string(data) != "x" {
		t.Fatalf("raw view: %q %v", data, err)
	}
	_, _, ch, err := a.GetW(ctx, "/n-0000000000")
	if err != nil {
		t.Fatal(err)
	}
	if err := raw.Delete(ctx, "/a/n-0000000000", -1); err != nil {
		t.Fatal(err)
	}
	if ev := metastoretest.WaitEvent(t, ch); ev.Path != "/n-0000000000" || ev.Type != metastore.EventNodeDeleted {
		t.Fatalf("event %+v", ev)
	}
	if _, err := srv.NewSession(time.Second, WithChroot("bad")); !errors.Is(err, metastore.ErrInvalidPath) {
		t.Fatalf("bad chroot: %v", err)
	}
}

func TestDisconnectThenExpire(t *testing.T) {
	srv := NewServer()
	defer srv.Close()
	ctx := context.Background()
	s, err := srv.NewSession(200 * time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, "/eph", nil, metastore.Ephemeral); err != nil {
		t.Fatal(err)
	}
	// A reconnect within the timeout keeps the session and its nodes.
	if err := srv.Disconnect(s.ID()); err != nil {
		t.Fatal(err)
	}
	if s.State() != metastore.StateDisconnected {
		t.Fatalf("state %v", s.State())
	}
	if _, _, err := s.Get(ctx, "/eph"); !errors.Is(err, metastore.ErrConnectionLoss) {
		t.Fatalf("get while disconnected: %v", err)
	}
	if err := srv.Reconnect(s.ID()); err != nil {
		t.Fatal(err)
	}
	if s.State() != metastore.StateConnected {
		t.Fatalf("state %v", s.State())
	}
	if _, _, err := s.Get(ctx, "/eph"); err != nil {
		t.Fatal(err)
	}
	// Staying away longer than the timeout expires it.
	if err := srv.Disconnect(s.ID()); err != nil {
		t.Fatal(err)
	}
	metastoretest.WaitState(t, s, metastore.StateExpired)
	other, err := srv.NewSession(time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _, err := other.Exists(ctx, "/eph"); err != nil || ok {
		t.Fatalf("ephemeral after expiry: %v %v", ok, err)
	}
	if err := srv.Reconnect(s.ID()); !errors.Is(err, metastore.ErrSessionExpired) {
		t.Fatalf("reconnect after expiry: %v", err)
	}
}

func TestServerClose(t *testing.T) {
	srv := NewServer()
	s, err := srv.NewSession(time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if s.State() != metastore.StateClosed {
		t.Fatalf("state %v", s.State())
	}
	if _, err := srv.NewSession(time.Second); !errors.Is(err, metastore.ErrClosed) {
		t.Fatalf("new session on a closed server: %v", err)
	}
}

func TestNoGoroutineLeak(t *testing.T) {
	base := runtime.NumGoroutine()
	srv := NewServer()
	ctx := context.Background()
	for i := 0; i < 100; i++ {
		s, err := srv.NewSession(10 * time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		_, _, _, _ = s.ExistsW(ctx, "/x")
		if i%2 == 0 {
			_ = srv.Disconnect(s.ID())
			_ = srv.Reconnect(s.ID())
		}
		_ = s.Close()
	}
	_ = srv.Close()
	testenv.WaitFor(t, 5*time.Second, func() error {
		if n := runtime.NumGoroutine(); n > base {
			return fmt.Errorf("%d goroutines, %d before", n, base)
		}
		return nil
	})
	if n := len(srv.dataW) + len(srv.childW); n != 0 {
		t.Fatalf("%d watch lists left", n)
	}
}

func TestConnector(t *testing.T) {
	srv := NewServer()
	defer srv.Close()
	conn := srv.Connector(time.Second, WithChroot("/c"))
	s, err := conn.Connect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(context.Background(), "/x", nil, metastore.Ephemeral); err != nil {
		t.Fatal(err)
	}
	if got := srv.Sessions(); len(got) != 1 || got[0] != s.ID() {
		t.Fatalf("sessions %v", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := conn.Connect(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("connect with a cancelled context: %v", err)
	}
}
