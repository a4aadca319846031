package broker

import (
	"errors"
	"fmt"
	"sort"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// handler serves one decoded request. It returns the response to send, or
// errDeferred when it has arranged to call r.reply later (long-poll fetch,
// group joins), or errNoResponse when the request gets no answer (acks=0).
// Any other error means the request was unusable: the connection is closed.
// Kafka-level failures are error codes inside the response, not errors.
type handler func(b *Broker, r *request) (kmsg.Response, error)

var (
	errDeferred   = errors.New("response deferred")
	errNoResponse = errors.New("request takes no response")
)

type apiHandler struct {
	min, max int16
	fn       handler
}

// handlers is filled by the init functions of the NN_*.go files and never
// written after package initialisation, so it is read without a lock.
var handlers = map[int16]apiHandler{}

// regKey registers fn for API key with its supported version range. A second
// registration of the same key is a programming error and panics at start.
func regKey(key, minV, maxV int16, fn handler) {
	if _, dup := handlers[key]; dup {
		panic(fmt.Sprintf("broker: API key %d (%s) registered twice", key, kmsg.NameForKey(key)))
	}
	if req := kmsg.RequestForKey(key); req == nil || maxV > req.MaxVersion() || minV < 0 || minV > maxV {
		panic(fmt.Sprintf("broker: API key %d registered with bad range v%d-%d", key, minV, maxV))
	}
	handlers[key] = apiHandler{min: minV, max: maxV, fn: fn}
}

// supportedAPIs lists the registered keys with their ranges, sorted by key,
// for the ApiVersions answer.
func supportedAPIs() []kmsg.ApiVersionsResponseApiKey {
	out := make([]kmsg.ApiVersionsResponseApiKey, 0, len(handlers))
	for k, h := range handlers {
		ak := kmsg.NewApiVersionsResponseApiKey()
		ak.ApiKey, ak.MinVersion, ak.MaxVersion = k, h.min, h.max
		out = append(out, ak)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ApiKey < out[j].ApiKey })
	return out
}
