package service

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"math"
	"math/rand/v2"
	"sort"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/osprey-kafka/osprey/admin"
)

// Payload is a key, value or header value as the API shows it: never interpreted as markup, only as
// text, JSON (valid JSON text) or hex.
type Payload struct {
	Format string `json:"format" enum:"null,text,json,hex"`
	Data   string `json:"data"`
	// Truncated says Data holds only the first maxPayload bytes.
	Truncated bool `json:"truncated,omitempty"`
}

// maxPayload bounds what one key or value contributes to a response.
const maxPayload = 64 << 10

// payloadOf classifies bytes: JSON objects/arrays, printable UTF-8 text, or hex for anything else.
func payloadOf(b []byte) Payload { return payloadUpTo(b, maxPayload) }

// payloadUpTo is payloadOf keeping at most limit bytes.
func payloadUpTo(b []byte, limit int) Payload {
	if b == nil {
		return Payload{Format: "null"}
	}
	p := Payload{}
	if len(b) > limit {
		b, p.Truncated = b[:limit], true
	}
	trimmed := bytes.TrimSpace(b)
	switch {
	case !p.Truncated && len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[') && json.Valid(trimmed):
		p.Format, p.Data = "json", string(b)
	case utf8.Valid(b) && printable(b):
		p.Format, p.Data = "text", string(b)
	default:
		p.Format, p.Data = "hex", hex.EncodeToString(b)
	}
	return p
}

func printable(b []byte) bool {
	for _, r := range string(b) {
		if !unicode.IsPrint(r) && !unicode.IsSpace(r) {
			return false
		}
	}
	return true
}

// MessageView is one record.
type MessageView struct {
	Partition int32        `json:"partition"`
	Offset    int64        `json:"offset"`
	Timestamp time.Time    `json:"timestamp"`
	Key       Payload      `json:"key"`
	Value     Payload      `json:"value"`
	Headers   []HeaderView `json:"headers"`
	Size      int          `json:"size"`
	Truncated bool         `json:"truncated"`
}

// HeaderView is one record header.
type HeaderView struct {
	Key   string  `json:"key"`
	Value Payload `json:"value"`
}

// BrowseQuery selects records: one partition (or all when Partition is nil), starting at Offset, at the
// first record at or after Timestamp (ms), or the last Tail records; at most Limit in all. Mode, when
// set, names the one of them the caller chose ("offset", "timestamp" or "tail"), and its value must
// then be given: a timestamp search without a time is refused rather than read as "the newest".
type BrowseQuery struct {
	Partition *int32
	Mode      string
	Offset    *int64
	Timestamp *int64
	Tail      *int64
	Limit     int
}

// checkMode refuses a named mode whose value is missing or that another mode's value contradicts.
func (q BrowseQuery) checkMode() error {
	switch q.Mode {
	case "":
		return nil
	case "offset":
		if q.Offset == nil {
			return badRequest("offset_required", "reading from an offset needs an offset")
		}
	case "timestamp":
		if q.Timestamp == nil {
			return badRequest("timestamp_required", "reading from a timestamp needs a time: give timestamp in milliseconds since the epoch")
		}
	case "tail":
	default:
		return badRequest("invalid_query", "mode must be offset, timestamp or tail")
	}
	if (q.Mode != "offset" && q.Offset != nil) || (q.Mode != "timestamp" && q.Timestamp != nil) || (q.Mode != "tail" && q.Tail != nil) {
		return badRequest("invalid_query", "mode %s takes only its own parameter", q.Mode)
	}
	return nil
}

// maxBrowse bounds one browse request.
const maxBrowse = 500

// BrowseMessages reads records of a topic, masked as the caller must see them (a record a rule drops
// is left out). It is one of the few reads that talk to Kafka: records are not in snapshots. Bounded
// by Limit (≤ 500), 1 MiB per partition fetch and the request's deadline.
func (s *Service) BrowseMessages(ctx context.Context, who Caller, cluster, topic string, q BrowseQuery) ([]MessageView, error) {
	c, err := s.get(cluster)
	if err != nil {
		return nil, err
	}
	if err := s.knownTopic(c, cluster, topic); err != nil {
		return nil, err
	}
	if err := q.check(); err != nil {
		return nil, err
	}
	mask, err := s.maskerFor(ctx, cluster, topic, who.Identity)
	if err != nil {
		return nil, err
	}
	md, err := c.client.Metadata(ctx, []string{topic})
	if err != nil {
		return nil, kafkaError(opReadMetadata, "topic "+topic, err)
	}
	if len(md.Topics) == 0 || md.Topics[0].Err != nil {
		return nil, topicNotFound(cluster, topic)
	}
	var parts []int32
	for _, p := range md.Topics[0].Partitions {
		if q.Partition == nil || p.Partition == *q.Partition {
			parts = append(parts, p.Partition)
		}
	}
	if len(parts) == 0 {
		return nil, badRequest("invalid_partition", "topic %q has no partition %d", topic, *q.Partition)
	}
	starts, ends := c.client.StartEndOffsets(ctx, md)
	var byTime []int64
	if q.Timestamp != nil {
		byTime = c.client.ListOffsets(ctx, md, []string{topic}, *q.Timestamp).Offsets[topic]
	}
	// Across all partitions, each gives its newest records (at least 10, or the limit when smaller);
	// the merged list is then cut to the limit.
	perPart := q.Limit
	if q.Partition == nil {
		perPart = max((q.Limit+len(parts)-1)/len(parts), min(q.Limit, 10))
	}
	var out []MessageView
	for _, p := range parts {
		lo, hi := starts.Get(topic, p), ends.Get(topic, p)
		if lo < 0 || hi < 0 {
			continue // leader unavailable: skip this partition
		}
		from := q.startOffset(p, lo, hi, byTime, perPart)
		if from >= hi {
			continue
		}
		res, err := c.client.FetchMessages(ctx, md, topic, p, from, perPart, 1<<20, 200*time.Millisecond)
		if err != nil {
			return nil, kafkaError(opFetch, topic, err)
		}
		for _, m := range res.Messages {
			if mask != nil {
				var keep bool
				if m, keep = mask(m); !keep {
					continue
				}
			}
			out = append(out, messageView(m))
		}
	}
	if q.Partition == nil {
		// Across partitions the newest records matter most; within one, offset order.
		sort.SliceStable(out, func(i, j int) bool { return out[i].Timestamp.After(out[j].Timestamp) })
	}
	if len(out) > q.Limit {
		out = out[:q.Limit]
	}
	if out == nil {
		out = []MessageView{}
	}
	return out, nil
}

// check refuses a query that is contradictory or out of bounds, and gives Limit its default of 50.
func (q *BrowseQuery) check() error {
	if err := q.checkMode(); err != nil {
		return err
	}
	if q.Limit <= 0 {
		q.Limit = 50
	}
	if q.Limit > maxBrowse {
		return badRequest("invalid_limit", "limit must be at most %d", maxBrowse)
	}
	modes := 0
	for _, set := range []bool{q.Offset != nil, q.Timestamp != nil, q.Tail != nil} {
		if set {
			modes++
		}
	}
	if modes > 1 {
		return badRequest("invalid_query", "give only one of offset, timestamp and tail")
	}
	if q.Offset != nil && q.Partition == nil {
		return badRequest("invalid_query", "offset needs a partition")
	}
	if (q.Offset != nil && *q.Offset < 0) || (q.Timestamp != nil && *q.Timestamp < 0) || (q.Tail != nil && (*q.Tail < 1 || *q.Tail > maxBrowse)) {
		return badRequest("invalid_query", "offset and timestamp must not be negative; tail must be 1 to %d", maxBrowse)
	}
	return nil
}

// startOffset is where partition p's read starts, given its log range [lo, hi), the offsets found
// for the query's timestamp (byTime, indexed by partition) and the per-partition count of an
// all-partitions read. A result at or past hi means there is nothing to read.
func (q BrowseQuery) startOffset(p int32, lo, hi int64, byTime []int64, perPart int) int64 {
	switch {
	case q.Offset != nil:
		return min(max(*q.Offset, lo), hi)
	case q.Timestamp != nil:
		if int(p) < len(byTime) && byTime[p] >= 0 {
			return byTime[p]
		}
		return hi
	default:
		t := int64(q.Limit)
		if q.Tail != nil {
			t = *q.Tail
		}
		if q.Partition == nil {
			t = int64(perPart)
		}
		return max(lo, hi-t)
	}
}

func messageView(m admin.Message) MessageView { return messageViewUpTo(m, maxPayload) }

// fullMessageView is messageView with every payload whole (exports).
func fullMessageView(m admin.Message) MessageView { return messageViewUpTo(m, math.MaxInt) }

func messageViewUpTo(m admin.Message, limit int) MessageView {
	v := MessageView{Partition: m.Partition, Offset: m.Offset, Timestamp: m.Time, Key: payloadUpTo(m.Key, limit), Value: payloadUpTo(m.Value, limit),
		Headers: make([]HeaderView, 0, len(m.Headers)), Size: len(m.Key) + len(m.Value)}
	for _, h := range m.Headers {
		v.Headers = append(v.Headers, HeaderView{Key: h.Key, Value: payloadUpTo(h.Value, limit)})
		v.Size += len(h.Key) + len(h.Value)
	}
	v.Truncated = v.Key.Truncated || v.Value.Truncated
	return v
}

// ProduceRequest is the body of POST /topics/{t}/messages: a test record.
type ProduceRequest struct {
	Partition *int32            `json:"partition"`
	Key       *string           `json:"key"`
	Value     *string           `json:"value"`
	Headers   map[string]string `json:"headers"`
}

// ProduceResult says where the record landed.
type ProduceResult struct {
	Partition int32 `json:"partition"`
	Offset    int64 `json:"offset"`
}

// ProduceMessage writes one record. Without a partition, a keyed record goes where Kafka's default
// partitioner would put it (murmur2 of the key), an unkeyed one to a random partition.
func (s *Service) ProduceMessage(ctx context.Context, who Caller, cluster, topic string, req ProduceRequest) (ProduceResult, error) {
	c, err := s.get(cluster)
	if err != nil {
		return ProduceResult{}, err
	}
	snap, err := s.snapshot(cluster)
	if err != nil {
		return ProduceResult{}, err
	}
	t, ok := snap.Topic(topic)
	if !ok {
		return ProduceResult{}, topicNotFound(cluster, topic)
	}
	n := int32(len(t.Partitions))
	if n == 0 {
		return ProduceResult{}, conflict("no_partitions", "topic %q has no partitions yet", topic)
	}
	var part int32
	switch {
	case req.Partition != nil:
		if *req.Partition < 0 || *req.Partition >= n {
			return ProduceResult{}, badRequest("invalid_partition", "topic %q has partitions 0 to %d", topic, n-1)
		}
		part = *req.Partition
	case req.Key != nil:
		part = KafkaPartition([]byte(*req.Key), n)
	default:
		part = rand.Int32N(n)
	}
	var key, value []byte
	if req.Key != nil {
		key = []byte(*req.Key)
	}
	if req.Value != nil {
		value = []byte(*req.Value)
	}
	hs := make([]admin.MessageHeader, 0, len(req.Headers))
	names := make([]string, 0, len(req.Headers))
	for k := range req.Headers {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		hs = append(hs, admin.MessageHeader{Key: k, Value: []byte(req.Headers[k])})
	}
	var res ProduceResult
	err = s.Audited(ctx, who, "topic.produce", cluster, topic, map[string]any{"partition": part, "keyed": req.Key != nil, "bytes": len(value)}, func() error {
		off, err := c.client.ProduceMessage(ctx, topic, part, key, value, hs)
		if err != nil {
			return kafkaError(opProduce, topic, err)
		}
		res = ProduceResult{Partition: part, Offset: off}
		return nil
	})
	return res, err
}

// KafkaPartition is Kafka's default partitioner for keyed records: murmur2(key) made positive, modulo n.
func KafkaPartition(key []byte, n int32) int32 {
	return int32(murmur2(key)&0x7fffffff) % n
}

// murmur2 is the 32-bit MurmurHash2 with Kafka's seed, as its clients compute it.
func murmur2(data []byte) uint32 {
	const (
		seed uint32 = 0x9747b28c
		m    uint32 = 0x5bd1e995
		r           = 24
	)
	length := len(data)
	h := seed ^ uint32(length)
	for i := 0; i+4 <= length; i += 4 {
		k := uint32(data[i]) | uint32(data[i+1])<<8 | uint32(data[i+2])<<16 | uint32(data[i+3])<<24
		k *= m
		k ^= k >> r
		k *= m
		h *= m
		h ^= k
	}
	rest := length % 4
	tail := length - rest
	switch rest {
	case 3:
		h ^= uint32(data[tail+2]) << 16
		fallthrough
	case 2:
		h ^= uint32(data[tail+1]) << 8
		fallthrough
	case 1:
		h ^= uint32(data[tail])
		h *= m
	}
	h ^= h >> 13
	h *= m
	h ^= h >> 15
	return h
}
