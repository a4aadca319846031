package testenv

import (
	"sync"
	"syscall"
	"testing"
	"time"
)

// PrivateZooKeeper is a standalone ZooKeeper started for one test alone, which the test may pause,
// resume, kill and start again (fault tests) without disturbing the tests that share the
// per-process server.
type PrivateZooKeeper struct {
	// Addr is its host:port; it stays the same across Kill and Start.
	Addr string

	mu sync.Mutex // guards s
	s  *server    // the current process
}

// StartPrivateZooKeeper starts a ZooKeeper on its own port and data directory (four-letter words
// whitelisted), stopped and removed when the test ends. It takes a few seconds (a JVM starts).
func StartPrivateZooKeeper(t testing.TB) *PrivateZooKeeper {
	t.Helper()
	reg := &registry{}
	s, addr, err := startZooKeeper(reg)
	if err != nil {
		t.Fatalf("testenv.StartPrivateZooKeeper: %v", err)
	}
	z := &PrivateZooKeeper{Addr: addr, s: s}
	t.Cleanup(func() {
		z.Resume() // a paused JVM would not act on SIGTERM
		z.mu.Lock()
		cur := z.s
		z.mu.Unlock()
		cur.terminate(10 * time.Second)
		// The registry holds the first process (the same directory): removes the directory.
		if err := reg.stopAll(); err != nil {
			t.Errorf("testenv: stopping the private ZooKeeper: %v", err)
		}
	})
	return z
}

func (z *PrivateZooKeeper) current() *server {
	z.mu.Lock()
	defer z.mu.Unlock()
	return z.s
}

// Pause stops the server with SIGSTOP: its connections stay open and the kernel still accepts new
// ones, but nothing answers, as with a server hung or cut off behind a firewall that drops.
func (z *PrivateZooKeeper) Pause() { _ = z.current().cmd.Process.Signal(syscall.SIGSTOP) }

// Resume continues a paused server (SIGCONT).
func (z *PrivateZooKeeper) Resume() { _ = z.current().cmd.Process.Signal(syscall.SIGCONT) }

// Kill ends the server with SIGKILL, as a crash would, and waits until it has exited: connections
// are reset and new ones refused. Its data directory is kept for Start.
func (z *PrivateZooKeeper) Kill() {
	s := z.current()
	_ = s.cmd.Process.Kill()
	<-s.done
}

// Start runs the server again after Kill, on the same port and data, and returns once it serves.
func (z *PrivateZooKeeper) Start(t testing.TB) {
	t.Helper()
	old := z.current()
	if !old.exited() {
		t.Fatal("testenv: PrivateZooKeeper.Start: the server is still running")
	}
	s, err := startServer("zookeeper", old.dir, old.logPath, old.cmd.Args)
	if err != nil {
		t.Fatalf("testenv: restarting ZooKeeper: %v", err)
	}
	z.mu.Lock()
	z.s = s
	z.mu.Unlock()
	err = poll(90*time.Second, func() error {
		if s.exited() {
			return errExited
		}
		return zkServing(z.Addr)
	})
	if err != nil {
		t.Fatalf("testenv: restarting ZooKeeper on %s: %v; last lines of its log:\n%s", z.Addr, err, s.logTail(30))
	}
}
