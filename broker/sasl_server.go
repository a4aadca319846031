package broker

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/osprey-kafka/osprey/broker/kafkawire"
	"github.com/osprey-kafka/osprey/broker/sasl"
)

// The server side of SASL on a connection: SaslHandshake picks the
// mechanism, then the exchange runs either in SaslAuthenticate requests (v1
// handshake) or in bare length-prefixed tokens (v0 handshake). Until it
// succeeds only ApiVersions, SaslHandshake and SaslAuthenticate are served;
// anything else closes the connection, as in Kafka. A session lasts
// connections.max.reauth.ms when set (KIP-368): the client re-authenticates
// on the same connection before then, or its next request closes it.

// connAuth is one connection's SASL state, owned by its reader goroutine.
type connAuth struct {
	mech          sasl.Mechanism // chosen by the last SaslHandshake
	ex            sasl.Exchange  // the exchange in progress, nil between exchanges
	raw           bool           // v0 handshake: the next frames are bare tokens
	authenticated bool           // a session exists (it may be re-authenticating)
	failed        bool           // an exchange failed: the connection is closing
	expiry        time.Time      // end of the session; zero = no limit
}

// checkAuthenticated refuses, with an error that closes the connection, a
// request that needs an authenticated session on a SASL listener.
func (c *conn) checkAuthenticated(key int16) error {
	a := c.auth
	if a == nil {
		return nil
	}
	if a.failed { // a failed re-authentication ends the session too
		return errors.New("request after failed SASL authentication")
	}
	switch key {
	case kmsg.ApiVersions.Int16(), kmsg.SASLHandshake.Int16(), kmsg.SASLAuthenticate.Int16():
		return nil
	}
	switch {
	case !a.authenticated:
		return fmt.Errorf("%s request before SASL authentication on listener %s", kmsg.NameForKey(key), c.listener.name)
	case !a.expiry.IsZero() && time.Now().After(a.expiry):
		return fmt.Errorf("SASL session expired (connections.max.reauth.ms) without re-authentication on listener %s", c.listener.name)
	}
	return nil
}

// saslStep feeds the client's message to the exchange in progress. On
// success it records the principal and the session's end and returns the
// session lifetime; a failure is counted, logged without secrets and
// delayed (see authFailures).
func (c *conn) saslStep(in []byte) (out []byte, done bool, lifetime time.Duration, err error) {
	a := c.auth
	out, done, err = a.ex.Step(in)
	if err == nil && done {
		p := "User:" + a.ex.User()
		if a.authenticated && p != c.Principal() {
			err = fmt.Errorf("%w: re-authentication may not change the principal", sasl.ErrAuthentication)
		} else {
			c.setPrincipal(p)
		}
	}
	if err != nil {
		a.failed, a.ex = true, nil
		c.authFailed(a.mech.Name(), err)
		return nil, true, 0, err
	}
	if !done {
		return out, false, 0, nil
	}
	a.ex, a.authenticated = nil, true
	a.expiry = time.Time{}
	if d := c.b.cfg.Security.ReauthMax; d > 0 {
		lifetime = d
		a.expiry = time.Now().Add(d)
	}
	c.b.authFails.successes.WithLabelValues(c.listener.name).Inc()
	c.log.Debug("SASL authenticated", "listener", c.listener.name, "mechanism", a.mech.Name(), "principal", c.Principal())
	return out, true, lifetime, nil
}

// authFailed counts, logs and delays a failed authentication. It blocks the
// reader goroutine, which is about to close the connection anyway.
func (c *conn) authFailed(mechanism string, err error) {
	c.b.authFails.failures.WithLabelValues(c.listener.name).Inc()
	c.b.metrics.sec.authFailed(c.listener.name)
	host := sourceHost(c.nc.RemoteAddr())
	delay := c.b.authFails.record(host, c.b.cfg.Security.FailedAuthDelay, time.Now())
	// err never holds a secret (sasl.ErrAuthentication's contract).
	c.log.Warn("SASL authentication failed", "listener", c.listener.name, "mechanism", mechanism,
		"source", host, "delay", delay, "err", err)
	if delay <= 0 {
		return
	}
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-c.done:
	case <-c.b.ctx.Done():
	}
}

// saslRawToken handles one bare token after a v0 handshake: the answer is
// a bare length-prefixed token too; a failure closes the connection without
// an answer (v0 has no way to carry an error).
func (c *conn) saslRawToken(seq uint64, token []byte) error {
	out, done, _, err := c.saslStep(token)
	if err != nil {
		return err
	}
	if done {
		c.auth.raw = false
	}
	frame := binary.BigEndian.AppendUint32(make([]byte, 0, 4+len(out)), uint32(len(out)))
	c.enqueue(seq, &outFrame{pieces: []piece{{b: append(frame, out...)}}})
	return nil
}

// replyAndClose answers r and closes the connection once the answer is out.
func (r *request) replyAndClose(resp kmsg.Response) {
	r.once.Do(func() {
		buf := kafkawire.AppendResponse(make([]byte, 0, 256), r.hdr, resp)
		r.observe(resp)
		r.c.enqueue(r.seq, &outFrame{pieces: []piece{{b: buf}}, closeAfter: true})
	})
}

func sourceHost(a net.Addr) string {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.IP.String()
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}

// Failed authentications from one source address are answered ever more
// slowly: the delay doubles with each failure in the last minute, from
// connection.failed.authentication.delay.ms up to maxAuthFailDelay, so a
// password guesser gets few tries while a user who mistyped once waits
// about as long as Kafka makes them.
const (
	maxAuthFailDelay   = 5 * time.Second
	authFailWindow     = time.Minute
	maxAuthFailSources = 10000
)

// authFailures remembers recent failures per source address and counts
// authentications per listener.
type authFailures struct {
	mu      sync.Mutex // guards sources
	sources map[string]authFailSource

	// Set by register before the listeners accept; read-only afterwards.
	failures, successes *prometheus.CounterVec
}

// register adds the authentication counters to the broker's registry:
// osprey_broker_sasl_authentication_failures_total{listener} is what an
// alert on failed logins per listener reads.
func (f *authFailures) register(reg *prometheus.Registry, brokerID int32) {
	opts := func(name, help string) prometheus.CounterOpts {
		return prometheus.CounterOpts{Namespace: "osprey", Subsystem: "broker", Name: name, Help: help,
			ConstLabels: prometheus.Labels{"broker_id": strconv.Itoa(int(brokerID))}}
	}
	f.failures = prometheus.NewCounterVec(opts("sasl_authentication_failures_total",
		"Failed SASL authentications (wrong password, unknown user, bad message), by listener."), []string{"listener"})
	f.successes = prometheus.NewCounterVec(opts("sasl_authentication_successes_total",
		"Successful SASL authentications and re-authentications, by listener."), []string{"listener"})
	reg.MustRegister(f.failures, f.successes)
}

type authFailSource struct {
	n    int
	last time.Time
}

// record notes a failure from host at now and returns how long to delay
// its answer.
func (f *authFailures) record(host string, base time.Duration, now time.Time) time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.sources == nil {
		f.sources = map[string]authFailSource{}
	}
	if len(f.sources) >= maxAuthFailSources {
		for h, s := range f.sources {
			if now.Sub(s.last) > authFailWindow {
				delete(f.sources, h)
			}
		}
		if len(f.sources) >= maxAuthFailSources {
			clear(f.sources) // a flood from many addresses: start over rather than grow
		}
	}
	s := f.sources[host]
	if now.Sub(s.last) > authFailWindow {
		s.n = 0
	}
	s.n++
	s.last = now
	f.sources[host] = s
	if base <= 0 {
		return 0
	}
	d := base
	for i := 1; i < s.n && d < maxAuthFailDelay; i++ {
		d *= 2
	}
	return min(d, maxAuthFailDelay)
}

// saslFailedMessage is the message a failed SaslAuthenticate carries, in
// Kafka's words; the cause stays in the broker's log.
func saslFailedMessage(mechanism string) string {
	return "Authentication failed during authentication due to invalid credentials with SASL mechanism " + mechanism
}
