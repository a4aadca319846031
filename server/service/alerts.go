package service

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/osprey-kafka/osprey/alert"
	"github.com/osprey-kafka/osprey/store"
)

// Alerts is the console's alerting area: rules, notification channels, the alert history and the
// alerts active now, over the alert evaluator's service. It answers its own view types, audits
// every change, and turns the alert package's failures into UserErrors: invalid settings are 400
// invalid, an unknown id 404 not_found, a taken name 409 conflict.
type Alerts struct {
	svc *Service
	// src is asked on every call: the console can run without the evaluator (nil), which answers
	// 503 alerts_disabled.
	src func() *alert.Service
}

// NewAlerts is the alerting area of svc over the evaluator's service that src returns.
func NewAlerts(svc *Service, src func() *alert.Service) *Alerts { return &Alerts{svc: svc, src: src} }

// AlertKind is what a rule watches.
type AlertKind string

// Enum lists the kinds for the API document.
func (AlertKind) Enum() []any {
	out := make([]any, len(alert.Kinds))
	for i, k := range alert.Kinds {
		out[i] = string(k)
	}
	return out
}

// AlertSeverity ranks an alert.
type AlertSeverity string

// Enum lists the severities for the API document.
func (AlertSeverity) Enum() []any {
	return []any{string(alert.SeverityInfo), string(alert.SeverityWarning), string(alert.SeverityCritical)}
}

// AlertChannelType is a kind of notification destination.
type AlertChannelType string

// Enum lists the channel types for the API document.
func (AlertChannelType) Enum() []any {
	out := make([]any, len(alert.ChannelTypes))
	for i, t := range alert.ChannelTypes {
		out[i] = string(t)
	}
	return out
}

// AlertRule is an alerting rule as the API shows it.
type AlertRule struct {
	ID              int64         `json:"id"`
	Name            string        `json:"name"`
	Kind            AlertKind     `json:"kind"`
	Cluster         string        `json:"cluster" description:"Cluster name pattern (glob); * is every cluster"`
	Group           string        `json:"group" description:"Consumer group pattern (glob), for the lag kinds"`
	Topic           string        `json:"topic" description:"Topic pattern (glob)"`
	Threshold       float64       `json:"threshold"`
	WindowSamples   int           `json:"windowSamples"`
	ForSeconds      int           `json:"forSeconds" description:"How long the condition holds before the alert fires"`
	CooldownSeconds int           `json:"cooldownSeconds"`
	RepeatSeconds   int           `json:"repeatSeconds" description:"Reminder interval while firing; 0 sends none"`
	Severity        AlertSeverity `json:"severity"`
	ChannelIDs      []int64       `json:"channelIds"`
	Enabled         bool          `json:"enabled"`
	CreatedAt       time.Time     `json:"createdAt"`
	UpdatedAt       time.Time     `json:"updatedAt"`
}

// AlertRuleInput is a rule to create or the new settings of one. Empty patterns mean *,
// windowSamples 0 means 10, an empty severity means warning; enabled absent means true on create
// and unchanged on update.
type AlertRuleInput struct {
	Name            string        `json:"name" required:"true"`
	Kind            AlertKind     `json:"kind" required:"true"`
	Cluster         string        `json:"cluster"`
	Group           string        `json:"group"`
	Topic           string        `json:"topic"`
	Threshold       float64       `json:"threshold"`
	WindowSamples   int           `json:"windowSamples"`
	ForSeconds      int           `json:"forSeconds"`
	CooldownSeconds int           `json:"cooldownSeconds"`
	RepeatSeconds   int           `json:"repeatSeconds"`
	Severity        AlertSeverity `json:"severity"`
	ChannelIDs      []int64       `json:"channelIds"`
	Enabled         *bool         `json:"enabled"`
}

func (in AlertRuleInput) toAlert() alert.RuleInput {
	return alert.RuleInput{Name: in.Name, Kind: alert.Kind(in.Kind), Cluster: in.Cluster, Group: in.Group, Topic: in.Topic,
		Threshold: in.Threshold, WindowSamples: in.WindowSamples, ForSeconds: in.ForSeconds, CooldownSeconds: in.CooldownSeconds,
		RepeatSeconds: in.RepeatSeconds, Severity: alert.Severity(in.Severity), ChannelIDs: in.ChannelIDs, Enabled: in.Enabled}
}

func ruleView(r alert.Rule) AlertRule {
	ids := r.ChannelIDs
	if ids == nil {
		ids = []int64{}
	}
	return AlertRule{ID: r.ID, Name: r.Name, Kind: AlertKind(r.Kind), Cluster: r.Cluster, Group: r.Group, Topic: r.Topic,
		Threshold: r.Threshold, WindowSamples: r.WindowSamples, ForSeconds: r.ForSeconds, CooldownSeconds: r.CooldownSeconds,
		RepeatSeconds: r.RepeatSeconds, Severity: AlertSeverity(r.Severity), ChannelIDs: ids, Enabled: r.Enabled,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

// ChannelConfig is a channel's settings, whose shape depends on the channel's type. Answers show it
// with every secret masked (robot tokens in URLs, signing secrets, secret headers, the SMTP
// password); a masked value sent back on update keeps the stored secret. The alert package parses
// it by the channel's type, so it is kept as the JSON the client sent.
type ChannelConfig struct{ raw json.RawMessage }

// MarshalJSON writes the config as it is (an absent one as {}).
func (c ChannelConfig) MarshalJSON() ([]byte, error) {
	if len(c.raw) == 0 {
		return []byte("{}"), nil
	}
	return c.raw, nil
}

// UnmarshalJSON keeps the config as sent.
func (c *ChannelConfig) UnmarshalJSON(b []byte) error {
	c.raw = append(c.raw[:0], b...)
	return nil
}

// JSONSchemaAnyOf documents the config as one of the channel types' settings.
func (ChannelConfig) JSONSchemaAnyOf() []any {
	return []any{alert.WebhookConfig{}, alert.SlackConfig{}, alert.DingTalkConfig{}, alert.WeComConfig{}, alert.FeishuConfig{}, alert.EmailConfig{}}
}

// AlertChannel is a notification channel as the API shows it, secrets masked.
type AlertChannel struct {
	ID        int64            `json:"id"`
	Name      string           `json:"name"`
	Type      AlertChannelType `json:"type"`
	Config    ChannelConfig    `json:"config"`
	Enabled   bool             `json:"enabled"`
	CreatedAt time.Time        `json:"createdAt"`
	UpdatedAt time.Time        `json:"updatedAt"`
}

func channelView(c alert.Channel) AlertChannel {
	return AlertChannel{ID: c.ID, Name: c.Name, Type: AlertChannelType(c.Type), Config: ChannelConfig{raw: c.Config},
		Enabled: c.Enabled, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
}

// AlertChannelInput is a channel to create or its new settings; enabled absent means true on
// create and unchanged on update.
type AlertChannelInput struct {
	Name    string           `json:"name" required:"true"`
	Type    AlertChannelType `json:"type" required:"true"`
	Config  ChannelConfig    `json:"config" required:"true"`
	Enabled *bool            `json:"enabled"`
}

func (in AlertChannelInput) toAlert() alert.ChannelInput {
	return alert.ChannelInput{Name: in.Name, Type: alert.ChannelType(in.Type), Config: in.Config.raw, Enabled: in.Enabled}
}

// audit keeps channel configs (URLs with tokens, passwords) out of the audit log.
func (in AlertChannelInput) audit() map[string]any {
	return map[string]any{"name": in.Name, "type": in.Type, "enabled": in.Enabled}
}

// ChannelTestResult says whether a test notification reached the channel's receiver. A failed
// delivery is an answer, not an API failure, so the page can show the receiver's error.
type ChannelTestResult struct {
	Delivered bool   `json:"delivered"`
	Error     string `json:"error,omitempty"`
}

// AlertEvent is one alert of the history: when it fired and resolved and whom it reached.
type AlertEvent struct {
	ID          int64             `json:"id"`
	RuleID      int64             `json:"ruleId"`
	Fingerprint string            `json:"fingerprint"`
	State       string            `json:"state" enum:"firing,resolved"`
	Severity    AlertSeverity     `json:"severity"`
	Cluster     string            `json:"cluster"`
	Subject     string            `json:"subject"`
	Summary     string            `json:"summary"`
	Labels      map[string]string `json:"labels"`
	// Samples is null when the stored figures cannot be read.
	Samples        *AlertSamples `json:"samples"`
	StartedAt      time.Time     `json:"startedAt"`
	ResolvedAt     *time.Time    `json:"resolvedAt,omitempty"`
	LastNotifiedAt *time.Time    `json:"lastNotifiedAt,omitempty"`
	Notifications  int           `json:"notifications"`
	DeliveryError  string        `json:"deliveryError,omitempty"`
}

// AlertSamples are the figures a rule saw when its alert fired.
type AlertSamples struct {
	Value     float64 `json:"value"`
	Threshold float64 `json:"threshold"`
	// Data are the figures behind the value (partition lags, brokers, ISR lists…); their shape
	// depends on the rule's kind, so the document leaves them free-form.
	Data      json.RawMessage `json:"data,omitempty" description:"The figures behind the value; their shape depends on the rule's kind"`
	Truncated bool            `json:"truncated,omitempty" description:"Data was left out: too large to keep"`
}

func samplesView(raw json.RawMessage) *AlertSamples {
	var s AlertSamples
	if len(raw) == 0 || string(raw) == "null" || json.Unmarshal(raw, &s) != nil {
		return nil
	}
	return &s
}

func eventView(e alert.Event) AlertEvent {
	return AlertEvent{ID: e.ID, RuleID: e.RuleID, Fingerprint: e.Fingerprint, State: e.State, Severity: AlertSeverity(e.Severity),
		Cluster: e.Cluster, Subject: e.Subject, Summary: e.Summary, Labels: orEmpty(e.Labels), Samples: samplesView(e.Samples),
		StartedAt: e.StartedAt, ResolvedAt: e.ResolvedAt, LastNotifiedAt: e.LastNotifiedAt,
		Notifications: e.Notifications, DeliveryError: e.DeliveryError}
}

// ActiveAlert is a pending or firing alert.
type ActiveAlert struct {
	Fingerprint string            `json:"fingerprint"`
	RuleID      int64             `json:"ruleId"`
	RuleName    string            `json:"ruleName"`
	Kind        AlertKind         `json:"kind"`
	State       string            `json:"state" enum:"pending,firing"`
	Severity    AlertSeverity     `json:"severity"`
	Cluster     string            `json:"cluster"`
	Subject     string            `json:"subject"`
	Labels      map[string]string `json:"labels"`
	Value       float64           `json:"value"`
	Threshold   float64           `json:"threshold"`
	Summary     string            `json:"summary"`
	ActiveAt    time.Time         `json:"activeAt" description:"When the condition was first seen (the hold began)"`
	FiresAt     *time.Time        `json:"firesAt,omitempty" description:"For a pending alert, when its hold ends"`
	FiredAt     *time.Time        `json:"firedAt,omitempty" description:"When a firing alert's hold ended"`
	QuietUntil  *time.Time        `json:"quietUntil,omitempty" description:"For a firing alert nobody was told about yet, when its cool-down ends"`
	// LastNotified keeps the JSON name of the events' field for the same moment.
	LastNotified  *time.Time `json:"lastNotifiedAt,omitempty"`
	Notifications int        `json:"notifications"`
	EventID       int64      `json:"eventId,omitempty"`
	DeliveryError string     `json:"deliveryError,omitempty"`
	Link          string     `json:"link,omitempty" description:"The console page of the alert's subject"`
}

func activeView(a alert.ActiveAlert) ActiveAlert {
	return ActiveAlert{Fingerprint: a.Fingerprint, RuleID: a.RuleID, RuleName: a.RuleName, Kind: AlertKind(a.Kind), State: a.State,
		Severity: AlertSeverity(a.Severity), Cluster: a.Cluster, Subject: a.Subject, Labels: orEmpty(a.Labels), Value: a.Value,
		Threshold: a.Threshold, Summary: a.Summary, ActiveAt: a.ActiveAt, FiresAt: a.FiresAt, FiredAt: a.FiredAt,
		QuietUntil: a.QuietUntil, LastNotified: a.LastNotified, Notifications: a.Notifications, EventID: a.EventID,
		DeliveryError: a.DeliveryError, Link: a.Link}
}

// orEmpty answers {} rather than null for an alert without labels.
func orEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func (a *Alerts) service() (*alert.Service, error) {
	if as := a.src(); as != nil {
		return as, nil
	}
	return nil, &UserError{Status: http.StatusServiceUnavailable, Code: "alerts_disabled", Message: "alerting is not running in this console"}
}

// alertError turns the alert package's failures into what the caller is told; anything else
// stays an internal error.
func alertError(err error) error {
	var ve *alert.ValidationError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ve):
		return &UserError{Status: http.StatusBadRequest, Code: "invalid", Message: ve.Error()}
	case errors.Is(err, store.ErrNotFound):
		return &UserError{Status: http.StatusNotFound, Code: "not_found", Message: "no such item", Cause: err}
	case errors.Is(err, store.ErrConflict):
		return &UserError{Status: http.StatusConflict, Code: "conflict", Message: "an item with that name already exists", Cause: err}
	}
	return err
}

// Rules lists every rule by id.
func (a *Alerts) Rules(ctx context.Context) ([]AlertRule, error) {
	as, err := a.service()
	if err != nil {
		return nil, err
	}
	rs, err := as.ListRules(ctx)
	if err != nil {
		return nil, alertError(err)
	}
	out := make([]AlertRule, len(rs))
	for i, r := range rs {
		out[i] = ruleView(r)
	}
	return out, nil
}

// CreateRule validates, stores and audits a rule; it takes effect at once.
func (a *Alerts) CreateRule(ctx context.Context, who Caller, in AlertRuleInput) (AlertRule, error) {
	as, err := a.service()
	if err != nil {
		return AlertRule{}, err
	}
	var r alert.Rule
	err = a.svc.Audited(ctx, who, "alert.rule.create", in.Cluster, in.Name, in, func() (err error) {
		r, err = as.CreateRule(ctx, in.toAlert())
		return err
	})
	if err != nil {
		return AlertRule{}, alertError(err)
	}
	return ruleView(r), nil
}

// UpdateRule replaces rule id's settings.
func (a *Alerts) UpdateRule(ctx context.Context, who Caller, id int64, in AlertRuleInput) (AlertRule, error) {
	as, err := a.service()
	if err != nil {
		return AlertRule{}, err
	}
	var r alert.Rule
	err = a.svc.Audited(ctx, who, "alert.rule.update", in.Cluster, strconv.FormatInt(id, 10), in, func() (err error) {
		r, err = as.UpdateRule(ctx, id, in.toAlert())
		return err
	})
	if err != nil {
		return AlertRule{}, alertError(err)
	}
	return ruleView(r), nil
}

// DeleteRule removes rule id; its firing alerts resolve without a notification.
func (a *Alerts) DeleteRule(ctx context.Context, who Caller, id int64) error {
	as, err := a.service()
	if err != nil {
		return err
	}
	return alertError(a.svc.Audited(ctx, who, "alert.rule.delete", "", strconv.FormatInt(id, 10), nil, func() error {
		return as.DeleteRule(ctx, id)
	}))
}

// Channels lists the notification channels by id, secrets masked.
func (a *Alerts) Channels(ctx context.Context) ([]AlertChannel, error) {
	as, err := a.service()
	if err != nil {
		return nil, err
	}
	cs, err := as.ListChannels(ctx)
	if err != nil {
		return nil, alertError(err)
	}
	out := make([]AlertChannel, len(cs))
	for i, c := range cs {
		out[i] = channelView(c)
	}
	return out, nil
}

// CreateChannel validates, stores and audits a channel (its config stays out of the audit log).
func (a *Alerts) CreateChannel(ctx context.Context, who Caller, in AlertChannelInput) (AlertChannel, error) {
	as, err := a.service()
	if err != nil {
		return AlertChannel{}, err
	}
	var id int64
	err = a.svc.Audited(ctx, who, "alert.channel.create", "", in.Name, in.audit(), func() (err error) {
		id, err = as.CreateChannel(ctx, in.toAlert())
		return err
	})
	if err != nil {
		return AlertChannel{}, alertError(err)
	}
	ch, err := as.GetChannel(ctx, id)
	if err != nil {
		// The channel exists; a failed read-back must not make the caller create it again.
		a.svc.log.Warn("reading back a created alert channel", "id", id, "err", err)
		return AlertChannel{ID: id}, nil
	}
	return channelView(ch), nil
}

// UpdateChannel replaces channel id's settings; masked secrets keep their stored value.
func (a *Alerts) UpdateChannel(ctx context.Context, who Caller, id int64, in AlertChannelInput) (AlertChannel, error) {
	as, err := a.service()
	if err != nil {
		return AlertChannel{}, err
	}
	var ch alert.Channel
	err = a.svc.Audited(ctx, who, "alert.channel.update", "", strconv.FormatInt(id, 10), in.audit(), func() (err error) {
		ch, err = as.UpdateChannel(ctx, id, in.toAlert())
		return err
	})
	if err != nil {
		return AlertChannel{}, alertError(err)
	}
	return channelView(ch), nil
}

// DeleteChannel removes channel id and takes it out of every rule.
func (a *Alerts) DeleteChannel(ctx context.Context, who Caller, id int64) error {
	as, err := a.service()
	if err != nil {
		return err
	}
	return alertError(a.svc.Audited(ctx, who, "alert.channel.delete", "", strconv.FormatInt(id, 10), nil, func() error {
		return as.DeleteChannel(ctx, id)
	}))
}

// TestChannel sends a test notification through channel id now and says whether it arrived.
func (a *Alerts) TestChannel(ctx context.Context, who Caller, id int64) (ChannelTestResult, error) {
	as, err := a.service()
	if err != nil {
		return ChannelTestResult{}, err
	}
	if _, err := as.GetChannel(ctx, id); err != nil {
		return ChannelTestResult{}, alertError(err)
	}
	var sendErr error
	// The audit entry records the delivery's outcome; the answer carries it either way.
	_ = a.svc.Audited(ctx, who, "alert.channel.test", "", strconv.FormatInt(id, 10), nil, func() error {
		sendErr = as.TestChannel(ctx, id)
		return sendErr
	})
	if sendErr != nil {
		return ChannelTestResult{Delivered: false, Error: sendErr.Error()}, nil
	}
	return ChannelTestResult{Delivered: true}, nil
}

// Events lists the alert history newest first, with the total count.
func (a *Alerts) Events(ctx context.Context, limit, offset int) ([]AlertEvent, int, error) {
	as, err := a.service()
	if err != nil {
		return nil, 0, err
	}
	evs, total, err := as.Events(ctx, limit, offset)
	if err != nil {
		return nil, 0, alertError(err)
	}
	out := make([]AlertEvent, len(evs))
	for i, e := range evs {
		out[i] = eventView(e)
	}
	return out, int(total), nil
}

// Active lists the pending and firing alerts, firing first.
func (a *Alerts) Active() ([]ActiveAlert, error) {
	as, err := a.service()
	if err != nil {
		return nil, err
	}
	act := as.Active()
	out := make([]ActiveAlert, len(act))
	for i, x := range act {
		out[i] = activeView(x)
	}
	return out, nil
}
