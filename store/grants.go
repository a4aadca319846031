package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// User sources.
const (
	UserSourceLocal = "local"
	UserSourceLDAP  = "ldap"
	UserSourceOIDC  = "oidc"
)

// SaveDirectoryUser creates or refreshes the account of a directory user who just signed in: its
// role and groups come from the directory. ErrConflict when a local account has the name: a
// directory sign-in never takes over a local account.
func (s *Store) SaveDirectoryUser(ctx context.Context, u *User) error {
	var cur User
	err := s.db.WithContext(ctx).Where("username = ?", u.Username).Take(&cur).Error
	if err != nil && !errors.Is(wrapNotFound(err), ErrNotFound) {
		return fmt.Errorf("reading user %q: %w", u.Username, err)
	}
	if err != nil {
		return create(ctx, s, "directory user", u)
	}
	if cur.Source != u.Source {
		return fmt.Errorf("user %q is a %s account: %w", u.Username, cur.Source, ErrConflict)
	}
	err = s.db.WithContext(ctx).Model(&User{}).Where("id = ?", cur.ID).Updates(map[string]any{
		"role": u.Role, "directory_groups": u.DirectoryGroups, "updated_at": time.Now().UTC()}).Error
	if err != nil {
		return fmt.Errorf("updating directory user %q: %w", u.Username, err)
	}
	cur.Role, cur.DirectoryGroups = u.Role, u.DirectoryGroups
	*u = cur
	return nil
}

// RoleGrant gives Subject a Role on Cluster ("*" for every cluster).
type RoleGrant struct {
	ID int64 `gorm:"primaryKey"`
	// SubjectKind is user, group or token.
	SubjectKind string
	Subject     string
	Cluster     string
	Role        string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// RoleGrants lists every grant.
func (s *Store) RoleGrants(ctx context.Context) ([]RoleGrant, error) {
	return list[RoleGrant](ctx, s, "role grants", "subject_kind, subject, cluster")
}

// CreateRoleGrant adds a grant; ErrConflict when the subject already has one on that cluster.
func (s *Store) CreateRoleGrant(ctx context.Context, g *RoleGrant) error {
	return create(ctx, s, "role grant", g)
}

// DeleteRoleGrant removes a grant.
func (s *Store) DeleteRoleGrant(ctx context.Context, id int64) error {
	return remove[RoleGrant](ctx, s, "role grant", id)
}
