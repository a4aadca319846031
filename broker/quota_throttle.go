package broker

import (
	"math"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Applying client quota throttle times (quota.go) to connections, as
// Kafka's SocketServer and ClientQuotaManager.throttle do:
// - the response carries the throttle time in throttle_time_ms;
// - the connection is muted: its reader takes no further request until the
//   throttle time has passed (conn.serve calls waitUnmuted before each read);
// - for request versions before KIP-219 (the response's Throttle reports
//   that the client does not throttle itself: Produce < v6, Fetch < v8) the
//   response itself is held back for the throttle time, as Kafka did
//   before 2.0; newer clients get it at once and back off on their own.
// The mute starts when the response is queued rather than when its last
// byte is written (the difference is one response's write time), for a
// Produce already when its bytes are counted.

// mute keeps the connection's reader from reading for d (the later end of
// overlapping mutes wins).
func (c *conn) mute(d time.Duration) {
	until := time.Now().Add(d).UnixNano()
	for {
		cur := c.mutedUntil.Load()
		if cur >= until || c.mutedUntil.CompareAndSwap(cur, until) {
			return
		}
	}
}

// waitUnmuted blocks while the connection is muted; false when the
// connection closed meanwhile.
func (c *conn) waitUnmuted() bool {
	for {
		d := time.Until(time.Unix(0, c.mutedUntil.Load()))
		if d <= 0 {
			return true
		}
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-c.done:
			t.Stop()
			return false
		}
	}
}

// throttleMillis is the throttle time as the protocol's int32 milliseconds.
func throttleMillis(d time.Duration) int32 {
	return int32(min(d.Milliseconds(), math.MaxInt32))
}

// stampThrottle writes the request's throttle time into resp, keeping a
// larger one the handler set.
func (r *request) stampThrottle(resp kmsg.Response) {
	if r.throttle <= 0 || resp == nil {
		return
	}
	t, ok := resp.(kmsg.ThrottleResponse)
	st, ok2 := resp.(kmsg.SetThrottleResponse)
	if !ok || !ok2 {
		return
	}
	if cur, _ := t.Throttle(); cur < throttleMillis(r.throttle) {
		st.SetThrottle(throttleMillis(r.throttle))
	}
}

// enqueueThrottled queues the frame, muting the connection and, for
// clients that do not throttle themselves, delaying the frame when the
// request was throttled. resp is nil for a request without a response.
func (r *request) enqueueThrottled(f *outFrame, resp kmsg.Response) {
	if r.throttle <= 0 {
		r.c.enqueue(r.seq, f)
		return
	}
	r.c.mute(r.throttle)
	clientThrottles := true
	if t, ok := resp.(kmsg.ThrottleResponse); ok {
		_, clientThrottles = t.Throttle()
	}
	if resp == nil || clientThrottles {
		r.c.enqueue(r.seq, f)
		return
	}
	// enqueue after close releases the frame, so a connection gone
	// meanwhile leaks nothing.
	time.AfterFunc(r.throttle, func() { r.c.enqueue(r.seq, f) })
}

// quotaClient is who a request is charged to: the principal's user name
// and the client id.
func (r *request) quotaClient() (user, clientID string) {
	return quotaUser(r.c.Principal()), deref(r.hdr.ClientID)
}

// throttleProduce charges a Produce request's record bytes to the
// producer_byte_rate quota that applies to its client.
func (b *Broker) throttleProduce(r *request, req *kmsg.ProduceRequest) {
	if !b.quotas.anySets(quotaProducerByteRate) {
		return
	}
	var n int
	for _, t := range req.Topics {
		for _, p := range t.Partitions {
			n += len(p.Records)
		}
	}
	user, client := r.quotaClient()
	if d := b.quotas.record(quotaProducerByteRate, user, client, float64(n), time.Now(), false); d > 0 {
		r.throttle = max(r.throttle, d)
		// Muted from now, not only from the (acks=all: later) reply: the
		// reader runs this handler and would otherwise take the requests
		// the client pipelined behind this one.
		r.c.mute(d)
		b.metrics.observeThrottle("produce", user, client, d)
	}
}

// clampFetchForQuota bounds a consumer fetch's MaxBytes to what its
// consumer_byte_rate quota lets through in one quota window, as Kafka does,
// so that one fetch cannot be throttled for ever.
func (b *Broker) clampFetchForQuota(r *request, req *kmsg.FetchRequest) {
	if req.ReplicaID >= 0 {
		return
	}
	user, client := r.quotaClient()
	if limit := b.quotas.maxValueInWindow(quotaConsumerByteRate, user, client); limit < float64(req.MaxBytes) || (req.MaxBytes <= 0 && !math.IsInf(limit, 1)) {
		req.MaxBytes = int32(max(limit, 1))
	}
}

// throttleFetch charges a consumer fetch's record bytes to its
// consumer_byte_rate quota. When that throttles the client, the read is
// dropped and the answer carries no data, only the throttle time (Kafka's
// throttled fetch response), and the bytes are not counted.
func (b *Broker) throttleFetch(r *request, fr *fetchRead) *fetchRead {
	if r.kreq.(*kmsg.FetchRequest).ReplicaID >= 0 || fr.bytes == 0 {
		return fr
	}
	user, client := r.quotaClient()
	d := b.quotas.record(quotaConsumerByteRate, user, client, float64(fr.bytes), time.Now(), true)
	if d <= 0 {
		return fr
	}
	r.throttle = max(r.throttle, d)
	b.metrics.observeThrottle("fetch", user, client, d)
	fr.close()
	empty := &fetchRead{resp: r.kreq.(*kmsg.FetchRequest).ResponseKind().(*kmsg.FetchResponse)}
	return empty
}

// requestQuotaExempt are the inter-broker and controller requests, which
// Kafka leaves out of request quotas (they are authorized as cluster
// actions); follower fetches are exempt too.
var requestQuotaExempt = map[int16]bool{
	kmsg.LeaderAndISR.Int16(): true, kmsg.StopReplica.Int16(): true, kmsg.UpdateMetadata.Int16(): true,
	kmsg.ControlledShutdown.Int16(): true, kmsg.WriteTxnMarkers.Int16(): true, kmsg.AlterPartition.Int16(): true,
	kmsg.BrokerRegistration.Int16(): true, kmsg.BrokerHeartbeat.Int16(): true,
}

// chargeRequestTime charges the time a handler ran on the connection's
// goroutine to the request_percentage quota, as Kafka's
// ClientRequestQuotaManager charges request handler thread time: recorded
// in percent of one thread per second, the throttle bounded by one quota
// window. It runs after the handler: a response the handler answered
// itself (a fetch) keeps its throttle time, the mute applies all the same.
func (b *Broker) chargeRequestTime(r *request, d time.Duration) {
	if requestQuotaExempt[r.hdr.Key] || !b.quotas.anySets(quotaRequestPercentage) {
		return
	}
	if f, ok := r.kreq.(*kmsg.FetchRequest); ok && f.ReplicaID >= 0 {
		return
	}
	user, client := r.quotaClient()
	t := b.quotas.record(quotaRequestPercentage, user, client, d.Seconds()*100, time.Now(), false)
	if t <= 0 {
		return
	}
	t = min(t, b.quotas.size)
	r.throttle = max(r.throttle, t)
	r.c.mute(t)
	b.metrics.observeThrottle("request", user, client, t)
}
