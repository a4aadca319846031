package broker

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/osprey-kafka/osprey/broker/zkdata"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// The controller's requests to brokers, as Kafka's ControllerChannelManager:
// after each pass the controller compares the partition states and live
// brokers with what it last sent and queues LeaderAndIsr (to the replicas of
// partitions whose leader, epoch or replicas changed), UpdateMetadata (to
// every live broker) and StopReplica with delete (to brokers that lost a
// replica). One sender goroutine per broker sends its queue in order over
// one connection to the broker's listener; a failed send marks the broker
// for a full resend (every state) on the next pass, so nothing is lost.

// Versions the controller sends (Kafka 3.x in ZooKeeper mode, without the
// KRaft migration fields).
const (
	ctlLeaderAndIsrVersion   = 6
	ctlUpdateMetadataVersion = 7
	ctlStopReplicaVersion    = 3
	ctlRequestTimeout        = 10 * time.Second
	ctlQueueLen              = 64
)

// ctrlBroker is a registered broker as the controller reads it.
type ctrlBroker struct {
	info  BrokerInfo
	epoch int64 // czxid of /brokers/ids/<id>
}

// sentPart is a partition's state as the controller last sent it.
type sentPart struct {
	topicID   [16]byte
	state     zkdata.PartitionState
	zkVersion int32
	replicas  []int32
}

// ctrlChannel owns the per-broker senders of one controller.
type ctrlChannel struct {
	ctx context.Context
	log *slog.Logger
	id  int32
	sec *clientSecurity // the inter-broker listener's TLS and SASL

	mu      sync.Mutex // guards senders and failed
	senders map[int32]*ctrlSender
	failed  map[int32]int64 // broker → epoch whose requests failed: resend everything

	wg sync.WaitGroup
}

type ctrlSender struct {
	epoch  int64
	addr   string
	q      chan []kmsg.Request
	cancel context.CancelFunc
}

func newCtrlChannel(ctx context.Context, id int32, log *slog.Logger, sec *clientSecurity) *ctrlChannel {
	return &ctrlChannel{ctx: ctx, id: id, log: log, sec: sec, senders: map[int32]*ctrlSender{}, failed: map[int32]int64{}}
}

// send queues reqs for broker id (registration epoch, address addr) without
// blocking; a full queue counts as a failure.
func (ch *ctrlChannel) send(id int32, epoch int64, addr string, reqs []kmsg.Request) {
	if len(reqs) == 0 {
		return
	}
	ch.mu.Lock()
	defer ch.mu.Unlock()
	s := ch.senders[id]
	if s == nil || s.epoch != epoch || s.addr != addr {
		if s != nil {
			s.cancel()
		}
		ctx, cancel := context.WithCancel(ch.ctx)
		s = &ctrlSender{epoch: epoch, addr: addr, q: make(chan []kmsg.Request, ctlQueueLen), cancel: cancel}
		ch.senders[id] = s
		ch.wg.Add(1)
		go func() {
			defer ch.wg.Done()
			ch.run(ctx, id, s)
		}()
	}
	select {
	case s.q <- reqs:
	default:
		ch.failed[id] = epoch
		ch.log.Warn("controller request queue full; broker will get a full update", "broker", id)
	}
}

// retain stops the senders of brokers no longer live.
func (ch *ctrlChannel) retain(live map[int32]ctrlBroker) {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	for id, s := range ch.senders {
		if b, ok := live[id]; !ok || b.epoch != s.epoch {
			s.cancel()
			delete(ch.senders, id)
		}
	}
}

// takeFailed returns and clears the brokers whose requests failed.
func (ch *ctrlChannel) takeFailed() map[int32]int64 {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	f := ch.failed
	ch.failed = map[int32]int64{}
	return f
}

func (ch *ctrlChannel) fail(id int32, epoch int64) {
	ch.mu.Lock()
	ch.failed[id] = epoch
	ch.mu.Unlock()
}

// close stops every sender and waits for them (connections closed).
func (ch *ctrlChannel) close() {
	ch.mu.Lock()
	for id, s := range ch.senders {
		s.cancel()
		delete(ch.senders, id)
	}
	ch.mu.Unlock()
	ch.wg.Wait()
}

// run sends one broker's queue in order until ctx ends.
func (ch *ctrlChannel) run(ctx context.Context, id int32, s *ctrlSender) {
	var kc *kafkaConn
	defer func() {
		if kc != nil {
			kc.Close()
		}
	}()
	for {
		var reqs []kmsg.Request
		select {
		case <-ctx.Done():
			return
		case reqs = <-s.q:
		}
		for _, req := range reqs {
			err := func() error {
				rctx, cancel := context.WithTimeout(ctx, ctlRequestTimeout)
				defer cancel()
				if kc == nil {
					c, err := dialKafka(rctx, s.addr, "osprey-controller-"+strconv.Itoa(int(ch.id)), ch.sec)
					if err != nil {
						return err
					}
					kc = c
				}
				resp := req.ResponseKind()
				if err := kc.Do(rctx, req, resp); err != nil {
					kc.Close()
					kc = nil
					return err
				}
				if code := ctlTopError(resp); code != 0 {
					return fmt.Errorf("controller request refused: %w", kerr.ErrorForCode(code))
				}
				return nil
			}()
			if err != nil {
				if ctx.Err() == nil {
					ch.log.Warn("controller request failed; broker will get a full update", "broker", id,
						"request", kmsg.NameForKey(req.Key()), "err", err)
					ch.fail(id, s.epoch)
				}
				break // the rest of the batch is covered by the full update
			}
		}
	}
}

func ctlTopError(resp kmsg.Response) int16 {
	switch r := resp.(type) {
	case *kmsg.LeaderAndISRResponse:
		return r.ErrorCode
	case *kmsg.UpdateMetadataResponse:
		return r.ErrorCode
	case *kmsg.StopReplicaResponse:
		return r.ErrorCode
	}
	return 0
}

// propagate sends what changed since the last call (see the top of the
// file). snap must hold the states after this pass's writes.
func (c *controller) propagate(snap *ctrlSnapshot) {
	for id, ep := range c.ch.takeFailed() {
		if c.synced[id] == ep {
			delete(c.synced, id)
		}
	}
	d := c.diffSent(snap)
	cur, laiChanged, umChanged, deleted, stops := d.cur, d.laiChanged, d.umChanged, d.deleted, d.stops
	liveChanged := !maps.EqualFunc(c.sentLive, snap.brokers, func(a, b ctrlBroker) bool { return a.epoch == b.epoch && a.info.equal(b.info) })
	c.ch.retain(snap.brokers)
	for id := range c.synced {
		if _, ok := snap.brokers[id]; !ok {
			delete(c.synced, id)
		}
	}
	all := slices.Collect(maps.Keys(cur))
	sortTPs(all)
	sortTPs(laiChanged)
	sortTPs(umChanged)
	sortTPs(deleted)
	for _, id := range slices.Sorted(maps.Keys(snap.brokers)) {
		b := snap.brokers[id]
		full := c.synced[id] != b.epoch
		var reqs []kmsg.Request
		hosted := func(tps []zkdata.TopicPartition) []zkdata.TopicPartition {
			return slices.DeleteFunc(slices.Clone(tps), func(tp zkdata.TopicPartition) bool {
				return !slices.Contains(cur[tp].replicas, id)
			})
		}
		if full {
			reqs = append(reqs, c.updateMetadata(snap, b, cur, all, deleted))
			if lai := hosted(all); len(lai) > 0 {
				reqs = append(reqs, c.leaderAndIsr(snap, b, cur, lai))
			}
		} else {
			if lai := hosted(laiChanged); len(lai) > 0 {
				reqs = append(reqs, c.leaderAndIsr(snap, b, cur, lai))
			}
			if len(umChanged) > 0 || len(deleted) > 0 || liveChanged {
				reqs = append(reqs, c.updateMetadata(snap, b, cur, umChanged, deleted))
			}
		}
		if tps := stops[id]; len(tps) > 0 {
			sortTPs(tps)
			reqs = append(reqs, c.stopReplica(b, tps))
		}
		c.ch.send(id, b.epoch, net.JoinHostPort(b.info.Host, strconv.Itoa(int(b.info.Port))), reqs)
		c.synced[id] = b.epoch
	}
	c.sent = cur
	c.sentLive = maps.Clone(snap.brokers)
}

// sentDiff is what changed since the last propagate: the states to send now (cur), the partitions
// whose LeaderAndIsr or UpdateMetadata changed, the deleted ones, and each broker's replicas to stop.
type sentDiff struct {
	cur                            map[zkdata.TopicPartition]sentPart
	laiChanged, umChanged, deleted []zkdata.TopicPartition
	stops                          map[int32][]zkdata.TopicPartition
}

// diffSent compares snap's states with what was last sent. A partition whose state could not be
// read this time while its topic is still there keeps what was sent.
func (c *controller) diffSent(snap *ctrlSnapshot) sentDiff {
	cur := make(map[zkdata.TopicPartition]sentPart, len(snap.states))
	for tp, vs := range snap.states {
		va, ok := snap.topics[tp.Topic]
		if !ok {
			continue
		}
		pa, ok := va.Assignment.Partitions[tp.Partition]
		if !ok {
			continue
		}
		cur[tp] = sentPart{topicID: [16]byte(va.Assignment.ID), state: vs.State, zkVersion: vs.Version, replicas: pa.Replicas}
	}
	var laiChanged, umChanged, deleted []zkdata.TopicPartition
	stops := map[int32][]zkdata.TopicPartition{}
	for tp, s := range cur {
		old, ok := c.sent[tp]
		if ok && old.topicID != s.topicID {
			ok = false // a new topic of the same name
		}
		if !ok || old.state.Leader != s.state.Leader || old.state.LeaderEpoch != s.state.LeaderEpoch ||
			!slices.Equal(old.replicas, s.replicas) {
			laiChanged = append(laiChanged, tp)
		}
		if !ok || old.zkVersion != s.zkVersion || !slices.Equal(old.state.ISR, s.state.ISR) || !slices.Equal(old.replicas, s.replicas) ||
			old.state.Leader != s.state.Leader || old.state.LeaderEpoch != s.state.LeaderEpoch {
			umChanged = append(umChanged, tp)
		}
		if ok {
			for _, r := range old.replicas {
				if !slices.Contains(s.replicas, r) {
					stops[r] = append(stops[r], tp)
				}
			}
		}
	}
	for tp, old := range c.sent {
		if _, ok := cur[tp]; ok {
			continue
		}
		if _, ok := snap.topics[tp.Topic]; ok && snap.topics[tp.Topic].Assignment.ID == zkdata.TopicID(old.topicID) {
			// The topic is there but the state could not be read this
			// time: keep what was sent.
			cur[tp] = old
			continue
		}
		deleted = append(deleted, tp)
		for _, r := range old.replicas {
			stops[r] = append(stops[r], tp)
		}
	}
	return sentDiff{cur: cur, laiChanged: laiChanged, umChanged: umChanged, deleted: deleted, stops: stops}
}

func sortTPs(tps []zkdata.TopicPartition) {
	slices.SortFunc(tps, func(a, b zkdata.TopicPartition) int {
		if a.Topic != b.Topic {
			if a.Topic < b.Topic {
				return -1
			}
			return 1
		}
		return int(a.Partition) - int(b.Partition)
	})
}

func (c *controller) leaderAndIsr(snap *ctrlSnapshot, to ctrlBroker, cur map[zkdata.TopicPartition]sentPart, tps []zkdata.TopicPartition) kmsg.Request {
	req := kmsg.NewPtrLeaderAndISRRequest()
	req.Version = ctlLeaderAndIsrVersion
	req.ControllerID, req.ControllerEpoch, req.BrokerEpoch = c.zc.self.ID, c.epoch, to.epoch
	req.Type = 0 // incremental
	leaders := map[int32]bool{}
	for _, tp := range tps {
		s := cur[tp]
		if n := len(req.TopicStates); n == 0 || req.TopicStates[n-1].Topic != tp.Topic {
			ts := kmsg.NewLeaderAndISRRequestTopicState()
			ts.Topic, ts.TopicID = tp.Topic, s.topicID
			req.TopicStates = append(req.TopicStates, ts)
		}
		ps := kmsg.NewLeaderAndISRRequestTopicPartition()
		ps.Partition, ps.ControllerEpoch = tp.Partition, s.state.ControllerEpoch
		ps.Leader, ps.LeaderEpoch, ps.ISR, ps.ZKVersion = s.state.Leader, s.state.LeaderEpoch, s.state.ISR, s.zkVersion
		ps.Replicas = s.replicas
		pa := snap.topics[tp.Topic].Assignment.Partitions[tp.Partition]
		ps.AddingReplicas, ps.RemovingReplicas = pa.Adding, pa.Removing
		if ps.ISR == nil {
			ps.ISR = []int32{}
		}
		ts := &req.TopicStates[len(req.TopicStates)-1]
		ts.PartitionStates = append(ts.PartitionStates, ps)
		if s.state.Leader >= 0 {
			leaders[s.state.Leader] = true
		}
	}
	for _, id := range slices.Sorted(maps.Keys(leaders)) {
		if b, ok := snap.brokers[id]; ok {
			ll := kmsg.NewLeaderAndISRRequestLiveLeader()
			ll.BrokerID, ll.Host, ll.Port = id, b.info.Host, b.info.Port
			req.LiveLeaders = append(req.LiveLeaders, ll)
		}
	}
	return req
}

func (c *controller) updateMetadata(snap *ctrlSnapshot, to ctrlBroker, cur map[zkdata.TopicPartition]sentPart, tps, deleted []zkdata.TopicPartition) kmsg.Request {
	req := kmsg.NewPtrUpdateMetadataRequest()
	req.Version = ctlUpdateMetadataVersion
	req.ControllerID, req.ControllerEpoch, req.BrokerEpoch = c.zc.self.ID, c.epoch, to.epoch
	add := func(tp zkdata.TopicPartition, id [16]byte, ps kmsg.UpdateMetadataRequestTopicPartition) {
		if n := len(req.TopicStates); n == 0 || req.TopicStates[n-1].Topic != tp.Topic {
			ts := kmsg.NewUpdateMetadataRequestTopicState()
			ts.Topic, ts.TopicID = tp.Topic, id
			req.TopicStates = append(req.TopicStates, ts)
		}
		ts := &req.TopicStates[len(req.TopicStates)-1]
		ts.PartitionStates = append(ts.PartitionStates, ps)
	}
	for _, tp := range tps {
		s := cur[tp]
		ps := kmsg.NewUpdateMetadataRequestTopicPartition()
		ps.Partition, ps.ControllerEpoch = tp.Partition, s.state.ControllerEpoch
		ps.Leader, ps.LeaderEpoch, ps.ISR, ps.ZKVersion = s.state.Leader, s.state.LeaderEpoch, s.state.ISR, s.zkVersion
		ps.Replicas = s.replicas
		if ps.ISR == nil {
			ps.ISR = []int32{}
		}
		for _, r := range s.replicas {
			if _, ok := snap.brokers[r]; !ok {
				ps.OfflineReplicas = append(ps.OfflineReplicas, r)
			}
		}
		add(tp, s.topicID, ps)
	}
	for _, tp := range deleted {
		old := c.sent[tp]
		ps := kmsg.NewUpdateMetadataRequestTopicPartition()
		ps.Partition, ps.ControllerEpoch = tp.Partition, c.epoch
		ps.Leader, ps.LeaderEpoch, ps.ISR, ps.ZKVersion = leaderDuringDelete, old.state.LeaderEpoch, []int32{}, old.zkVersion
		ps.Replicas = old.replicas
		add(tp, old.topicID, ps)
	}
	for _, id := range slices.Sorted(maps.Keys(snap.brokers)) {
		b := snap.brokers[id]
		lb := kmsg.NewUpdateMetadataRequestLiveBroker()
		lb.ID = id
		lb.Endpoints = updateMetadataEndpoints(b.info)
		if b.info.Rack != "" {
			lb.Rack = kmsg.StringPtr(b.info.Rack)
		}
		req.LiveBrokers = append(req.LiveBrokers, lb)
	}
	return req
}

func (c *controller) stopReplica(to ctrlBroker, tps []zkdata.TopicPartition) kmsg.Request {
	req := kmsg.NewPtrStopReplicaRequest()
	req.Version = ctlStopReplicaVersion
	req.ControllerID, req.ControllerEpoch, req.BrokerEpoch = c.zc.self.ID, c.epoch, to.epoch
	for _, tp := range tps {
		if n := len(req.Topics); n == 0 || req.Topics[n-1].Topic != tp.Topic {
			t := kmsg.NewStopReplicaRequestTopic()
			t.Topic = tp.Topic
			req.Topics = append(req.Topics, t)
		}
		ps := kmsg.NewStopReplicaRequestTopicPartitionState()
		ps.Partition, ps.LeaderEpoch, ps.Delete = tp.Partition, epochDuringDelete, true
		t := &req.Topics[len(req.Topics)-1]
		t.PartitionStates = append(t.PartitionStates, ps)
	}
	return req
}
