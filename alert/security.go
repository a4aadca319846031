package alert

import "fmt"

// KindAuthFailures fires per listener whose failed SASL authentications, summed over the brokers,
// came at more than Threshold per minute over the last poll interval (the growth of the brokers'
// counters between two polls, collector.SecurityActivity; a broker that restarted counts from 0).
// KindPrincipalThrottled fires per user and client id that client quotas throttled for more than
// Threshold milliseconds in total over the last poll interval (0: any throttled request), and
// resolves once an interval passes without it. Only clusters that report these counters (Osprey
// runtime clusters whose brokers run in the console) are evaluated; for the others, and in a cycle
// that could not read them, nothing fires.
const (
	KindAuthFailures       Kind = "auth_failures_per_minute"
	KindPrincipalThrottled Kind = "principal_throttled"
)

type authFailureSample struct {
	Listener        string  `json:"listener"`
	Failures        int64   `json:"failures"`
	PerMinute       float64 `json:"perMinute"`
	IntervalSeconds float64 `json:"intervalSeconds"`
	Brokers         []int32 `json:"brokers"`
}

type throttleSample struct {
	User            string  `json:"user"`
	ClientID        string  `json:"clientId"`
	ThrottleMs      float64 `json:"throttleMs"`
	Requests        int64   `json:"requests"`
	IntervalSeconds float64 `json:"intervalSeconds"`
}

func evalAuthFailures(r Rule, c evalContext) []finding {
	sec := c.snap.Security
	if sec == nil {
		return nil
	}
	var out []finding
	for _, l := range sec.Listeners {
		if l.PerMinute <= r.Threshold {
			continue
		}
		out = append(out, finding{labels: map[string]string{"listener": l.Listener}, subject: "listener " + l.Listener,
			value: l.PerMinute, samples: authFailureSample{Listener: l.Listener, Failures: l.Failures, PerMinute: l.PerMinute,
				IntervalSeconds: sec.IntervalSeconds, Brokers: l.Brokers},
			summary: fmt.Sprintf("%d failed SASL authentications on listener %s in the last %.0f s (%.1f per minute, threshold %s) on brokers %s",
				l.Failures, l.Listener, sec.IntervalSeconds, l.PerMinute, fmtNum(r.Threshold), ids(l.Brokers))})
	}
	return out
}

func evalPrincipalThrottled(r Rule, c evalContext) []finding {
	sec := c.snap.Security
	if sec == nil {
		return nil
	}
	var out []finding
	for _, t := range sec.Throttled {
		ms := t.ThrottleSeconds * 1000
		if ms <= r.Threshold || t.Requests == 0 {
			continue
		}
		user, client := t.User, t.ClientID
		if user == "" {
			user = "(anonymous)"
		}
		if client == "" {
			client = "(none)"
		}
		out = append(out, finding{labels: map[string]string{"user": t.User, "client_id": t.ClientID},
			subject: "user " + user + " / client id " + client, value: ms,
			samples: throttleSample{User: t.User, ClientID: t.ClientID, ThrottleMs: ms, Requests: t.Requests, IntervalSeconds: sec.IntervalSeconds},
			summary: fmt.Sprintf("User %s with client id %s was throttled by client quotas for %.0f ms over %d requests in the last %.0f s (threshold %s ms)",
				user, client, ms, t.Requests, sec.IntervalSeconds, fmtNum(r.Threshold))})
	}
	return out
}
