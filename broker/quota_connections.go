package broker

import (
	"net"
	"net/netip"
	"time"
)

// Connection creation rates, as Kafka's ConnectionQuotas limits them
// (KIP-612), measured like the other client quotas (quota.window.num
// samples of quota.window.size.seconds):
// - connection_creation_rate of an ip entity (AlterClientQuotas; the
//   <default> ip entity for every address without its own): a connection
//   that takes its address over the rate is not served; it is held open
//   for the time the rate needs to fall back to the quota (at most one
//   quota window) and then closed, and it is not counted. Entity names are
//   matched as IP addresses in any text form (::1 and 0:0:0:0:0:0:0:1 are
//   one entity); Kafka also resolves host names, which are not matched here.
// - max.connection.creation.rate (broker-wide, every listener but the
//   inter-broker one when there are several): a listener waits before
//   accepting a connection that takes the broker over the rate, for the
//   time the rate needs to fall back (at most one quota window).

// connectionIP is the address of a connection's peer, without the IPv4
// in IPv6 mapping.
func connectionIP(nc net.Conn) (netip.Addr, bool) {
	ta, ok := nc.RemoteAddr().(*net.TCPAddr)
	if !ok {
		return netip.Addr{}, false
	}
	a, ok := netip.AddrFromSlice(ta.IP)
	return a.Unmap(), ok
}

// ipConnectionLimitLocked is the connection_creation_rate that applies to
// ip: its own entity's, else the <default> ip entity's. q.mu held.
func (q *clientQuotas) ipConnectionLimitLocked(ip netip.Addr) (float64, bool) {
	var def float64
	hasDef := false
	for e, values := range q.table {
		v, ok := values[quotaConnectionCreationRate]
		if !ok || !e.ip.set {
			continue
		}
		if e.ip.def {
			def, hasDef = v, true
			continue
		}
		if a, err := netip.ParseAddr(e.ip.name); err == nil && a.Unmap() == ip {
			return v, true
		}
	}
	return def, hasDef
}

// rateThrottleLocked records one connection in s and returns how long
// the rate needs to fall back to limit (0 when within it), capped at one
// quota window as Kafka's ConnectionQuotas caps it. q.mu held.
func (q *clientQuotas) rateThrottleLocked(s *sampledRate, limit float64, now time.Time) time.Duration {
	s.record(1, now, q.num, q.size)
	rate := s.measure(now, q.num, q.size)
	if rate <= limit {
		return 0
	}
	d := time.Duration((rate - limit) / limit * float64(s.windowSize(now, q.num, q.size)))
	return min(d, q.size)
}

func (q *clientQuotas) sensorLocked(k sensorKey) *sampledRate {
	s := q.sensors[k]
	if s == nil {
		s = &sampledRate{}
		q.sensors[k] = s
	}
	return s
}

// brokerConnectionKey is the sensor of max.connection.creation.rate.
var brokerConnectionKey = sensorKey{key: "max.connection.creation.rate"}

// admitConnection applies the connection rates to a connection bl just
// accepted. It first waits out the broker-wide rate (false: the broker
// stopped meanwhile), then returns how long to hold the connection before
// closing it unserved when its address is over its rate (0: serve it).
func (b *Broker) admitConnection(bl *brokerListener, nc net.Conn) (ipThrottle time.Duration, ok bool) {
	q := b.quotas
	brokerLimit := b.cfg.Quota.MaxConnectionCreationRate
	brokerWide := brokerLimit > 0 && !(len(b.listeners) > 1 && bl.name == b.cfg.interBrokerListener())
	if brokerWide {
		q.mu.Lock()
		d := q.rateThrottleLocked(q.sensorLocked(brokerConnectionKey), float64(brokerLimit), time.Now())
		q.mu.Unlock()
		if d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-b.ctx.Done():
				t.Stop()
				return 0, false
			}
		}
	}
	if !q.anySets(quotaConnectionCreationRate) {
		return 0, true
	}
	ip, known := connectionIP(nc)
	if !known {
		return 0, true
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	limit, set := q.ipConnectionLimitLocked(ip)
	if !set || limit <= 0 {
		return 0, true
	}
	now := time.Now()
	s := q.sensorLocked(sensorKey{key: quotaConnectionCreationRate, user: ip.String()})
	q.sweepLocked(now)
	d := q.rateThrottleLocked(s, limit, now)
	if d > 0 {
		// Not accepted: counted neither for the address nor the broker.
		s.record(-1, now, q.num, q.size)
		if brokerWide {
			q.sensorLocked(brokerConnectionKey).record(-1, now, q.num, q.size)
		}
	}
	return d, true
}
