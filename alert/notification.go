package alert

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"
)

// Sender delivers one notification to one destination.
//
// Send makes one attempt, bounded by ctx (the dispatcher sets a deadline and
// does the retrying); it must not retry itself, must not keep ctx or n after
// returning, and is called by one goroutine at a time per channel. An error
// means the destination did not accept the notification.
type Sender interface {
	Send(ctx context.Context, n Notification) error
}

// States of a notification.
const (
	StateFiring   = "FIRING"
	StateResolved = "RESOLVED"
)

// Notification is what a channel receives: one alert's state change,
// reminder, or a test message. It is also the data of a webhook body
// template.
type Notification struct {
	State       string            `json:"state"`               // FIRING or RESOLVED
	Reminder    bool              `json:"reminder,omitempty"`  // a repeat while firing
	Escalated   bool              `json:"escalated,omitempty"` // still firing, and worse than last notified
	Test        bool              `json:"test,omitempty"`      // sent from "test channel"
	RuleID      int64             `json:"ruleId"`
	RuleName    string            `json:"ruleName"`
	Kind        Kind              `json:"kind"`
	Severity    Severity          `json:"severity"`
	Cluster     string            `json:"cluster"`
	Subject     string            `json:"subject"`
	Labels      map[string]string `json:"labels"`
	Value       float64           `json:"value"`
	Threshold   float64           `json:"threshold"`
	Summary     string            `json:"summary"`
	StartedAt   time.Time         `json:"startedAt"`
	ResolvedAt  *time.Time        `json:"resolvedAt,omitempty"`
	Link        string            `json:"link,omitempty"`
	Fingerprint string            `json:"fingerprint"`
	EventID     int64             `json:"eventId,omitempty"`
	Samples     json.RawMessage   `json:"samples,omitempty"`
}

// Title is a one-line headline, e.g. "[FIRING] critical · lag_messages · local · group g / topic t".
func (n Notification) Title() string {
	state := n.State
	switch {
	case n.Test:
		state = "TEST"
	case n.Reminder:
		state += " (reminder)"
	case n.Escalated:
		state += " (worse)"
	}
	return fmt.Sprintf("[%s] %s · %s · %s · %s", state, n.Severity, n.RuleName, n.Cluster, n.Subject)
}

// lines are the message's fields in order, as label/value pairs.
func (n Notification) lines() [][2]string {
	out := [][2]string{
		{"State", n.State},
		{"Severity", string(n.Severity)},
		{"Rule", fmt.Sprintf("%s (%s)", n.RuleName, n.Kind)},
		{"Cluster", n.Cluster},
		{"Subject", n.Subject},
		{"Value", fmtNum(n.Value)},
		{"Threshold", fmtNum(n.Threshold)},
		{"Started", n.StartedAt.UTC().Format(time.RFC3339)},
	}
	if n.ResolvedAt != nil {
		out = append(out, [2]string{"Resolved", n.ResolvedAt.UTC().Format(time.RFC3339)})
	}
	if n.Link != "" {
		out = append(out, [2]string{"Link", n.Link})
	}
	return out
}

// Text is the plain-text body: title, summary, then one field per line.
func (n Notification) Text() string {
	var b strings.Builder
	b.WriteString(n.Title())
	b.WriteString("\n")
	if n.Summary != "" {
		b.WriteString(n.Summary)
		b.WriteString("\n")
	}
	b.WriteString("\n")
	for _, l := range n.lines() {
		fmt.Fprintf(&b, "%s: %s\n", l[0], l[1])
	}
	return b.String()
}

// Markdown is the body for robots that render markdown (DingTalk, WeCom).
func (n Notification) Markdown() string {
	var b strings.Builder
	// No escaping: neither robot documents backslash escapes, so they would
	// show literally; an underscore pair in a name at worst renders italic.
	fmt.Fprintf(&b, "### %s\n\n", n.Title())
	if n.Summary != "" {
		fmt.Fprintf(&b, "%s\n\n", n.Summary)
	}
	for _, l := range n.lines() {
		if l[0] == "Link" {
			fmt.Fprintf(&b, "- **Link**: [%s](%s)\n", l[1], l[1])
			continue
		}
		fmt.Fprintf(&b, "- **%s**: %s\n", l[0], l[1])
	}
	return b.String()
}

// consoleLink is the console page for an alert's subject.
func consoleLink(base, cluster string, labels map[string]string) string {
	if base == "" {
		return ""
	}
	u := strings.TrimRight(base, "/") + "/clusters/" + url.PathEscape(cluster)
	switch {
	case labels["group"] != "":
		u += "/groups/" + url.PathEscape(labels["group"])
	case labels["topic"] != "":
		u += "/topics/" + url.PathEscape(labels["topic"])
	case labels["broker"] != "":
		u += "/brokers/" + url.PathEscape(labels["broker"])
	}
	return u
}

// sortedLabels renders labels as k=v pairs in key order.
func sortedLabels(l map[string]string) string {
	keys := make([]string, 0, len(l))
	for k := range l {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + l[k]
	}
	return strings.Join(parts, ",")
}
