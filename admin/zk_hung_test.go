package admin

import (
	"context"
	"errors"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/osprey-kafka/osprey/internal/testenv"
)

// hungServer accepts connections and never answers, as a stopped ZooKeeper process does (the
// kernel still completes the handshakes). Close drops the listener and every connection.
type hungServer struct {
	ln    net.Listener
	mu    sync.Mutex // guards conns
	conns []net.Conn
	done  chan struct{}
}

func startHungServer(t *testing.T) *hungServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := &hungServer{ln: ln, done: make(chan struct{})}
	go func() {
		defer close(h.done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			h.mu.Lock()
			h.conns = append(h.conns, c)
			h.mu.Unlock()
		}
	}()
	t.Cleanup(h.Close)
	return h
}

func (h *hungServer) Close() {
	_ = h.ln.Close()
	<-h.done
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, c := range h.conns {
		_ = c.Close()
	}
	h.conns = nil
}

// A ZooKeeper that does not answer holds go-zookeeper's calls far past their callers' deadlines;
// calls made meanwhile fail at once with ErrZKUnavailable instead of adding a goroutine each, and
// are asked again once the held call has ended.
func TestZooKeeperHungCallsDoNotPileUp(t *testing.T) {
	h := startHungServer(t)
	c, err := New(Config{Name: "zk", Bootstrap: []string{"127.0.0.1:1"}, ZooKeeper: h.ln.Addr().String(), ZKSessionTimeout: 4 * time.Second}, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	z, err := c.ZooKeeper()
	if err != nil {
		t.Fatal(err)
	}
	get := func(timeout time.Duration) error {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		_, _, err := z.Get(ctx, "/controller")
		return err
	}
	if err := get(200 * time.Millisecond); !errors.Is(err, context.DeadlineExceeded) || !IsZKUnavailable(err) {
		t.Fatalf("the first call: %v, want the deadline", err)
	}
	g0 := runtime.NumGoroutine()
	const n = 200
	for range n {
		began := time.Now()
		err := get(time.Second)
		if !errors.Is(err, ErrZKUnavailable) || !IsZKUnavailable(err) {
			t.Fatalf("a call behind the unanswered one: %v, want ErrZKUnavailable", err)
		}
		if took := time.Since(began); took > 500*time.Millisecond {
			t.Fatalf("a call behind the unanswered one took %v", took)
		}
	}
	if g := runtime.NumGoroutine(); g > g0+5 {
		t.Fatalf("goroutines after %d calls: %d, before %d", n, g, g0)
	}
	if z.Connected() {
		t.Fatal("a connection whose session was never answered counts as connected")
	}
	// The server goes away: go-zookeeper fails the held call, and calls are asked again.
	h.Close()
	testenv.WaitFor(t, 10*time.Second, func() error {
		if err := get(100 * time.Millisecond); errors.Is(err, ErrZKUnavailable) {
			return err
		}
		return nil
	})
}
