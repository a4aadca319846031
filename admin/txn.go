package admin

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// ProducerState is one producer a partition leader keeps state for (DescribeProducers).
type ProducerState struct {
	ProducerID    int64
	ProducerEpoch int32
	LastSequence  int32
	// LastTimestamp is the last batch's timestamp in Unix ms (-1 when unknown).
	LastTimestamp    int64
	CoordinatorEpoch int32
	// CurrentTxnStartOffset is the first offset of the producer's open transaction, -1 when none.
	CurrentTxnStartOffset int64
}

// PartitionProducers is one partition's answer to DescribeProducers.
type PartitionProducers struct {
	Partition int32
	Leader    int32
	Producers []ProducerState
	Err       error
}

// DescribeProducers asks each partition's leader (from md) for the producers it keeps state for,
// one request per leader, leaders in parallel. A leaderless partition or a failed broker is an Err on
// the partition. Partitions are sorted by number.
func (c *Client) DescribeProducers(ctx context.Context, md *Metadata, topic string) ([]PartitionProducers, error) {
	var tm *TopicMetadata
	for i := range md.Topics {
		if md.Topics[i].Name == topic {
			tm = &md.Topics[i]
		}
	}
	if tm == nil {
		return nil, fmt.Errorf("describe producers: topic %q not in metadata", topic)
	}
	out := make([]PartitionProducers, len(tm.Partitions))
	index := map[int32]int{}
	byLeader := map[int32]*kmsg.DescribeProducersRequest{}
	for i, p := range tm.Partitions {
		out[i] = PartitionProducers{Partition: p.Partition, Leader: p.Leader, Producers: []ProducerState{}}
		index[p.Partition] = i
		if p.Leader < 0 {
			out[i].Err = errors.New("no leader")
			continue
		}
		req := byLeader[p.Leader]
		if req == nil {
			req = kmsg.NewPtrDescribeProducersRequest()
			rt := kmsg.NewDescribeProducersRequestTopic()
			rt.Topic = topic
			req.Topics = append(req.Topics, rt)
			byLeader[p.Leader] = req
		}
		req.Topics[0].Partitions = append(req.Topics[0].Partitions, p.Partition)
	}
	var mu sync.Mutex // guards out while the per-leader goroutines write
	var wg sync.WaitGroup
	for leader, req := range byLeader {
		wg.Go(func() {
			resp, err := c.requestBroker(ctx, leader, req, 0, -1)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				for _, p := range req.Topics[0].Partitions {
					out[index[p]].Err = fmt.Errorf("describe producers: %w", err)
				}
				return
			}
			for _, rt := range resp.(*kmsg.DescribeProducersResponse).Topics {
				for _, rp := range rt.Partitions {
					i, ok := index[rp.Partition]
					if !ok {
						continue
					}
					if e := codeErr(req.Key(), rp.ErrorCode, rp.ErrorMessage); e != nil {
						out[i].Err = e
						continue
					}
					for _, ap := range rp.ActiveProducers {
						out[i].Producers = append(out[i].Producers, ProducerState{ProducerID: ap.ProducerID, ProducerEpoch: ap.ProducerEpoch,
							LastSequence: ap.LastSequence, LastTimestamp: ap.LastTimestamp, CoordinatorEpoch: ap.CoordinatorEpoch,
							CurrentTxnStartOffset: ap.CurrentTxnStartOffset})
					}
					sort.Slice(out[i].Producers, func(a, b int) bool { return out[i].Producers[a].ProducerID < out[i].Producers[b].ProducerID })
				}
			}
		})
	}
	wg.Wait()
	return out, nil
}

// ListedTransaction is one entry of ListTransactions; Coordinator is the broker that listed it.
type ListedTransaction struct {
	TransactionalID string
	ProducerID      int64
	State           string
	Coordinator     int32
}

// ListTransactions asks every broker in md for the transactional ids it coordinates, in parallel.
// Brokers that fail are in the error map; the others' ids are returned sorted.
func (c *Client) ListTransactions(ctx context.Context, md *Metadata) ([]ListedTransaction, map[int32]error) {
	var (
		mu   sync.Mutex // guards out and errs while the per-broker goroutines write
		wg   sync.WaitGroup
		out  []ListedTransaction
		errs = map[int32]error{}
	)
	for _, b := range md.Brokers {
		wg.Go(func() {
			resp, err := c.requestBroker(ctx, b.ID, kmsg.NewPtrListTransactionsRequest(), 0, -1)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs[b.ID] = fmt.Errorf("list transactions: %w", err)
				return
			}
			r := resp.(*kmsg.ListTransactionsResponse)
			if e := codeErr(r.Key(), r.ErrorCode, nil); e != nil {
				errs[b.ID] = fmt.Errorf("list transactions: %w", e)
				return
			}
			for _, t := range r.TransactionStates {
				out = append(out, ListedTransaction{TransactionalID: t.TransactionalID, ProducerID: t.ProducerID, State: t.TransactionState, Coordinator: b.ID})
			}
		})
	}
	wg.Wait()
	sort.Slice(out, func(i, j int) bool { return out[i].TransactionalID < out[j].TransactionalID })
	return out, errs
}

// TransactionDescription is one transactional id from DescribeTransactions.
type TransactionDescription struct {
	TransactionalID string
	Coordinator     int32
	State           string
	ProducerID      int64
	ProducerEpoch   int16
	TimeoutMs       int32
	// StartMs is when the open transaction started (Unix ms), -1 with none open.
	StartMs    int64
	Partitions map[string][]int32
	Err        error
}

// DescribeTransactions describes the given transactional ids at the coordinators that listed them
// (byCoordinator: coordinator → ids), one request per coordinator, in parallel.
func (c *Client) DescribeTransactions(ctx context.Context, byCoordinator map[int32][]string) []TransactionDescription {
	var (
		mu  sync.Mutex // guards out while the per-broker goroutines write
		wg  sync.WaitGroup
		out []TransactionDescription
	)
	for co, ids := range byCoordinator {
		wg.Go(func() {
			req := kmsg.NewPtrDescribeTransactionsRequest()
			req.TransactionalIDs = ids
			resp, err := c.requestBroker(ctx, co, req, 0, -1)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				for _, id := range ids {
					out = append(out, TransactionDescription{TransactionalID: id, Coordinator: co, StartMs: -1, Err: fmt.Errorf("describe transactions: %w", err)})
				}
				return
			}
			for _, st := range resp.(*kmsg.DescribeTransactionsResponse).TransactionStates {
				d := TransactionDescription{TransactionalID: st.TransactionalID, Coordinator: co, State: st.State, ProducerID: st.ProducerID,
					ProducerEpoch: st.ProducerEpoch, TimeoutMs: st.TimeoutMillis, StartMs: st.StartTimestamp, Partitions: map[string][]int32{}}
				d.Err = codeErr(req.Key(), st.ErrorCode, nil)
				for _, t := range st.Topics {
					d.Partitions[t.Topic] = append(d.Partitions[t.Topic], t.Partitions...)
				}
				out = append(out, d)
			}
		})
	}
	wg.Wait()
	sort.Slice(out, func(i, j int) bool { return out[i].TransactionalID < out[j].TransactionalID })
	return out
}

// AbortMarker names the open transaction of one producer on one partition, as an abort marker needs it.
type AbortMarker struct {
	Topic            string
	Partition        int32
	ProducerID       int64
	ProducerEpoch    int16
	CoordinatorEpoch int32
}

// WriteAbortMarker writes an abort marker for m's producer to the partition's leader with
// WriteTxnMarkers, as kafka-transactions.sh abort does for a hanging transaction: the partition's
// open transaction of that producer ends, and its last stable offset can move past it.
func (c *Client) WriteAbortMarker(ctx context.Context, leader int32, m AbortMarker) error {
	req := kmsg.NewPtrWriteTxnMarkersRequest()
	mk := kmsg.NewWriteTxnMarkersRequestMarker()
	mk.ProducerID, mk.ProducerEpoch, mk.Committed, mk.CoordinatorEpoch = m.ProducerID, m.ProducerEpoch, false, m.CoordinatorEpoch
	mt := kmsg.NewWriteTxnMarkersRequestMarkerTopic()
	mt.Topic, mt.Partitions = m.Topic, []int32{m.Partition}
	mk.Topics = []kmsg.WriteTxnMarkersRequestMarkerTopic{mt}
	req.Markers = []kmsg.WriteTxnMarkersRequestMarker{mk}
	resp, err := c.requestBroker(ctx, leader, req, 0, -1)
	if err != nil {
		return fmt.Errorf("write txn markers: %w", err)
	}
	for _, rm := range resp.(*kmsg.WriteTxnMarkersResponse).Markers {
		for _, rt := range rm.Topics {
			for _, rp := range rt.Partitions {
				if e := codeErr(req.Key(), rp.ErrorCode, nil); e != nil {
					return fmt.Errorf("write txn markers %s/%d: %w", rt.Topic, rp.Partition, e)
				}
			}
		}
	}
	return nil
}
