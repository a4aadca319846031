package alert

import (
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/osprey-kafka/osprey/store"
)

// Kind is what a rule watches.
type Kind string

// Rule kinds. Threshold and WindowSamples mean, per kind:
//
//	lag_messages        fires per group×topic when lag > Threshold messages.
//	lag_seconds         fires per group×topic when lag > Threshold seconds.
//	lag_status          fires per group×topic when the window status over the last
//	                    WindowSamples samples is at least Threshold: 0 or 1 = WARN
//	                    or worse, 2 = ERR only (STALL, STOP, REWIND). See burrow.go.
//	group_inactive      fires per group when it has no members, its lag (on the
//	                    topics in scope) is > Threshold and grew over the last
//	                    WindowSamples samples.
//	broker_down         fires per broker that is down.
//	under_replicated    fires per cluster when more than Threshold partitions in
//	                    scope are under-replicated.
//	offline_partitions  likewise for partitions without a leader.
//	under_min_isr       likewise for partitions whose ISR is below min.insync.replicas.
//	controller_changed  fires per cluster when the controller changed within the
//	                    last WindowSamples samples.
//	zookeeper_down      fires per cluster when its ZooKeeper ensemble is unreachable.
//	cluster_unreachable fires per cluster when no broker answers its metadata
//	                    request (the snapshot says stale since the last good poll).
//	topic_rate_zero     fires per topic that had been receiving messages and
//	                    received none over the last WindowSamples samples.
//	catchup_time        fires per group×topic with lag that will not catch up
//	                    within Threshold seconds: its catch-up estimate is longer,
//	                    or it is not catching up at all (collector.CatchUp).
//	lag_growing         fires per group×topic whose lag has been growing (not
//	                    gone down, and above where it was) for Threshold seconds.
//	isr_flapping        fires per partition whose ISR changed at least Threshold
//	                    times within the collector's flap window (Partition.ISRChanges).
//
// The KRaft quorum's kinds (quorum_no_leader, quorum_voter_lag_records, quorum_voter_lag_seconds,
// quorum_at_risk, broker_fenced, quorum_leader_flapping) are described in quorum.go, disk_full_days
// in storage.go, lso_stuck_seconds and transaction_hanging in transactions.go, cleaner_dirty_percent
// in cleaner.go, auth_failures_per_minute and principal_throttled in security.go,
// group_reconciling_stuck and share_archived_growing in modern_groups.go.
const (
	KindLagMessages        Kind = "lag_messages"
	KindLagSeconds         Kind = "lag_seconds"
	KindLagStatus          Kind = "lag_status"
	KindGroupInactive      Kind = "group_inactive"
	KindBrokerDown         Kind = "broker_down"
	KindUnderReplicated    Kind = "under_replicated"
	KindOfflinePartitions  Kind = "offline_partitions"
	KindUnderMinISR        Kind = "under_min_isr"
	KindControllerChanged  Kind = "controller_changed"
	KindZooKeeperDown      Kind = "zookeeper_down"
	KindClusterUnreachable Kind = "cluster_unreachable"
	KindTopicRateZero      Kind = "topic_rate_zero"
	KindCatchUpTime        Kind = "catchup_time"
	KindLagGrowing         Kind = "lag_growing"
	KindISRFlapping        Kind = "isr_flapping"
)

// Kinds lists every rule kind, for the API and the UI.
var Kinds = []Kind{
	KindLagMessages, KindLagSeconds, KindLagStatus, KindGroupInactive, KindBrokerDown,
	KindUnderReplicated, KindOfflinePartitions, KindUnderMinISR, KindControllerChanged,
	KindZooKeeperDown, KindTopicRateZero, KindCatchUpTime, KindLagGrowing, KindISRFlapping,
	KindQuorumNoLeader, KindQuorumVoterLagRecords, KindQuorumVoterLagSeconds, KindQuorumAtRisk,
	KindBrokerFenced, KindQuorumLeaderFlapping, // quorum.go
	KindDiskFull,                         // storage.go
	KindLSOStuck, KindTransactionHanging, // transactions.go
	KindCleanerDirty,                         // cleaner.go
	KindAuthFailures, KindPrincipalThrottled, // security.go
	KindReconcilingStuck, KindShareArchivedGrowing, // modern_groups.go
	KindClusterUnreachable,
}

// usesGroup and usesTopic say which scope patterns a kind honours.
func (k Kind) usesGroup() bool {
	return k == KindLagMessages || k == KindLagSeconds || k == KindLagStatus || k == KindGroupInactive ||
		k == KindCatchUpTime || k == KindLagGrowing || k == KindReconcilingStuck || k == KindShareArchivedGrowing
}

func (k Kind) usesTopic() bool {
	switch k {
	case KindLagMessages, KindLagSeconds, KindLagStatus, KindGroupInactive, KindUnderReplicated,
		KindOfflinePartitions, KindUnderMinISR, KindTopicRateZero, KindCatchUpTime, KindLagGrowing, KindISRFlapping,
		KindLSOStuck, KindTransactionHanging, KindCleanerDirty:
		return true
	}
	return false
}

// escalates says a firing alert of this kind is notified again when its value gets worse: a window
// status is a level (OK < WARN < ERR), unlike lag figures, which move every cycle.
func (k Kind) escalates() bool { return k == KindLagStatus }

func (k Kind) usesWindow() bool {
	return k == KindLagStatus || k == KindGroupInactive || k == KindControllerChanged || k == KindTopicRateZero ||
		k == KindShareArchivedGrowing
}

func (k Kind) valid() bool {
	for _, v := range Kinds {
		if v == k {
			return true
		}
	}
	return false
}

// Severity ranks an alert.
type Severity string

// Severities.
const (
	SeverityInfo     Severity = "info"
	SeverityWarning  Severity = "warning"
	SeverityCritical Severity = "critical"
)

// Limits on rule settings.
const (
	DefaultWindowSamples = 10
	MaxWindowSamples     = 100
	maxDuration          = 7 * 24 * 3600 // seconds
	minRepeat            = 60            // seconds; reminders more often than this are spam
)

// Rule is a validated alerting rule as the API shows it.
type Rule struct {
	ID              int64     `json:"id"`
	Name            string    `json:"name"`
	Kind            Kind      `json:"kind"`
	Cluster         string    `json:"cluster"` // glob (path.Match), "*" = every cluster
	Group           string    `json:"group"`
	Topic           string    `json:"topic"`
	Threshold       float64   `json:"threshold"`
	WindowSamples   int       `json:"windowSamples"`
	ForSeconds      int       `json:"forSeconds"`
	CooldownSeconds int       `json:"cooldownSeconds"`
	RepeatSeconds   int       `json:"repeatSeconds"`
	Severity        Severity  `json:"severity"`
	ChannelIDs      []int64   `json:"channelIds"`
	Enabled         bool      `json:"enabled"`
	CreatedAt       time.Time `json:"createdAt"`
	UpdatedAt       time.Time `json:"updatedAt"`
}

// RuleInput is what a client sends to create or replace a rule. Empty
// patterns mean "*"; WindowSamples 0 means 10; Severity "" means warning;
// Enabled nil means true on create and "unchanged" on update.
type RuleInput struct {
	Name            string   `json:"name"`
	Kind            Kind     `json:"kind"`
	Cluster         string   `json:"cluster"`
	Group           string   `json:"group"`
	Topic           string   `json:"topic"`
	Threshold       float64  `json:"threshold"`
	WindowSamples   int      `json:"windowSamples"`
	ForSeconds      int      `json:"forSeconds"`
	CooldownSeconds int      `json:"cooldownSeconds"`
	RepeatSeconds   int      `json:"repeatSeconds"`
	Severity        Severity `json:"severity"`
	ChannelIDs      []int64  `json:"channelIds"`
	Enabled         *bool    `json:"enabled"`
}

// Problem is one invalid field.
type Problem struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// ValidationError lists what is wrong with a rule or channel; the HTTP layer
// answers 400 with it (errors.As).
type ValidationError struct {
	Problems []Problem `json:"problems"`
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.Field + ": " + p.Message
	}
	return "invalid: " + strings.Join(parts, "; ")
}

// IsValidation reports whether err is (or wraps) a *ValidationError.
func IsValidation(err error) bool {
	var ve *ValidationError
	return errors.As(err, &ve)
}

type problems []Problem

func (p *problems) add(field, format string, args ...any) {
	*p = append(*p, Problem{Field: field, Message: fmt.Sprintf(format, args...)})
}

func (p problems) err() error {
	if len(p) == 0 {
		return nil
	}
	return &ValidationError{Problems: p}
}

// normalize fills defaults and checks the input; it does not check that the
// channels exist (the service does, it has the store).
func (in RuleInput) normalize() (Rule, error) {
	var ps problems
	r := Rule{
		Name: strings.TrimSpace(in.Name), Kind: in.Kind,
		Cluster: orStar(in.Cluster), Group: orStar(in.Group), Topic: orStar(in.Topic),
		Threshold: in.Threshold, WindowSamples: in.WindowSamples,
		ForSeconds: in.ForSeconds, CooldownSeconds: in.CooldownSeconds, RepeatSeconds: in.RepeatSeconds,
		Severity: in.Severity, Enabled: in.Enabled == nil || *in.Enabled,
	}
	checkTarget(&ps, r)
	if r.Severity == "" {
		r.Severity = SeverityWarning
	}
	switch r.Severity {
	case SeverityInfo, SeverityWarning, SeverityCritical:
	default:
		ps.add("severity", "must be info, warning or critical (got %q)", in.Severity)
	}
	normalizeWindow(&ps, &r)
	checkThreshold(&ps, r)
	checkTiming(&ps, r)
	r.ChannelIDs = channelIDs(&ps, in.ChannelIDs)
	return r, ps.err()
}

// checkTarget checks the rule's name, kind and the cluster, group and topic patterns, and that the
// kind uses the group and topic it names.
func checkTarget(ps *problems, r Rule) {
	if r.Name == "" {
		ps.add("name", "is required")
	} else if len(r.Name) > 128 {
		ps.add("name", "must be at most 128 characters")
	}
	if !r.Kind.valid() {
		names := make([]string, len(Kinds))
		for i, k := range Kinds {
			names[i] = string(k)
		}
		ps.add("kind", "must be one of %s (got %q)", strings.Join(names, ", "), r.Kind)
	}
	for _, f := range []struct{ field, v string }{{"cluster", r.Cluster}, {"group", r.Group}, {"topic", r.Topic}} {
		if _, err := path.Match(f.v, ""); err != nil {
			ps.add(f.field, "%q is not a valid pattern (use * and ? wildcards, [a-z] classes)", f.v)
		} else if len(f.v) > 255 {
			ps.add(f.field, "must be at most 255 characters")
		}
	}
	if r.Kind.valid() {
		if !r.Kind.usesGroup() && r.Group != "*" {
			ps.add("group", "does not apply to %s rules; leave it empty", r.Kind)
		}
		if !r.Kind.usesTopic() && r.Topic != "*" {
			ps.add("topic", "does not apply to %s rules; leave it empty", r.Kind)
		}
	}
}

// normalizeWindow defaults and bounds the sample window of kinds that use one, and clears it for
// the others.
func normalizeWindow(ps *problems, r *Rule) {
	if !r.Kind.usesWindow() {
		r.WindowSamples = 0
		return
	}
	if r.WindowSamples == 0 {
		r.WindowSamples = DefaultWindowSamples
	}
	lo := 2
	if r.Kind == KindLagStatus {
		lo = 3
	} else if r.Kind == KindControllerChanged || r.Kind == KindShareArchivedGrowing {
		lo = 1
	}
	if r.WindowSamples < lo || r.WindowSamples > MaxWindowSamples {
		ps.add("windowSamples", "must be between %d and %d for %s rules", lo, MaxWindowSamples, r.Kind)
	}
}

// checkThreshold checks the threshold against what the rule's kind reads it as.
func checkThreshold(ps *problems, r Rule) {
	if r.Threshold < 0 {
		ps.add("threshold", "must not be negative")
	}
	if checkQuorumThreshold(ps, r) {
		return
	}
	switch r.Kind {
	case KindLagSeconds, KindCatchUpTime, KindLagGrowing, KindLSOStuck, KindTransactionHanging, KindReconcilingStuck:
		if r.Threshold <= 0 {
			ps.add("threshold", "must be a number of seconds above 0 for %s rules", r.Kind)
		}
	case KindDiskFull:
		if r.Threshold <= 0 {
			ps.add("threshold", "must be a number of days above 0 for disk_full_days rules")
		}
	case KindCleanerDirty:
		if r.Threshold <= 0 || r.Threshold >= 100 {
			ps.add("threshold", "must be a dirty ratio in percent, above 0 and below 100, for cleaner_dirty_percent rules")
		}
		if r.ForSeconds < minCleanerHold {
			ps.add("forSeconds", "must be at least %d for cleaner_dirty_percent rules: the dirty ratio rises between cleans by design, only one that stays high means the cleaner is not keeping up", minCleanerHold)
		}
	case KindAuthFailures:
		if r.Threshold <= 0 {
			ps.add("threshold", "must be a number of failed authentications per minute above 0 for auth_failures_per_minute rules")
		}
	case KindISRFlapping:
		if r.Threshold < 1 {
			ps.add("threshold", "must be a number of ISR changes, at least 1, for isr_flapping rules")
		}
	case KindLagStatus:
		if r.Threshold != 0 && r.Threshold != 1 && r.Threshold != 2 {
			ps.add("threshold", "must be 1 (alert on WARN or worse) or 2 (alert on ERR: STALL, STOP, REWIND) for lag_status rules")
		}
	case KindBrokerDown, KindControllerChanged, KindZooKeeperDown, KindTopicRateZero, KindClusterUnreachable:
		if r.Threshold != 0 {
			ps.add("threshold", "does not apply to %s rules; leave it 0", r.Kind)
		}
	}
}

// checkTiming bounds the for, cooldown and repeat durations.
func checkTiming(ps *problems, r Rule) {
	for _, f := range []struct {
		field string
		v     int
	}{{"forSeconds", r.ForSeconds}, {"cooldownSeconds", r.CooldownSeconds}, {"repeatSeconds", r.RepeatSeconds}} {
		if f.v < 0 || f.v > maxDuration {
			ps.add(f.field, "must be between 0 and %d (7 days)", maxDuration)
		}
	}
	if r.RepeatSeconds > 0 && r.RepeatSeconds < minRepeat {
		ps.add("repeatSeconds", "must be 0 (no reminders) or at least %d", minRepeat)
	}
}

// channelIDs returns the channel ids sorted and without duplicates (never nil), refusing
// non-positive ones.
func channelIDs(ps *problems, ids []int64) []int64 {
	out := []int64{}
	seen := map[int64]bool{}
	for _, id := range ids {
		if id <= 0 {
			ps.add("channelIds", "%d is not a channel id", id)
			continue
		}
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func orStar(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return "*"
	}
	return s
}

// match reports whether name matches the glob; a bad pattern matches nothing
// (validation keeps bad patterns out of the store).
func match(pattern, name string) bool {
	if pattern == "*" || pattern == "" {
		return true
	}
	ok, err := path.Match(pattern, name)
	return err == nil && ok
}

func (r Rule) forDur() time.Duration      { return time.Duration(r.ForSeconds) * time.Second }
func (r Rule) cooldownDur() time.Duration { return time.Duration(r.CooldownSeconds) * time.Second }
func (r Rule) repeatDur() time.Duration   { return time.Duration(r.RepeatSeconds) * time.Second }

func (r Rule) toStore() *store.AlertRule {
	ids, _ := json.Marshal(r.ChannelIDs)
	return &store.AlertRule{
		ID: r.ID, Name: r.Name, Kind: string(r.Kind),
		ClusterPattern: r.Cluster, GroupPattern: r.Group, TopicPattern: r.Topic,
		Threshold: r.Threshold, WindowSamples: r.WindowSamples, ForSeconds: r.ForSeconds,
		CooldownSeconds: r.CooldownSeconds, RepeatSeconds: r.RepeatSeconds,
		Severity: string(r.Severity), ChannelIDs: string(ids), Enabled: r.Enabled,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
}

func ruleFromStore(s store.AlertRule) Rule {
	r := Rule{
		ID: s.ID, Name: s.Name, Kind: Kind(s.Kind),
		Cluster: orStar(s.ClusterPattern), Group: orStar(s.GroupPattern), Topic: orStar(s.TopicPattern),
		Threshold: s.Threshold, WindowSamples: s.WindowSamples, ForSeconds: s.ForSeconds,
		CooldownSeconds: s.CooldownSeconds, RepeatSeconds: s.RepeatSeconds,
		Severity: Severity(s.Severity), Enabled: s.Enabled, CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt,
	}
	if s.ChannelIDs != "" {
		_ = json.Unmarshal([]byte(s.ChannelIDs), &r.ChannelIDs) // a broken list means no channels, not no rule
	}
	if r.ChannelIDs == nil {
		r.ChannelIDs = []int64{}
	}
	if r.Kind.usesWindow() && r.WindowSamples <= 0 {
		r.WindowSamples = DefaultWindowSamples
	}
	return r
}
