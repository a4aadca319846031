package broker

import (
	"sort"
	"time"
)

// ClientQuotaUsage is what a broker measures now for the clients one client quota applies to: one
// rate sensor of its ClientQuotaManager (clients that share a quota share a sensor).
type ClientQuotaUsage struct {
	// Key is the quota: producer_byte_rate, consumer_byte_rate or request_percentage.
	Key string
	// User and ClientID are the sensor's tags: the clients it measures ("" for a part the quota
	// is not per, e.g. ClientID of a per-user quota).
	User, ClientID string
	// EntityUser and EntityClientID are the entity the quota is set on: a name, QuotaDefaultName
	// for the type's default, or "" when the entity has no such part.
	EntityUser, EntityClientID string
	// Limit is the quota; Rate the measured rate over the quota window (bytes per second, or
	// percent of a thread for request_percentage).
	Limit, Rate float64
	// Throttle is the throttle time a request charged now would get (0 within the quota), the
	// figure clients see in throttle_time_ms.
	Throttle time.Duration
}

// QuotaDefaultName is how ClientQuotaUsage names a default entity, as kafka-configs.sh prints it.
const QuotaDefaultName = "<default>"

// ClientQuotaUsage returns the broker's client quota sensors that measured something within the
// quota window, with the quota that applies to each now (a sensor whose quota was removed is left
// out), sorted by key, user and client id.
func (b *Broker) ClientQuotaUsage() []ClientQuotaUsage {
	return b.quotas.usage(time.Now())
}

func (q *clientQuotas) usage(now time.Time) []ClientQuotaUsage {
	q.mu.Lock()
	defer q.mu.Unlock()
	window := time.Duration(q.num) * q.size
	var out []ClientQuotaUsage
	for sk, s := range q.sensors {
		if now.Sub(s.last) >= window {
			continue
		}
		m, ok := q.table.resolve(sk.key, sk.user, sk.client)
		if !ok || m.limit <= 0 {
			continue
		}
		rate := s.measure(now, q.num, q.size)
		u := ClientQuotaUsage{Key: sk.key, User: sk.user, ClientID: sk.client, Limit: m.limit, Rate: rate,
			EntityUser: usageName(m.entity.user), EntityClientID: usageName(m.entity.client)}
		if rate > m.limit {
			u.Throttle = time.Duration((rate - m.limit) / m.limit * float64(s.windowSize(now, q.num, q.size)))
			if sk.key == quotaRequestPercentage {
				u.Throttle = min(u.Throttle, q.size) // as chargeRequestTime bounds it
			}
		}
		out = append(out, u)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Key != b.Key {
			return a.Key < b.Key
		}
		if a.User != b.User {
			return a.User < b.User
		}
		return a.ClientID < b.ClientID
	})
	return out
}

func usageName(n quotaName) string {
	switch {
	case !n.set:
		return ""
	case n.def:
		return QuotaDefaultName
	}
	return n.name
}
