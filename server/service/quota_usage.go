package service

import (
	"cmp"
	"slices"
)

// QuotaUsage is what one broker measures now for the clients one of an entity's quotas applies to:
// the rate of its quota sensor (clients sharing a quota share one) and the throttle time a request
// charged now would get, the throttle_time_ms clients see. Only Osprey runtime brokers that run in
// the console's process report it; Kafka exposes it on no admin API (only as JMX metrics).
type QuotaUsage struct {
	Broker int32 `json:"broker"`
	// Key is the quota measured: producer_byte_rate, consumer_byte_rate or request_percentage.
	Key string `json:"key"`
	// User and ClientID are the clients the sensor measures (absent for a part the quota is not per).
	User     string `json:"user,omitempty"`
	ClientID string `json:"clientId,omitempty"`
	// Rate is over the brokers' quota window: bytes per second, or percent of a thread.
	Rate  float64 `json:"rate"`
	Limit float64 `json:"limit"`
	// ThrottleMs is 0 within the quota.
	ThrottleMs int64 `json:"throttleMs"`
}

// quotaEntityKey is an entity as QuotaRow names it: user and client id, "" for a part it has not,
// QuotaDefault for a default.
type quotaEntityKey struct{ user, clientID string }

// quotaUsage reads the quota sensors of a runtime cluster's brokers that run in this process, by the
// entity whose quota each measures; reported is false for every other cluster (configured clusters,
// runtime clusters with child-process brokers), whose brokers' figures the console cannot read.
func (s *Service) quotaUsage(cluster string) (usage map[quotaEntityKey][]QuotaUsage, reported bool) {
	rc, err := s.runtimeCluster(cluster)
	if err != nil || rc.store == "zookeeper" {
		return nil, false
	}
	usage = map[quotaEntityKey][]QuotaUsage{}
	for _, st := range rc.sup.Status() {
		b := rc.sup.Broker(st.ID)
		if b == nil {
			continue // not running (or a controller-only node): nothing to measure
		}
		for _, u := range b.ClientQuotaUsage() {
			k := quotaEntityKey{user: u.EntityUser, clientID: u.EntityClientID}
			usage[k] = append(usage[k], QuotaUsage{Broker: st.ID, Key: u.Key, User: u.User, ClientID: u.ClientID,
				Rate: u.Rate, Limit: u.Limit, ThrottleMs: u.Throttle.Milliseconds()})
		}
	}
	for _, list := range usage {
		slices.SortFunc(list, func(a, b QuotaUsage) int {
			return cmp.Or(cmp.Compare(a.Key, b.Key), cmp.Compare(a.User, b.User), cmp.Compare(a.ClientID, b.ClientID),
				cmp.Compare(a.Broker, b.Broker))
		})
	}
	return usage, true
}
