package scripts

import (
	"bytes"
	"context"
	"database/sql"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
)

// run runs a script with the state dir in env and returns its combined output
// and exit code.
func run(t *testing.T, stateDir string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Env = append(os.Environ(), "OSPREY_SERVICES_DIR="+stateDir)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	return out.String(), code
}

var (
	dsnRE = regexp.MustCompile(`export OSPREY_TEST_MYSQL_DSN='(root@tcp\(127\.0\.0\.1:\d+\)/)'`)
	zkRE  = regexp.MustCompile(`export OSPREY_TEST_ZK='(127\.0\.0\.1:\d+)'`)
)

func fourLetters(t *testing.T, addr, cmd string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, cmd); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestInstallDepsCheck(t *testing.T) {
	// make test runs install-deps.sh first, so everything is present here.
	out, code := run(t, t.TempDir(), "./install-deps.sh", "--check")
	if code != 0 || !strings.Contains(out, "all present") {
		t.Fatalf("install-deps.sh --check: exit %d\n%s", code, out)
	}
	if _, code := run(t, t.TempDir(), "./install-deps.sh", "--bogus"); code != 2 {
		t.Fatalf("unknown argument: exit %d, want 2", code)
	}
}

func TestServicesScript(t *testing.T) {
	state := t.TempDir()
	t.Cleanup(func() { run(t, state, "./services.sh", "stop") })

	out, code := run(t, state, "./services.sh", "start")
	if code != 0 {
		t.Fatalf("start: exit %d\n%s", code, out)
	}
	t.Logf("start:\n%s", out)
	envFile, err := os.ReadFile(filepath.Join(state, "env.sh"))
	if err != nil {
		t.Fatal(err)
	}
	dsn, zk := dsnRE.FindSubmatch(envFile), zkRE.FindSubmatch(envFile)
	if dsn == nil || zk == nil {
		t.Fatalf("env.sh lacks the DSN or the ZooKeeper address:\n%s", envFile)
	}
	if printed, code := run(t, state, "./services.sh", "env"); code != 0 || printed != string(envFile) {
		t.Fatalf("env: exit %d, printed\n%s\nwant env.sh\n%s", code, printed, envFile)
	}

	db, err := sql.Open("mysql", string(dsn[1])+"?timeout=5s")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var user, charset string
	if err := db.QueryRowContext(ctx, "SELECT CURRENT_USER(), @@character_set_server").Scan(&user, &charset); err != nil {
		t.Fatalf("querying MariaDB at %s: %v", dsn[1], err)
	}
	if user != "root@127.0.0.1" || charset != "utf8mb4" {
		t.Errorf("MariaDB: user %s, charset %s; want root@127.0.0.1, utf8mb4", user, charset)
	}
	db.Close()
	if got := fourLetters(t, string(zk[1]), "ruok"); got != "imok" {
		t.Errorf("ruok = %q", got)
	}
	if got := fourLetters(t, string(zk[1]), "mntr"); !strings.Contains(got, "zk_server_state\tstandalone") {
		t.Errorf("mntr (needs the whitelist) = %q", got)
	}

	// A second start reuses the running servers: same addresses.
	out, code = run(t, state, "./services.sh", "start")
	again, _ := os.ReadFile(filepath.Join(state, "env.sh"))
	if code != 0 || strings.Count(out, "already running") != 2 || !bytes.Equal(again, envFile) {
		t.Fatalf("second start: exit %d\n%s\nenv.sh now\n%s", code, out, again)
	}
	if out, code := run(t, state, "./services.sh", "status"); code != 0 {
		t.Fatalf("status while running: exit %d\n%s", code, out)
	}

	out, code = run(t, state, "./services.sh", "stop")
	if code != 0 {
		t.Fatalf("stop: exit %d\n%s", code, out)
	}
	if out, code := run(t, state, "./services.sh", "status"); code != 1 {
		t.Fatalf("status after stop: exit %d, want 1\n%s", code, out)
	}
	if _, code := run(t, state, "./services.sh", "env"); code != 1 {
		t.Fatalf("env after stop: exit %d, want 1", code)
	}
	for _, addr := range []string{strings.TrimSuffix(strings.TrimPrefix(string(dsn[1]), "root@tcp("), ")/"), string(zk[1])} {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			t.Errorf("%s still accepts connections after stop", addr)
		}
	}
	ps, err := exec.Command("ps", "-eo", "args").Output()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(ps), state) {
		t.Errorf("processes still running from %s after stop:\n%s", state, ps)
	}
}
