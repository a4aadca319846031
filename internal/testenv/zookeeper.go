package testenv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
)

// EnvZooKeeper names the variable holding the host:port of a ZooKeeper server
// the tests may use (four-letter words whitelisted).
const EnvZooKeeper = "OSPREY_TEST_ZK"

// EnvZooKeeperClasspath overrides the Java class path used to start a private
// ZooKeeper (default: Debian's /usr/share/java/zookeeper.jar and slf4j-simple).
const EnvZooKeeperClasspath = "OSPREY_ZOOKEEPER_CLASSPATH"

// chrootBase is the parent of the chroots handed out by ZooKeeperChroot.
const chrootBase = "/osprey-test"

var zkServer struct {
	once sync.Once
	addr string
	err  error
}

// ZooKeeper returns the host:port of a ZooKeeper 3.8 server with all
// four-letter words whitelisted: OSPREY_TEST_ZK, or a private server started
// for this test process on first use. The server is shared by the tests; use
// ZooKeeperChroot for a tree of the test's own.
func ZooKeeper(t testing.TB) string {
	t.Helper()
	zkServer.once.Do(func() {
		zkServer.addr, zkServer.err = zkAddr(global)
	})
	if zkServer.err != nil {
		t.Fatalf("testenv.ZooKeeper: %v", zkServer.err)
	}
	return zkServer.addr
}

// ZooKeeperChroot returns the ZooKeeper address and a unique, existing chroot
// path (such as /osprey-test/testname_1a2b3c4d) that is deleted with
// everything under it when the test ends. Connect to addr+chroot.
func ZooKeeperChroot(t testing.TB) (addr, chroot string) {
	t.Helper()
	addr = ZooKeeper(t)
	chroot = chrootBase + "/" + uniqueName(t, 80)
	err := withZK(addr, func(c *zk.Conn) error {
		if _, err := c.Create(chrootBase, nil, 0, zk.WorldACL(zk.PermAll)); err != nil && !errors.Is(err, zk.ErrNodeExists) {
			return fmt.Errorf("creating %s: %w", chrootBase, err)
		}
		if _, err := c.Create(chroot, nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
			return fmt.Errorf("creating %s: %w", chroot, err)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("testenv.ZooKeeperChroot: %v", err)
	}
	t.Cleanup(func() {
		if err := withZK(addr, func(c *zk.Conn) error { return deleteTree(c, chroot) }); err != nil {
			t.Errorf("testenv: deleting chroot %s: %v", chroot, err)
		}
	})
	return addr, chroot
}

// withZK runs f on a new ZooKeeper session and closes it afterwards.
func withZK(addr string, f func(*zk.Conn) error) error {
	c, events, err := zk.Connect([]string{addr}, 10*time.Second,
		zk.WithLogger(slogLogger{}), zk.WithLogInfo(false))
	if err != nil {
		return fmt.Errorf("connecting to ZooKeeper %s: %w", addr, err)
	}
	defer c.Close()
	timeout := time.After(30 * time.Second)
	for connected := false; !connected; {
		select {
		case ev := <-events:
			connected = ev.State == zk.StateHasSession
		case <-timeout:
			return fmt.Errorf("no ZooKeeper session with %s within 30s", addr)
		}
	}
	return f(c)
}

// deleteTree deletes path and everything below it.
func deleteTree(c *zk.Conn, path string) error {
	children, _, err := c.Children(path)
	if errors.Is(err, zk.ErrNoNode) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("listing %s: %w", path, err)
	}
	for _, ch := range children {
		if err := deleteTree(c, path+"/"+ch); err != nil {
			return err
		}
	}
	if err := c.Delete(path, -1); err != nil && !errors.Is(err, zk.ErrNoNode) {
		return fmt.Errorf("deleting %s: %w", path, err)
	}
	return nil
}

// slogLogger sends go-zookeeper's log lines to slog at debug level: its
// reconnect chatter is noise in test output.
type slogLogger struct{}

func (slogLogger) Printf(format string, args ...any) {
	slog.Debug("zookeeper client: " + fmt.Sprintf(format, args...))
}

// zkAddr returns the ZooKeeper from the environment after checking it
// answers, or starts a private one registered with reg.
func zkAddr(reg *registry) (string, error) {
	if addr := os.Getenv(EnvZooKeeper); addr != "" {
		if err := zkServing(addr); err != nil {
			return "", fmt.Errorf("%s=%s: %w; %s", EnvZooKeeper, addr, err, envHint(EnvZooKeeper))
		}
		return addr, nil
	}
	_, addr, err := startZooKeeper(reg)
	return addr, err
}

// fourLetterWord sends cmd to a ZooKeeper server and returns its answer.
func fourLetterWord(addr, cmd string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return "", fmt.Errorf("dialing %s: %w", addr, err)
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	if err := conn.SetDeadline(deadline); err != nil {
		return "", fmt.Errorf("setting deadline: %w", err)
	}
	if _, err := io.WriteString(conn, cmd); err != nil {
		return "", fmt.Errorf("sending %s: %w", cmd, err)
	}
	out, err := io.ReadAll(io.LimitReader(conn, 1<<20))
	if err != nil {
		return "", fmt.Errorf("reading %s answer: %w", cmd, err)
	}
	return string(out), nil
}

// zkServing succeeds when the server says imok and serves requests: ruok says
// imok as soon as the port is open, srvr reports a mode only once the database
// is loaded.
func zkServing(addr string) error {
	out, err := fourLetterWord(addr, "ruok")
	if err != nil {
		return err
	}
	if out != "imok" {
		return fmt.Errorf("ruok answered %q, want imok", out)
	}
	out, err = fourLetterWord(addr, "srvr")
	if err != nil {
		return err
	}
	if !strings.Contains(out, "\nMode: ") {
		return fmt.Errorf("not serving yet: srvr answered %q", strings.TrimSpace(out))
	}
	return nil
}

func zkClasspath() (string, error) {
	if cp := os.Getenv(EnvZooKeeperClasspath); cp != "" {
		return cp, nil
	}
	const jar = "/usr/share/java/zookeeper.jar"
	if _, err := os.Stat(jar); err != nil {
		return "", fmt.Errorf("ZooKeeper jar %s not found (or set %s): %s", jar, EnvZooKeeperClasspath, installHint)
	}
	cp := jar // its manifest lists its dependencies
	if _, err := os.Stat("/usr/share/java/slf4j-simple.jar"); err == nil {
		cp += ":/usr/share/java/slf4j-simple.jar" // log to stderr, i.e. the log file
	}
	return cp, nil
}

// startZooKeeper starts a standalone ZooKeeper in a new temporary directory on
// a free 127.0.0.1 port and returns once it serves requests.
func startZooKeeper(reg *registry) (*server, string, error) {
	java, err := lookBin(nil, "java")
	if err != nil {
		return nil, "", fmt.Errorf("java (for ZooKeeper): %w", err)
	}
	cp, err := zkClasspath()
	if err != nil {
		return nil, "", err
	}
	dir, err := newServerDir("zookeeper")
	if err != nil {
		return nil, "", err
	}
	fail := func(err error) (*server, string, error) {
		_ = os.RemoveAll(dir)
		return nil, "", err
	}
	logPath := filepath.Join(dir, "zookeeper.log")
	cfgPath := filepath.Join(dir, "zoo.cfg")
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port, err := freePort()
		if err != nil {
			return fail(err)
		}
		cfg := "tickTime=2000\ninitLimit=10\nsyncLimit=5\n" +
			"dataDir=" + filepath.Join(dir, "data") + "\n" +
			"clientPort=" + strconv.Itoa(port) + "\nclientPortAddress=127.0.0.1\n" +
			"maxClientCnxns=0\n4lw.commands.whitelist=*\nadmin.enableServer=false\n"
		if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
			return fail(fmt.Errorf("writing zoo.cfg: %w", err))
		}
		// Small heap, serial GC, C1 only: a short-lived test server on a small
		// machine. No JMX, IPv4 only: start-up needs no network.
		argv := []string{java, "-Xms32m", "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
			"-Djava.net.preferIPv4Stack=true", "-Dzookeeper.admin.enableServer=false",
			"-cp", cp, "org.apache.zookeeper.server.quorum.QuorumPeerMain", cfgPath}
		s, err := startServer("zookeeper", dir, logPath, argv)
		if err != nil {
			return fail(err)
		}
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		err = poll(90*time.Second, func() error {
			if s.exited() {
				return errExited
			}
			return zkServing(addr)
		})
		if err == nil {
			reg.add(s)
			return s, addr, nil
		}
		tail := s.logTail(30)
		s.terminate(5 * time.Second)
		lastErr = fmt.Errorf("ZooKeeper on %s: %w; last lines of its log:\n%s", addr, err, tail)
		if !strings.Contains(tail, "Address already in use") {
			break
		}
	}
	return fail(lastErr)
}
