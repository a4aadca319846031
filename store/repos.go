package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// The generic helpers below keep the per-entity methods one line each; every entity keeps its own
// exported method so callers (services, alerting) depend on named operations, not on gorm.

func create[T any](ctx context.Context, s *Store, what string, v *T) error {
	if err := s.db.WithContext(ctx).Create(v).Error; err != nil {
		if isDuplicate(err) {
			return fmt.Errorf("creating %s: %w", what, ErrConflict)
		}
		return fmt.Errorf("creating %s: %w", what, err)
	}
	return nil
}

func save[T any](ctx context.Context, s *Store, what string, id int64, v *T) error {
	res := s.db.WithContext(ctx).Model(new(T)).Where("id = ?", id).Select("*").Omit("id", "created_at").Updates(v)
	if res.Error != nil {
		if isDuplicate(res.Error) {
			return fmt.Errorf("updating %s %d: %w", what, id, ErrConflict)
		}
		return fmt.Errorf("updating %s %d: %w", what, id, res.Error)
	}
	if res.RowsAffected == 0 {
		// MySQL reports 0 rows when nothing changed; tell that apart from a missing row.
		var n int64
		if err := s.db.WithContext(ctx).Model(new(T)).Where("id = ?", id).Count(&n).Error; err != nil {
			return fmt.Errorf("updating %s %d: %w", what, id, err)
		}
		if n == 0 {
			return fmt.Errorf("updating %s %d: %w", what, id, ErrNotFound)
		}
	}
	return nil
}

func get[T any](ctx context.Context, s *Store, what string, id int64) (T, error) {
	var v T
	if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&v).Error; err != nil {
		return v, fmt.Errorf("reading %s %d: %w", what, id, wrapNotFound(err))
	}
	return v, nil
}

func list[T any](ctx context.Context, s *Store, what, order string) ([]T, error) {
	var out []T
	if err := s.db.WithContext(ctx).Order(order).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("listing %s: %w", what, err)
	}
	return out, nil
}

func remove[T any](ctx context.Context, s *Store, what string, id int64) error {
	res := s.db.WithContext(ctx).Where("id = ?", id).Delete(new(T))
	if res.Error != nil {
		return fmt.Errorf("deleting %s %d: %w", what, id, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("deleting %s %d: %w", what, id, ErrNotFound)
	}
	return nil
}

// UpsertCluster records a cluster by name, updating its addresses if it is already known.
func (s *Store) UpsertCluster(ctx context.Context, c *Cluster) error {
	now := time.Now().UTC()
	c.CreatedAt, c.UpdatedAt = now, now
	err := s.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "name"}},
		DoUpdates: clause.AssignmentColumns([]string{"source", "bootstrap_servers", "zookeeper", "updated_at"}),
	}).Create(c).Error
	if err != nil {
		return fmt.Errorf("recording cluster %q: %w", c.Name, err)
	}
	return nil
}

// Clusters lists the known clusters by name.
func (s *Store) Clusters(ctx context.Context) ([]Cluster, error) {
	return list[Cluster](ctx, s, "clusters", "name")
}

// DeleteCluster forgets a cluster by name (its time series expire with retention).
func (s *Store) DeleteCluster(ctx context.Context, name string) error {
	res := s.db.WithContext(ctx).Where("name = ?", name).Delete(&Cluster{})
	if res.Error != nil {
		return fmt.Errorf("deleting cluster %q: %w", name, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("deleting cluster %q: %w", name, ErrNotFound)
	}
	return nil
}

// AddAudit appends an audit entry; At defaults to now.
func (s *Store) AddAudit(ctx context.Context, e *AuditEntry) error {
	if e.At.IsZero() {
		e.At = time.Now().UTC()
	}
	if e.Params == "" {
		e.Params = "{}"
	}
	return create(ctx, s, "audit entry", e)
}

// AuditFilter narrows an audit listing; zero fields match everything.
type AuditFilter struct {
	Cluster string
	Actor   string
	Action  string
	// Method is the actor's sign-in method (token, local, ldap, oidc); RemoteAddr its source address.
	Method     string
	RemoteAddr string
	// Since and Until bound the entry's time (inclusive; zero: open).
	Since  time.Time
	Until  time.Time
	Limit  int
	Offset int
}

// Audit lists entries newest first with the total matching count.
func (s *Store) Audit(ctx context.Context, f AuditFilter) ([]AuditEntry, int64, error) {
	q := s.db.WithContext(ctx).Model(&AuditEntry{})
	if f.Cluster != "" {
		q = q.Where("cluster = ?", f.Cluster)
	}
	if f.Actor != "" {
		q = q.Where("actor = ?", f.Actor)
	}
	if f.Action != "" {
		q = q.Where("action = ?", f.Action)
	}
	if f.Method != "" {
		q = q.Where("auth_method = ?", f.Method)
	}
	if f.RemoteAddr != "" {
		q = q.Where("remote_addr = ?", f.RemoteAddr)
	}
	if !f.Since.IsZero() {
		q = q.Where("at >= ?", f.Since.UTC())
	}
	if !f.Until.IsZero() {
		q = q.Where("at <= ?", f.Until.UTC())
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("counting audit entries: %w", err)
	}
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	var out []AuditEntry
	if err := q.Order("id DESC").Limit(f.Limit).Offset(f.Offset).Find(&out).Error; err != nil {
		return nil, 0, fmt.Errorf("listing audit entries: %w", err)
	}
	return out, total, nil
}

// Setting reads a console setting; ok is false when it was never set.
func (s *Store) Setting(ctx context.Context, key string) (value string, ok bool, err error) {
	var st Setting
	err = s.db.WithContext(ctx).Where("k = ?", key).Take(&st).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("reading setting %q: %w", key, err)
	}
	return st.V, true, nil
}

// SetSetting writes a console setting.
func (s *Store) SetSetting(ctx context.Context, key, value string) error {
	err := s.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "k"}},
		DoUpdates: clause.AssignmentColumns([]string{"v"}),
	}).Create(&Setting{K: key, V: value}).Error
	if err != nil {
		return fmt.Errorf("writing setting %q: %w", key, err)
	}
	return nil
}

// CreateUser adds an account; ErrConflict when the username is taken.
func (s *Store) CreateUser(ctx context.Context, u *User) error { return create(ctx, s, "user", u) }

// UserByName finds an account by username.
func (s *Store) UserByName(ctx context.Context, username string) (User, error) {
	var u User
	if err := s.db.WithContext(ctx).Where("username = ?", username).Take(&u).Error; err != nil {
		return u, fmt.Errorf("reading user %q: %w", username, wrapNotFound(err))
	}
	return u, nil
}

// Users lists accounts by username.
func (s *Store) Users(ctx context.Context) ([]User, error) {
	return list[User](ctx, s, "users", "username")
}

// CreateAPIToken stores a token (already hashed by the caller).
func (s *Store) CreateAPIToken(ctx context.Context, t *APIToken) error {
	return create(ctx, s, "API token", t)
}

// APITokenByHash finds a token by the SHA-256 hash of its clear text.
func (s *Store) APITokenByHash(ctx context.Context, hash string) (APIToken, error) {
	var t APIToken
	if err := s.db.WithContext(ctx).Where("token_hash = ?", hash).Take(&t).Error; err != nil {
		return t, fmt.Errorf("reading API token: %w", wrapNotFound(err))
	}
	return t, nil
}

// DeleteAPIToken revokes a token.
func (s *Store) DeleteAPIToken(ctx context.Context, id int64) error {
	return remove[APIToken](ctx, s, "API token", id)
}

// CreateSession stores a login session.
func (s *Store) CreateSession(ctx context.Context, se *Session) error {
	return create(ctx, s, "session", se)
}

// SessionByHash finds an unexpired session.
func (s *Store) SessionByHash(ctx context.Context, idHash string, now time.Time) (Session, error) {
	var se Session
	err := s.db.WithContext(ctx).Where("id_hash = ? AND expires_at > ?", idHash, now.UTC()).Take(&se).Error
	if err != nil {
		return se, fmt.Errorf("reading session: %w", wrapNotFound(err))
	}
	return se, nil
}

// DeleteSession ends a session (logout).
func (s *Store) DeleteSession(ctx context.Context, idHash string) error {
	if err := s.db.WithContext(ctx).Where("id_hash = ?", idHash).Delete(&Session{}).Error; err != nil {
		return fmt.Errorf("deleting session: %w", err)
	}
	return nil
}

// CreateAlertChannel adds a channel; the caller validates Config.
func (s *Store) CreateAlertChannel(ctx context.Context, c *AlertChannel) error {
	return create(ctx, s, "alert channel", c)
}

// UpdateAlertChannel replaces a channel's fields.
func (s *Store) UpdateAlertChannel(ctx context.Context, c *AlertChannel) error {
	return save(ctx, s, "alert channel", c.ID, c)
}

// AlertChannel reads one channel.
func (s *Store) AlertChannel(ctx context.Context, id int64) (AlertChannel, error) {
	return get[AlertChannel](ctx, s, "alert channel", id)
}

// AlertChannels lists channels by id.
func (s *Store) AlertChannels(ctx context.Context) ([]AlertChannel, error) {
	return list[AlertChannel](ctx, s, "alert channels", "id")
}

// DeleteAlertChannel removes a channel.
func (s *Store) DeleteAlertChannel(ctx context.Context, id int64) error {
	return remove[AlertChannel](ctx, s, "alert channel", id)
}

// CreateAlertRule adds a rule.
func (s *Store) CreateAlertRule(ctx context.Context, r *AlertRule) error {
	return create(ctx, s, "alert rule", r)
}

// UpdateAlertRule replaces a rule's fields.
func (s *Store) UpdateAlertRule(ctx context.Context, r *AlertRule) error {
	return save(ctx, s, "alert rule", r.ID, r)
}

// AlertRule reads one rule.
func (s *Store) AlertRule(ctx context.Context, id int64) (AlertRule, error) {
	return get[AlertRule](ctx, s, "alert rule", id)
}

// AlertRules lists rules by id.
func (s *Store) AlertRules(ctx context.Context) ([]AlertRule, error) {
	return list[AlertRule](ctx, s, "alert rules", "id")
}

// DeleteAlertRule removes a rule.
func (s *Store) DeleteAlertRule(ctx context.Context, id int64) error {
	return remove[AlertRule](ctx, s, "alert rule", id)
}

// CreateAlertEvent records a newly firing alert.
func (s *Store) CreateAlertEvent(ctx context.Context, e *AlertEvent) error {
	return create(ctx, s, "alert event", e)
}

// UpdateAlertEvent saves an event's state (resolution, notifications, delivery errors).
func (s *Store) UpdateAlertEvent(ctx context.Context, e *AlertEvent) error {
	return save(ctx, s, "alert event", e.ID, e)
}

// FiringAlertEvents lists events still firing: the evaluator reloads them at start so a restart
// neither repeats nor forgets a notification.
func (s *Store) FiringAlertEvents(ctx context.Context) ([]AlertEvent, error) {
	var out []AlertEvent
	if err := s.db.WithContext(ctx).Where("state = ?", "firing").Order("id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("listing firing alerts: %w", err)
	}
	return out, nil
}

// AlertEvents lists events newest first.
func (s *Store) AlertEvents(ctx context.Context, limit, offset int) ([]AlertEvent, int64, error) {
	var total int64
	if err := s.db.WithContext(ctx).Model(&AlertEvent{}).Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("counting alert events: %w", err)
	}
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	var out []AlertEvent
	if err := s.db.WithContext(ctx).Order("id DESC").Limit(limit).Offset(offset).Find(&out).Error; err != nil {
		return nil, 0, fmt.Errorf("listing alert events: %w", err)
	}
	return out, total, nil
}

// CreateReassignment records a started reassignment.
func (s *Store) CreateReassignment(ctx context.Context, r *Reassignment) error {
	return create(ctx, s, "reassignment", r)
}

// UpdateReassignment saves a reassignment's progress or end.
func (s *Store) UpdateReassignment(ctx context.Context, r *Reassignment) error {
	return save(ctx, s, "reassignment", r.ID, r)
}

// Reassignments lists a cluster's reassignments newest first.
func (s *Store) Reassignments(ctx context.Context, cluster string, limit int) ([]Reassignment, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	var out []Reassignment
	if err := s.db.WithContext(ctx).Where("cluster = ?", cluster).Order("id DESC").Limit(limit).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("listing reassignments: %w", err)
	}
	return out, nil
}

// CreateRuntimeCluster records a cluster the console stood up.
func (s *Store) CreateRuntimeCluster(ctx context.Context, c *RuntimeCluster) error {
	return create(ctx, s, "runtime cluster", c)
}

// UpdateRuntimeCluster saves a runtime cluster's state.
func (s *Store) UpdateRuntimeCluster(ctx context.Context, c *RuntimeCluster) error {
	return save(ctx, s, "runtime cluster", c.ID, c)
}

// RuntimeClusters lists the runtime clusters by name.
func (s *Store) RuntimeClusters(ctx context.Context) ([]RuntimeCluster, error) {
	return list[RuntimeCluster](ctx, s, "runtime clusters", "name")
}

// DeleteRuntimeCluster forgets a runtime cluster.
func (s *Store) DeleteRuntimeCluster(ctx context.Context, id int64) error {
	return remove[RuntimeCluster](ctx, s, "runtime cluster", id)
}

// FinishAudit records how an audited operation ended. The entry is written before the operation runs
// (so an operation that crashes the console still leaves a trace) and completed here.
func (s *Store) FinishAudit(ctx context.Context, id int64, result, errMsg string) error {
	res := s.db.WithContext(ctx).Model(&AuditEntry{}).Where("id = ?", id).
		Updates(map[string]any{"result": result, "error": errMsg})
	if res.Error != nil {
		return fmt.Errorf("finishing audit entry %d: %w", id, res.Error)
	}
	return nil
}

// TouchAPIToken records a token's last use.
func (s *Store) TouchAPIToken(ctx context.Context, id int64, at time.Time) error {
	at = at.UTC()
	if err := s.db.WithContext(ctx).Model(&APIToken{}).Where("id = ?", id).Update("last_used_at", &at).Error; err != nil {
		return fmt.Errorf("touching API token %d: %w", id, err)
	}
	return nil
}

// APITokens lists tokens (hashes included; callers must not return them) by id.
func (s *Store) APITokens(ctx context.Context) ([]APIToken, error) {
	return list[APIToken](ctx, s, "API tokens", "id")
}

// User reads an account by id.
func (s *Store) User(ctx context.Context, id int64) (User, error) {
	return get[User](ctx, s, "user", id)
}

// RecordLogin stamps an account's last login.
func (s *Store) RecordLogin(ctx context.Context, id int64, at time.Time) error {
	at = at.UTC()
	if err := s.db.WithContext(ctx).Model(&User{}).Where("id = ?", id).Update("last_login_at", &at).Error; err != nil {
		return fmt.Errorf("recording login of user %d: %w", id, err)
	}
	return nil
}
