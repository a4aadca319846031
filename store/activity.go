package store

import (
	"context"
	"fmt"
	"time"
)

// Activity is when a series was first stored and when its offset (a topic's log-end sum, a group's
// committed sum) first reached the highest value stored: the last produce or commit happened at
// or just before LastRise, give or take one step of the row it comes from (a rollup row's time is
// its bucket's start). Rose is false when the highest value was there from the first row: nothing
// was produced (committed) since the history began.
type Activity struct {
	First    time.Time
	LastRise time.Time
	Rose     bool
}

type activityRow struct {
	Name    string
	Topic   string
	FirstTs int64
	MaxAt   int64
}

// TopicActivity reads every topic's Activity in a cluster from its stored series (all steps).
func (s *Store) TopicActivity(ctx context.Context, cluster string) (map[string]Activity, error) {
	rows, err := s.activity(ctx, kindTopic, "topic_metrics", "end_offset", cluster)
	if err != nil {
		return nil, fmt.Errorf("reading topic activity: %w", err)
	}
	out := make(map[string]Activity, len(rows))
	for _, r := range rows {
		out[r.Topic] = activityOf(r)
	}
	return out, nil
}

// GroupActivity reads every group's Activity in a cluster: per group, the latest rise over its
// topics, and the earliest first row.
func (s *Store) GroupActivity(ctx context.Context, cluster string) (map[string]Activity, error) {
	rows, err := s.activity(ctx, kindGroup, "group_metrics", "committed", cluster)
	if err != nil {
		return nil, fmt.Errorf("reading group activity: %w", err)
	}
	out := map[string]Activity{}
	for _, r := range rows {
		a := activityOf(r)
		prev, ok := out[r.Name]
		if ok {
			if prev.First.Before(a.First) {
				a.First = prev.First
			}
			if prev.Rose && (!a.Rose || prev.LastRise.After(a.LastRise)) {
				a.LastRise, a.Rose = prev.LastRise, true
			}
		}
		out[r.Name] = a
	}
	return out, nil
}

func activityOf(r activityRow) Activity {
	return Activity{First: time.Unix(r.FirstTs, 0).UTC(), LastRise: time.Unix(r.MaxAt, 0).UTC(), Rose: r.MaxAt > r.FirstTs}
}

// activity finds, per series of a kind in the cluster, its first row and the first row holding its
// highest value. Both dialects read each series' rows by the primary key (series_id, step, ts).
func (s *Store) activity(ctx context.Context, kind, table, col, cluster string) ([]activityRow, error) {
	q := fmt.Sprintf(`SELECT s.group_name AS name, s.topic AS topic, x.first_ts AS first_ts, MIN(m.ts) AS max_at
		FROM metric_series s
		JOIN (SELECT series_id, MIN(ts) AS first_ts, MAX(%[2]s) AS mx FROM %[1]s
			WHERE series_id IN (SELECT id FROM metric_series WHERE kind = ? AND cluster = ?) GROUP BY series_id) x ON x.series_id = s.id
		JOIN %[1]s m ON m.series_id = s.id AND m.%[2]s = x.mx
		GROUP BY s.group_name, s.topic, x.first_ts`, table, col)
	var rows []activityRow
	if err := s.db.WithContext(ctx).Raw(q, kind, cluster).Scan(&rows).Error; err != nil {
		return nil, err
	}
	return rows, nil
}

// RecentGroupPoints reads every group×topic's raw points of a cluster since `since`, in time order
// per series: what the collector's catch-up estimate starts from after a restart.
func (s *Store) RecentGroupPoints(ctx context.Context, cluster string, since time.Time) ([]GroupPoint, error) {
	var out []GroupPoint
	err := s.db.WithContext(ctx).Raw(`SELECT s.cluster, s.group_name, s.topic, m.step, m.ts, m.committed, m.lag, m.lag_max, m.lag_seconds
		FROM metric_series s JOIN group_metrics m ON m.series_id = s.id
		WHERE s.kind = ? AND s.cluster = ? AND m.step = 0 AND m.ts >= ? ORDER BY s.group_name, s.topic, m.ts`,
		kindGroup, cluster, since.Unix()).Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("reading recent group points: %w", err)
	}
	return out, nil
}
