package broker

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/osprey-kafka/osprey/broker/sharestate"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// The persister: how a share-partition leader reads and writes its state
// through the share coordinator, as Kafka's DefaultStatePersister. The
// coordinator of a share-partition is the leader of its
// __share_group_state partition; when that is this broker the call is
// served in process, otherwise it is sent as an inter-broker request.
// Calls retry while the coordinator moves or loads, until ctx ends.

// retriableCoordinatorCode reports codes after which the persister looks
// the coordinator up again and retries.
func retriableCoordinatorCode(code int16) bool {
	return code == errNotCoordinator || code == errCoordinatorNotAvail || code == errCoordinatorLoading
}

// persist runs one persister call: local serves it in process, remote
// sends it to another broker and returns the partition's error code.
func (b *Broker) persist(ctx context.Context, k sharestate.PartKey, local func() int16, remote func(*kafkaConn) (int16, error)) int16 {
	backoff := time.NewTimer(0)
	defer backoff.Stop()
	code := errCoordinatorNotAvail
	for {
		select {
		case <-ctx.Done():
			return code
		case <-backoff.C:
		}
		bi, ok := b.shareState.coordinatorFor(k.CoordinatorKey())
		switch {
		case !ok:
			code = errCoordinatorNotAvail
		case bi.ID == b.cfg.BrokerID:
			code = local()
		default:
			var err error
			code, err = b.persistRemote(ctx, bi, remote)
			if err != nil {
				b.log.Debug("share state request", "coordinator", bi.ID, "err", err)
				code = errCoordinatorNotAvail
			}
		}
		if !retriableCoordinatorCode(code) {
			return code
		}
		backoff.Reset(100 * time.Millisecond)
	}
}

// persisterConns keeps one connection per share coordinator, so that the
// writes after every acknowledgement do not dial (and authenticate) each
// time. mu guards conns; each connection's own mu serialises its requests.
type persisterConns struct {
	mu    sync.Mutex
	conns map[int32]*persisterConn
}

type persisterConn struct {
	mu   sync.Mutex
	addr string
	kc   *kafkaConn // nil until dialled, and after a failed request
}

// get returns the connection slot of broker id.
func (pc *persisterConns) get(id int32) *persisterConn {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if pc.conns == nil {
		pc.conns = map[int32]*persisterConn{}
	}
	c := pc.conns[id]
	if c == nil {
		c = &persisterConn{}
		pc.conns[id] = c
	}
	return c
}

// closeAll closes every connection (the broker is stopping).
func (pc *persisterConns) closeAll() {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	for _, c := range pc.conns {
		c.mu.Lock()
		if c.kc != nil {
			c.kc.Close()
			c.kc = nil
		}
		c.mu.Unlock()
	}
}

func (b *Broker) persistRemote(ctx context.Context, bi BrokerInfo, call func(*kafkaConn) (int16, error)) (int16, error) {
	addr := net.JoinHostPort(bi.Host, strconv.Itoa(int(bi.Port)))
	c := b.shareState.conns.get(bi.ID)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.kc != nil && c.addr != addr {
		c.kc.Close()
		c.kc = nil
	}
	if c.kc == nil {
		kc, err := dialKafka(ctx, addr, "osprey-share-persister", b.interBroker)
		if err != nil {
			return 0, err
		}
		c.kc, c.addr = kc, addr
	}
	code, err := call(c.kc)
	if err != nil { // the connection's state is unknown: the next call dials
		c.kc.Close()
		c.kc = nil
	}
	return code, err
}

// onePartition returns the only partition of a persister response.
func onePartition[T any](topics int, parts func(int) []T) (T, error) {
	var zero T
	if topics != 1 {
		return zero, fmt.Errorf("%d topics in the answer", topics)
	}
	ps := parts(0)
	if len(ps) != 1 {
		return zero, fmt.Errorf("%d partitions in the answer", len(ps))
	}
	return ps[0], nil
}

// readShareState reads the share-partition's state as its leader at
// leaderEpoch (StartOffset -1: never initialised).
func (b *Broker) readShareState(ctx context.Context, k sharestate.PartKey, leaderEpoch int32) (sharestate.State, int16) {
	var st sharestate.State
	code := b.persist(ctx, k, func() int16 {
		var code int16
		st, code = b.shareState.read(k, leaderEpoch)
		return code
	}, func(kc *kafkaConn) (int16, error) {
		req := kmsg.NewPtrReadShareGroupStateRequest()
		req.GroupID = k.Group
		req.Topics = []kmsg.ReadShareGroupStateRequestTopic{{TopicID: k.TopicID,
			Partitions: []kmsg.ReadShareGroupStateRequestTopicPartition{{Partition: k.Partition, LeaderEpoch: leaderEpoch}}}}
		resp := kmsg.NewPtrReadShareGroupStateResponse()
		if err := kc.Do(ctx, req, resp); err != nil {
			return 0, err
		}
		p, err := onePartition(len(resp.Topics), func(i int) []kmsg.ReadShareGroupStateResponseTopicPartition { return resp.Topics[i].Partitions })
		if err != nil {
			return 0, err
		}
		st = sharestate.State{StateEpoch: p.StateEpoch, StartOffset: p.StartOffset, LeaderEpoch: leaderEpoch}
		for _, sb := range p.StateBatches {
			st.Batches = append(st.Batches, sharestate.Batch{First: sb.FirstOffset, Last: sb.LastOffset, State: sb.DeliveryState, Count: sb.DeliveryCount})
		}
		return p.ErrorCode, nil
	})
	return st, code
}

// writeShareState writes the share-partition's state.
func (b *Broker) writeShareState(ctx context.Context, k sharestate.PartKey, w sharestate.WriteRequest) int16 {
	return b.persist(ctx, k, func() int16 { return b.shareState.write(k, w) }, func(kc *kafkaConn) (int16, error) {
		req := kmsg.NewPtrWriteShareGroupStateRequest()
		req.Version = 1
		req.GroupID = k.Group
		rp := kmsg.NewWriteShareGroupStateRequestTopicPartition()
		rp.Partition, rp.StateEpoch, rp.LeaderEpoch, rp.StartOffset = k.Partition, w.StateEpoch, w.LeaderEpoch, w.StartOffset
		rp.DeliveryCompleteCount = w.DeliveryCompleteCount
		for _, sb := range w.Batches {
			rp.StateBatches = append(rp.StateBatches, kmsg.WriteShareGroupStateRequestTopicPartitionStateBatch{
				FirstOffset: sb.First, LastOffset: sb.Last, DeliveryState: sb.State, DeliveryCount: sb.Count})
		}
		req.Topics = []kmsg.WriteShareGroupStateRequestTopic{{TopicID: k.TopicID, Partitions: []kmsg.WriteShareGroupStateRequestTopicPartition{rp}}}
		resp := kmsg.NewPtrWriteShareGroupStateResponse()
		if err := kc.Do(ctx, req, resp); err != nil {
			return 0, err
		}
		p, err := onePartition(len(resp.Topics), func(i int) []kmsg.WriteShareGroupStateResponseTopicPartition { return resp.Topics[i].Partitions })
		return p.ErrorCode, err
	})
}

// initializeShareState sets the share-partition's start offset and state
// epoch, dropping its in-flight state.
func (b *Broker) initializeShareState(ctx context.Context, k sharestate.PartKey, stateEpoch int32, start int64) int16 {
	return b.persist(ctx, k, func() int16 { return b.shareState.initialize(k, stateEpoch, start) }, func(kc *kafkaConn) (int16, error) {
		req := kmsg.NewPtrInitializeShareGroupStateRequest()
		req.GroupID = k.Group
		req.Topics = []kmsg.InitializeShareGroupStateRequestTopic{{TopicID: k.TopicID,
			Partitions: []kmsg.InitializeShareGroupStateRequestTopicPartition{{Partition: k.Partition, StateEpoch: stateEpoch, StartOffset: start}}}}
		resp := kmsg.NewPtrInitializeShareGroupStateResponse()
		if err := kc.Do(ctx, req, resp); err != nil {
			return 0, err
		}
		p, err := onePartition(len(resp.Topics), func(i int) []kmsg.InitializeShareGroupStateResponseTopicPartition { return resp.Topics[i].Partitions })
		return p.ErrorCode, err
	})
}

// deleteShareState removes the share-partition's state.
func (b *Broker) deleteShareState(ctx context.Context, k sharestate.PartKey) int16 {
	return b.persist(ctx, k, func() int16 { return b.shareState.delete(k) }, func(kc *kafkaConn) (int16, error) {
		req := kmsg.NewPtrDeleteShareGroupStateRequest()
		req.GroupID = k.Group
		req.Topics = []kmsg.DeleteShareGroupStateRequestTopic{{TopicID: k.TopicID,
			Partitions: []kmsg.DeleteShareGroupStateRequestTopicPartition{{Partition: k.Partition}}}}
		resp := kmsg.NewPtrDeleteShareGroupStateResponse()
		if err := kc.Do(ctx, req, resp); err != nil {
			return 0, err
		}
		p, err := onePartition(len(resp.Topics), func(i int) []kmsg.DeleteShareGroupStateResponseTopicPartition { return resp.Topics[i].Partitions })
		return p.ErrorCode, err
	})
}

// summaryShareState reads the share-partition's start offset and epochs;
// ok is false when it has no state.
func (b *Broker) summaryShareState(ctx context.Context, k sharestate.PartKey) (st sharestate.State, ok bool, code int16) {
	code = b.persist(ctx, k, func() int16 {
		var c int16
		st, ok, c = b.shareState.summary(k)
		return c
	}, func(kc *kafkaConn) (int16, error) {
		req := kmsg.NewPtrReadShareGroupStateSummaryRequest()
		req.Version = 1
		req.GroupID = k.Group
		req.Topics = []kmsg.ReadShareGroupStateSummaryRequestTopic{{TopicID: k.TopicID,
			Partitions: []kmsg.ReadShareGroupStateSummaryRequestTopicPartition{{Partition: k.Partition, LeaderEpoch: -1}}}}
		resp := kmsg.NewPtrReadShareGroupStateSummaryResponse()
		if err := kc.Do(ctx, req, resp); err != nil {
			return 0, err
		}
		p, err := onePartition(len(resp.Topics), func(i int) []kmsg.ReadShareGroupStateSummaryResponseTopicPartition { return resp.Topics[i].Partitions })
		st = sharestate.State{StateEpoch: p.StateEpoch, LeaderEpoch: p.LeaderEpoch, StartOffset: p.StartOffset, DeliveryCompleteCount: p.DeliveryCompleteCount}
		ok = p.StartOffset >= 0
		return p.ErrorCode, err
	})
	return st, ok, code
}
