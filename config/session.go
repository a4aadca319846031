package config

import "time"

// Session bounds console sign-in sessions (local, LDAP and OIDC alike).
type Session struct {
	// IdleTimeout ends a session no request has used for this long (default 30m).
	IdleTimeout Duration `yaml:"idleTimeout"`
	// AbsoluteTimeout ends a session this long after sign-in, however busy (default 12h).
	AbsoluteTimeout Duration `yaml:"absoluteTimeout"`
}

// Session timeout defaults.
const (
	DefaultSessionIdle     = 30 * time.Minute
	DefaultSessionAbsolute = 12 * time.Hour
)

// Timeouts answers the idle and absolute timeouts with the defaults filled in.
func (s Session) Timeouts() (idle, absolute time.Duration) {
	idle, absolute = s.IdleTimeout.D(), s.AbsoluteTimeout.D()
	if idle <= 0 {
		idle = DefaultSessionIdle
	}
	if absolute <= 0 {
		absolute = DefaultSessionAbsolute
	}
	return idle, absolute
}

func (c *Config) checkSession(ps *problems) {
	s := c.Auth.Session
	const k = "auth.session."
	if s.IdleTimeout < 0 || (s.IdleTimeout > 0 && s.IdleTimeout.D() < time.Minute) {
		ps.add(k+"idleTimeout", "%s is too short: use at least 1m (default 30m)", s.IdleTimeout)
	}
	if s.AbsoluteTimeout < 0 || (s.AbsoluteTimeout > 0 && s.AbsoluteTimeout.D() < time.Minute) {
		ps.add(k+"absoluteTimeout", "%s is too short: use at least 1m (default 12h)", s.AbsoluteTimeout)
	}
	if idle, abs := s.Timeouts(); idle > abs {
		ps.add(k+"idleTimeout", "%s is longer than absoluteTimeout %s: make it shorter (or raise absoluteTimeout)", idle, abs)
	}
}
