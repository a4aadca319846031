package node

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/osprey-kafka/osprey/broker/kraft/image"
	"github.com/osprey-kafka/osprey/internal/testenv"
)

func TestBrokerLifecycle(t *testing.T) {
	c := newTestCluster(t)
	c.leader(0)
	rack := "r1"
	l, err := c.nodes[observerID].StartBrokerLifecycle(BrokerRegistration{
		Listeners:         []image.Listener{{Name: "PLAINTEXT", Host: "127.0.0.1", Port: 9092}},
		Rack:              &rack,
		HeartbeatInterval: 20 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()

	// Registered with its incarnation, listeners, rack and features, then unfenced once caught up.
	c.waitAll("broker 4 registered and unfenced", func(img image.Image) bool {
		b, ok := img.Broker(observerID)
		return ok && !b.Fenced && b.IncarnationID == l.IncarnationID()
	})
	b, _ := c.nodes[1].Image().Broker(observerID)
	if ln, ok := b.Listener("PLAINTEXT"); !ok || ln.Port != 9092 || b.Rack == nil || *b.Rack != rack {
		t.Fatalf("registration: %+v", b)
	}
	if len(b.Features) != len(SupportedFeatures()) {
		t.Fatalf("registered features %+v, want %+v", b.Features, SupportedFeatures())
	}
	testenv.WaitFor(t, 10*time.Second, func() error {
		if l.Fenced() || l.Epoch() != b.Epoch {
			return fmt.Errorf("lifecycle: fenced %v epoch %d, registration epoch %d", l.Fenced(), l.Epoch(), b.Epoch)
		}
		return nil
	})

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := l.ControlledShutdown(ctx); err != nil {
		t.Fatal(err)
	}
}
