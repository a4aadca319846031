package service

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/osprey-kafka/osprey/collector"
	"github.com/osprey-kafka/osprey/store"
)

// Housekeeping finds what a cluster no longer uses, from the latest snapshot (what exists, who
// consumes what, which partitions were never written) and the stored series (when a topic was
// last produced to, when a group last committed): see docs/HISTORY.md.

// HousekeepingQuery is how long without produce makes a topic idle, and how long without a commit
// makes an empty group stale.
type HousekeepingQuery struct {
	IdleDays  int // default 7
	EmptyDays int // default 7
}

// Housekeeping is the answer of the housekeeping page.
type Housekeeping struct {
	IdleDays  int `json:"idleDays"`
	EmptyDays int `json:"emptyDays"`
	// IdleTopics had nothing produced for IdleDays.
	IdleTopics []HousekeepingTopic `json:"idleTopics"`
	// UnconsumedTopics are read by no consumer group (none has committed offsets on them).
	UnconsumedTopics []HousekeepingTopic `json:"unconsumedTopics"`
	// EmptyGroups have no members and committed nothing for EmptyDays.
	EmptyGroups []HousekeepingGroup `json:"emptyGroups"`
	// UnwrittenPartitions have a log-end offset of 0: nothing was ever written to them.
	UnwrittenPartitions []UnwrittenPartition `json:"unwrittenPartitions"`
	PolledAt            time.Time            `json:"polledAt"`
}

// HousekeepingTopic is a topic with its size and its last produce.
type HousekeepingTopic struct {
	Topic      string `json:"topic"`
	Partitions int    `json:"partitions"`
	Messages   int64  `json:"messages"`
	SizeBytes  *int64 `json:"sizeBytes" description:"null when unknown"`
	Groups     int    `json:"groups" description:"Consumer groups with committed offsets on it"`
	LastActivity
}

// LastActivity is when something last happened, as far as the stored history tells: At is the
// last produce (commit) seen; when none was seen, At is null and Since is when the history of
// it begins (nothing happened since then). Both are null when nothing is stored yet.
type LastActivity struct {
	LastAt *time.Time `json:"lastActivity" description:"Last produce (topics) or commit (groups) seen in the stored history"`
	Since  *time.Time `json:"quietSince" description:"When no activity was seen: the start of its stored history (quiet at least since then)"`
}

// HousekeepingGroup is an empty group with its topics and its last commit.
type HousekeepingGroup struct {
	Group  string   `json:"group"`
	State  string   `json:"state"`
	Topics []string `json:"topics"`
	Lag    *int64   `json:"lag"`
	LastActivity
}

// UnwrittenPartition is a partition whose log-end offset is 0.
type UnwrittenPartition struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	Leader    int32  `json:"leader"`
}

func lastActivity(a store.Activity, ok bool) LastActivity {
	if !ok {
		return LastActivity{}
	}
	if a.Rose {
		at := a.LastRise
		return LastActivity{LastAt: &at}
	}
	since := a.First
	return LastActivity{Since: &since}
}

// quietFor reports whether the activity is older than d (or there was none since a history that
// began more than d ago).
func (l LastActivity) quietFor(now time.Time, d time.Duration) bool {
	switch {
	case l.LastAt != nil:
		return now.Sub(*l.LastAt) >= d
	case l.Since != nil:
		return now.Sub(*l.Since) >= d
	}
	return false
}

// Housekeeping lists a cluster's idle and unused topics, stale empty groups and unwritten
// partitions. Internal topics are left out.
func (s *Service) Housekeeping(ctx context.Context, cluster string, q HousekeepingQuery) (Housekeeping, error) {
	snap, err := s.snapshot(cluster)
	if err != nil {
		return Housekeeping{}, err
	}
	if s.opts.Store == nil {
		return Housekeeping{}, &UserError{Status: http.StatusServiceUnavailable, Code: "no_database", Message: "housekeeping needs the stored history"}
	}
	q.IdleDays = cmpOr(q.IdleDays, 7)
	q.EmptyDays = cmpOr(q.EmptyDays, 7)
	topicAct, err := s.opts.Store.TopicActivity(ctx, cluster)
	if err != nil {
		return Housekeeping{}, err
	}
	groupAct, err := s.opts.Store.GroupActivity(ctx, cluster)
	if err != nil {
		return Housekeeping{}, err
	}
	now := s.opts.Now()
	h := Housekeeping{IdleDays: q.IdleDays, EmptyDays: q.EmptyDays, PolledAt: snap.Cluster.LastPoll,
		IdleTopics: []HousekeepingTopic{}, UnconsumedTopics: []HousekeepingTopic{}, EmptyGroups: []HousekeepingGroup{},
		UnwrittenPartitions: []UnwrittenPartition{}}
	consumers := topicConsumers(snap)
	for i := range snap.Topics {
		t := &snap.Topics[i]
		if t.Internal || isInternalTopic(t.Name) {
			continue
		}
		a, ok := topicAct[t.Name]
		row := HousekeepingTopic{Topic: t.Name, Partitions: len(t.Partitions), Messages: t.Messages, SizeBytes: known(t.SizeBytes),
			Groups: consumers[t.Name], LastActivity: lastActivity(a, ok)}
		if row.quietFor(now, days(q.IdleDays)) {
			h.IdleTopics = append(h.IdleTopics, row)
		}
		if row.Groups == 0 {
			h.UnconsumedTopics = append(h.UnconsumedTopics, row)
		}
		for _, p := range t.Partitions {
			if p.EndOffset == 0 {
				h.UnwrittenPartitions = append(h.UnwrittenPartitions, UnwrittenPartition{Topic: t.Name, Partition: p.Partition, Leader: p.Leader})
			}
		}
	}
	for i := range snap.Groups {
		g := &snap.Groups[i]
		if groupActive(g) || g.State == "" {
			continue
		}
		a, ok := groupAct[g.Name]
		row := HousekeepingGroup{Group: g.Name, State: g.State, Topics: []string{}, Lag: known(g.TotalLag), LastActivity: lastActivity(a, ok)}
		for _, gt := range g.Topics {
			row.Topics = append(row.Topics, gt.Topic)
		}
		if row.quietFor(now, days(q.EmptyDays)) {
			h.EmptyGroups = append(h.EmptyGroups, row)
		}
	}
	return h, nil
}

func topicConsumers(snap *collector.Snapshot) map[string]int {
	out := map[string]int{}
	for _, g := range snap.Groups {
		for _, gt := range g.Topics {
			out[gt.Topic]++
		}
	}
	return out
}

func days(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }

func cmpOr(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

// CleanupRequest asks to delete topics and groups. A dry run (the default) checks each and answers
// the plan with a token; the deletion runs only when the same selection comes back with DryRun
// false and that token, so what is deleted is what the dry run showed.
type CleanupRequest struct {
	Topics []string `json:"topics"`
	Groups []string `json:"groups"`
	DryRun *bool    `json:"dryRun" description:"Default true: only check and answer the plan"`
	Token  string   `json:"token" description:"The dry run's token; required to delete"`
}

// CleanupItem is one topic or group of a cleanup: what it is, and whether it can be (or was)
// deleted.
type CleanupItem struct {
	Kind      string `json:"kind" enum:"topic,group"`
	Name      string `json:"name"`
	SizeBytes *int64 `json:"sizeBytes" description:"A topic's size; null for groups or when unknown"`
	Messages  int64  `json:"messages"`
	// Refused says why it would not be deleted (unknown, internal, active group); empty when it can be.
	Refused string `json:"refused,omitempty"`
	// Deleted and Error are set when the deletion ran.
	Deleted bool   `json:"deleted"`
	Error   string `json:"error,omitempty"`
}

// CleanupResult is the plan (dry run) or the outcome of a cleanup.
type CleanupResult struct {
	DryRun bool          `json:"dryRun"`
	Token  string        `json:"token" description:"Send back with dryRun false to delete what this plan shows"`
	Items  []CleanupItem `json:"items"`
}

// Cleanup plans or runs the deletion of topics and groups (see CleanupRequest). Internal topics,
// unknown names and groups with members are refused in the plan and never deleted.
func (s *Service) Cleanup(ctx context.Context, who Caller, cluster string, req CleanupRequest) (CleanupResult, error) {
	c, err := s.get(cluster)
	if err != nil {
		return CleanupResult{}, err
	}
	snap, err := s.snapshot(cluster)
	if err != nil {
		return CleanupResult{}, err
	}
	if len(req.Topics) == 0 && len(req.Groups) == 0 {
		return CleanupResult{}, badRequest("nothing_selected", "select at least one topic or group")
	}
	items := cleanupPlan(snap, req)
	res := CleanupResult{DryRun: req.DryRun == nil || *req.DryRun, Token: planToken(cluster, items), Items: items}
	if res.DryRun {
		return res, nil
	}
	if req.Token != res.Token {
		return CleanupResult{}, conflict("plan_changed", "the selection or the cluster changed since the dry run; run it again and confirm what it shows")
	}
	var topics, groups []string
	for _, it := range items {
		switch {
		case it.Refused != "":
		case it.Kind == "topic":
			topics = append(topics, it.Name)
		default:
			groups = append(groups, it.Name)
		}
	}
	params := map[string]any{"topics": topics, "groups": groups}
	err = s.Audited(ctx, who, "housekeeping.delete", cluster, fmt.Sprintf("%d topic(s), %d group(s)", len(topics), len(groups)), params, func() error {
		return s.runCleanup(ctx, c, res.Items, topics, groups)
	})
	if err != nil {
		return CleanupResult{}, err
	}
	s.repoll(ctx, c)
	return res, nil
}

// runCleanup deletes the topics and groups and records each outcome in items. It fails only when a
// whole request failed; per-item Kafka errors are reported on the items.
func (s *Service) runCleanup(ctx context.Context, c *cluster, items []CleanupItem, topics, groups []string) error {
	outcome := map[string]error{}
	if len(topics) > 0 {
		res, err := c.client.DeleteTopics(ctx, topics...)
		if err != nil {
			return kafkaError(opDeleteTopic, strings.Join(topics, ", "), err)
		}
		for k, v := range res {
			outcome["topic/"+k] = v
		}
	}
	if len(groups) > 0 {
		res, err := c.client.DeleteGroups(ctx, groups...)
		if err != nil {
			return kafkaError(opDeleteGroup, strings.Join(groups, ", "), err)
		}
		for k, v := range res {
			outcome["group/"+k] = v
		}
	}
	var failed []string
	for i := range items {
		it := &items[i]
		if it.Refused != "" {
			continue
		}
		if e := outcome[it.Kind+"/"+it.Name]; e != nil {
			it.Error = e.Error()
			failed = append(failed, it.Name)
			continue
		}
		it.Deleted = true
	}
	if len(failed) > 0 {
		// Recorded in the audit entry; the answer still lists what was deleted.
		s.log.Warn("housekeeping: some deletions failed", "cluster", c.spec.Name, "failed", failed)
	}
	return nil
}

func cleanupPlan(snap *collector.Snapshot, req CleanupRequest) []CleanupItem {
	var items []CleanupItem
	for _, name := range dedupSorted(req.Topics) {
		it := CleanupItem{Kind: "topic", Name: name}
		t, ok := snap.Topic(name)
		switch {
		case isInternalTopic(name) || (ok && t.Internal):
			it.Refused = "internal"
		case !ok:
			it.Refused = "unknown"
		default:
			it.SizeBytes, it.Messages = known(t.SizeBytes), t.Messages
		}
		items = append(items, it)
	}
	for _, name := range dedupSorted(req.Groups) {
		it := CleanupItem{Kind: "group", Name: name}
		g, ok := snap.Group(name)
		switch {
		case !ok:
			it.Refused = "unknown"
		case groupActive(g):
			it.Refused = "active"
		}
		items = append(items, it)
	}
	return items
}

// planToken fingerprints what a plan would delete, so a confirmation deletes only what its dry
// run showed: a topic or group that became refusable (a group got members) changes the token.
func planToken(cluster string, items []CleanupItem) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n", cluster)
	for _, it := range items {
		fmt.Fprintf(h, "%s\x00%s\x00%s\n", it.Kind, it.Name, it.Refused)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func dedupSorted(names []string) []string {
	out := slices.Clone(names)
	sort.Strings(out)
	return slices.Compact(out)
}
