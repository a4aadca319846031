package service

import (
	"context"

	"github.com/osprey-kafka/osprey/broker/supervisor"
	"github.com/osprey-kafka/osprey/collector"
)

// runtimeAuthStats reads the failed authentications and client quota throttling of a runtime
// cluster's brokers that run in this process, from the brokers' own counters. Brokers run as
// child processes are left out, as for runtimeCleaner: their counters are only on their own
// metrics endpoint, which the console does not scrape.
type runtimeAuthStats struct{ sup *supervisor.Cluster }

func (r runtimeAuthStats) SecurityCounters(context.Context) (map[int32]collector.BrokerSecurityCounters, error) {
	out := map[int32]collector.BrokerSecurityCounters{}
	for _, st := range r.sup.Status() {
		b := r.sup.Broker(st.ID)
		if b == nil {
			continue
		}
		s := b.SecurityStats()
		bc := collector.BrokerSecurityCounters{AuthFailures: s.AuthFailures,
			Throttled: make(map[collector.ClientQuotaID]collector.ThrottleCount, len(s.Throttled))}
		for id, t := range s.Throttled {
			bc.Throttled[collector.ClientQuotaID{User: id.User, ClientID: id.ClientID}] =
				collector.ThrottleCount{Seconds: t.Seconds, Requests: t.Requests}
		}
		out[st.ID] = bc
	}
	return out, nil
}
