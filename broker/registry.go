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
	mode     metadataMode
}

// metadataMode restricts an API to brokers of one metadata mode, as Kafka's
// brokers list different APIs in ZooKeeper and KRaft mode: a key the broker's
// mode lacks is neither listed in ApiVersions nor served.
type metadataMode uint8

const (
	anyMode   metadataMode = iota
	zkOnly                 // the ZooKeeper-mode controller's requests (and single-broker mode)
	kraftOnly              // KRaft-only APIs such as DescribeQuorum
)

// servedIn reports whether a broker (kraft: in KRaft mode) serves the key.
func (h apiHandler) servedIn(kraft bool) bool {
	switch h.mode {
	case zkOnly:
		return !kraft
	case kraftOnly:
		return kraft
	}
	return true
}

// handlers is filled by the init functions of the NN_*.go files and never
// written after package initialisation, so it is read without a lock.
var handlers = map[int16]apiHandler{}

// regKey registers fn for API key with its supported version range. A second
// registration of the same key is a programming error and panics at start.
func regKey(key, minV, maxV int16, fn handler) { regKeyMode(anyMode, key, minV, maxV, fn) }

// regKeyMode registers a key served in one metadata mode only.
func regKeyMode(mode metadataMode, key, minV, maxV int16, fn handler) {
	if _, dup := handlers[key]; dup {
		panic(fmt.Sprintf("broker: API key %d (%s) registered twice", key, kmsg.NameForKey(key)))
	}
	if req := kmsg.RequestForKey(key); req == nil || maxV > req.MaxVersion() || minV < 0 || minV > maxV {
		panic(fmt.Sprintf("broker: API key %d registered with bad range v%d-%d", key, minV, maxV))
	}
	handlers[key] = apiHandler{min: minV, max: maxV, fn: fn, mode: mode}
}

// supportedAPIs lists the keys a broker of the mode serves with their
// ranges, sorted by key, for the ApiVersions answer.
func supportedAPIs(kraft bool) []kmsg.ApiVersionsResponseApiKey {
	out := make([]kmsg.ApiVersionsResponseApiKey, 0, len(handlers))
	for k, h := range handlers {
		if !h.servedIn(kraft) {
			continue
		}
		ak := kmsg.NewApiVersionsResponseApiKey()
		ak.ApiKey, ak.MinVersion, ak.MaxVersion = k, h.min, h.max
		out = append(out, ak)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ApiKey < out[j].ApiKey })
	return out
}
