package broker

import (
	"context"
	"errors"
	"math"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

// controller_mutation_rate (KIP-599), as Kafka's
// ControllerMutationQuotaManager enforces it: CreateTopics, CreatePartitions
// and DeleteTopics are charged one token per partition created or deleted
// against the (user, client id) quota resolved like the other client quotas.
// The quota is a token bucket refilled at the quota's rate and holding at
// most rate × controller.quota.window.num × controller.quota.window.size.seconds
// tokens; a new client starts with a full bucket.
//
// - Strict (CreateTopics v6+, CreatePartitions v3+, DeleteTopics v5+): a
//   topic is refused with THROTTLING_QUOTA_EXCEEDED once the bucket is
//   below zero; while it is not, a topic is accepted however many
//   partitions it has (the bucket may go negative). The response carries
//   the time the bucket needs to climb back to zero in throttle_time_ms and
//   the connection is muted for it.
// - Permissive (older versions, whose clients know no such error): every
//   topic is accepted and charged; a bucket left below zero throttles the
//   response as above.
//
// Topics are charged after the handler's own checks and before the
// cluster acts; one the cluster refuses (it exists, bad config …) is
// refunded, as Kafka charges only after its validation. validate_only is
// never charged. Each broker keeps its own buckets: in ZooKeeper mode that
// is Kafka's behaviour (every broker runs these requests); a KRaft
// cluster of Kafka charges them on the active controller instead.

// tokenBucket is Kafka's TokenBucket stat. tokens starts at zero with last
// at the zero time, so the first refill fills it.
type tokenBucket struct {
	tokens float64
	last   time.Time
}

func (t *tokenBucket) refill(rate, burst float64, now time.Time) {
	if t.last.IsZero() {
		t.tokens = burst
	} else if d := now.Sub(t.last); d > 0 {
		t.tokens = math.Min(burst, t.tokens+rate*d.Seconds())
	}
	t.last = now
}

// mutationQuota is one request's use of the controller_mutation_rate
// quota; nil when no quota is set anywhere. Used by the request's handler
// goroutine only.
type mutationQuota struct {
	q            *clientQuotas
	user, client string
	strict       bool
	throttle     time.Duration // from the last charge that hit the limit
	throttledAt  time.Time
}

// mutationQuotaFor returns the request's controller mutation quota, strict
// from version strictSince on; nil when no entity sets the key.
func (b *Broker) mutationQuotaFor(r *request, strictSince int16) *mutationQuota {
	if !b.quotas.anySets(quotaControllerMutationRate) {
		return nil
	}
	user, client := r.quotaClient()
	return &mutationQuota{q: b.quotas, user: user, client: client, strict: r.hdr.Version >= strictSince}
}

// charge takes n tokens for one topic. A strict quota refuses (false, and
// nothing is charged) when the bucket is already below zero.
func (m *mutationQuota) charge(n float64) bool {
	if m == nil {
		return true
	}
	now := time.Now()
	q := m.q
	q.mu.Lock()
	defer q.mu.Unlock()
	match, ok := q.table.resolve(quotaControllerMutationRate, m.user, m.client)
	if !ok || match.limit <= 0 {
		return true
	}
	burst := match.limit * float64(q.ctrlNum) * q.ctrlSize.Seconds()
	q.sweepLocked(now)
	tb := q.bucketLocked(sensorKey{quotaControllerMutationRate, match.userTag, match.clientTag})
	tb.refill(match.limit, burst, now)
	if m.strict && tb.tokens < 0 {
		m.hit(tb.tokens, match.limit, now)
		return false
	}
	tb.tokens = math.Min(burst, tb.tokens-n)
	if !m.strict && tb.tokens < 0 {
		m.hit(tb.tokens, match.limit, now)
	}
	return true
}

// hit records the throttle time a bucket at tokens needs to get back to
// zero: -tokens / rate (Kafka's ControllerMutationQuotaManager.throttleTimeMs).
func (m *mutationQuota) hit(tokens, rate float64, now time.Time) {
	m.throttle = time.Duration(math.Round(-tokens/rate*1000)) * time.Millisecond
	m.throttledAt = now
}

// refund gives back n tokens charged for a topic the cluster then refused.
func (m *mutationQuota) refund(n float64) {
	if m == nil || n == 0 {
		return
	}
	q := m.q
	q.mu.Lock()
	defer q.mu.Unlock()
	match, ok := q.table.resolve(quotaControllerMutationRate, m.user, m.client)
	if !ok || match.limit <= 0 {
		return
	}
	if tb := q.buckets[sensorKey{quotaControllerMutationRate, match.userTag, match.clientTag}]; tb != nil {
		burst := match.limit * float64(q.ctrlNum) * q.ctrlSize.Seconds()
		tb.tokens = math.Min(burst, tb.tokens+n)
	}
}

// refundIfRefused refunds n tokens when the cluster refused the change
// (err not nil, other than running out of time: the change may be done).
func (m *mutationQuota) refundIfRefused(n float64, err error) {
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		m.refund(n)
	}
}

// apply sets the request's throttle to the quota's (less the time since
// it was computed, as Kafka's throttleTime does) when that is longer.
func (m *mutationQuota) apply(b *Broker, r *request) {
	if m == nil || m.throttle <= 0 {
		return
	}
	d := m.throttle - time.Since(m.throttledAt)
	if d <= 0 {
		return
	}
	r.throttle = max(r.throttle, d)
	b.metrics.observeThrottle("controller_mutation", m.user, m.client, d)
}

// refusal is the per-topic error of a topic the strict quota refused.
func mutationRefusal() (int16, *string) {
	e := kerr.ThrottlingQuotaExceeded
	msg := "The throttling quota has been exceeded."
	return e.Code, &msg
}

// bucketLocked returns the token bucket of a sensor, made on first use.
// q.mu held.
func (q *clientQuotas) bucketLocked(k sensorKey) *tokenBucket {
	tb := q.buckets[k]
	if tb == nil {
		tb = &tokenBucket{}
		q.buckets[k] = tb
	}
	return tb
}
