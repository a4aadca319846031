package store

import (
	"context"
	"fmt"
	"time"
)

// ExtendSession moves a session's end to expires (idle timeout sliding on use).
func (s *Store) ExtendSession(ctx context.Context, idHash string, expires time.Time) error {
	err := s.db.WithContext(ctx).Model(&Session{}).Where("id_hash = ?", idHash).Update("expires_at", expires.UTC()).Error
	if err != nil {
		return fmt.Errorf("extending session: %w", err)
	}
	return nil
}

// DeleteUserSessions ends every session of a user (sign out everywhere) and answers how many.
func (s *Store) DeleteUserSessions(ctx context.Context, userID int64) (int64, error) {
	res := s.db.WithContext(ctx).Where("user_id = ?", userID).Delete(&Session{})
	if res.Error != nil {
		return 0, fmt.Errorf("deleting sessions of user %d: %w", userID, res.Error)
	}
	return res.RowsAffected, nil
}
