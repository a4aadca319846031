package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/osprey-kafka/osprey/broker/metastore"
	"github.com/osprey-kafka/osprey/internal/testenv"
)

// The Keeper lives in package metastore; it is tested here because it needs
// a store whose sessions can be expired on demand.

func TestKeeperReRegistersAfterExpiry(t *testing.T) {
	base := runtime.NumGoroutine()
	srv := NewServer()
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var setups atomic.Int32
	k := metastore.NewKeeper(srv.Connector(time.Second), func(ctx context.Context, s metastore.Session) error {
		if setups.Add(1) == 2 {
			return errors.New("injected setup failure") // retried on a new session
		}
		if err := metastore.EnsurePath(ctx, s, "/brokers/ids"); err != nil {
			return err
		}
		_, err := s.Create(ctx, "/brokers/ids/1", []byte("b1"), metastore.Ephemeral)
		return err
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	k.Start()

	s1, err := k.WaitSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	observer, err := srv.NewSession(time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_, st, err := observer.Get(ctx, "/brokers/ids/1")
	if err != nil || st.EphemeralOwner != s1.ID() {
		t.Fatalf("registration: %+v %v", st, err)
	}
	_, changed := k.Current()
	if err := srv.ExpireSession(s1.ID()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-changed:
	case <-ctx.Done():
		t.Fatal("Current not replaced after expiry")
	}
	s2, err := k.WaitSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if s2.ID() == s1.ID() {
		t.Fatal("same session after expiry")
	}
	_, st, err = observer.Get(ctx, "/brokers/ids/1")
	if err != nil || st.EphemeralOwner != s2.ID() {
		t.Fatalf("re-registration: %+v %v", st, err)
	}
	if n := setups.Load(); n != 3 {
		t.Fatalf("%d setups, want 3 (ok, injected failure, ok)", n)
	}
	if err := k.Close(); err != nil {
		t.Fatal(err)
	}
	if ok, _, err := observer.Exists(ctx, "/brokers/ids/1"); err != nil || ok {
		t.Fatalf("registration after Close: %v %v", ok, err)
	}
	if s, _ := k.Current(); s != nil {
		t.Fatal("Current after Close")
	}
	if _, err := k.WaitSession(ctx); !errors.Is(err, metastore.ErrClosed) {
		t.Fatalf("WaitSession after Close: %v", err)
	}
	_ = observer.Close()
	testenv.WaitFor(t, 5*time.Second, func() error {
		if n := runtime.NumGoroutine(); n > base {
			return fmt.Errorf("%d goroutines, %d before", n, base)
		}
		return nil
	})
}

func TestKeeperCloseWithoutStart(t *testing.T) {
	k := metastore.NewKeeper(NewServer().Connector(time.Second), nil, nil)
	if err := k.Close(); err != nil {
		t.Fatal(err)
	}
	if err := k.Close(); err != nil {
		t.Fatal(err)
	}
	k.Start() // no effect after Close
	if s, _ := k.Current(); s != nil {
		t.Fatal("session after Close")
	}
}
