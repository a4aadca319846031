package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Lease is one cluster's polling lease (cluster_leases): the console named Holder polls the cluster
// until ExpiresAt (on the database's clock, see DBNow). Epoch grows by one at every change of holder
// and fences the holder's writes; Renewals grows at every renewal, so a compare-and-set on
// (Holder, Epoch, Renewals) fails once anyone else has touched the row.
type Lease struct {
	Cluster   string
	Holder    string
	Epoch     int64
	Renewals  int64
	RenewedAt time.Time
	ExpiresAt time.Time
}

// DBNow reads the database's clock (MySQL/MariaDB NOW(6), in UTC). Every console sharing a database
// measures lease expiry on this one clock, so their own clocks may disagree. SQLite runs inside this
// process: its clock is this process's.
func (s *Store) DBNow(ctx context.Context) (time.Time, error) {
	if s.dialect != "mysql" {
		return time.Now().UTC(), nil
	}
	var now time.Time
	if err := s.sqlDB.QueryRowContext(ctx, "SELECT UTC_TIMESTAMP(6)").Scan(&now); err != nil {
		return time.Time{}, fmt.Errorf("reading the database clock: %w", err)
	}
	return now.UTC(), nil
}

// GetLease returns a cluster's lease row, or nil when nobody ever held it.
func (s *Store) GetLease(ctx context.Context, cluster string) (*Lease, error) {
	l := Lease{Cluster: cluster}
	err := s.sqlDB.QueryRowContext(ctx, "SELECT holder, epoch, renewals, renewed_at, expires_at FROM cluster_leases WHERE cluster = ?",
		cluster).Scan(&l.Holder, &l.Epoch, &l.Renewals, &l.RenewedAt, &l.ExpiresAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the lease of cluster %s: %w", cluster, err)
	}
	l.RenewedAt, l.ExpiresAt = l.RenewedAt.UTC(), l.ExpiresAt.UTC()
	return &l, nil
}

// CreateLease inserts the first lease of a cluster, epoch 1; false when a row exists already
// (another console created it first).
func (s *Store) CreateLease(ctx context.Context, cluster, holder string, now, expires time.Time) (bool, error) {
	res, err := s.sqlDB.ExecContext(ctx, "INSERT "+s.ignoreModifier()+" INTO cluster_leases (cluster, holder, epoch, renewals, renewed_at, expires_at) VALUES (?, ?, 1, 0, ?, ?)",
		cluster, holder, now.UTC(), expires.UTC())
	return affectedOne(res, err, "creating the lease of cluster "+cluster)
}

// RenewLease moves the expiry of a lease prev describes, if the row is still exactly prev
// (same holder, epoch and renewal count): false when someone took it over meanwhile.
func (s *Store) RenewLease(ctx context.Context, prev Lease, now, expires time.Time) (bool, error) {
	res, err := s.sqlDB.ExecContext(ctx, "UPDATE cluster_leases SET renewals = renewals + 1, renewed_at = ?, expires_at = ? "+
		"WHERE cluster = ? AND holder = ? AND epoch = ? AND renewals = ?",
		now.UTC(), expires.UTC(), prev.Cluster, prev.Holder, prev.Epoch, prev.Renewals)
	return affectedOne(res, err, "renewing the lease of cluster "+prev.Cluster)
}

// TakeLease makes holder the holder of a lease with epoch prev.Epoch+1, if the row is still exactly
// prev: of two consoles taking over the same expired lease, one wins. The caller decides that prev
// has expired.
func (s *Store) TakeLease(ctx context.Context, prev Lease, holder string, now, expires time.Time) (bool, error) {
	res, err := s.sqlDB.ExecContext(ctx, "UPDATE cluster_leases SET holder = ?, epoch = epoch + 1, renewals = 0, renewed_at = ?, expires_at = ? "+
		"WHERE cluster = ? AND holder = ? AND epoch = ? AND renewals = ?",
		holder, now.UTC(), expires.UTC(), prev.Cluster, prev.Holder, prev.Epoch, prev.Renewals)
	return affectedOne(res, err, "taking over the lease of cluster "+prev.Cluster)
}

// ReleaseLease ends a lease its holder still holds now (a clean stop), so another console takes it
// over at its next check instead of after the expiry.
func (s *Store) ReleaseLease(ctx context.Context, cluster, holder string, epoch int64, now time.Time) error {
	_, err := s.sqlDB.ExecContext(ctx, "UPDATE cluster_leases SET renewals = renewals + 1, expires_at = ? WHERE cluster = ? AND holder = ? AND epoch = ?",
		now.UTC(), cluster, holder, epoch)
	if err != nil {
		return fmt.Errorf("releasing the lease of cluster %s: %w", cluster, err)
	}
	return nil
}

// SaveSnapshot stores a cluster's latest snapshot (encoded by the caller) if holder still holds the
// cluster's lease at epoch: the condition is part of the statement, so a console that lost the lease
// cannot overwrite the new holder's snapshot. false: refused (not the holder any more).
func (s *Store) SaveSnapshot(ctx context.Context, cluster, holder string, epoch int64, takenAt time.Time, body []byte) (bool, error) {
	q := "INSERT INTO cluster_snapshots (cluster, epoch, taken_at, body) SELECT cluster, epoch, ?, ? FROM cluster_leases " +
		"WHERE cluster = ? AND holder = ? AND epoch = ? "
	if s.dialect == "mysql" {
		q += "ON DUPLICATE KEY UPDATE epoch = VALUES(epoch), taken_at = VALUES(taken_at), body = VALUES(body)"
	} else {
		q += "ON CONFLICT (cluster) DO UPDATE SET epoch = excluded.epoch, taken_at = excluded.taken_at, body = excluded.body"
	}
	res, err := s.sqlDB.ExecContext(ctx, q, takenAt.UTC(), body, cluster, holder, epoch)
	if err != nil {
		return false, fmt.Errorf("saving the snapshot of cluster %s: %w", cluster, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("saving the snapshot of cluster %s: %w", cluster, err)
	}
	return n > 0, nil // MySQL counts an updated row twice
}

// LoadSnapshot returns a cluster's stored snapshot if it was taken after after; ok is false when
// there is none or nothing newer.
func (s *Store) LoadSnapshot(ctx context.Context, cluster string, after time.Time) (body []byte, takenAt time.Time, ok bool, err error) {
	err = s.sqlDB.QueryRowContext(ctx, "SELECT body, taken_at FROM cluster_snapshots WHERE cluster = ? AND taken_at > ?",
		cluster, after.UTC()).Scan(&body, &takenAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, time.Time{}, false, nil
	}
	if err != nil {
		return nil, time.Time{}, false, fmt.Errorf("loading the snapshot of cluster %s: %w", cluster, err)
	}
	return body, takenAt.UTC(), true, nil
}

func affectedOne(res sql.Result, err error, what string) (bool, error) {
	if err != nil {
		return false, fmt.Errorf("%s: %w", what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("%s: %w", what, err)
	}
	return n == 1, nil
}
