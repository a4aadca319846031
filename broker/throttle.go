package broker

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Replication throttling as Kafka does it for reassignments: a broker-wide
// byte rate for the leader side (leader.replication.throttled.rate) and
// the follower side (follower.replication.throttled.rate), static in
// server.properties or dynamic in /config/brokers/<id> (or <default>),
// applied only to the replicas a topic lists in
// leader.replication.throttled.replicas / follower.replication.throttled.replicas
// ("*" or "partition:broker,...") and only while the follower is out of
// the ISR, so that catching-up replicas cannot starve the in-sync ones.

// throttle is a token bucket (burst: one second of rate). Safe for
// concurrent use.
type throttle struct {
	mu     sync.Mutex
	rate   float64 // bytes per second; +Inf = unlimited
	tokens float64
	last   time.Time
}

func newThrottle() *throttle { return &throttle{rate: math.Inf(1), last: time.Now()} }

// setRate changes the rate (<= 0 or MaxInt64: unlimited).
func (t *throttle) setRate(bytesPerSec int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := math.Inf(1)
	if bytesPerSec > 0 && bytesPerSec != math.MaxInt64 {
		r = float64(bytesPerSec)
	}
	if r != t.rate {
		t.rate, t.tokens, t.last = r, min(t.tokens, r), time.Now()
	}
}

func (t *throttle) refillLocked() {
	now := time.Now()
	t.tokens = min(t.tokens+now.Sub(t.last).Seconds()*t.rate, t.rate)
	t.last = now
}

// currentRate is the rate in bytes per second (+Inf = unlimited).
func (t *throttle) currentRate() float64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.rate
}

// exceeded reports whether the quota is used up for now.
func (t *throttle) exceeded() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if math.IsInf(t.rate, 1) {
		return false
	}
	t.refillLocked()
	return t.tokens <= 0
}

// available is how many bytes may go now (math.MaxInt32 when unlimited,
// at least 1 so that one batch can always move).
func (t *throttle) available() int32 {
	t.mu.Lock()
	defer t.mu.Unlock()
	if math.IsInf(t.rate, 1) {
		return math.MaxInt32
	}
	t.refillLocked()
	return int32(max(min(t.tokens, math.MaxInt32), 1))
}

// record charges n bytes.
func (t *throttle) record(n int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if math.IsInf(t.rate, 1) {
		return
	}
	t.refillLocked()
	t.tokens -= float64(n)
}

// throttledReplica reports whether a topic's throttled-replicas config
// value lists (partition, broker).
func throttledReplica(value string, partition, broker int32) bool {
	value = strings.TrimSpace(value)
	if value == "" {
		return false
	}
	if value == "*" {
		return true
	}
	for _, e := range strings.Split(value, ",") {
		p, b, ok := strings.Cut(strings.TrimSpace(e), ":")
		if !ok {
			continue
		}
		pn, err1 := strconv.Atoi(strings.TrimSpace(p))
		bn, err2 := strconv.Atoi(strings.TrimSpace(b))
		if err1 == nil && err2 == nil && int32(pn) == partition && int32(bn) == broker {
			return true
		}
	}
	return false
}

// leaderThrottled reports whether serving replica's fetch of p counts
// against the leader's replication quota.
func (b *Broker) leaderThrottled(t TopicInfo, p *partition, replica int32) bool {
	if !throttledReplica(t.Configs["leader.replication.throttled.replicas"], p.index, b.cfg.BrokerID) {
		return false
	}
	return int(p.index) < len(t.Partitions) && !slices.Contains(t.Partitions[p.index].ISR, replica)
}
