package service

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/osprey-kafka/osprey/store"
)

// Caller is who asks for a mutation and from where; it is written to the audit log.
type Caller struct {
	Identity   Identity
	RemoteAddr string
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
		Action: action, Cluster: cluster, Target: target, Params: redactParams(params), Result: "started"}
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
		Action: action, Cluster: cluster, Target: target, Params: "{}", Result: "denied", Error: reason}
	if err := s.opts.Store.AddAudit(ctx, e); err != nil {
		s.log.Warn("could not write audit entry", "err", err)
	}
}

// AuditView is an audit entry as the API shows it.
type AuditView = store.AuditEntry

// Audit lists audit entries newest first.
func (s *Service) Audit(ctx context.Context, f store.AuditFilter) ([]store.AuditEntry, int64, error) {
	if s.opts.Store == nil {
		return nil, 0, nil
	}
	return s.opts.Store.Audit(ctx, f)
}

// AuditLogin records a successful login.
func (s *Service) AuditLogin(ctx context.Context, who Caller) {
	if s.opts.Store == nil {
		return
	}
	e := &store.AuditEntry{Actor: who.Identity.Name, ActorKind: "session", RemoteAddr: who.RemoteAddr,
		Action: "login", Target: who.Identity.Name, Params: "{}", Result: "ok"}
	if err := s.opts.Store.AddAudit(ctx, e); err != nil {
		s.log.Warn("could not write audit entry", "err", err)
	}
}
