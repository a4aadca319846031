package service

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/osprey-kafka/osprey/config"
	"github.com/osprey-kafka/osprey/store"
)

// sessionTimeouts are the idle and absolute timeouts, defaults filled in.
func (s *Service) sessionTimeouts() (idle, absolute time.Duration) {
	return config.Session{IdleTimeout: config.Duration(s.opts.SessionIdle), AbsoluteTimeout: config.Duration(s.opts.SessionAbsolute)}.Timeouts()
}

// sessionEnds is when a session used at now ends: after the idle timeout, never past the absolute one.
func (s *Service) sessionEnds(created, now time.Time) time.Time {
	idle, absolute := s.sessionTimeouts()
	end := now.Add(idle)
	if hard := created.Add(absolute); end.After(hard) {
		end = hard
	}
	return end
}

// touchSession slides a used session's idle end forward. It writes only when the end moves by more
// than a minute (or a tenth of the idle timeout), so busy sessions do not write on every request.
func (s *Service) touchSession(ctx context.Context, se store.Session, now time.Time) {
	idle, _ := s.sessionTimeouts()
	step := min(idle/10, time.Minute)
	if end := s.sessionEnds(se.CreatedAt, now); end.Sub(se.ExpiresAt) > step {
		if err := s.opts.Store.ExtendSession(ctx, se.IDHash, end); err != nil {
			s.log.Warn("could not extend a session", "err", err)
		}
	}
}

// SignOutEverywhere ends every session of the caller's account (audited); API tokens stay valid.
func (s *Service) SignOutEverywhere(ctx context.Context, who Caller) (int64, error) {
	if who.Identity.UserID == 0 || s.opts.Store == nil {
		return 0, badRequest("no_account", "only a signed-in user has sessions to end; %s is not one", who.Identity.Name)
	}
	var n int64
	err := s.Audited(ctx, who, "session.revoke_all", "", who.Identity.Name, map[string]any{}, func() error {
		var err error
		n, err = s.opts.Store.DeleteUserSessions(ctx, who.Identity.UserID)
		return err
	})
	return n, err
}

// EndUserSessions ends every session of a user (an admin signing someone out everywhere; audited).
func (s *Service) EndUserSessions(ctx context.Context, who Caller, userID int64) (int64, error) {
	if s.opts.Store == nil {
		return 0, errors.New("no database")
	}
	u, err := s.opts.Store.User(ctx, userID)
	if errors.Is(err, store.ErrNotFound) {
		return 0, notFound("user_not_found", "no user with id %d", userID)
	}
	if err != nil {
		return 0, err
	}
	var n int64
	err = s.Audited(ctx, who, "user.sessions.delete", "", u.Username, map[string]any{"id": strconv.FormatInt(userID, 10)}, func() error {
		var err error
		n, err = s.opts.Store.DeleteUserSessions(ctx, userID)
		return err
	})
	return n, err
}

// SessionsEnded is how many sessions a sign-out everywhere ended.
type SessionsEnded struct {
	Ended int64 `json:"ended"`
}
