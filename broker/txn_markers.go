package broker

import (
	"context"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/osprey-kafka/osprey/broker/txn"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// markerTimeout bounds one round of marker writes (a leader's append and
// its ISR's replication).
const markerTimeout = 10 * time.Second

// sendMarkers writes a commit or abort marker of producer pid at epoch to
// every partition of tps, by their leaders, and returns the partitions
// still to do (no leader, an error, a leader that moved). Partitions of
// deleted topics need no marker.
func (b *Broker) sendMarkers(tps []txn.TP, pid int64, epoch int16, commit bool, coordEpoch int32) []txn.TP {
	byLeader := map[int32][]txn.TP{}
	var failed []txn.TP
	for _, tp := range tps {
		t, ok := b.cluster.Topic(tp.Topic)
		if !ok || int(tp.Partition) >= len(t.Partitions) {
			continue
		}
		leader := t.Partitions[tp.Partition].Leader
		if leader < 0 {
			failed = append(failed, tp)
			continue
		}
		byLeader[leader] = append(byLeader[leader], tp)
	}
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	for leader, group := range byLeader {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(b.ctx, markerTimeout)
			defer cancel()
			var f []txn.TP
			if leader == b.cfg.BrokerID {
				for _, tp := range group {
					if code := b.applyMarker(ctx, tp.Topic, tp.Partition, pid, epoch, commit, coordEpoch); code != 0 && code != errUnknownTopicOrPart {
						f = append(f, tp)
					}
				}
			} else {
				f = b.markRemote(ctx, leader, group, pid, epoch, commit, coordEpoch)
			}
			mu.Lock()
			failed = append(failed, f...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return failed
}

// applyMarker writes a marker to a partition this broker leads; a marker
// on a __consumer_offsets partition also settles the producer's pending
// transactional offset commits of the partition's groups.
func (b *Broker) applyMarker(ctx context.Context, topic string, part int32, pid int64, epoch int16, commit bool, coordEpoch int32) int16 {
	if _, ok := b.cluster.Topic(topic); !ok {
		return errUnknownTopicOrPart
	}
	p := b.data.get(topic, part)
	if p == nil {
		return errNotLeader
	}
	code := p.writeMarker(ctx, pid, epoch, commit, coordEpoch)
	if code == 0 {
		b.signalAppend()
		if topic == offsetsTopic {
			b.groups.completeTxn(part, pid, commit)
		}
	}
	return code
}

// markRemote sends WriteTxnMarkers to another broker and returns the
// partitions it did not write.
func (b *Broker) markRemote(ctx context.Context, leader int32, tps []txn.TP, pid int64, epoch int16, commit bool, coordEpoch int32) []txn.TP {
	var addr string
	for _, bi := range b.cluster.Brokers() {
		if bi.ID == leader {
			addr = net.JoinHostPort(bi.Host, strconv.Itoa(int(bi.Port)))
		}
	}
	if addr == "" {
		return tps
	}
	kc, err := dialKafka(ctx, addr, "osprey-txn-coordinator", b.interBroker)
	if err != nil {
		b.log.Warn("sending transaction markers", "broker", leader, "err", err)
		return tps
	}
	defer kc.Close()
	req := kmsg.NewPtrWriteTxnMarkersRequest()
	req.Version = 1
	m := kmsg.NewWriteTxnMarkersRequestMarker()
	m.ProducerID, m.ProducerEpoch, m.Committed, m.CoordinatorEpoch = pid, epoch, commit, coordEpoch
	for _, tp := range tps {
		if n := len(m.Topics); n == 0 || m.Topics[n-1].Topic != tp.Topic {
			t := kmsg.NewWriteTxnMarkersRequestMarkerTopic()
			t.Topic = tp.Topic
			m.Topics = append(m.Topics, t)
		}
		last := &m.Topics[len(m.Topics)-1]
		last.Partitions = append(last.Partitions, tp.Partition)
	}
	req.Markers = append(req.Markers, m)
	resp := kmsg.NewPtrWriteTxnMarkersResponse()
	if err := kc.Do(ctx, req, resp); err != nil {
		b.log.Warn("sending transaction markers", "broker", leader, "err", err)
		return tps
	}
	done := map[txn.TP]bool{}
	for _, rm := range resp.Markers {
		for _, rt := range rm.Topics {
			for _, rp := range rt.Partitions {
				if rp.ErrorCode == 0 || rp.ErrorCode == errUnknownTopicOrPart {
					done[txn.TP{Topic: rt.Topic, Partition: rp.Partition}] = true
				}
			}
		}
	}
	var failed []txn.TP
	for _, tp := range tps {
		if !done[tp] {
			failed = append(failed, tp)
		}
	}
	return failed
}
