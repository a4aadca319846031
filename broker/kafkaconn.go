package broker

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// A minimal Kafka client connection for broker-to-broker requests: the followers' fetches and the
// controller's requests to brokers.

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
	var hdr [8]byte
	if _, err := io.ReadFull(k.c, hdr[:4]); err != nil {
		return fmt.Errorf("reading %s response: %w", kmsg.NameForKey(req.Key()), err)
	}
	size := int32(binary.BigEndian.Uint32(hdr[:4]))
	if size < 4 || size > 256<<20 {
		return fmt.Errorf("bad response size %d", size)
	}
	body := make([]byte, size)
	if _, err := io.ReadFull(k.c, body); err != nil {
		return fmt.Errorf("reading %s response: %w", kmsg.NameForKey(req.Key()), err)
	}
	if corr := int32(binary.BigEndian.Uint32(body)); corr != k.corr {
		return fmt.Errorf("correlation id %d, want %d", corr, k.corr)
	}
	body = body[4:]
	resp.SetVersion(req.GetVersion())
	if resp.IsFlexible() && req.Key() != 18 {
		// Response header v1: tagged fields.
		n, l := binary.Uvarint(body)
		if l <= 0 {
			return errors.New("bad response header")
		}
		body = body[l:]
		for i := uint64(0); i < n; i++ {
			_, l1 := binary.Uvarint(body)
			if l1 <= 0 {
				return errors.New("bad response header tag")
			}
			sz, l2 := binary.Uvarint(body[l1:])
			if l2 <= 0 || uint64(len(body)) < uint64(l1+l2)+sz {
				return errors.New("bad response header tag")
			}
			body = body[uint64(l1+l2)+sz:]
		}
	}
	return resp.ReadFrom(body)
}
