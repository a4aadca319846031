package testenv

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/go-zookeeper/zk"
)

func TestMain(m *testing.M) { Main(m) }

func TestFreePort(t *testing.T) {
	p := FreePort(t)
	if p <= 0 || p > 65535 {
		t.Fatalf("FreePort = %d, not a port", p)
	}
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
	if err != nil {
		t.Fatalf("port %d from FreePort is not free: %v", p, err)
	}
	l.Close()
}

func TestWaitForSucceedsOnceConditionHolds(t *testing.T) {
	calls := 0
	start := time.Now()
	WaitFor(t, 5*time.Second, func() error {
		calls++
		if calls < 4 {
			return fmt.Errorf("not yet (%d)", calls)
		}
		return nil
	})
	if calls != 4 {
		t.Fatalf("cond called %d times, want 4 (stop at the first nil)", calls)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Fatalf("took %v for 4 polls", el)
	}
}

// fakeTB records a failure instead of ending the test.
type fakeTB struct {
	testing.TB
	mu     sync.Mutex
	failed string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failed = fmt.Sprintf(format, args...)
}

func TestWaitForFailsWithLastError(t *testing.T) {
	ft := &fakeTB{TB: t}
	calls := 0
	start := time.Now()
	WaitFor(ft, 300*time.Millisecond, func() error {
		calls++
		return fmt.Errorf("attempt %d failed", calls)
	})
	el := time.Since(start)
	if ft.failed == "" {
		t.Fatal("WaitFor did not fail the test for a condition that never holds")
	}
	if want := fmt.Sprintf("attempt %d failed", calls); !strings.Contains(ft.failed, want) {
		t.Fatalf("failure %q does not carry the last error %q", ft.failed, want)
	}
	if el < 200*time.Millisecond || el > 2*time.Second {
		t.Fatalf("WaitFor gave up after %v, want about 300ms", el)
	}
	if calls < 3 {
		t.Fatalf("cond called %d times in 300ms, want several polls", calls)
	}
}

func TestUntilNamesWhatIsAwaited(t *testing.T) {
	ft := &fakeTB{TB: t}
	WaitFor(ft, 50*time.Millisecond, Until("the answer", func() bool { return false }))
	if !strings.Contains(ft.failed, "still waiting for the answer") {
		t.Fatalf("failure %q does not say what was awaited", ft.failed)
	}
	n := 0
	WaitFor(t, 5*time.Second, Until("three calls", func() bool { n++; return n == 3 }))
	if n != 3 {
		t.Fatalf("condition called %d times, want 3", n)
	}
}

func TestUniqueName(t *testing.T) {
	a, b := uniqueName(t, 40), uniqueName(t, 40)
	if a == b {
		t.Fatalf("two names are equal: %s", a)
	}
	for _, n := range []string{a, b} {
		if len(n) > 40 {
			t.Fatalf("%q longer than 40", n)
		}
		if strings.Trim(n, "abcdefghijklmnopqrstuvwxyz0123456789_") != "" {
			t.Fatalf("%q has characters outside [a-z0-9_]", n)
		}
		if !strings.HasPrefix(n, "testuniquename_") {
			t.Fatalf("%q does not start with the test's name", n)
		}
	}
}

func TestLookBinNamesInstallScript(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := lookBin([]string{t.TempDir()}, "mariadbd", "mysqld")
	if err == nil {
		t.Fatal("lookBin found a binary in empty directories")
	}
	if !strings.Contains(err.Error(), "deploy/scripts/install-deps.sh") || !strings.Contains(err.Error(), "mariadbd") {
		t.Fatalf("error %q should name the binary and deploy/scripts/install-deps.sh", err)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "mysqld")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	got, err := lookBin([]string{dir}, "mariadbd", "mysqld")
	if err != nil || got != bin {
		t.Fatalf("lookBin = %q, %v; want %q", got, err, bin)
	}
}

func openDSN(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestMySQLDSN(t *testing.T) {
	var names []string
	var rootDSN string
	t.Run("fresh database", func(t *testing.T) {
		dsn := MySQLDSN(t)
		dsn2 := MySQLDSN(t)
		cfg, err := mysql.ParseDSN(dsn)
		if err != nil {
			t.Fatal(err)
		}
		cfg2, _ := mysql.ParseDSN(dsn2)
		if cfg.DBName == "" || cfg.DBName == cfg2.DBName {
			t.Fatalf("database names %q and %q: want two distinct names", cfg.DBName, cfg2.DBName)
		}
		names = append(names, cfg.DBName, cfg2.DBName)
		if !cfg.ParseTime || cfg.Loc != time.UTC {
			t.Fatalf("DSN %s: want parseTime=true and loc=UTC", dsn)
		}
		cfg.DBName = ""
		rootDSN = cfg.FormatDSN()

		db := openDSN(t, dsn)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		var tables int
		if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE()").Scan(&tables); err != nil {
			t.Fatal(err)
		}
		if tables != 0 {
			t.Fatalf("new database has %d tables, want 0", tables)
		}
		var cs string
		if err := db.QueryRowContext(ctx, "SELECT @@character_set_connection").Scan(&cs); err != nil {
			t.Fatal(err)
		}
		if cs != "utf8mb4" {
			t.Fatalf("connection charset %q, want utf8mb4", cs)
		}
		if _, err := db.ExecContext(ctx, "CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(20), at DATETIME(3))"); err != nil {
			t.Fatal(err)
		}
		at := time.Date(2024, 2, 29, 13, 14, 15, 123e6, time.UTC)
		if _, err := db.ExecContext(ctx, "INSERT INTO t VALUES (1, ?, ?)", "鱼鹰🦅", at); err != nil {
			t.Fatal(err)
		}
		var name string
		var got time.Time
		if err := db.QueryRowContext(ctx, "SELECT name, at FROM t WHERE id = 1").Scan(&name, &got); err != nil {
			t.Fatal(err)
		}
		if name != "鱼鹰🦅" || !got.Equal(at) || got.Location() != time.UTC {
			t.Fatalf("read back %q %v, want %q %v in UTC", name, got, "鱼鹰🦅", at)
		}
	})
	if t.Failed() {
		return
	}
	// The subtest's cleanup has run: its databases must be gone.
	db := openDSN(t, rootDSN)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, n := range names {
		var count int
		if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = ?", n).Scan(&count); err != nil {
			t.Fatal(err)
		}
		if count != 0 {
			t.Errorf("database %s still exists after its test ended", n)
		}
	}
}

func connectZK(t *testing.T, addr string) *zk.Conn {
	t.Helper()
	c, events, err := zk.Connect([]string{addr}, 10*time.Second, zk.WithLogger(slogLogger{}), zk.WithLogInfo(false))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	WaitFor(t, 30*time.Second, func() error {
		select {
		case ev := <-events:
			if ev.State == zk.StateHasSession {
				return nil
			}
			return fmt.Errorf("state %v", ev.State)
		default:
			return errors.New("no session yet")
		}
	})
	return c
}

func TestZooKeeper(t *testing.T) {
	addr := ZooKeeper(t)
	if addr2 := ZooKeeper(t); addr2 != addr {
		t.Fatalf("second call gave %s, first %s: want one server per process", addr2, addr)
	}
	out, err := fourLetterWord(addr, "ruok")
	if err != nil || out != "imok" {
		t.Fatalf("ruok = %q, %v; want imok", out, err)
	}
	// Four-letter words beyond srvr need the whitelist.
	out, err = fourLetterWord(addr, "mntr")
	if err != nil || !strings.Contains(out, "zk_version\t3.8") {
		t.Fatalf("mntr = %q, %v; want a 3.8 mntr answer", out, err)
	}
}

func TestZooKeeperChroot(t *testing.T) {
	var addr, chroot, chroot2 string
	t.Run("chroot", func(t *testing.T) {
		addr, chroot = ZooKeeperChroot(t)
		_, chroot2 = ZooKeeperChroot(t)
		if chroot == chroot2 || !strings.HasPrefix(chroot, chrootBase+"/") {
			t.Fatalf("chroots %q and %q: want two distinct paths under %s", chroot, chroot2, chrootBase)
		}
		c := connectZK(t, addr)
		if ok, _, err := c.Exists(chroot); err != nil || !ok {
			t.Fatalf("chroot %s exists = %v, %v", chroot, ok, err)
		}
		// go-zookeeper has no chroot in its connect string: clients prefix
		// paths themselves. Trees under two chroots stay apart.
		if _, err := c.Create(chroot+"/brokers", nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Create(chroot+"/brokers/ids", []byte("x"), 0, zk.WorldACL(zk.PermAll)); err != nil {
			t.Fatal(err)
		}
		if ok, _, err := c.Exists(chroot2 + "/brokers"); err != nil || ok {
			t.Fatalf("%s/brokers exists = %v, %v: chroots leak into each other", chroot2, ok, err)
		}
	})
	if t.Failed() {
		return
	}
	c := connectZK(t, addr)
	for _, p := range []string{chroot, chroot2} {
		if ok, _, err := c.Exists(p); err != nil || ok {
			t.Errorf("%s exists = %v, %v after its test ended; want deleted", p, ok, err)
		}
	}
}

// TestPrivateServers starts and stops private servers whatever the environment
// says, so the self-start path is tested under `make test` too.
func TestPrivateServers(t *testing.T) {
	reg := &registry{}
	t.Cleanup(func() { _ = reg.stopAll() })

	my, dsn, err := startMariaDB(reg)
	if err != nil {
		t.Fatal(err)
	}
	zs, zkaddr, err := startZooKeeper(reg)
	if err != nil {
		t.Fatal(err)
	}
	if err := zkServing(zkaddr); err != nil {
		t.Fatalf("private ZooKeeper: %v", err)
	}
	db, err := openRoot(dsn)
	if err != nil {
		t.Fatalf("private MariaDB: %v", err)
	}
	var user string
	if err := db.QueryRow("SELECT CURRENT_USER()").Scan(&user); err != nil {
		t.Fatal(err)
	}
	if user != "root@127.0.0.1" {
		t.Fatalf("connected as %s, want root@127.0.0.1", user)
	}
	db.Close()
	for _, s := range []*server{my, zs} {
		if b, err := os.ReadFile(filepath.Join(s.dir, ownerFile)); err != nil || string(b) != fmt.Sprint(os.Getpid()) {
			t.Fatalf("%s owner file = %q, %v; want this pid", s.name, b, err)
		}
	}

	start := time.Now()
	if err := reg.stopAll(); err != nil {
		t.Fatal(err)
	}
	t.Logf("both stopped in %v", time.Since(start))
	for _, s := range []*server{my, zs} {
		if !s.exited() {
			t.Errorf("%s still running after stopAll", s.name)
		}
		if _, err := os.Stat(s.dir); !os.IsNotExist(err) {
			t.Errorf("%s directory %s still there after stopAll (%v)", s.name, s.dir, err)
		}
	}
	myAddr := strings.TrimSuffix(strings.TrimPrefix(dsn, "root@tcp("), ")/")
	for _, a := range []string{myAddr, zkaddr} {
		if c, err := net.DialTimeout("tcp", a, time.Second); err == nil {
			c.Close()
			t.Errorf("%s still accepts connections after stopAll", a)
		}
	}
}

func TestRemoveStaleDirs(t *testing.T) {
	// A directory owned by a pid that cannot exist is removed; one owned by
	// this process is kept.
	stale, err := os.MkdirTemp("", dirPrefix+"stale-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(stale) })
	if err := os.WriteFile(filepath.Join(stale, ownerFile), []byte("2147483646"), 0o644); err != nil {
		t.Fatal(err)
	}
	mine, err := newServerDir("live")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(mine) })
	staleOnce = sync.Once{}
	removeStaleDirs()
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale dir %s kept (%v)", stale, err)
	}
	if _, err := os.Stat(mine); err != nil {
		t.Errorf("live dir %s removed: %v", mine, err)
	}
}
