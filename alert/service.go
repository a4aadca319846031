package alert

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/osprey-kafka/osprey/store"
)

// Service is the API the HTTP handlers call. Validation failures are
// *ValidationError (400); a missing id is store.ErrNotFound (404); a
// duplicate name is store.ErrConflict (409). Every change takes effect at
// once (the evaluator reloads).
type Service struct {
	ev    *Evaluator
	store Store
}

// NewService wraps an evaluator (which holds the store).
func NewService(ev *Evaluator) *Service { return &Service{ev: ev, store: ev.store} }

// ListRules lists every rule by id.
func (s *Service) ListRules(ctx context.Context) ([]Rule, error) {
	rs, err := s.store.AlertRules(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Rule, len(rs))
	for i, r := range rs {
		out[i] = ruleFromStore(r)
	}
	return out, nil
}

// GetRule reads one rule.
func (s *Service) GetRule(ctx context.Context, id int64) (Rule, error) {
	r, err := s.store.AlertRule(ctx, id)
	if err != nil {
		return Rule{}, err
	}
	return ruleFromStore(r), nil
}

func (s *Service) checkChannels(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	chans, err := s.store.AlertChannels(ctx)
	if err != nil {
		return err
	}
	known := map[int64]bool{}
	for _, c := range chans {
		known[c.ID] = true
	}
	var ps problems
	for _, id := range ids {
		if !known[id] {
			ps.add("channelIds", "channel %d does not exist", id)
		}
	}
	return ps.err()
}

// CreateRule validates and stores a rule; it returns the stored rule.
func (s *Service) CreateRule(ctx context.Context, in RuleInput) (Rule, error) {
	r, err := in.normalize()
	if err != nil {
		return Rule{}, err
	}
	if err := s.checkChannels(ctx, r.ChannelIDs); err != nil {
		return Rule{}, err
	}
	now := time.Now().UTC()
	r.CreatedAt, r.UpdatedAt = now, now
	sr := r.toStore()
	if err := s.store.CreateAlertRule(ctx, sr); err != nil {
		return Rule{}, err
	}
	r.ID = sr.ID
	s.reload(ctx)
	return r, nil
}

// UpdateRule replaces rule id's settings (Enabled nil keeps the current value).
func (s *Service) UpdateRule(ctx context.Context, id int64, in RuleInput) (Rule, error) {
	old, err := s.store.AlertRule(ctx, id)
	if err != nil {
		return Rule{}, err
	}
	if in.Enabled == nil {
		in.Enabled = &old.Enabled
	}
	r, err := in.normalize()
	if err != nil {
		return Rule{}, err
	}
	if err := s.checkChannels(ctx, r.ChannelIDs); err != nil {
		return Rule{}, err
	}
	r.ID, r.CreatedAt, r.UpdatedAt = id, old.CreatedAt, time.Now().UTC()
	if err := s.store.UpdateAlertRule(ctx, r.toStore()); err != nil {
		return Rule{}, err
	}
	s.reload(ctx)
	return r, nil
}

// DeleteRule removes a rule; its firing alerts resolve (without a notification).
func (s *Service) DeleteRule(ctx context.Context, id int64) error {
	if err := s.store.DeleteAlertRule(ctx, id); err != nil {
		return err
	}
	s.reload(ctx)
	return nil
}

// Channel is a notification channel as the API shows it: Config redacted.
type Channel struct {
	ID        int64           `json:"id"`
	Name      string          `json:"name"`
	Type      ChannelType     `json:"type"`
	Config    json.RawMessage `json:"config"`
	Enabled   bool            `json:"enabled"`
	CreatedAt time.Time       `json:"createdAt"`
	UpdatedAt time.Time       `json:"updatedAt"`
}

// ChannelInput is what a client sends to create or replace a channel.
// On update, secrets sent back in their masked form keep the stored value.
// Enabled nil means true on create and "unchanged" on update.
type ChannelInput struct {
	Name    string          `json:"name"`
	Type    ChannelType     `json:"type"`
	Config  json.RawMessage `json:"config"`
	Enabled *bool           `json:"enabled"`
}

func channelFromStore(c store.AlertChannel) Channel {
	ch := Channel{ID: c.ID, Name: c.Name, Type: ChannelType(c.Type), Enabled: c.Enabled, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
	red, err := Redact(ch.Type, json.RawMessage(c.Config))
	if err != nil {
		red = json.RawMessage(`{}`) // unreadable config: show nothing rather than secrets
	}
	ch.Config = red
	return ch
}

// ListChannels lists channels by id with their secrets redacted.
func (s *Service) ListChannels(ctx context.Context) ([]Channel, error) {
	cs, err := s.store.AlertChannels(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Channel, len(cs))
	for i, c := range cs {
		out[i] = channelFromStore(c)
	}
	return out, nil
}

// GetChannel reads one channel, redacted.
func (s *Service) GetChannel(ctx context.Context, id int64) (Channel, error) {
	c, err := s.store.AlertChannel(ctx, id)
	if err != nil {
		return Channel{}, err
	}
	return channelFromStore(c), nil
}

func checkChannelName(ps *problems, name string) {
	if name == "" {
		ps.add("name", "is required")
	} else if len(name) > 128 {
		ps.add("name", "must be at most 128 characters")
	}
}

// validated checks in and returns the config to store.
func validated(in ChannelInput, cfg channelConfig) (string, error) {
	var ps problems
	checkChannelName(&ps, strings.TrimSpace(in.Name))
	cfg.validate(&ps)
	if err := ps.err(); err != nil {
		return "", err
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		return "", fmt.Errorf("encoding the channel config: %w", err)
	}
	return string(b), nil
}

// CreateChannel validates and stores a channel and returns its id.
func (s *Service) CreateChannel(ctx context.Context, in ChannelInput) (int64, error) {
	cfg, err := parseConfig(in.Type, in.Config)
	if err != nil {
		return 0, err
	}
	raw, err := validated(in, cfg)
	if err != nil {
		return 0, err
	}
	now := time.Now().UTC()
	c := &store.AlertChannel{Name: strings.TrimSpace(in.Name), Type: string(in.Type), Config: raw,
		Enabled: in.Enabled == nil || *in.Enabled, CreatedAt: now, UpdatedAt: now}
	if err := s.store.CreateAlertChannel(ctx, c); err != nil {
		return 0, err
	}
	s.reload(ctx)
	return c.ID, nil
}

// UpdateChannel replaces channel id; masked secrets keep their stored value.
func (s *Service) UpdateChannel(ctx context.Context, id int64, in ChannelInput) (Channel, error) {
	old, err := s.store.AlertChannel(ctx, id)
	if err != nil {
		return Channel{}, err
	}
	cfg, err := mergeConfig(in.Type, json.RawMessage(old.Config), in.Config, ChannelType(old.Type))
	if err != nil {
		return Channel{}, err
	}
	raw, err := validated(in, cfg)
	if err != nil {
		return Channel{}, err
	}
	c := old
	c.Name, c.Type, c.Config, c.UpdatedAt = strings.TrimSpace(in.Name), string(in.Type), raw, time.Now().UTC()
	if in.Enabled != nil {
		c.Enabled = *in.Enabled
	}
	if err := s.store.UpdateAlertChannel(ctx, &c); err != nil {
		return Channel{}, err
	}
	s.reload(ctx)
	return channelFromStore(c), nil
}

// DeleteChannel removes a channel and takes it out of every rule.
func (s *Service) DeleteChannel(ctx context.Context, id int64) error {
	if err := s.store.DeleteAlertChannel(ctx, id); err != nil {
		return err
	}
	rules, err := s.store.AlertRules(ctx)
	if err != nil {
		return fmt.Errorf("channel deleted, but updating the rules that used it failed: %w", err)
	}
	for _, sr := range rules {
		r := ruleFromStore(sr)
		kept := make([]int64, 0, len(r.ChannelIDs))
		for _, c := range r.ChannelIDs {
			if c != id {
				kept = append(kept, c)
			}
		}
		if len(kept) == len(r.ChannelIDs) {
			continue
		}
		r.ChannelIDs = kept
		if err := s.store.UpdateAlertRule(ctx, r.toStore()); err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("channel deleted, but updating rule %d failed: %w", r.ID, err)
		}
	}
	s.reload(ctx)
	return nil
}

// TestChannel sends a test notification through channel id now (one
// attempt, bounded by the send timeout) and returns the delivery error, if
// any. A disabled channel is tested too.
func (s *Service) TestChannel(ctx context.Context, id int64) error {
	c, err := s.store.AlertChannel(ctx, id)
	if err != nil {
		return err
	}
	sender, err := NewSender(ChannelType(c.Type), json.RawMessage(c.Config), s.ev.opts.HTTPClient, s.ev.opts.Now)
	if err != nil {
		return err
	}
	now := s.ev.opts.Now().UTC()
	n := Notification{
		State: StateFiring, Test: true, RuleName: "test", Kind: "test", Severity: SeverityInfo,
		Cluster: "-", Subject: "channel " + c.Name, Labels: map[string]string{},
		Summary:   fmt.Sprintf("Test notification from Osprey to channel %q (%s). If you can read this, the channel works.", c.Name, c.Type),
		StartedAt: now, Link: strings.TrimRight(s.ev.opts.PublicURL, "/"), Fingerprint: "test",
	}
	sctx, cancel := context.WithTimeout(ctx, s.ev.opts.SendTimeout)
	defer cancel()
	if err := sender.Send(sctx, n); err != nil {
		return fmt.Errorf("test notification to %q failed: %w", c.Name, err)
	}
	return nil
}

// Event is one alert event (history) as the API shows it.
type Event struct {
	ID             int64             `json:"id"`
	RuleID         int64             `json:"ruleId"`
	Fingerprint    string            `json:"fingerprint"`
	State          string            `json:"state"` // firing or resolved
	Severity       string            `json:"severity"`
	Cluster        string            `json:"cluster"`
	Subject        string            `json:"subject"`
	Summary        string            `json:"summary"`
	Labels         map[string]string `json:"labels"`
	Samples        json.RawMessage   `json:"samples"`
	StartedAt      time.Time         `json:"startedAt"`
	ResolvedAt     *time.Time        `json:"resolvedAt,omitempty"`
	LastNotifiedAt *time.Time        `json:"lastNotifiedAt,omitempty"`
	Notifications  int               `json:"notifications"`
	DeliveryError  string            `json:"deliveryError,omitempty"`
}

// Events lists alert events newest first with the total count.
func (s *Service) Events(ctx context.Context, limit, offset int) ([]Event, int64, error) {
	evs, total, err := s.store.AlertEvents(ctx, limit, max(offset, 0))
	if err != nil {
		return nil, 0, err
	}
	out := make([]Event, len(evs))
	for i, e := range evs {
		x := Event{ID: e.ID, RuleID: e.RuleID, Fingerprint: e.Fingerprint, State: e.State, Severity: e.Severity,
			Cluster: e.Cluster, Subject: e.Subject, Summary: e.Summary, StartedAt: e.StartedAt,
			ResolvedAt: e.ResolvedAt, LastNotifiedAt: e.LastNotifiedAt, Notifications: e.Notifications, DeliveryError: e.DeliveryError}
		_ = json.Unmarshal([]byte(e.Labels), &x.Labels)
		if json.Valid([]byte(e.Samples)) {
			x.Samples = json.RawMessage(e.Samples)
		} else {
			x.Samples = json.RawMessage("null")
		}
		out[i] = x
	}
	return out, total, nil
}

// Active lists the pending and firing alerts (from memory).
func (s *Service) Active() []ActiveAlert { return s.ev.Active() }

// reload applies a change now; a failure is logged (the periodic reload retries).
func (s *Service) reload(ctx context.Context) {
	if err := s.ev.Reload(ctx); err != nil {
		s.ev.log.Warn("reloading alert rules after a change", "err", err)
	}
}

// GroupStatus is the group's Burrow-style window status (see Evaluator.GroupStatus).
func (s *Service) GroupStatus(cluster, group string, window int) (GroupStatus, bool) {
	return s.ev.GroupStatus(cluster, group, window)
}
