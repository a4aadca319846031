package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/osprey-kafka/osprey/store"
)

// seriesNames are the fixture's topic and group names, made once: the
// collector takes them from its snapshot rather than formatting them each
// cycle, so the timed loop should not format them either.
type seriesNames struct{ topics, groups []string }

func newSeriesNames(spec fixtureSpec) seriesNames {
	n := seriesNames{topics: make([]string, spec.topics), groups: make([]string, spec.groups)}
	for i := range n.topics {
		n.topics[i] = topicName(i)
	}
	for g := range n.groups {
		n.groups[g] = groupName(g)
	}
	return n
}

// seriesBatch is what one collector cycle at the benchmark scale writes:
// per-topic points, per group×topic points, per-broker points and the
// cluster totals, all at time ts.
func seriesBatch(cluster string, spec fixtureSpec, names seriesNames, ts int64) *store.Batch {
	b := &store.Batch{
		Topics:   make([]store.TopicPoint, 0, spec.topics),
		Groups:   make([]store.GroupPoint, 0, spec.groups),
		Brokers:  make([]store.BrokerPoint, 0, 3),
		Clusters: []store.ClusterPoint{{Cluster: cluster, Ts: ts, Brokers: 3, BrokersUp: 3, Topics: spec.topics, Partitions: spec.totalPartitions(), TotalLag: 12345, MsgsPerSec: 1500, BytesPerSec: 1.5e6}},
	}
	for i := 0; i < spec.topics; i++ {
		b.Topics = append(b.Topics, store.TopicPoint{Cluster: cluster, Topic: names.topics[i], Ts: ts,
			StartOffset: int64(i), EndOffset: ts + int64(i)*100, SizeBytes: int64(i) << 20, MsgsPerSec: float64(i % 97), BytesPerSec: float64(i%97) * 1024})
	}
	for g := 0; g < spec.groups; g++ {
		b.Groups = append(b.Groups, store.GroupPoint{Cluster: cluster, GroupName: names.groups[g], Topic: names.topics[g%spec.topics], Ts: ts,
			Committed: ts, Lag: int64(g % 1000), LagMax: int64(g % 1000), LagSeconds: float64(g%60) / 2})
	}
	for id := int32(0); id < 3; id++ {
		b.Brokers = append(b.Brokers, store.BrokerPoint{Cluster: cluster, BrokerID: id, Ts: ts, Up: 1, Leaders: spec.totalPartitions() / 3,
			Replicas: spec.totalPartitions() / 3, LogDirBytes: 1 << 30, MsgsInPerSec: 500, BytesInPerSec: 5e5})
	}
	return b
}

// writeRate runs writers goroutines, each writing one cluster's cycle batches
// (timestamps one poll interval apart) for d, and returns rows/s over all.
func writeRate(ctx context.Context, st *store.Store, spec fixtureSpec, d time.Duration, writers int) (float64, int, *meter, error) {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		rows int
		errs []error
	)
	names := newSeriesNames(spec)
	m := startMeter()
	for w := 0; w < writers; w++ {
		wg.Go(func() {
			cluster := fmt.Sprintf("bench-%d", w)
			ts := time.Now().Add(-24 * time.Hour).Unix()
			n := 0
			for time.Since(m.wall0) < d && ctx.Err() == nil {
				b := seriesBatch(cluster, spec, names, ts)
				if err := st.WriteBatch(ctx, b); err != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("writing a batch: %w", err))
					mu.Unlock()
					return
				}
				n += b.Len()
				ts += 15
			}
			mu.Lock()
			rows += n
			mu.Unlock()
		})
	}
	wg.Wait()
	m.stop()
	if err := errors.Join(errs...); err != nil {
		return 0, 0, nil, err
	}
	return float64(rows) / m.wall.Seconds(), rows, m, nil
}

func runStore(ctx context.Context, o *options, rep *report, lim *limits) {
	spec := o.fixtureSpec()
	d := o.dur(15*time.Second, 3*time.Second)
	batchRows := seriesBatch("bench", spec, newSeriesNames(spec), 0).Len()

	liteRate, liteRows, liteM, liteErr := sqliteWriteRate(ctx, o, spec, d)
	if liteErr != nil {
		liteRate = math.NaN()
	}
	my, myErr := mariadbWriteRates(ctx, o, spec, d)
	if myErr != nil {
		rep.add(row{Section: "store", Name: "metrics writes into MariaDB (Store.WriteBatch)", Value: "-", Status: statusNotRun, Why: myErr.Error()})
	} else {
		mariadbRows(rep, my, batchRows, liteRate, liteErr)
	}
	if liteErr == nil {
		rep.note("SQLite run: %d rows in %v; %s.", liteRows, liteM.wall.Round(time.Millisecond), liteM.cpuSummary())
	} else if myErr != nil {
		rep.add(row{Section: "store", Name: "metrics writes into SQLite", Value: "-", Status: statusNotRun, Why: liteErr.Error()})
	}
	rep.note("Metrics writes: `store.Store.WriteBatch` (series ids from the store's in-memory cache, then one transaction of prepared, "+
		"reused 1,024-row INSERT IGNOREs into tables keyed by (series_id, step, ts); on SQLite at most 512 parameters a "+
		"statement) with the batch one collector cycle writes at the benchmark scale (%d topic points, %d group×topic points, 3 broker "+
		"points, 1 cluster point = %d rows; names made once, as the collector takes them from its snapshot), one writer as in the console, timestamps 15 s apart, for %v; into a fresh "+
		"migrated MariaDB database (the test server from deploy/scripts/services.sh) and, as the reference, a fresh "+
		"SQLite file (WAL, synchronous=NORMAL) in the scratch directory.", spec.topics, spec.groups, batchRows, d)
}

// sqliteWriteRate is one writer's rate into a fresh SQLite file in the
// scratch directory, removed afterwards.
func sqliteWriteRate(ctx context.Context, o *options, spec fixtureSpec, d time.Duration) (float64, int, *meter, error) {
	sqlitePath := filepath.Join(o.dir, "bench.db")
	defer os.Remove(sqlitePath)
	st, err := store.Open(ctx, store.Options{Driver: "sqlite", DSN: sqlitePath, Logger: o.quiet})
	if err != nil {
		return 0, 0, nil, err
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		return 0, 0, nil, fmt.Errorf("migrating SQLite: %w", err)
	}
	return writeRate(ctx, st, spec, d, 1)
}

// mariadbRun is what the MariaDB write runs measured: one writer, and four at
// once as a diagnostic (err4 says why those did not run). Server cores are
// NaN when the server's process is not known.
type mariadbRun struct {
	info        serverInfo
	rate        float64
	rows        int
	m           *meter
	serverCores float64

	rate4        float64
	m4           *meter
	err4         error
	serverCores4 float64
}

// mariadbWriteRates measures one writer and then four writers into a fresh
// database on the -mysql-dsn server, dropped afterwards.
func mariadbWriteRates(ctx context.Context, o *options, spec fixtureSpec, d time.Duration) (*mariadbRun, error) {
	if o.mysqlDSN == "" {
		return nil, errors.New("no MariaDB: set OSPREY_TEST_MYSQL_DSN (deploy/scripts/services.sh start writes it) or -mysql-dsn")
	}
	dsn, server, drop, err := benchDatabase(ctx, o.mysqlDSN)
	if err != nil {
		return nil, err
	}
	defer drop()
	r := &mariadbRun{info: mariadbInfo(ctx, server), serverCores: math.NaN(), serverCores4: math.NaN()}
	st, err := store.Open(ctx, store.Options{Driver: "mysql", DSN: dsn, Logger: o.quiet})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		return nil, fmt.Errorf("migrating MariaDB: %w", err)
	}
	pid := r.info.pid
	cpu0 := procCPU(pid)
	if r.rate, r.rows, r.m, err = writeRate(ctx, st, spec, d, 1); err != nil {
		return nil, err
	}
	if pid > 0 {
		r.serverCores = (procCPU(pid) - cpu0).Seconds() / r.m.wall.Seconds()
	}
	// Diagnostic: four clusters' collectors writing at once.
	cpu0 = procCPU(pid)
	if r.rate4, _, r.m4, r.err4 = writeRate(ctx, st, spec, d, 4); r.err4 == nil && pid > 0 {
		r.serverCores4 = (procCPU(pid) - cpu0).Seconds() / r.m4.wall.Seconds()
	}
	return r, nil
}

// mariadbRows reports the MariaDB write rates against the target, with the
// SQLite rate (NaN when liteErr says it failed) as the reference.
func mariadbRows(rep *report, my *mariadbRun, batchRows int, liteRate float64, liteErr error) {
	st := atLeast(my.rate, 100000)
	why := ""
	if st == statusMissed {
		var bound string
		switch {
		case my.err4 == nil && my.rate4 >= 1.3*my.rate:
			bound = fmt.Sprintf("four writers reach %.1f× one writer's rate, so one writer is bound by its round "+
				"trips (the writer builds a statement while the server waits, and the other way round)", my.rate4/my.rate)
		case my.m.saturated():
			bound = "four writers add little and the machine's cores were saturated, so MariaDB was short of CPU"
		default:
			bound = "four writers add little although the machine was not saturated, so the server itself is the " +
				"limit (its CPU per row, and its internal serialisation of commits into the same tables)"
		}
		why = fmt.Sprintf("%.0f rows/s; the MariaDB server spent %.1f µs of CPU per row (binding the prepared "+
			"multi-row INSERTs' values, InnoDB inserts into the (series_id, step, ts) primary key, undo and redo log with innodb_flush_log_at_trx_commit=%s), "+
			"so 100,000 rows/s needs about %.1f cores for MariaDB alone; it kept %.1f cores busy with one writer and "+
			"%.1f with four writers (%.0f rows/s). Machine-wide during the one-writer run %s (MariaDB counts as "+
			"another process): %s",
			my.rate, 1e6*my.serverCores/my.rate, my.info.flush, 0.1*my.serverCores/my.rate*1e6, my.serverCores, my.serverCores4,
			my.rate4, my.m.cpuSummary(), bound)
	}
	ref := "SQLite n/a"
	if liteErr == nil {
		ref = fmt.Sprintf("SQLite %.0f rows/s", liteRate)
	} else {
		why += " (SQLite reference failed: " + liteErr.Error() + ")"
	}
	rep.add(row{Section: "store", Name: fmt.Sprintf("metrics writes into MariaDB, %d-row cycle batches", batchRows),
		Value: fmt.Sprintf("%.0f rows/s", my.rate), Reference: ref, Ratio: ratio(my.rate, liteRate), Target: "≥ 100,000 rows/s", Status: st, Why: why})
	if my.err4 != nil {
		rep.add(row{Section: "store", Name: "MariaDB, 4 writers at once (4 clusters)", Value: "-", Status: statusNotRun, Why: my.err4.Error()})
	} else {
		rep.add(row{Section: "store", Name: "MariaDB, 4 writers at once (4 clusters)", Value: fmt.Sprintf("%.0f rows/s", my.rate4),
			Reference: fmt.Sprintf("1 writer %.0f rows/s", my.rate), Ratio: ratio(my.rate4, my.rate), Target: "diagnostic", Status: statusNoTarget})
		rep.note("MariaDB with 4 writers: the server process kept %.1f cores busy; %s.", my.serverCores4, my.m4.cpuSummary())
	}
	rep.note("MariaDB run (%s, innodb_flush_log_at_trx_commit=%s): %d rows in %v; the server process kept %.1f cores busy; %s.",
		my.info.version, my.info.flush, my.rows, my.m.wall.Round(time.Millisecond), my.serverCores, my.m.cpuSummary())
}

// benchDatabase creates a fresh database on the server and returns its DSN, a
// handle on the server and a function that drops the database and closes the handle.
func benchDatabase(ctx context.Context, serverDSN string) (string, *sql.DB, func(), error) {
	cfg, err := mysql.ParseDSN(serverDSN)
	if err != nil {
		return "", nil, nil, fmt.Errorf("parsing the MariaDB DSN: %w", err)
	}
	cfg.DBName = ""
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		return "", nil, nil, fmt.Errorf("opening MariaDB: %w", err)
	}
	name := fmt.Sprintf("osprey_bench_%d", os.Getpid())
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := db.ExecContext(cctx, "CREATE DATABASE "+name); err != nil {
		db.Close()
		return "", nil, nil, fmt.Errorf("creating database %s: %w", name, err)
	}
	drop := func() {
		dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _ = db.ExecContext(dctx, "DROP DATABASE IF EXISTS "+name)
		db.Close()
	}
	cfg.DBName = name
	return cfg.FormatDSN(), db, drop, nil
}

// serverInfo is what the report says about the MariaDB server.
type serverInfo struct {
	version string
	flush   string // innodb_flush_log_at_trx_commit
	pid     int    // 0 when the server is not on this machine or not readable
}

func mariadbInfo(ctx context.Context, db *sql.DB) serverInfo {
	var (
		info    serverInfo
		pidFile string
	)
	qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.QueryRowContext(qctx, "SELECT VERSION(), @@innodb_flush_log_at_trx_commit, @@pid_file").Scan(&info.version, &info.flush, &pidFile); err != nil {
		info.version, info.flush = "unknown version", "?"
		return info
	}
	if b, err := os.ReadFile(pidFile); err == nil {
		info.pid, _ = strconv.Atoi(strings.TrimSpace(string(b)))
	}
	return info
}

// procCPU is another process's user+system CPU time (0 if unreadable).
func procCPU(pid int) time.Duration {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the parenthesised command: state is field 3, utime 14, stime 15.
	_, rest, ok := strings.Cut(string(b), ") ")
	if !ok {
		return 0
	}
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return time.Duration((ut + st) / 100 * float64(time.Second))
}
