package admin

import (
	"context"
	"fmt"
	"sync"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Special timestamps for ListOffsets.
const (
	OffsetEarliest int64 = -2
	OffsetLatest   int64 = -1
)

// Offsets holds one offset per partition: Offsets[topic][partition], -1 when
// unknown (leaderless partition, broker down, or a partition error).
type Offsets struct {
	Offsets map[string][]int64
	// BrokerErrors holds the brokers whose request failed as a whole.
	BrokerErrors map[int32]error
	// PartitionErrors counts partitions answered with a Kafka error code.
	PartitionErrors int
	// FirstPartitionError is one of those errors, for the log.
	FirstPartitionError error
}

// Get returns the offset of one partition, or -1.
func (o *Offsets) Get(topic string, partition int32) int64 {
	s := o.Offsets[topic]
	if partition < 0 || int(partition) >= len(s) {
		return -1
	}
	return s[partition]
}

// ListOffsets resolves timestamp (OffsetEarliest, OffsetLatest or a Unix time
// in ms) for the given topics (nil: all topics in md), sending one request per
// leader broker, all brokers in parallel.
func (c *Client) ListOffsets(ctx context.Context, md *Metadata, topics []string, timestamp int64) *Offsets {
	return c.listOffsets(ctx, md, topics, timestamp, 0)
}

// ListStableOffsets lists the last stable offset (LSO) of every partition in md: ListOffsets for the
// latest offset at isolation level read_committed, which answers the first offset of the oldest
// open transaction, or the high watermark when none is open. One request per leader broker.
func (c *Client) ListStableOffsets(ctx context.Context, md *Metadata) *Offsets {
	return c.listOffsets(ctx, md, nil, OffsetLatest, 1)
}

// listOffsets is ListOffsets at an isolation level (0 read_uncommitted, 1 read_committed, which
// needs v2+).
func (c *Client) listOffsets(ctx context.Context, md *Metadata, topics []string, timestamp int64, isolation int8) *Offsets {
	out := &Offsets{Offsets: make(map[string][]int64, len(md.Topics)), BrokerErrors: map[int32]error{}}
	byLeader := out.requestsByLeader(md, topics, timestamp)
	minVersion := int16(1)
	if isolation != 0 {
		minVersion = 2
	}
	var mu sync.Mutex // guards out's maps while the per-broker goroutines write
	var wg sync.WaitGroup
	for leader, req := range byLeader {
		req.IsolationLevel = isolation
		wg.Go(func() {
			// v1+ returns a single offset; we cap nothing else.
			resp, err := c.requestBroker(ctx, leader, req, minVersion, -1)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				out.BrokerErrors[leader] = fmt.Errorf("list offsets: %w", err)
				return
			}
			out.record(req.Key(), resp.(*kmsg.ListOffsetsResponse))
		})
	}
	wg.Wait()
	return out
}

// requestsByLeader builds one ListOffsets request per leader broker for the
// given topics (nil: all topics in md), and sizes o.Offsets for them with
// every offset -1 until a broker answers.
func (o *Offsets) requestsByLeader(md *Metadata, topics []string, timestamp int64) map[int32]*kmsg.ListOffsetsRequest {
	want := map[string]bool(nil)
	if topics != nil {
		want = make(map[string]bool, len(topics))
		for _, t := range topics {
			want[t] = true
		}
	}
	byLeader := map[int32]*kmsg.ListOffsetsRequest{}
	for ti := range md.Topics {
		t := &md.Topics[ti]
		if want != nil && !want[t.Name] {
			continue
		}
		maxP := int32(-1)
		for _, p := range t.Partitions {
			maxP = max(maxP, p.Partition)
		}
		offs := make([]int64, maxP+1)
		for i := range offs {
			offs[i] = -1
		}
		o.Offsets[t.Name] = offs
		// Partitions of one topic are appended per leader as one request topic.
		last := map[int32]int{}
		for _, p := range t.Partitions {
			if p.Leader < 0 {
				continue
			}
			req := byLeader[p.Leader]
			if req == nil {
				req = kmsg.NewPtrListOffsetsRequest()
				req.ReplicaID = -1
				byLeader[p.Leader] = req
			}
			idx, ok := last[p.Leader]
			if !ok {
				rt := kmsg.NewListOffsetsRequestTopic()
				rt.Topic = t.Name
				req.Topics = append(req.Topics, rt)
				idx = len(req.Topics) - 1
				last[p.Leader] = idx
			}
			rp := kmsg.NewListOffsetsRequestTopicPartition()
			rp.Partition = p.Partition
			rp.Timestamp = timestamp
			rp.CurrentLeaderEpoch = -1
			req.Topics[idx].Partitions = append(req.Topics[idx].Partitions, rp)
		}
	}
	return byLeader
}

// record stores one broker's answer: each partition's offset, or a count of
// partition errors keeping the first. The caller holds the lock that guards o.
func (o *Offsets) record(key int16, resp *kmsg.ListOffsetsResponse) {
	for _, rt := range resp.Topics {
		offs := o.Offsets[rt.Topic]
		for _, rp := range rt.Partitions {
			if e := codeErr(key, rp.ErrorCode, nil); e != nil {
				o.PartitionErrors++
				if o.FirstPartitionError == nil {
					o.FirstPartitionError = fmt.Errorf("%s/%d: %w", rt.Topic, rp.Partition, e)
				}
				continue
			}
			if rp.Partition >= 0 && int(rp.Partition) < len(offs) {
				offs[rp.Partition] = rp.Offset
			}
		}
	}
}

// StartEndOffsets lists earliest and latest offsets of every partition in md
// (two requests per leader broker, run in parallel).
func (c *Client) StartEndOffsets(ctx context.Context, md *Metadata) (start, end *Offsets) {
	var wg sync.WaitGroup
	wg.Go(func() { start = c.ListOffsets(ctx, md, nil, OffsetEarliest) })
	end = c.ListOffsets(ctx, md, nil, OffsetLatest)
	wg.Wait()
	return start, end
}

// StartEndStableOffsets is StartEndOffsets with the last stable offsets too (ListStableOffsets):
// three requests per leader broker, run in parallel.
func (c *Client) StartEndStableOffsets(ctx context.Context, md *Metadata) (start, end, stable *Offsets) {
	var wg sync.WaitGroup
	wg.Go(func() { start = c.ListOffsets(ctx, md, nil, OffsetEarliest) })
	wg.Go(func() { stable = c.ListStableOffsets(ctx, md) })
	end = c.ListOffsets(ctx, md, nil, OffsetLatest)
	wg.Wait()
	return start, end, stable
}
