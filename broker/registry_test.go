package broker

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestDuplicateRegistrationPanics(t *testing.T) {
	before := handlers[18]
	defer func() {
		if recover() == nil {
			t.Fatal("registering ApiVersions twice did not panic")
		}
		if h := handlers[18]; h.min != before.min || h.max != before.max {
			t.Fatal("the failed registration changed the registry")
		}
	}()
	regKey(18, 0, 1, handleApiVersions)
}

func TestRegistryMatchesApiVersionsAnswer(t *testing.T) {
	for _, kraft := range []bool{false, true} {
		keys := supportedAPIs(kraft)
		listed := map[int16]bool{}
		for _, k := range keys {
			listed[k.ApiKey] = true
		}
		for key, h := range handlers {
			if listed[key] != h.servedIn(kraft) {
				t.Fatalf("kraft=%v: key %d listed=%v, served=%v", kraft, key, listed[key], h.servedIn(kraft))
			}
		}
		// Kafka's KRaft brokers have no ZooKeeper controller requests; its
		// ZooKeeper brokers have no DescribeQuorum.
		for _, c := range []struct {
			key  int16
			want bool
		}{{4, !kraft}, {5, !kraft}, {6, !kraft}, {55, kraft}, {0, true}, {18, true}} {
			if listed[c.key] != c.want {
				t.Errorf("kraft=%v: key %d listed=%v, want %v", kraft, c.key, listed[c.key], c.want)
			}
		}
		checkKeys(t, keys)
	}
}

func checkKeys(t *testing.T, keys []kmsg.ApiVersionsResponseApiKey) {
	t.Helper()
	for _, k := range keys {
		h := handlers[k.ApiKey]
		if k.MinVersion != h.min || k.MaxVersion != h.max {
			t.Fatalf("key %d advertised v%d-%d, registered v%d-%d", k.ApiKey, k.MinVersion, k.MaxVersion, h.min, h.max)
		}
		if req := kmsg.RequestForKey(k.ApiKey); req == nil || req.MaxVersion() < h.max {
			t.Fatalf("key %d: kmsg cannot decode up to v%d", k.ApiKey, h.max)
		}
	}
}

// A handler that panics closes only its connection; the broker survives.
func TestHandlerPanicIsRecovered(t *testing.T) {
	const key = 57 // UpdateFeatures: not served by this broker
	if _, ok := handlers[key]; ok {
		t.Fatalf("key %d is registered; pick another for this test", key)
	}
	handlers[key] = apiHandler{min: 0, max: 1, fn: func(*Broker, *request) (kmsg.Response, error) { panic("boom") }}
	// Registered before the broker's cleanup, so it runs after the broker
	// (and its connection goroutines reading the registry) is closed.
	t.Cleanup(func() { delete(handlers, key) })
	b := newTestBroker(t)
	c := dialRaw(t, b.Addr())
	req := kmsg.NewPtrUpdateFeaturesRequest()
	req.Version = 0
	c.send(req, 1)
	c.expectClosed()
	c2 := dialRaw(t, b.Addr())
	if r := c2.roundTrip(kmsg.NewPtrApiVersionsRequest(), 2).(*kmsg.ApiVersionsResponse); r.ErrorCode != 0 {
		t.Fatalf("broker unhealthy after a handler panic: %d", r.ErrorCode)
	}
}
