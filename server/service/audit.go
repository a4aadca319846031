package service

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/osprey-kafka/osprey/store"
)

// Caller is who asks for a mutation and from where; it is written to the audit log.
type Caller struct {
	Identity   Identity
	RemoteAddr string
	UserAgent  string
}

// secretKeys are parameter names whose values never reach the audit log.
var secretKeys = []string{"password", "token", "secret", "dsn", "authorization"}

func redactParams(v any) string {
	if v == nil {
		return "{}"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "{}"
	}
	var generic any
	if json.Unmarshal(b, &generic) != nil {
		return string(b)
	}
	redactValue(generic)
	out, _ := json.Marshal(generic)
	return string(out)
}

func redactValue(v any) {
	switch t := v.(type) {
	case map[string]any:
		for k, val := range t {
			lk := strings.ToLower(k)
			for _, sk := range secretKeys {
				if strings.Contains(lk, sk) {
					t[k] = "***"
					break
				}
			}
			if t[k] != "***" {
				redactValue(val)
			}
		}
	case []any:
		for _, e := range t {
			redactValue(e)
		}
	}
}

// Audited writes the audit entry first, runs fn, then records how it ended. An audit write failure
// stops the operation: an unrecorded mutation is worse than a refused one.
func (s *Service) Audited(ctx context.Context, who Caller, action, cluster, target string, params any, fn func() error) error {
	if s.opts.Store == nil {
		return fn()
	}
	e := &store.AuditEntry{Actor: who.Identity.Name, ActorKind: who.Identity.Kind, RemoteAddr: who.RemoteAddr,
		AuthMethod: who.Identity.Method, UserAgent: truncate(who.UserAgent, 512), Action: action, Cluster: cluster, Target: target, Params: redactParams(params), Result: "started"}
	if err := s.opts.Store.AddAudit(ctx, e); err != nil {
		return err
	}
	err := fn()
	result, msg := "ok", ""
	if err != nil {
		result, msg = "error", err.Error()
	}
	// The operation already happened: finish the entry even if the request's context has ended.
	if ferr := s.opts.Store.FinishAudit(context.WithoutCancel(ctx), e.ID, result, msg); ferr != nil {
		s.log.Error("could not finish audit entry", "id", e.ID, "err", ferr)
	}
	return err
}

// AuditDenied records a refused attempt (bad credentials, insufficient role, read-only mode).
func (s *Service) AuditDenied(ctx context.Context, who Caller, action, cluster, target, reason string) {
	if s.opts.Store == nil {
		return
	}
	e := &store.AuditEntry{Actor: who.Identity.Name, ActorKind: who.Identity.Kind, RemoteAddr: who.RemoteAddr,
		AuthMethod: who.Identity.Method, UserAgent: truncate(who.UserAgent, 512), Action: action, Cluster: cluster, Target: target, Params: "{}", Result: "denied", Error: reason}
	if err := s.opts.Store.AddAudit(ctx, e); err != nil {
		s.log.Warn("could not write audit entry", "err", err)
	}
}

// AuditRow is an audit entry as the API shows it.
type AuditRow struct {
	ID         int64     `json:"id"`
	At         time.Time `json:"at"`
	Actor      string    `json:"actor"`
	ActorKind  string    `json:"actorKind" description:"How the actor proved who it is: admin-token, api-token, session or anonymous"`
	RemoteAddr string    `json:"remoteAddr"`
	Action     string    `json:"action" description:"What was done or attempted, e.g. topic.create"`
	Cluster    string    `json:"cluster"`
	Target     string    `json:"target" description:"What the action acted on (topic, group, rule id…)"`
	Params     string    `json:"params" description:"The request's parameters as JSON, secrets replaced by ***"`
	Result     string    `json:"result" enum:"started,ok,error,denied"`
	Error      string    `json:"error"`
	AuthMethod string    `json:"authMethod" description:"How the actor signed in: token, local or ldap (empty for anonymous callers)"`
	UserAgent  string    `json:"userAgent" description:"The client's User-Agent header"`
}

// AuditQuery selects audit entries; empty fields match every entry.
type AuditQuery struct {
	Cluster, Actor, Action string
	// Method is the sign-in method (token, local, ldap, oidc); RemoteAddr the source address.
	Method, RemoteAddr string
	// Since and Until bound the time (inclusive; zero: open).
	Since, Until  time.Time
	Limit, Offset int
}

// Audit lists audit entries newest first, with the number matching the query.
func (s *Service) Audit(ctx context.Context, q AuditQuery) ([]AuditRow, int, error) {
	if s.opts.Store == nil {
		return nil, 0, nil
	}
	entries, total, err := s.opts.Store.Audit(ctx, store.AuditFilter{Cluster: q.Cluster, Actor: q.Actor, Action: q.Action,
		Method: q.Method, RemoteAddr: q.RemoteAddr, Since: q.Since, Until: q.Until, Limit: q.Limit, Offset: q.Offset})
	if err != nil {
		return nil, 0, fmt.Errorf("reading the audit log: %w", err)
	}
	rows := make([]AuditRow, 0, len(entries))
	for _, e := range entries {
		rows = append(rows, AuditRow{ID: e.ID, At: e.At, Actor: e.Actor, ActorKind: e.ActorKind, RemoteAddr: e.RemoteAddr,
			Action: e.Action, Cluster: e.Cluster, Target: e.Target, Params: e.Params, Result: e.Result, Error: e.Error,
			AuthMethod: e.AuthMethod, UserAgent: e.UserAgent})
	}
	return rows, int(total), nil
}

// AuditLogin records a successful login.
func (s *Service) AuditLogin(ctx context.Context, who Caller) {
	if s.opts.Store == nil {
		return
	}
	e := &store.AuditEntry{Actor: who.Identity.Name, ActorKind: "session", RemoteAddr: who.RemoteAddr,
		AuthMethod: who.Identity.Method, UserAgent: truncate(who.UserAgent, 512), Action: "login", Target: who.Identity.Name, Params: "{}", Result: "ok"}
	if err := s.opts.Store.AddAudit(ctx, e); err != nil {
		s.log.Warn("could not write audit entry", "err", err)
	}
}

// truncate cuts s to at most n bytes (a header can be longer than its audit column).
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
