// Package alert turns the collector's snapshots into alerts people can trust
// and delivers them to the channels they use.
//
// Rules (kinds in rule.go) are evaluated by an Evaluator over every new
// per-cluster Snapshot plus a bounded in-memory history of the recent ones.
// Each (rule, cluster, subject) is an alert with a Prometheus-style state
// machine keyed by a fingerprint: inactive → pending (condition true, "for"
// hold running) → firing (one notification, reminders every repeat interval)
// → resolved (one notification; kept for the cool-down so a flapping subject
// does not re-fire at once). Firing alerts live in the alert_events table and
// are reloaded at Start, so a restart neither repeats nor forgets a
// notification.
//
// Delivery goes through one small Sender interface per channel type
// (webhook, Slack, DingTalk, WeCom, Feishu, e-mail), behind one bounded queue
// and one worker per channel with bounded retries and exponential backoff.
// Evaluation never waits for delivery: a full queue drops the notification
// (counted) and records the failure on the event.
//
// Lag status (lag_status rules) follows Burrow's window rules with changes
// that remove the false STOP/ERR its users report; see burrow.go.
//
// Service is the context-first API the HTTP handlers call.
package alert
