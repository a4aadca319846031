package collector

import (
	"context"
	"sort"
	"time"
)

// Failed SASL authentications and client quota throttling. Kafka reports both only through JMX
// (kafka.server:type=socket-server-metrics failed-authentication-total, and the Produce/Fetch/Request
// quota sensors' throttle-time), which the Kafka protocol does not carry, so the collector learns
// them from a SecuritySource when the cluster has one (Osprey runtime clusters whose brokers run in
// this process) and otherwise leaves Snapshot.Security nil: not reported.

// SecuritySource reports the authentication and throttling counters of a cluster's brokers.
type SecuritySource interface {
	// SecurityCounters returns, for each broker it could read, its counters cumulative since that
	// broker started. A broker left out did not report. It is called once per cycle from the poll
	// goroutine and must return within ctx's deadline.
	SecurityCounters(ctx context.Context) (map[int32]BrokerSecurityCounters, error)
}

// BrokerSecurityCounters is one broker's cumulative counters.
type BrokerSecurityCounters struct {
	AuthFailures map[string]int64 // failed SASL authentications by listener name
	Throttled    map[ClientQuotaID]ThrottleCount
}

// ClientQuotaID is a user and client id a client quota applies to.
type ClientQuotaID struct {
	User     string
	ClientID string
}

// ThrottleCount is the throttle time and throttled requests of one user and client id.
type ThrottleCount struct {
	Seconds  float64
	Requests int64
}

// SecurityActivity is what the brokers counted between the previous cycle and this one.
type SecurityActivity struct {
	// IntervalSeconds is the time between the two readings the figures are the growth over.
	IntervalSeconds float64
	// Listeners is every listener with a failed authentication in the interval, by name.
	Listeners []ListenerAuthFailures
	// Throttled is every user and client id throttled in the interval, by user then client id.
	Throttled []ThrottledClient
}

// ListenerAuthFailures is the failed SASL authentications on one listener over all brokers.
type ListenerAuthFailures struct {
	Listener  string
	Failures  int64
	PerMinute float64
	Brokers   []int32 // the brokers that counted some
}

// ThrottledClient is the throttling one user and client id got over all brokers.
type ThrottledClient struct {
	User            string
	ClientID        string
	ThrottleSeconds float64
	Requests        int64
}

// securityState is the previous reading the next cycle's growth is measured from.
type securityState struct {
	at   time.Time
	prev map[int32]BrokerSecurityCounters
}

// refreshSecurity reads the security source, when there is one, and returns the growth since the
// previous reading (nil when there is no source, the read failed, or it is the first reading).
// pollMu must be held.
func (c *Collector) refreshSecurity(ctx context.Context, now time.Time, fail func(string, int32, error)) *SecurityActivity {
	if c.cfg.Security == nil {
		return nil
	}
	cctx, cancel := c.callCtx(ctx)
	defer cancel()
	cur, err := c.cfg.Security.SecurityCounters(cctx)
	if err != nil {
		c.st.sec = securityState{}
		fail("security", -1, err)
		return nil
	}
	prev, at := c.st.sec.prev, c.st.sec.at
	c.st.sec = securityState{at: now, prev: cur}
	if prev == nil || !now.After(at) {
		return nil
	}
	return securityGrowth(prev, cur, now.Sub(at))
}

// securityGrowth is cur less prev. A counter below its previous reading belongs to a broker that
// restarted, so all of it is growth; a broker not read before has no growth yet.
func securityGrowth(prev, cur map[int32]BrokerSecurityCounters, interval time.Duration) *SecurityActivity {
	grow := func(c, p int64) int64 {
		if c < p {
			return c
		}
		return c - p
	}
	listeners := map[string]*ListenerAuthFailures{}
	throttled := map[ClientQuotaID]*ThrottledClient{}
	for b, bc := range cur {
		bp, ok := prev[b]
		if !ok {
			continue
		}
		for l, n := range bc.AuthFailures {
			d := grow(n, bp.AuthFailures[l])
			if d == 0 {
				continue
			}
			la := listeners[l]
			if la == nil {
				la = &ListenerAuthFailures{Listener: l}
				listeners[l] = la
			}
			la.Failures += d
			la.Brokers = append(la.Brokers, b)
		}
		for id, tc := range bc.Throttled {
			pc := bp.Throttled[id]
			secs := tc.Seconds - pc.Seconds
			if tc.Requests < pc.Requests {
				secs = tc.Seconds
			}
			reqs := grow(tc.Requests, pc.Requests)
			if reqs == 0 {
				continue
			}
			t := throttled[id]
			if t == nil {
				t = &ThrottledClient{User: id.User, ClientID: id.ClientID}
				throttled[id] = t
			}
			t.ThrottleSeconds += secs
			t.Requests += reqs
		}
	}
	out := &SecurityActivity{IntervalSeconds: interval.Seconds()}
	for _, la := range listeners {
		la.PerMinute = float64(la.Failures) * 60 / interval.Seconds()
		sort.Slice(la.Brokers, func(i, j int) bool { return la.Brokers[i] < la.Brokers[j] })
		out.Listeners = append(out.Listeners, *la)
	}
	sort.Slice(out.Listeners, func(i, j int) bool { return out.Listeners[i].Listener < out.Listeners[j].Listener })
	for _, t := range throttled {
		out.Throttled = append(out.Throttled, *t)
	}
	sort.Slice(out.Throttled, func(i, j int) bool {
		a, b := out.Throttled[i], out.Throttled[j]
		if a.User != b.User {
			return a.User < b.User
		}
		return a.ClientID < b.ClientID
	})
	return out
}
