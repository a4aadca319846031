package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// QuorumPoint is one poll's KRaft quorum figures (table quorum_samples). Ts is Unix milliseconds.
type QuorumPoint struct {
	Cluster        string
	Ts             int64
	LeaderID       int32
	LeaderEpoch    int32
	HighWatermark  int64
	Voters         int
	MaxVoterLag    int64
	MaxVoterLagSec float64 `gorm:"column:max_voter_lag_sec"`
}

// TableName is the quorum history's table.
func (QuorumPoint) TableName() string { return "quorum_samples" }

// QuorumReplicaPoint is one voter's or observer's figures in one poll (table quorum_replica_samples).
// LagSec and FetchAgeSec are -1 when unknown.
type QuorumReplicaPoint struct {
	Cluster      string
	Ts           int64
	ReplicaID    int32
	Voter        bool
	LogEndOffset int64
	Lag          int64
	LagSec       float64 `gorm:"column:lag_sec"`
	FetchAgeSec  float64 `gorm:"column:fetch_age_sec"`
}

// TableName is the per-replica history's table.
func (QuorumReplicaPoint) TableName() string { return "quorum_replica_samples" }

// WriteQuorum stores one poll's quorum figures and its replicas in one transaction. A second write
// for the same cluster and millisecond (two polls at once) is ignored.
func (s *Store) WriteQuorum(ctx context.Context, p QuorumPoint, replicas []QuorumReplicaPoint) error {
	ignore := s.ignoreModifier()
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Exec(fmt.Sprintf("INSERT %s INTO quorum_samples (cluster, ts, leader_id, leader_epoch, high_watermark, voters, max_voter_lag, max_voter_lag_sec) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", ignore),
			p.Cluster, p.Ts, p.LeaderID, p.LeaderEpoch, p.HighWatermark, p.Voters, p.MaxVoterLag, p.MaxVoterLagSec)
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		for _, r := range replicas {
			err := tx.Exec(fmt.Sprintf("INSERT %s INTO quorum_replica_samples (cluster, ts, replica_id, voter, log_end_offset, lag, lag_sec, fetch_age_sec) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", ignore),
				p.Cluster, p.Ts, r.ReplicaID, r.Voter, r.LogEndOffset, r.Lag, r.LagSec, r.FetchAgeSec).Error
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("writing the quorum sample of %s: %w", p.Cluster, err)
	}
	return nil
}

// QuorumHistory returns a cluster's quorum points with from <= time <= to, oldest first, at most
// limit of them (the newest when there are more).
func (s *Store) QuorumHistory(ctx context.Context, cluster string, from, to time.Time, limit int) ([]QuorumPoint, error) {
	var out []QuorumPoint
	err := s.db.WithContext(ctx).Where("cluster = ? AND ts >= ? AND ts <= ?", cluster, from.UnixMilli(), to.UnixMilli()).
		Order("ts DESC").Limit(limit).Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("reading the quorum history of %s: %w", cluster, err)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}

// QuorumReplicaHistory returns one replica's points with from <= time <= to, oldest first, at most
// limit (the newest).
func (s *Store) QuorumReplicaHistory(ctx context.Context, cluster string, replica int32, from, to time.Time, limit int) ([]QuorumReplicaPoint, error) {
	var out []QuorumReplicaPoint
	err := s.db.WithContext(ctx).Where("cluster = ? AND replica_id = ? AND ts >= ? AND ts <= ?", cluster, replica, from.UnixMilli(), to.UnixMilli()).
		Order("ts DESC").Limit(limit).Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("reading the quorum history of %s replica %d: %w", cluster, replica, err)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}

// ExpireQuorum deletes the quorum points (and their replicas' points) older than cutoff.
func (s *Store) ExpireQuorum(ctx context.Context, cutoff time.Time) (int64, error) {
	n, err := s.deleteRange(ctx, "DELETE FROM quorum_replica_samples WHERE ts < ?", cutoff.UnixMilli())
	if err != nil {
		return n, fmt.Errorf("expiring quorum replica samples: %w", err)
	}
	m, err := s.deleteRange(ctx, "DELETE FROM quorum_samples WHERE ts < ?", cutoff.UnixMilli())
	if err != nil {
		return n + m, fmt.Errorf("expiring quorum samples: %w", err)
	}
	return n + m, nil
}
