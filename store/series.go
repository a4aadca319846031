package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Time series. Each kind has one table; Step is the resolution in seconds: 0 for points as polled,
// then rollups at 60, 300 and 3600 seconds. Ts is a Unix time in seconds (the bucket start for rollups).

// TopicPoint is one topic's figures at one time.
type TopicPoint struct {
	Cluster     string
	Topic       string
	Step        int
	Ts          int64
	StartOffset int64
	EndOffset   int64
	SizeBytes   int64
	MsgsPerSec  float64
	BytesPerSec float64
}

// TableName is the topic series table.
func (TopicPoint) TableName() string { return "topic_metrics" }

// GroupPoint is one consumer group's figures on one topic at one time.
type GroupPoint struct {
	Cluster    string
	GroupName  string
	Topic      string
	Step       int
	Ts         int64
	Committed  int64
	Lag        int64
	LagMax     int64
	LagSeconds float64
}

// TableName is the group series table.
func (GroupPoint) TableName() string { return "group_metrics" }

// BrokerPoint is one broker's figures at one time. Up is 1 or 0 (an availability fraction in rollups).
type BrokerPoint struct {
	Cluster       string
	BrokerID      int32
	Step          int
	Ts            int64
	Up            float64
	Leaders       int
	Replicas      int
	LogDirBytes   int64
	MsgsInPerSec  float64
	BytesInPerSec float64
}

// TableName is the broker series table.
func (BrokerPoint) TableName() string { return "broker_metrics" }

// ClusterPoint is one cluster's totals at one time.
type ClusterPoint struct {
	Cluster         string
	Step            int
	Ts              int64
	Brokers         int
	BrokersUp       int
	Topics          int
	Partitions      int
	UnderReplicated int
	Offline         int
	UnderMinISR     int `gorm:"column:under_min_isr"`
	TotalLag        int64
	MsgsPerSec      float64
	BytesPerSec     float64
}

// TableName is the cluster series table.
func (ClusterPoint) TableName() string { return "cluster_metrics" }

// Batch is one collection cycle's points, written together.
type Batch struct {
	Topics   []TopicPoint
	Groups   []GroupPoint
	Brokers  []BrokerPoint
	Clusters []ClusterPoint
}

// Len is the number of points in the batch.
func (b *Batch) Len() int { return len(b.Topics) + len(b.Groups) + len(b.Brokers) + len(b.Clusters) }

// WriteBatch appends a cycle's points inside one transaction. A point whose key already exists (the
// same second polled twice) is kept as first written. Series seen for the first time get their ids
// first, in statements of their own (see seriesIDs).
func (s *Store) WriteBatch(ctx context.Context, b *Batch) error {
	if b.Len() == 0 {
		return nil
	}
	ids, err := s.batchSeriesIDs(ctx, b)
	if err != nil {
		return err
	}
	tx, err := s.sqlDB.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("writing series: %w", err)
	}
	// Rollback after Commit is a no-op; on an early return it undoes the partial batch.
	defer func() { _ = tx.Rollback() }()
	// INSERT IGNORE / INSERT OR IGNORE: cheaper for MySQL than ON DUPLICATE KEY UPDATE col=col.
	err = s.insertPoints(ctx, tx, "topic_metrics", []string{"series_id", "step", "ts", "start_offset", "end_offset", "size_bytes", "msgs_per_sec", "bytes_per_sec"},
		len(b.Topics), func(dst []any, i int) []any {
			p := &b.Topics[i]
			return append(dst, ids.topics[i], p.Step, p.Ts, p.StartOffset, p.EndOffset, p.SizeBytes, p.MsgsPerSec, p.BytesPerSec)
		})
	if err != nil {
		return fmt.Errorf("writing topic series: %w", err)
	}
	err = s.insertPoints(ctx, tx, "group_metrics", []string{"series_id", "step", "ts", "committed", "lag", "lag_max", "lag_seconds"},
		len(b.Groups), func(dst []any, i int) []any {
			p := &b.Groups[i]
			return append(dst, ids.groups[i], p.Step, p.Ts, p.Committed, p.Lag, p.LagMax, p.LagSeconds)
		})
	if err != nil {
		return fmt.Errorf("writing group series: %w", err)
	}
	err = s.insertPoints(ctx, tx, "broker_metrics", []string{"series_id", "step", "ts", "up", "leaders", "replicas", "log_dir_bytes", "msgs_in_per_sec", "bytes_in_per_sec"},
		len(b.Brokers), func(dst []any, i int) []any {
			p := &b.Brokers[i]
			return append(dst, ids.brokers[i], p.Step, p.Ts, p.Up, p.Leaders, p.Replicas, p.LogDirBytes, p.MsgsInPerSec, p.BytesInPerSec)
		})
	if err != nil {
		return fmt.Errorf("writing broker series: %w", err)
	}
	err = s.insertPoints(ctx, tx, "cluster_metrics", []string{"series_id", "step", "ts", "brokers", "brokers_up", "topics", "partitions",
		"under_replicated", "offline", "under_min_isr", "total_lag", "msgs_per_sec", "bytes_per_sec"},
		len(b.Clusters), func(dst []any, i int) []any {
			p := &b.Clusters[i]
			return append(dst, ids.clusters[i], p.Step, p.Ts, p.Brokers, p.BrokersUp, p.Topics, p.Partitions,
				p.UnderReplicated, p.Offline, p.UnderMinISR, p.TotalLag, p.MsgsPerSec, p.BytesPerSec)
		})
	if err != nil {
		return fmt.Errorf("writing cluster series: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("writing series: %w", err)
	}
	return nil
}

// batchIDs are the series ids of a batch's points, index for index.
type batchIDs struct {
	topics, groups, brokers, clusters []int64
}

func (s *Store) batchSeriesIDs(ctx context.Context, b *Batch) (batchIDs, error) {
	keys := make([]seriesKey, 0, b.Len())
	for _, p := range b.Topics {
		keys = append(keys, seriesKey{kind: kindTopic, cluster: p.Cluster, topic: p.Topic})
	}
	for _, p := range b.Groups {
		keys = append(keys, seriesKey{kind: kindGroup, cluster: p.Cluster, group: p.GroupName, topic: p.Topic})
	}
	for _, p := range b.Brokers {
		keys = append(keys, seriesKey{kind: kindBroker, cluster: p.Cluster, broker: p.BrokerID})
	}
	for _, p := range b.Clusters {
		keys = append(keys, seriesKey{kind: kindCluster, cluster: p.Cluster})
	}
	all, err := s.seriesIDs(ctx, keys)
	if err != nil {
		return batchIDs{}, fmt.Errorf("writing series: %w", err)
	}
	var ids batchIDs
	ids.topics, all = all[:len(b.Topics)], all[len(b.Topics):]
	ids.groups, all = all[:len(b.Groups)], all[len(b.Groups):]
	ids.brokers, all = all[:len(b.Brokers)], all[len(b.Brokers):]
	ids.clusters = all
	return ids, nil
}

// seriesSpec says how a series table rolls up: each value's aggregate, per series_id and bucket.
type seriesSpec struct {
	name   string
	table  string
	values []string // "column AGG", AGG one of MIN, MAX, AVG, IAVG (average rounded for integer columns)
}

var seriesSpecs = []seriesSpec{
	{kindTopic, "topic_metrics",
		[]string{"start_offset MIN", "end_offset MAX", "size_bytes MAX", "msgs_per_sec AVG", "bytes_per_sec AVG"}},
	{kindGroup, "group_metrics",
		[]string{"committed MAX", "lag IAVG", "lag_max MAX", "lag_seconds AVG"}},
	{kindBroker, "broker_metrics",
		[]string{"up AVG", "leaders MAX", "replicas MAX", "log_dir_bytes MAX", "msgs_in_per_sec AVG", "bytes_in_per_sec AVG"}},
	{kindCluster, "cluster_metrics",
		[]string{"brokers MAX", "brokers_up MIN", "topics MAX", "partitions MAX", "under_replicated MAX", "offline MAX",
			"under_min_isr MAX", "total_lag IAVG", "msgs_per_sec AVG", "bytes_per_sec AVG"}},
}

// Steps are the rollup resolutions, each built from the one before it (raw → 1 min → 5 min → 1 h).
var Steps = []int{0, 60, 300, 3600}

// RollupGrace is how long after a bucket ends its rollup waits for late points (a poll cycle that
// started before the bucket's end and finished after it).
const RollupGrace = 90 * time.Second

// Rollup aggregates every complete bucket not yet rolled up, for every series and step, each bucket
// exactly once (progress is kept in rollup_state, in the same transaction as the rows).
// Returns the number of rollup rows written.
func (s *Store) Rollup(ctx context.Context, now time.Time) (int64, error) {
	var written int64
	for _, spec := range seriesSpecs {
		// prevDone is how far the finer step's rows are complete; raw rows are complete up to now-grace.
		prevDone := now.Add(-RollupGrace).Unix()
		for i := 1; i < len(Steps); i++ {
			n, done, err := s.rollupOne(ctx, spec, Steps[i-1], Steps[i], prevDone)
			if err != nil {
				return written, fmt.Errorf("rolling up %s series to %ds: %w", spec.name, Steps[i], err)
			}
			written += n
			prevDone = done
		}
	}
	return written, nil
}

func (s *Store) rollupOne(ctx context.Context, spec seriesSpec, from, to int, sourceDone int64) (int64, int64, error) {
	var written, doneUntil int64
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var state struct{ DoneUntil int64 }
		err := tx.Raw("SELECT done_until FROM rollup_state WHERE series = ? AND step = ?", spec.name, to).Scan(&state).Error
		if err != nil {
			return err
		}
		chunks, err := seriesIDChunks(tx, spec.name)
		if err != nil {
			return err
		}
		start := state.DoneUntil
		if start == 0 {
			// First run: start at the oldest source bucket.
			var oldest *int64
			for _, in := range chunks {
				var first struct{ Ts *int64 }
				q := fmt.Sprintf("SELECT MIN(ts) AS ts FROM %s WHERE series_id IN (%s) AND step = ?", spec.table, in)
				if err := tx.Raw(q, from).Scan(&first).Error; err != nil {
					return err
				}
				if first.Ts != nil && (oldest == nil || *first.Ts < *oldest) {
					oldest = first.Ts
				}
			}
			if oldest == nil {
				doneUntil = 0
				return nil
			}
			start = *oldest - *oldest%int64(to)
		}
		end := sourceDone - sourceDone%int64(to)
		doneUntil = start
		if end <= start {
			return nil
		}
		cols := []string{"series_id", "step", "ts"}
		bucket := fmt.Sprintf("ts - (ts %% %d)", to)
		sel := []string{"series_id", fmt.Sprintf("%d", to), bucket}
		for _, v := range spec.values {
			col, agg, _ := strings.Cut(v, " ")
			cols = append(cols, col)
			switch agg {
			case "IAVG":
				sel = append(sel, fmt.Sprintf("ROUND(AVG(%s))", col))
			default:
				sel = append(sel, fmt.Sprintf("%s(%s)", agg, col))
			}
		}
		// Step values are our own constants, formatted in: MySQL's ONLY_FULL_GROUP_BY does not treat two
		// placeholders as the same expression.
		for _, in := range chunks {
			q := fmt.Sprintf("INSERT %s INTO %s (%s) SELECT %s FROM %s WHERE series_id IN (%s) AND step = %d AND ts >= ? AND ts < ? GROUP BY series_id, %s",
				s.ignoreModifier(), spec.table, strings.Join(cols, ", "), strings.Join(sel, ", "), spec.table, in, from, bucket)
			res := tx.Exec(q, start, end)
			if res.Error != nil {
				return res.Error
			}
			written += res.RowsAffected
		}
		doneUntil = end
		return tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "series"}, {Name: "step"}},
			DoUpdates: clause.AssignmentColumns([]string{"done_until"}),
		}).Table("rollup_state").Create(map[string]any{"series": spec.name, "step": to, "done_until": end}).Error
	})
	return written, doneUntil, err
}

// RetentionPolicy is how long each step's rows are kept.
type RetentionPolicy struct {
	Raw, Minute, FiveMin, Hour time.Duration
	Audit                      time.Duration
}

func (p RetentionPolicy) forStep(step int) time.Duration {
	switch step {
	case 0:
		return p.Raw
	case 60:
		return p.Minute
	case 300:
		return p.FiveMin
	default:
		return p.Hour
	}
}

// seriesIDChunk is how many series one rollup or expiry statement names.
const seriesIDChunk = 1000

// seriesIDChunks lists the ids of every series of a kind, as comma-separated chunks for an IN list.
// The point tables have no (step, ts) index (it cost a fifth of MariaDB's work per written point), so
// rollup and expiry name the series: "series_id IN (...) AND step = ? AND ts ..." is a range per
// series on the primary key (series_id, step, ts) on both dialects. The ids are our own integers,
// formatted in rather than bound: the SQLite driver binds parameters in quadratic time.
func seriesIDChunks(db *gorm.DB, kind string) ([]string, error) {
	var ids []int64
	if err := db.Raw("SELECT id FROM metric_series WHERE kind = ? ORDER BY id", kind).Scan(&ids).Error; err != nil {
		return nil, fmt.Errorf("listing %s series: %w", kind, err)
	}
	var out []string
	for off := 0; off < len(ids); off += seriesIDChunk {
		var b strings.Builder
		for i, id := range ids[off:min(off+seriesIDChunk, len(ids))] {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.FormatInt(id, 10))
		}
		out = append(out, b.String())
	}
	return out, nil
}

// deleteChunk bounds one MySQL DELETE so retention never holds long locks on a busy table.
const deleteChunk = 10000

// Expire deletes points older than the policy allows at each step, the audit log past its horizon and
// expired sessions. Points are deleted by primary-key ranges, series by series (see seriesIDChunks),
// never by a full scan. Returns rows deleted.
func (s *Store) Expire(ctx context.Context, now time.Time, p RetentionPolicy) (int64, error) {
	var total int64
	for _, spec := range seriesSpecs {
		chunks, err := seriesIDChunks(s.db.WithContext(ctx), spec.name)
		if err != nil {
			return total, fmt.Errorf("expiring %s series: %w", spec.name, err)
		}
		for _, step := range Steps {
			keep := p.forStep(step)
			if keep <= 0 {
				continue
			}
			cutoff := now.Add(-keep).Unix()
			for _, in := range chunks {
				n, err := s.deleteRange(ctx, fmt.Sprintf("DELETE FROM %s WHERE series_id IN (%s) AND step = ? AND ts < ?", spec.table, in), step, cutoff)
				total += n
				if err != nil {
					return total, fmt.Errorf("expiring %s series at step %d: %w", spec.name, step, err)
				}
			}
		}
	}
	if p.Audit > 0 {
		n, err := s.deleteRange(ctx, "DELETE FROM audit_log WHERE at < ?", now.Add(-p.Audit).UTC())
		total += n
		if err != nil {
			return total, fmt.Errorf("expiring audit log: %w", err)
		}
	}
	n, err := s.deleteRange(ctx, "DELETE FROM sessions WHERE expires_at < ?", now.UTC())
	total += n
	if err != nil {
		return total, fmt.Errorf("expiring sessions: %w", err)
	}
	return total, nil
}

func (s *Store) deleteRange(ctx context.Context, q string, args ...any) (int64, error) {
	if s.dialect != "mysql" {
		res := s.db.WithContext(ctx).Exec(q, args...)
		return res.RowsAffected, res.Error
	}
	var total int64
	for {
		res := s.db.WithContext(ctx).Exec(q+fmt.Sprintf(" LIMIT %d", deleteChunk), args...)
		if res.Error != nil {
			return total, res.Error
		}
		total += res.RowsAffected
		if res.RowsAffected < deleteChunk {
			return total, nil
		}
	}
}

// SeriesRange selects points of one series between From and To (inclusive) at one step.
type SeriesRange struct {
	From, To time.Time
	// Step is the resolution; StepFor picks one from the range when the caller has no preference.
	Step int
}

// StepFor picks the finest resolution that still holds data for `from` under the policy and keeps the
// number of points per series under about maxPoints (given the raw poll interval).
func StepFor(now, from, to time.Time, p RetentionPolicy, pollInterval time.Duration, maxPoints int) int {
	span := to.Sub(from)
	for _, step := range Steps {
		keep := p.forStep(step)
		if keep > 0 && from.Before(now.Add(-keep)) {
			continue
		}
		res := time.Duration(step) * time.Second
		if step == 0 {
			res = pollInterval
		}
		if res > 0 && int(span/res) > maxPoints {
			continue
		}
		return step
	}
	return Steps[len(Steps)-1]
}

// The reads join the points to metric_series: the unique key finds the series (a prefix of it finds a
// group's topics), then the primary key (series_id, step, ts) reads the range in order.

// TopicSeries reads one topic's points.
func (s *Store) TopicSeries(ctx context.Context, cluster, topic string, r SeriesRange) ([]TopicPoint, error) {
	var out []TopicPoint
	err := s.db.WithContext(ctx).Raw(`SELECT s.cluster, s.topic, m.step, m.ts, m.start_offset, m.end_offset, m.size_bytes,
		m.msgs_per_sec, m.bytes_per_sec
		FROM metric_series s JOIN topic_metrics m ON m.series_id = s.id
		WHERE s.kind = ? AND s.cluster = ? AND s.group_name = '' AND s.topic = ? AND s.broker_id = 0
		AND m.step = ? AND m.ts BETWEEN ? AND ? ORDER BY m.ts`,
		kindTopic, cluster, topic, r.Step, r.From.Unix(), r.To.Unix()).Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("reading topic series: %w", err)
	}
	return out, nil
}

// GroupSeries reads one group's points on every topic it consumes, or on one topic when topic != "".
func (s *Store) GroupSeries(ctx context.Context, cluster, group, topic string, r SeriesRange) ([]GroupPoint, error) {
	q := `SELECT s.cluster, s.group_name, s.topic, m.step, m.ts, m.committed, m.lag, m.lag_max, m.lag_seconds
		FROM metric_series s JOIN group_metrics m ON m.series_id = s.id
		WHERE s.kind = ? AND s.cluster = ? AND s.group_name = ?`
	args := []any{kindGroup, cluster, group}
	if topic != "" {
		q += " AND s.topic = ?"
		args = append(args, topic)
	}
	q += " AND m.step = ? AND m.ts BETWEEN ? AND ? ORDER BY s.topic, m.ts"
	args = append(args, r.Step, r.From.Unix(), r.To.Unix())
	var out []GroupPoint
	if err := s.db.WithContext(ctx).Raw(q, args...).Scan(&out).Error; err != nil {
		return nil, fmt.Errorf("reading group series: %w", err)
	}
	return out, nil
}

// BrokerSeries reads one broker's points.
func (s *Store) BrokerSeries(ctx context.Context, cluster string, broker int32, r SeriesRange) ([]BrokerPoint, error) {
	var out []BrokerPoint
	err := s.db.WithContext(ctx).Raw(`SELECT s.cluster, s.broker_id, m.step, m.ts, m.up, m.leaders, m.replicas, m.log_dir_bytes,
		m.msgs_in_per_sec, m.bytes_in_per_sec
		FROM metric_series s JOIN broker_metrics m ON m.series_id = s.id
		WHERE s.kind = ? AND s.cluster = ? AND s.group_name = '' AND s.topic = '' AND s.broker_id = ?
		AND m.step = ? AND m.ts BETWEEN ? AND ? ORDER BY m.ts`,
		kindBroker, cluster, broker, r.Step, r.From.Unix(), r.To.Unix()).Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("reading broker series: %w", err)
	}
	return out, nil
}

// ClusterSeries reads a cluster's totals.
func (s *Store) ClusterSeries(ctx context.Context, cluster string, r SeriesRange) ([]ClusterPoint, error) {
	var out []ClusterPoint
	err := s.db.WithContext(ctx).Raw(`SELECT s.cluster, m.step, m.ts, m.brokers, m.brokers_up, m.topics, m.partitions,
		m.under_replicated, m.offline, m.under_min_isr, m.total_lag, m.msgs_per_sec, m.bytes_per_sec
		FROM metric_series s JOIN cluster_metrics m ON m.series_id = s.id
		WHERE s.kind = ? AND s.cluster = ? AND s.group_name = '' AND s.topic = '' AND s.broker_id = 0
		AND m.step = ? AND m.ts BETWEEN ? AND ? ORDER BY m.ts`,
		kindCluster, cluster, r.Step, r.From.Unix(), r.To.Unix()).Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("reading cluster series: %w", err)
	}
	return out, nil
}
