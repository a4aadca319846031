package store

import (
	"context"
	"time"
)

// MaskingRule is what the console hides of matching topics' records before they leave the server.
// Exactly one of JSONPath and Regex is set; ExemptRoles is a comma-separated role list.
type MaskingRule struct {
	ID           int64 `gorm:"primaryKey"`
	Name         string
	Cluster      string // "" for every cluster
	TopicPattern string
	TopicRegex   bool   // TopicPattern is a regular expression, not a glob
	JSONPath     string `gorm:"column:json_path"`
	Regex        string
	Action       string // mask, hash or drop
	ExemptRoles  string
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// MaskingRules lists the rules by name.
func (s *Store) MaskingRules(ctx context.Context) ([]MaskingRule, error) {
	return list[MaskingRule](ctx, s, "masking rules", "name")
}

// MaskingRule reads one rule.
func (s *Store) MaskingRule(ctx context.Context, id int64) (MaskingRule, error) {
	return get[MaskingRule](ctx, s, "masking rule", id)
}

// CreateMaskingRule stores a new rule; a name in use is ErrConflict.
func (s *Store) CreateMaskingRule(ctx context.Context, r *MaskingRule) error {
	return create(ctx, s, "masking rule", r)
}

// SaveMaskingRule replaces rule r.ID; an unknown id is ErrNotFound.
func (s *Store) SaveMaskingRule(ctx context.Context, r *MaskingRule) error {
	return save(ctx, s, "masking rule", r.ID, r)
}

// DeleteMaskingRule removes a rule; an unknown id is ErrNotFound.
func (s *Store) DeleteMaskingRule(ctx context.Context, id int64) error {
	return remove[MaskingRule](ctx, s, "masking rule", id)
}
