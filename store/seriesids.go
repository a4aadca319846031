package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
)

// Series ids. Each series (a topic, a group on a topic, a broker, a cluster's totals) has one row in
// metric_series, and its points are keyed by that row's integer id: narrow keys make a point cheap to
// insert and index. Ids are created on first sight with INSERT IGNORE and read back, so several
// consoles sharing a database agree on them; a series row is never deleted or changed, so a cached
// id stays right for the life of the process.

// Series kinds, as stored in metric_series.kind (and as seriesSpec names).
const (
	kindTopic   = "topic"
	kindGroup   = "group"
	kindBroker  = "broker"
	kindCluster = "cluster"
)

// seriesKey names one series; the columns its kind does not use are empty or zero.
type seriesKey struct {
	kind    string
	cluster string
	group   string
	topic   string
	broker  int32
}

// seriesCache maps series names to ids. The ids it holds never change (see above).
type seriesCache struct {
	mu  sync.RWMutex // guards ids and last
	ids map[seriesKey]int64
	// last is, per cluster, the keys and ids of the latest lookup for that cluster. A collector sends
	// its series in the same order every cycle, so comparing with the previous cycle position by
	// position answers most keys without hashing them (hashing was the largest client cost per point).
	last map[string]*keyMemo
}

// keyMemo is one lookup's keys and ids, index for index; never changed once stored.
type keyMemo struct {
	keys []seriesKey
	ids  []int64
}

// idsChunk bounds the series one INSERT or SELECT names: 500 × 5 placeholders.
const idsChunk = 500

// seriesIDs returns the id of each key, creating the series that do not exist yet.
func (s *Store) seriesIDs(ctx context.Context, keys []seriesKey) ([]int64, error) {
	out := make([]int64, len(keys))
	var missing []seriesKey
	seen := map[seriesKey]bool{}
	if len(keys) == 0 {
		return out, nil
	}
	s.series.mu.RLock()
	memo := s.series.last[keys[0].cluster]
	for i, k := range keys {
		if memo != nil && i < len(memo.keys) && memo.keys[i] == k {
			out[i] = memo.ids[i]
			continue
		}
		id, ok := s.series.ids[k]
		if ok {
			out[i] = id
		} else if !seen[k] {
			seen[k] = true
			missing = append(missing, k)
		}
	}
	s.series.mu.RUnlock()
	if len(missing) == 0 {
		s.remember(keys, out)
		return out, nil
	}
	found, err := s.createSeries(ctx, missing)
	if err != nil {
		return nil, err
	}
	s.series.mu.Lock()
	for k, id := range found {
		s.series.ids[k] = id
	}
	s.series.mu.Unlock()
	for i, k := range keys {
		if out[i] != 0 {
			continue
		}
		id, ok := found[k]
		if !ok {
			return nil, fmt.Errorf("series %s %q/%q/%q/%d has no id after creating it", k.kind, k.cluster, k.group, k.topic, k.broker)
		}
		out[i] = id
	}
	s.remember(keys, out)
	return out, nil
}

// remember keeps a lookup as its cluster's memo. keys and ids must not change afterwards.
func (s *Store) remember(keys []seriesKey, ids []int64) {
	s.series.mu.Lock()
	s.series.last[keys[0].cluster] = &keyMemo{keys: keys, ids: ids}
	s.series.mu.Unlock()
}

// createSeries inserts the keys that are not in metric_series yet (each in its own statement,
// committed at once so other consoles see it) and reads back every key's id.
func (s *Store) createSeries(ctx context.Context, keys []seriesKey) (map[seriesKey]int64, error) {
	found := make(map[seriesKey]int64, len(keys))
	for off := 0; off < len(keys); off += idsChunk {
		chunk := keys[off:min(off+idsChunk, len(keys))]
		args := make([]any, 0, 5*len(chunk))
		for _, k := range chunk {
			args = append(args, k.kind, k.cluster, k.group, k.topic, k.broker)
		}
		tuples := strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?), ", len(chunk)), ", ")
		ins := fmt.Sprintf("INSERT %s INTO metric_series (kind, cluster, group_name, topic, broker_id) VALUES %s", s.ignoreModifier(), tuples)
		if _, err := s.sqlDB.ExecContext(ctx, ins, args...); err != nil {
			return nil, fmt.Errorf("creating series ids: %w", err)
		}
		// Both forms look each key up in the unique index. SQLite would scan the table for a row-value
		// IN list; MariaDB 10.11 returns no rows for the VALUES join when it is a prepared statement.
		sel := "SELECT id, kind, cluster, group_name, topic, broker_id FROM metric_series " +
			"WHERE (kind, cluster, group_name, topic, broker_id) IN (" + tuples + ")"
		if s.dialect == "sqlite" {
			sel = "WITH k (kind, cluster, group_name, topic, broker_id) AS (VALUES " + tuples + ") " +
				"SELECT s.id, s.kind, s.cluster, s.group_name, s.topic, s.broker_id FROM k JOIN metric_series s " +
				"ON s.kind = k.kind AND s.cluster = k.cluster AND s.group_name = k.group_name AND s.topic = k.topic AND s.broker_id = k.broker_id"
		}
		rows, err := s.sqlDB.QueryContext(ctx, sel, args...)
		if err != nil {
			return nil, fmt.Errorf("reading series ids: %w", err)
		}
		for rows.Next() {
			var (
				id int64
				k  seriesKey
			)
			if err := rows.Scan(&id, &k.kind, &k.cluster, &k.group, &k.topic, &k.broker); err != nil {
				rows.Close()
				return nil, fmt.Errorf("reading series ids: %w", err)
			}
			found[k] = id
		}
		if err := rows.Close(); err != nil {
			return nil, fmt.Errorf("reading series ids: %w", err)
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("reading series ids: %w", err)
		}
	}
	// A key the database holds under other bytes: MariaDB's utf8mb4_bin pads with spaces, so group
	// "g " is the row of group "g". Ask for the row the database's own comparison finds, as the wide
	// keys of schema version 2 did (their points collided in the primary key the same way).
	for _, k := range keys {
		if _, ok := found[k]; ok {
			continue
		}
		var id int64
		err := s.sqlDB.QueryRowContext(ctx, "SELECT id FROM metric_series WHERE kind = ? AND cluster = ? AND group_name = ? AND topic = ? AND broker_id = ?",
			k.kind, k.cluster, k.group, k.topic, k.broker).Scan(&id)
		if err != nil {
			return nil, fmt.Errorf("reading the id of series %s %q/%q/%q/%d: %w", k.kind, k.cluster, k.group, k.topic, k.broker, err)
		}
		found[k] = id
	}
	return found, nil
}

// stmtCache keeps the prepared multi-row INSERTs: a server that has parsed a 1,024-row statement once
// only binds values for it afterwards, which halves MariaDB's CPU per row. Statement sizes are powers
// of two (see insertChunks), so the cache stays small whatever the batch sizes.
type stmtCache struct {
	mu    sync.Mutex // guards stmts
	stmts map[stmtKey]*sql.Stmt
	// args recycles the argument slices of the INSERTs: they are large and made many times a second.
	args sync.Pool
}

// stmtKey names a prepared INSERT: its table and its number of rows.
type stmtKey struct {
	table string
	rows  int
}

// get returns the prepared statement for key, preparing query() on first use.
func (c *stmtCache) get(ctx context.Context, db *sql.DB, key stmtKey, query func() string) (*sql.Stmt, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.stmts[key]; ok {
		return st, nil
	}
	st, err := db.PrepareContext(ctx, query())
	if err != nil {
		return nil, err
	}
	c.stmts[key] = st
	return st, nil
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, st := range c.stmts {
		_ = st.Close()
		delete(c.stmts, k)
	}
}

// statementRows is how many rows one point INSERT carries (a power of two). On MariaDB, 1,024-row
// statements measured faster than 4,096- or 8,192-row ones, and far below the 65,535-parameter limit.
// The SQLite driver finds each parameter's value by scanning the argument list, so its cost grows with
// the square of the count: there a statement stays within 512 parameters (a prepared statement costs
// SQLite no parsing, so small ones lose little).
func (s *Store) statementRows(cols int) int {
	if s.dialect != "sqlite" {
		return 1024
	}
	rows := 1
	for rows*2*cols <= 512 {
		rows *= 2
	}
	return rows
}

// insertChunks splits n rows into statement sizes: as many full statements of `largest` rows (a power
// of two) as fit, then the remainder's binary digits. Every size is a power of two, so a table never
// needs more than about a dozen distinct prepared statements.
func insertChunks(n, largest int) []int {
	var out []int
	for ; n >= largest; n -= largest {
		out = append(out, largest)
	}
	for size := largest / 2; size > 0; size /= 2 {
		if n >= size {
			out = append(out, size)
			n -= size
		}
	}
	return out
}

// insertPoints writes n rows into table with prepared multi-row INSERT IGNOREs inside tx. args
// appends row i's values (in cols order) to dst.
func (s *Store) insertPoints(ctx context.Context, tx *sql.Tx, table string, cols []string, n int, args func(dst []any, i int) []any) error {
	if n == 0 {
		return nil
	}
	bufp, _ := s.stmts.args.Get().(*[]any)
	if bufp == nil {
		bufp = new([]any)
	}
	defer func() {
		clear((*bufp)[:cap(*bufp)]) // drop the references to this batch's values
		s.stmts.args.Put(bufp)
	}()
	i := 0
	for _, size := range insertChunks(n, s.statementRows(len(cols))) {
		st, err := s.stmts.get(ctx, s.sqlDB, stmtKey{table, size}, func() string {
			row := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")"
			return fmt.Sprintf("INSERT %s INTO %s (%s) VALUES %s", s.ignoreModifier(), table, strings.Join(cols, ", "),
				strings.TrimSuffix(strings.Repeat(row+", ", size), ", "))
		})
		if err != nil {
			return fmt.Errorf("preparing a %d-row insert: %w", size, err)
		}
		buf := (*bufp)[:0]
		for end := i + size; i < end; i++ {
			buf = args(buf, i)
		}
		*bufp = buf
		if _, err := tx.StmtContext(ctx, st).ExecContext(ctx, buf...); err != nil {
			return err
		}
	}
	return nil
}
