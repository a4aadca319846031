package store

import (
	"context"
	"fmt"
)

// Ping checks that the database answers: a write that failed while Ping succeeds failed because of
// what it wrote, not because the database is unreachable.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.sqlDB.PingContext(ctx); err != nil {
		return fmt.Errorf("pinging the database: %w", err)
	}
	return nil
}
