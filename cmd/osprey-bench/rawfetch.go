package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// rawFetch reads topic from offset 0 to its high watermarks with raw Fetch
// requests to its (single) leader, walking the record batches by their
// headers only: the broker's send path without a consumer's decoding.
// The rate counts record-batch bytes.
func rawFetch(ctx context.Context, bootstrap []string, topic string, maxDur time.Duration) (produceResult, error) {
	return rawFetchIsolation(ctx, bootstrap, topic, maxDur, 0)
}

// rawFetchIsolation is rawFetch at an isolation level (0 read_uncommitted,
// 1 read_committed), on a log whose transactions have all ended (a
// read_committed fetch stops at the last stable offset).
func rawFetchIsolation(ctx context.Context, bootstrap []string, topic string, maxDur time.Duration, isolation int8) (produceResult, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap...))
	if err != nil {
		return produceResult{}, fmt.Errorf("client: %w", err)
	}
	defer cl.Close()
	mctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	md, err := kadm.NewClient(cl).Metadata(mctx, topic)
	cancel()
	if err != nil {
		return produceResult{}, fmt.Errorf("metadata: %w", err)
	}
	td, ok := md.Topics[topic]
	if !ok || td.Err != nil || len(td.Partitions) == 0 {
		return produceResult{}, fmt.Errorf("topic %s not in metadata", topic)
	}
	leader := int32(-1)
	next := map[int32]int64{}
	hw := map[int32]int64{}
	for _, p := range td.Partitions {
		if leader >= 0 && p.Leader != leader {
			return produceResult{}, errors.New("raw fetch expects one leader for every partition")
		}
		leader = p.Leader
		next[p.Partition] = 0
		hw[p.Partition] = -1
	}
	br := cl.Broker(int(leader))
	fctx, cancel := context.WithTimeout(ctx, maxDur)
	defer cancel()
	var bytes, records int64
	m := startMeter()
	for fctx.Err() == nil {
		req := rawFetchRequest(topic, td.ID, next, hw, isolation)
		if req == nil {
			break
		}
		kresp, err := br.Request(fctx, req)
		if err != nil {
			if fctx.Err() != nil {
				break
			}
			return produceResult{}, fmt.Errorf("fetch: %w", err)
		}
		resp := kresp.(*kmsg.FetchResponse)
		if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
			return produceResult{}, fmt.Errorf("fetch: %w", err)
		}
		for _, t := range resp.Topics {
			for _, p := range t.Partitions {
				if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
					return produceResult{}, fmt.Errorf("fetch partition %d: %w", p.Partition, err)
				}
				hw[p.Partition] = p.HighWatermark
				if isolation == 1 && p.LastStableOffset >= 0 {
					hw[p.Partition] = p.LastStableOffset
				}
				n, last, recs := walkBatches(p.RecordBatches)
				bytes += n
				records += recs
				if last >= 0 {
					next[p.Partition] = last + 1
				}
			}
		}
	}
	m.stop()
	if records == 0 {
		return produceResult{}, errors.New("fetched nothing")
	}
	return produceResult{bytes: bytes, records: records, m: m}, nil
}

// rawFetchRequest asks for every partition of topic not yet read up to its
// high watermark (hw is -1 until a response has told it), from its next
// offset; nil when every partition has been read.
func rawFetchRequest(topic string, id [16]byte, next, hw map[int32]int64, isolation int8) *kmsg.FetchRequest {
	req := kmsg.NewPtrFetchRequest()
	req.IsolationLevel = isolation
	req.ReplicaID = -1
	req.MaxWaitMillis = 100
	req.MinBytes = 1
	req.MaxBytes = 16 << 20
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic = topic
	rt.TopicID = id
	for p, off := range next {
		if hw[p] >= 0 && off >= hw[p] {
			continue
		}
		rp := kmsg.NewFetchRequestTopicPartition()
		rp.Partition = p
		rp.FetchOffset = off
		rp.PartitionMaxBytes = 4 << 20
		rp.CurrentLeaderEpoch = -1
		rp.LogStartOffset = -1
		rt.Partitions = append(rt.Partitions, rp)
	}
	if len(rt.Partitions) == 0 {
		return nil
	}
	req.Topics = append(req.Topics, rt)
	return req
}

// walkBatches sums the complete record batches in b (v2 format: base offset
// int64, length int32, ..., last offset delta int32 at byte 23, record count
// int32 at byte 57) and returns their bytes, the last offset and the record count.
func walkBatches(b []byte) (n, last, records int64) {
	last = -1
	for len(b) >= 61 {
		base := int64(binary.BigEndian.Uint64(b))
		size := 12 + int64(int32(binary.BigEndian.Uint32(b[8:])))
		if size < 61 || size > int64(len(b)) {
			break // a partial batch at the end of the response
		}
		last = base + int64(int32(binary.BigEndian.Uint32(b[23:])))
		records += int64(int32(binary.BigEndian.Uint32(b[57:])))
		n += size
		b = b[size:]
	}
	return n, last, records
}
