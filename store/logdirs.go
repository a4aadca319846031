package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// LogDirPoint is one broker log directory's sizes at one log-dir poll (table log_dir_samples).
// UsedBytes is the sum of its partition logs; TotalBytes and UsableBytes are its file system's,
// -1 when the broker did not report them. Ts is Unix milliseconds.
type LogDirPoint struct {
	Cluster     string
	BrokerID    int32
	Dir         string
	Ts          int64
	UsedBytes   int64
	TotalBytes  int64
	UsableBytes int64
}

// TableName is the storage history's table.
func (LogDirPoint) TableName() string { return "log_dir_samples" }

// WriteLogDirs stores one poll's log-dir points in one transaction. A second write for the same
// directory and millisecond is ignored.
func (s *Store) WriteLogDirs(ctx context.Context, points []LogDirPoint) error {
	if len(points) == 0 {
		return nil
	}
	q := fmt.Sprintf("INSERT %s INTO log_dir_samples (cluster, broker_id, dir, ts, used_bytes, total_bytes, usable_bytes) VALUES (?, ?, ?, ?, ?, ?, ?)", s.ignoreModifier())
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		for _, p := range points {
			if err := tx.Exec(q, p.Cluster, p.BrokerID, p.Dir, p.Ts, p.UsedBytes, p.TotalBytes, p.UsableBytes).Error; err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("writing the log-dir samples of %s: %w", points[0].Cluster, err)
	}
	return nil
}

// LogDirHistory returns a cluster's log-dir points with time >= since, ordered by broker, dir and
// time, at most limit of them (the oldest when there are more).
func (s *Store) LogDirHistory(ctx context.Context, cluster string, since time.Time, limit int) ([]LogDirPoint, error) {
	var out []LogDirPoint
	err := s.db.WithContext(ctx).Where("cluster = ? AND ts >= ?", cluster, since.UnixMilli()).
		Order("broker_id, dir, ts").Limit(limit).Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("reading the log-dir history of %s: %w", cluster, err)
	}
	return out, nil
}

// ExpireLogDirs deletes the log-dir points older than cutoff.
func (s *Store) ExpireLogDirs(ctx context.Context, cutoff time.Time) (int64, error) {
	n, err := s.deleteRange(ctx, "DELETE FROM log_dir_samples WHERE ts < ?", cutoff.UnixMilli())
	if err != nil {
		return n, fmt.Errorf("expiring log-dir samples: %w", err)
	}
	return n, nil
}
