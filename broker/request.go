package broker

import (
	"encoding/binary"
	"reflect"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/osprey-kafka/osprey/broker/kafkawire"
)

// request is one decoded request in flight on a connection.
type request struct {
	c     *conn
	seq   uint64
	hdr   kafkawire.RequestHeader
	kreq  kmsg.Request
	start time.Time
	once  sync.Once
	// throttle is the client quota throttle time the handler charged
	// (quota_throttle.go); set before the reply, read by it.
	throttle time.Duration
}

// reply encodes resp and queues it for its place in the connection's order.
// It may be called from any goroutine; only the first call counts.
func (r *request) reply(resp kmsg.Response) {
	r.once.Do(func() {
		r.stampThrottle(resp)
		buf := kafkawire.AppendResponse(make([]byte, 0, 256), r.hdr, resp)
		r.observe(resp)
		r.enqueueThrottled(&outFrame{pieces: []piece{{b: buf}}}, resp)
	})
}

// replyPieces queues an already encoded response (header included, without
// the size prefix, which is computed here) made of bytes and streamed pieces.
// The encoder must have stamped the throttle time (stampThrottle) already.
func (r *request) replyPieces(resp kmsg.Response, pieces []piece) {
	r.once.Do(func() {
		var total int64
		for _, p := range pieces {
			if p.stream != nil {
				total += p.stream.Len()
			} else {
				total += int64(len(p.b))
			}
		}
		size := binary.BigEndian.AppendUint32(nil, uint32(total))
		r.observe(resp)
		r.enqueueThrottled(&outFrame{pieces: append([]piece{{b: size}}, pieces...)}, resp)
	})
}

// skip marks the request as answered without a response (acks=0).
func (r *request) skip() {
	r.once.Do(func() {
		r.observe(nil)
		r.enqueueThrottled(&outFrame{skip: true}, nil)
	})
}

// observe records the request's latency and the error codes in resp.
func (r *request) observe(resp kmsg.Response) {
	m := r.c.b.metrics
	api := kmsg.NameForKey(r.hdr.Key)
	m.latency.WithLabelValues(api).Observe(time.Since(r.start).Seconds())
	codes := map[int16]int{}
	if resp != nil {
		collectErrorCodes(reflect.ValueOf(resp), codes, 0)
	}
	if len(codes) == 0 {
		codes[0] = 1
	}
	for code := range codes {
		m.requests.WithLabelValues(api, strconv.Itoa(int(code))).Inc()
	}
}

var int16Type = reflect.TypeFor[int16]()

// collectErrorCodes walks a response struct for fields named ErrorCode. A
// request with several partition errors counts once per distinct code.
func collectErrorCodes(v reflect.Value, codes map[int16]int, depth int) {
	if depth > 6 {
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			collectErrorCodes(v.Elem(), codes, depth+1)
		}
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			switch {
			case f.Name == "ErrorCode" && f.Type == int16Type:
				if c := int16(v.Field(i).Int()); c != 0 {
					codes[c]++
				}
			case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Struct:
				collectErrorCodes(v.Field(i), codes, depth+1)
			}
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			collectErrorCodes(v.Index(i), codes, depth+1)
		}
	}
}
