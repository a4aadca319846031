package testenv

import (
	"syscall"
	"testing"
)

// PrivateMariaDB is a MariaDB server started for one test alone, which the test may pause and
// resume (fault tests) without disturbing the tests that share the per-process server.
type PrivateMariaDB struct {
	s *server
	// DSN is a go-sql-driver DSN for an empty database on it (as MySQLDSN returns).
	DSN string
}

// StartPrivateMariaDB starts mariadbd on its own port and data directory, stopped and removed when
// the test ends. It takes a few seconds (the data directory is initialised each time).
func StartPrivateMariaDB(t testing.TB) *PrivateMariaDB {
	t.Helper()
	reg := &registry{}
	t.Cleanup(func() {
		if err := reg.stopAll(); err != nil {
			t.Errorf("testenv: stopping the private MariaDB: %v", err)
		}
	})
	s, root, err := startMariaDB(reg)
	if err != nil {
		t.Fatalf("testenv.StartPrivateMariaDB: %v", err)
	}
	m := &PrivateMariaDB{s: s}
	db, err := openRoot(root)
	if err != nil {
		t.Fatalf("testenv.StartPrivateMariaDB: %v", err)
	}
	reg.addCloser(db.Close)
	if m.DSN, err = createDatabase(t, db, root); err != nil {
		t.Fatalf("testenv.StartPrivateMariaDB: %v", err)
	}
	// A paused server is resumed before the cleanups above drop its database and stop it
	// (cleanups run last first).
	t.Cleanup(m.Resume)
	return m
}

// Pause stops the server with SIGSTOP: connections stay open and connects are accepted by the
// kernel, but nothing answers, as with a server hung or cut off behind a firewall that drops.
func (m *PrivateMariaDB) Pause() { _ = m.s.cmd.Process.Signal(syscall.SIGSTOP) }

// Resume continues a paused server (SIGCONT).
func (m *PrivateMariaDB) Resume() { _ = m.s.cmd.Process.Signal(syscall.SIGCONT) }
