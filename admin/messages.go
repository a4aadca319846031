package admin

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
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
// at most maxWait (default 500 ms) for records to arrive.
//
// The Fetch goes to the leader named by md, metadata the caller has just
// asked for (nil: a Metadata request is made for this call), not to one named
// by metadata cached for a while: right after a topic is created or grows
// partitions such a cache may hold no leader for them. franz-go decodes the
// batches (every codec Kafka uses, CRCs checked).
func (c *Client) FetchMessages(ctx context.Context, md *Metadata, topic string, partition int32, offset int64, limit int, maxBytes int64, maxWait time.Duration) (*FetchResult, error) {
	if limit <= 0 {
		return nil, errors.New("fetch messages: limit must be positive")
	}
	if maxBytes <= 0 {
		maxBytes = 1 << 20
	}
	if maxWait <= 0 {
		maxWait = 500 * time.Millisecond
	}
	fail := func(err error) (*FetchResult, error) {
		return nil, fmt.Errorf("fetch %s/%d@%d: %w", topic, partition, offset, err)
	}
	if md == nil {
		var err error
		if md, err = c.Metadata(ctx, []string{topic}); err != nil {
			return fail(err)
		}
	}
	leader, err := md.leader(topic, partition)
	if err != nil {
		return fail(err)
	}
	req := kmsg.NewPtrFetchRequest()
	req.ReplicaID = -1
	req.MaxWaitMillis = int32(maxWait / time.Millisecond)
	req.MinBytes = 1
	req.MaxBytes = int32(min(maxBytes, math.MaxInt32))
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.Partition = partition
	rp.FetchOffset = offset
	rp.PartitionMaxBytes = req.MaxBytes
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	// v4+ carries record batches and the log start offset; v13 names topics
	// by id only, so stay at 12.
	resp, err := c.requestBroker(ctx, leader, req, 4, 12)
	if err != nil {
		return fail(err)
	}
	r := resp.(*kmsg.FetchResponse)
	if err := codeErr(req.Key(), r.ErrorCode, nil); err != nil {
		return fail(err)
	}
	if len(r.Topics) != 1 || len(r.Topics[0].Partitions) != 1 {
		return fail(fmt.Errorf("broker %d answered for %d topics", leader, len(r.Topics)))
	}
	fp, _ := kgo.ProcessFetchPartition(kgo.ProcessFetchPartitionOpts{Topic: topic, Partition: partition, Offset: offset},
		&r.Topics[0].Partitions[0], kgo.DefaultDecompressor(), nil)
	if fp.Err != nil && len(fp.Records) == 0 {
		return fail(franzErr(ctx, "Fetch", fp.Err))
	}
	out := &FetchResult{HighWatermark: fp.HighWatermark, LogStart: fp.LogStartOffset}
	for _, rec := range fp.Records {
		if len(out.Messages) == limit {
			break
		}
		m := Message{Partition: partition, Offset: rec.Offset, Time: rec.Timestamp, Key: rec.Key, Value: rec.Value}
		for _, h := range rec.Headers {
			m.Headers = append(m.Headers, MessageHeader{Key: h.Key, Value: h.Value})
		}
		out.Messages = append(out.Messages, m)
	}
	return out, nil
}

// leader is the broker leading the partition in md.
func (md *Metadata) leader(topic string, partition int32) (int32, error) {
	for _, t := range md.Topics {
		if t.Name != topic {
			continue
		}
		if t.Err != nil {
			return -1, t.Err
		}
		for _, p := range t.Partitions {
			if p.Partition != partition {
				continue
			}
			if p.Leader < 0 {
				return -1, metadataErr(kerr.LeaderNotAvailable)
			}
			return p.Leader, nil
		}
	}
	return -1, metadataErr(kerr.UnknownTopicOrPartition)
}

// ProduceMessage writes one record to a partition (acks=all) and returns its offset. It uses a
// short-lived franz-go producer (kgo, on the same TLS and SASL settings): idempotent, so its retries on a
// leader change or a connection broken by a broker restart never duplicate the record, and it refreshes
// metadata by itself (right after a topic is created its leaders may not be known yet). A test message
// is rare enough for the connection cost. Its requests count in Stats like the pool's.
func (c *Client) ProduceMessage(ctx context.Context, topic string, partition int32, key, value []byte, headers []MessageHeader) (int64, error) {
	ctx, cancel := c.callCtx(ctx)
	defer cancel()
	cl, err := c.producer(ctx)
	if err != nil {
		return -1, fmt.Errorf("produce to %s/%d: %w", topic, partition, franzErr(ctx, "Produce", err))
	}
	defer cl.Close()
	rec := &kgo.Record{Topic: topic, Partition: partition, Key: key, Value: value, Timestamp: time.Now()}
	for _, h := range headers {
		rec.Headers = append(rec.Headers, kgo.RecordHeader{Key: h.Key, Value: h.Value})
	}
	res, err := cl.ProduceSync(ctx, rec).First()
	if err != nil {
		return -1, fmt.Errorf("produce to %s/%d: %w", topic, partition, franzErr(ctx, "Produce", err))
	}
	return res.Offset, nil
}

// ProduceMessages writes records to topic, each to its own Partition with its key, value and headers
// (their Offset and Time are ignored: the records are new), acknowledged by all in-sync replicas.
// It returns the first failure; records before it may have been written.
func (c *Client) ProduceMessages(ctx context.Context, topic string, msgs []Message) error {
	ctx, cancel := c.callCtx(ctx)
	defer cancel()
	cl, err := c.producer(ctx)
	if err != nil {
		return fmt.Errorf("produce to %s: %w", topic, franzErr(ctx, "Produce", err))
	}
	defer cl.Close()
	recs := make([]*kgo.Record, 0, len(msgs))
	now := time.Now()
	for _, m := range msgs {
		rec := &kgo.Record{Topic: topic, Partition: m.Partition, Key: m.Key, Value: m.Value, Timestamp: now}
		for _, h := range m.Headers {
			rec.Headers = append(rec.Headers, kgo.RecordHeader{Key: h.Key, Value: h.Value})
		}
		recs = append(recs, rec)
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		return fmt.Errorf("produce to %s: %w", topic, franzErr(ctx, "Produce", err))
	}
	return nil
}

// producer is a client that writes to the partitions records name, with acks from all in-sync
// replicas; the caller closes it.
func (c *Client) producer(ctx context.Context) (*kgo.Client, error) {
	seeds, err := c.seedAddrs(ctx)
	if err != nil {
		return nil, err
	}
	opts := []kgo.Opt{
		kgo.SeedBrokers(seeds...),
		kgo.ClientID(c.cfg.ClientID),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.DialTimeout(c.cfg.DialTimeout),
		kgo.WithHooks(statsHook{&c.stats}),
	}
	if c.tls != nil {
		opts = append(opts, kgo.DialTLSConfig(c.tls))
	}
	if c.sasl != nil {
		opts = append(opts, kgo.SASL(c.sasl))
	}
	return kgo.NewClient(opts...)
}
