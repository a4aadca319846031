package admin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	kafka "github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/protocol"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Message is one record read from a partition.
type Message struct {
	Partition int32
	Offset    int64
	Time      time.Time
	Key       []byte // nil when the record has no key
	Value     []byte // nil for a tombstone
	Headers   []MessageHeader
}

// MessageHeader is one record header.
type MessageHeader struct {
	Key   string
	Value []byte
}

// FetchResult is what FetchMessages read, with the partition's bounds.
type FetchResult struct {
	Messages      []Message
	HighWatermark int64
	LogStart      int64
}

// FetchMessages reads up to limit records of one partition starting at
// offset, in at most maxBytes (default 1 MiB) of one fetch response; it waits
// at most maxWait (default 500 ms) for records to arrive. kafka-go's fetch
// decompresses every codec Kafka uses.
func (c *Client) FetchMessages(ctx context.Context, topic string, partition int32, offset int64, limit int, maxBytes int64, maxWait time.Duration) (*FetchResult, error) {
	if limit <= 0 {
		return nil, errors.New("fetch messages: limit must be positive")
	}
	if maxBytes <= 0 {
		maxBytes = 1 << 20
	}
	if maxWait <= 0 {
		maxWait = 500 * time.Millisecond
	}
	ctx, cancel := c.callCtx(ctx)
	defer cancel()
	resp, _, err := retryBroken(ctx, func() (*kafka.FetchResponse, error) {
		return c.kc.Fetch(ctx, &kafka.FetchRequest{Topic: topic, Partition: int(partition), Offset: offset, MinBytes: 1, MaxBytes: maxBytes, MaxWait: maxWait})
	})
	if err != nil {
		return nil, fmt.Errorf("fetch %s/%d@%d: %w", topic, partition, offset, err)
	}
	if resp.Error != nil {
		return nil, fmt.Errorf("fetch %s/%d@%d: %w", topic, partition, offset, resp.Error)
	}
	out := &FetchResult{HighWatermark: resp.HighWatermark, LogStart: resp.LogStartOffset}
	if resp.Records == nil {
		return out, nil
	}
	for len(out.Messages) < limit {
		r, err := resp.Records.ReadRecord()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return out, fmt.Errorf("reading records of %s/%d: %w", topic, partition, err)
		}
		if r.Offset < offset { // a batch may start before the requested offset
			continue
		}
		m := Message{Partition: partition, Offset: r.Offset, Time: r.Time}
		if r.Key != nil {
			if m.Key, err = protocol.ReadAll(r.Key); err != nil {
				return out, fmt.Errorf("record key: %w", err)
			}
		}
		if r.Value != nil {
			if m.Value, err = protocol.ReadAll(r.Value); err != nil {
				return out, fmt.Errorf("record value: %w", err)
			}
		}
		for _, h := range r.Headers {
			m.Headers = append(m.Headers, MessageHeader{Key: h.Key, Value: append([]byte(nil), h.Value...)})
		}
		out.Messages = append(out.Messages, m)
	}
	return out, nil
}

// ProduceMessage writes one record to a partition (acks=all) and returns its offset. It uses a
// short-lived franz-go producer: idempotent, so its retries on a leader change or a connection broken by
// a broker restart never duplicate the record, and it refreshes metadata by itself (right after a topic
// is created its leaders may not be known yet). A test message is rare enough for the connection cost.
func (c *Client) ProduceMessage(ctx context.Context, topic string, partition int32, key, value []byte, headers []MessageHeader) (int64, error) {
	ctx, cancel := c.callCtx(ctx)
	defer cancel()
	opts := []kgo.Opt{
		kgo.SeedBrokers(c.cfg.Bootstrap...),
		kgo.ClientID(c.cfg.ClientID),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.DialTimeout(c.cfg.DialTimeout),
	}
	if c.tls != nil {
		opts = append(opts, kgo.DialTLSConfig(c.tls))
	}
	if c.sasl != nil {
		opts = append(opts, kgo.SASL(c.sasl))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return -1, fmt.Errorf("produce to %s/%d: %w", topic, partition, err)
	}
	defer cl.Close()
	rec := &kgo.Record{Topic: topic, Partition: partition, Key: key, Value: value, Timestamp: time.Now()}
	for _, h := range headers {
		rec.Headers = append(rec.Headers, kgo.RecordHeader{Key: h.Key, Value: h.Value})
	}
	res, err := cl.ProduceSync(ctx, rec).First()
	if err != nil {
		return -1, fmt.Errorf("produce to %s/%d: %w", topic, partition, err)
	}
	return res.Offset, nil
}
