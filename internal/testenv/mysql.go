package testenv

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// EnvMySQLDSN names the variable holding a go-sql-driver DSN without a
// database (root@tcp(127.0.0.1:PORT)/) of a server the tests may create and
// drop databases on.
const EnvMySQLDSN = "OSPREY_TEST_MYSQL_DSN"

// mysqlServer is the per-process MariaDB: from the environment or private.
var mysqlServer struct {
	once sync.Once
	dsn  string  // root DSN without a database
	db   *sql.DB // pool on dsn, for CREATE/DROP DATABASE
	err  error
}

// MySQLDSN returns a go-sql-driver DSN (parseTime=true, charset utf8mb4,
// loc UTC) for a new, empty database with a unique name, dropped when the test
// ends. The server comes from OSPREY_TEST_MYSQL_DSN, or is started privately
// for this test process on first use.
func MySQLDSN(t testing.TB) string {
	t.Helper()
	mysqlServer.once.Do(func() {
		mysqlServer.dsn, mysqlServer.db, mysqlServer.err = mysqlRoot(global)
	})
	if mysqlServer.err != nil {
		t.Fatalf("testenv.MySQLDSN: %v", mysqlServer.err)
	}
	dsn, err := createDatabase(t, mysqlServer.db, mysqlServer.dsn)
	if err != nil {
		t.Fatalf("testenv.MySQLDSN: %v", err)
	}
	return dsn
}

// createDatabase creates a uniquely named database, registers its removal and
// returns the DSN for it.
func createDatabase(t testing.TB, db *sql.DB, rootDSN string) (string, error) {
	cfg, err := mysql.ParseDSN(rootDSN)
	if err != nil {
		return "", fmt.Errorf("parsing root DSN: %w", err)
	}
	name := "t_" + uniqueName(t, 62)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := db.ExecContext(ctx, "CREATE DATABASE `"+name+"` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"); err != nil {
		return "", fmt.Errorf("creating database %s: %w", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := db.ExecContext(ctx, "DROP DATABASE IF EXISTS `"+name+"`"); err != nil {
			t.Errorf("testenv: dropping database %s: %v", name, err)
		}
	})
	cfg.DBName = name
	cfg.ParseTime = true
	cfg.Loc = time.UTC
	if err := cfg.Apply(mysql.Charset("utf8mb4", "utf8mb4_unicode_ci")); err != nil {
		return "", fmt.Errorf("setting charset: %w", err)
	}
	return cfg.FormatDSN(), nil
}

// mysqlRoot returns the root DSN and a pool on it: from the environment, or
// from a private server registered with reg.
func mysqlRoot(reg *registry) (string, *sql.DB, error) {
	dsn := os.Getenv(EnvMySQLDSN)
	var db *sql.DB
	var err error
	if dsn != "" {
		if db, err = openRoot(dsn); err != nil {
			return "", nil, fmt.Errorf("%s=%s: %w; %s", EnvMySQLDSN, dsn, err, envHint(EnvMySQLDSN))
		}
	} else {
		var s *server
		if s, dsn, err = startMariaDB(reg); err != nil {
			return "", nil, err
		}
		if db, err = openRoot(dsn); err != nil {
			return "", nil, fmt.Errorf("private MariaDB in %s: %w", s.dir, err)
		}
	}
	reg.addCloser(db.Close)
	return dsn, db, nil
}

// openRoot opens a small pool on a root DSN and checks it answers a query.
func openRoot(dsn string) (*sql.DB, error) {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("parsing DSN: %w", err)
	}
	cfg.Timeout = 10 * time.Second
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		return nil, fmt.Errorf("opening: %w", err)
	}
	db.SetMaxOpenConns(4)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	var one int
	if err := db.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		db.Close()
		return nil, fmt.Errorf("querying: %w", err)
	}
	return db, nil
}

// mariadbInitSQL gives root a password-less account for TCP from 127.0.0.1
// (the server runs with --skip-name-resolve, so "localhost" does not match).
const mariadbInitSQL = `CREATE USER IF NOT EXISTS 'root'@'127.0.0.1';
GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
`

// startMariaDB initialises a data directory in a new temporary directory and
// starts mariadbd on a free 127.0.0.1 port, returning once it answers a query.
func startMariaDB(reg *registry) (*server, string, error) {
	mariadbd, err := lookBin(sbinDirs, "mariadbd", "mysqld")
	if err != nil {
		return nil, "", fmt.Errorf("MariaDB server: %w", err)
	}
	installDB, err := lookBin(sbinDirs, "mariadb-install-db", "mysql_install_db")
	if err != nil {
		return nil, "", fmt.Errorf("MariaDB installer: %w", err)
	}
	dir, err := newServerDir("mariadb")
	if err != nil {
		return nil, "", err
	}
	fail := func(err error) (*server, string, error) {
		_ = os.RemoveAll(dir)
		return nil, "", err
	}
	data := filepath.Join(dir, "data")
	asRoot := os.Geteuid() == 0
	initSQL, err := initMariaDBDir(installDB, dir, data, asRoot)
	if err != nil {
		return fail(err)
	}
	logPath := filepath.Join(dir, "error.log")
	// A port can be taken between choosing and binding it: try a few.
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port, err := freePort()
		if err != nil {
			return fail(err)
		}
		argv := mariadbdArgs(mariadbd, dir, data, initSQL, port, asRoot)
		s, err := startServer("mariadb", dir, logPath, argv)
		if err != nil {
			return fail(err)
		}
		dsn := fmt.Sprintf("root@tcp(127.0.0.1:%d)/", port)
		err = poll(90*time.Second, func() error {
			if s.exited() {
				return errExited
			}
			db, err := openRoot(dsn)
			if err != nil {
				return err
			}
			return db.Close()
		})
		if err == nil {
			reg.add(s)
			return s, dsn, nil
		}
		tail := s.logTail(30)
		s.terminate(5 * time.Second)
		lastErr = fmt.Errorf("mariadbd on 127.0.0.1:%d: %w; last lines of its log:\n%s", port, err, tail)
		if !strings.Contains(tail, "Address already in use") {
			break
		}
	}
	return fail(lastErr)
}

// initMariaDBDir initialises the data directory data inside dir with
// mariadb-install-db and writes what mariadbd needs beside it: the init file
// giving root its TCP account (returned) and a tmp directory.
func initMariaDBDir(installDB, dir, data string, asRoot bool) (string, error) {
	args := []string{"--no-defaults", "--datadir=" + data, "--auth-root-authentication-method=normal", "--skip-test-db"}
	if asRoot {
		args = append(args, "--user=root")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, installDB, args...).CombinedOutput(); err != nil {
		return "", fmt.Errorf("%s failed: %w\n%s", installDB, err, lastLines(string(out), 20))
	}
	initSQL := filepath.Join(dir, "init.sql")
	if err := os.WriteFile(initSQL, []byte(mariadbInitSQL), 0o644); err != nil {
		return "", fmt.Errorf("writing init file: %w", err)
	}
	if err := os.Mkdir(filepath.Join(dir, "tmp"), 0o755); err != nil {
		return "", fmt.Errorf("creating tmp dir: %w", err)
	}
	return initSQL, nil
}

// mariadbdArgs is the command line of a test mariadbd on 127.0.0.1:port with
// its files in dir and its data in data.
func mariadbdArgs(mariadbd, dir, data, initSQL string, port int, asRoot bool) []string {
	argv := []string{mariadbd, "--no-defaults",
		"--datadir=" + data, "--bind-address=127.0.0.1", "--port=" + strconv.Itoa(port),
		"--socket=" + filepath.Join(dir, "mysqld.sock"), "--pid-file=" + filepath.Join(dir, "mariadbd.pid"),
		"--tmpdir=" + filepath.Join(dir, "tmp"), "--init-file=" + initSQL,
		"--skip-name-resolve", "--skip-log-bin", "--performance-schema=OFF",
		"--character-set-server=utf8mb4", "--collation-server=utf8mb4_unicode_ci",
		// Test data: speed over durability.
		"--innodb-buffer-pool-size=64M", "--innodb-log-file-size=48M",
		"--innodb-flush-log-at-trx-commit=2", "--max-connections=300",
	}
	if asRoot {
		argv = append(argv, "--user=root")
	}
	return argv
}

var errExited = errors.New("server process exited")

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
