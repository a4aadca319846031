// Package store is Osprey's database layer: gorm models and queries over MySQL/MariaDB or SQLite (the
// embedded default, pure Go), with the schema applied from the embedded migrations. It is the only
// package that talks to the database; the rest of the console calls its methods.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/glebarez/sqlite"
	"github.com/go-sql-driver/mysql"
	"github.com/pressly/goose/v3"
	gormmysql "gorm.io/driver/mysql"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/osprey-kafka/osprey/migrations"
)

// Options selects and tunes the database.
type Options struct {
	// Driver is "sqlite" or "mysql".
	Driver string
	// DSN is a go-sql-driver DSN for mysql, or a file path for sqlite (empty: <DataDir>/osprey.db).
	DSN          string
	DataDir      string
	MaxOpenConns int
	Logger       *slog.Logger
}

// Store is an open, migrated database. Safe for concurrent use (gorm's pool does the locking).
type Store struct {
	db      *gorm.DB
	sqlDB   *sql.DB
	dialect string
	log     *slog.Logger
	series  seriesCache // series ids seen by this process
	stmts   stmtCache   // prepared point INSERTs
}

// ErrSchemaTooNew means the database was migrated by a newer Osprey; this one refuses to touch it.
var ErrSchemaTooNew = errors.New("database schema is newer than this osprey")

// Open connects to the database and checks it answers. It does not migrate: call Migrate (the console
// does at start; `osprey migrate` does it alone).
func Open(ctx context.Context, opts Options) (*Store, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.MaxOpenConns <= 0 {
		opts.MaxOpenConns = 10
	}
	gcfg := &gorm.Config{Logger: logger.Discard, NowFunc: func() time.Time { return time.Now().UTC() }}
	var (
		db   *gorm.DB
		err  error
		what string
	)
	switch opts.Driver {
	case "sqlite":
		path := opts.DSN
		if path == "" {
			path = filepath.Join(opts.DataDir, "osprey.db")
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			return nil, fmt.Errorf("creating the SQLite directory: %w", err)
		}
		what = "SQLite file " + path
		// WAL lets the API read while the collector writes; busy_timeout makes writers queue, not fail.
		// mmap_size maps the file for reads: without it every page a query touches outside the small
		// per-connection cache is a pread, which dominated the history pages' reads.
		db, err = gorm.Open(sqlite.Open(path+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"+
			"&_pragma=mmap_size(1073741824)&_txlock=immediate"), gcfg)
	case "mysql":
		mc, perr := mysql.ParseDSN(opts.DSN)
		if perr != nil {
			return nil, fmt.Errorf("database.dsn is not a valid MySQL DSN: %w", perr)
		}
		mc.ParseTime = true
		mc.Loc = time.UTC
		if mc.Params == nil {
			mc.Params = map[string]string{}
		}
		if _, ok := mc.Params["charset"]; !ok {
			mc.Params["charset"] = "utf8mb4"
		}
		if mc.Timeout == 0 {
			mc.Timeout = 10 * time.Second
		}
		what = fmt.Sprintf("MySQL at %s (database %q, user %q)", mc.Addr, mc.DBName, mc.User)
		db, err = gorm.Open(gormmysql.Open(mc.FormatDSN()), gcfg)
	default:
		return nil, fmt.Errorf("database driver %q is not supported: use sqlite or mysql", opts.Driver)
	}
	if err != nil {
		// gorm's MySQL dialector pings while opening, so this is usually an unreachable server.
		return nil, fmt.Errorf("cannot reach %s: %w", what, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", what, err)
	}
	sqlDB.SetMaxOpenConns(opts.MaxOpenConns)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(pctx); err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("cannot reach %s: %w", what, err)
	}
	return &Store{db: db, sqlDB: sqlDB, dialect: opts.Driver, log: opts.Logger,
		series: seriesCache{ids: map[seriesKey]int64{}, last: map[string]*keyMemo{}}, stmts: stmtCache{stmts: map[stmtKey]*sql.Stmt{}}}, nil
}

// Close releases the connection pool.
func (s *Store) Close() error {
	s.stmts.close()
	return s.sqlDB.Close()
}

// Dialect is "mysql" or "sqlite".
func (s *Store) Dialect() string { return s.dialect }

// SchemaVersion reports the database's applied version and the newest this binary knows.
func (s *Store) SchemaVersion(ctx context.Context) (current, latest int64, err error) {
	p, err := s.provider()
	if err != nil {
		return 0, 0, err
	}
	return p.GetVersions(ctx)
}

// Migrate applies pending migrations. A database whose version is newer than any migration this binary
// carries is refused untouched (ErrSchemaTooNew), so an old binary never writes into a newer schema.
// Returns the versions applied.
func (s *Store) Migrate(ctx context.Context) ([]int64, error) {
	p, err := s.provider()
	if err != nil {
		return nil, err
	}
	current, latest, err := p.GetVersions(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the schema version: %w", err)
	}
	if current > latest {
		return nil, fmt.Errorf("%w: the database is at version %d, this osprey knows up to %d; upgrade osprey (or point it at another database)", ErrSchemaTooNew, current, latest)
	}
	results, err := p.Up(ctx)
	if err != nil {
		return nil, fmt.Errorf("applying migrations: %w", err)
	}
	var applied []int64
	for _, r := range results {
		applied = append(applied, r.Source.Version)
		s.log.Info("applied migration", "version", r.Source.Version, "file", filepath.Base(r.Source.Path), "took", r.Duration)
	}
	return applied, nil
}

func (s *Store) provider() (*goose.Provider, error) {
	fsys, err := migrations.FS(s.dialect)
	if err != nil {
		return nil, err
	}
	dialect := goose.DialectMySQL
	if s.dialect == "sqlite" {
		dialect = goose.DialectSQLite3
	}
	p, err := goose.NewProvider(dialect, s.sqlDB, fsys, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return nil, fmt.Errorf("loading migrations: %w", err)
	}
	return p, nil
}

// ignoreModifier is the dialect's INSERT modifier for "insert unless the key exists".
func (s *Store) ignoreModifier() string {
	if s.dialect == "mysql" {
		return "IGNORE"
	}
	return "OR IGNORE"
}

// tableList is every table of the schema, for tests and diagnostics.
var tableList = []string{
	"clusters", "metric_series", "topic_metrics", "group_metrics", "broker_metrics", "cluster_metrics", "rollup_state",
	"users", "api_tokens", "sessions", "audit_log", "alert_channels", "alert_rules", "alert_events",
	"reassignments", "runtime_clusters", "settings", "quorum_samples", "quorum_replica_samples",
	"log_dir_samples", "role_grants",
}

// Tables lists the schema's tables that exist in the database.
func (s *Store) Tables(ctx context.Context) ([]string, error) {
	var out []string
	for _, t := range tableList {
		if s.db.WithContext(ctx).Migrator().HasTable(t) {
			out = append(out, t)
		}
	}
	return out, nil
}

// isDuplicate reports a unique-key violation on either dialect.
func isDuplicate(err error) bool {
	if err == nil {
		return false
	}
	var me *mysql.MySQLError
	if errors.As(err, &me) && me.Number == 1062 {
		return true
	}
	return strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// ErrNotFound is returned when a looked-up row does not exist.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned when a row with the same unique name already exists.
var ErrConflict = errors.New("already exists")

func wrapNotFound(err error) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return ErrNotFound
	}
	return err
}
