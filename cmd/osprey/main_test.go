package main

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/osprey-kafka/osprey/internal/testenv"
	"github.com/osprey-kafka/osprey/migrations"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// run executes the CLI in-process and returns its output and error.
func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	err := root.ExecuteContext(ctx)
	return out.String(), err
}

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "osprey.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestVersionAndHelp(t *testing.T) {
	out, err := run(t, "version")
	if err != nil || !strings.HasPrefix(out, "osprey ") {
		t.Fatalf("version: %q %v", out, err)
	}
	for _, sub := range []string{"serve", "broker", "cluster", "migrate", "version", "storage", "storage format"} {
		out, err := run(t, append(strings.Fields(sub), "--help")...)
		if err != nil || !strings.Contains(out, "Usage:") {
			t.Errorf("%s --help: %q %v", sub, out, err)
		}
	}
}

func TestConfigErrorsAreClear(t *testing.T) {
	cases := map[string]struct{ yaml, want string }{
		"bad yaml":    {"listen: [\n", "not valid YAML"},
		"unknown key": {"listn: \":1\"\n", `did you mean "listen"`},
		"bad dsn":     {"database:\n  driver: mysql\n  dsn: \"nonsense@@\"\n", "database.dsn: not a valid MySQL DSN"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := run(t, "serve", "--config", writeConfig(t, c.yaml))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want it to mention %q", err, c.want)
			}
		})
	}
}

func TestServePortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cfg := writeConfig(t, "embedded:\n  enabled: false\n")
	_, err = run(t, "serve", "--config", cfg, "--listen", ln.Addr().String(), "--data-dir", t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "already in use") {
		t.Fatalf("err = %v, want a port-in-use message", err)
	}
}

// latestMigration is the number of the newest embedded migration for the dialect.
func latestMigration(t *testing.T, dialect string) int {
	t.Helper()
	fsys, err := migrations.FS(dialect)
	if err != nil {
		t.Fatal(err)
	}
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil || len(names) == 0 {
		t.Fatalf("no migrations for %s: %v", dialect, err)
	}
	latest := 0
	for _, n := range names {
		v, err := strconv.Atoi(strings.SplitN(n, "_", 2)[0])
		if err != nil {
			t.Fatalf("migration %q: %v", n, err)
		}
		latest = max(latest, v)
	}
	return latest
}

func TestMigrateMariaDBTwice(t *testing.T) {
	dsn := testenv.MySQLDSN(t)
	v := latestMigration(t, "mysql")
	cfg := writeConfig(t, "database:\n  driver: mysql\n  dsn: \""+dsn+"\"\n")
	out, err := run(t, "migrate", "--config", cfg)
	if err != nil || !strings.Contains(out, fmt.Sprintf("applied %d migration(s); schema version %d", v, v)) {
		t.Fatalf("first migrate: %q %v", out, err)
	}
	out, err = run(t, "migrate", "--config", cfg)
	if err != nil || !strings.Contains(out, fmt.Sprintf("schema is up to date (version %d)", v)) {
		t.Fatalf("second migrate: %q %v", out, err)
	}
	out, err = run(t, "migrate", "--status", "--config", cfg)
	if err != nil || !strings.Contains(out, fmt.Sprintf("schema version %d", v)) {
		t.Fatalf("status: %q %v", out, err)
	}
}

func TestMigrateUnreachableDatabase(t *testing.T) {
	cfg := writeConfig(t, "database:\n  driver: mysql\n  dsn: \"osprey:hunter2@tcp(127.0.0.1:1)/osprey\"\n")
	_, err := run(t, "migrate", "--config", cfg)
	if err == nil || !strings.Contains(err.Error(), "cannot reach MySQL at 127.0.0.1:1") || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("err = %v", err)
	}
}
