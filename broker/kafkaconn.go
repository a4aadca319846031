package broker

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/osprey-kafka/osprey/broker/kafkawire"
)

// A minimal Kafka client connection for broker-to-broker requests: the followers' fetches and the
// controller's requests to brokers.

// maxResponseFrame bounds a response from another broker; a follower's
// fetch asks for far less (its MaxBytes).
const maxResponseFrame = 256 << 20

// kafkaConn sends one request at a time on a connection to another broker.
// Not safe for concurrent use (a fetcher owns it).
type kafkaConn struct {
	c    net.Conn
	corr int32
	f    *kmsg.RequestFormatter
}

func dialKafka(ctx context.Context, addr, clientID string) (*kafkaConn, error) {
	var d net.Dialer
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	c, err := d.DialContext(dctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dialing %s: %w", addr, err)
	}
	return &kafkaConn{c: c, f: kmsg.NewRequestFormatter(kmsg.FormatterClientID(clientID))}, nil
}

func (k *kafkaConn) Close() error { return k.c.Close() }

// Do sends req and decodes the answer into resp, within ctx's deadline.
func (k *kafkaConn) Do(ctx context.Context, req kmsg.Request, resp kmsg.Response) error {
	if dl, ok := ctx.Deadline(); ok {
		k.c.SetDeadline(dl) //nolint:errcheck // a failed deadline shows up as an I/O error
	}
	stop := context.AfterFunc(ctx, func() { k.c.SetDeadline(time.Unix(1, 0)) }) //nolint:errcheck
	defer stop()
	k.corr++
	buf := k.f.AppendRequest(nil, req, k.corr)
	if _, err := k.c.Write(buf); err != nil {
		return fmt.Errorf("writing %s: %w", kmsg.NameForKey(req.Key()), err)
	}
	frame, err := kafkawire.ReadFrame(k.c, kafkawire.MinResponseFrame, maxResponseFrame)
	if err != nil {
		return fmt.Errorf("reading %s response: %w", kmsg.NameForKey(req.Key()), err)
	}
	return kafkawire.DecodeResponse(frame, req, k.corr, resp)
}
