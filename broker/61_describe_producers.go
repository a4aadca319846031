package broker

import (
	"sort"

	"github.com/osprey-kafka/osprey/broker/acl"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// DescribeProducers: v0
//
// Behavior:
// * For each partition led here: the idempotent and transactional
//   producers the partition knows (those seen since it was opened or took
//   over, and those of the log's scanned tail), with epoch, last sequence,
//   last batch timestamp and the first offset of their open transaction
//   (-1 when none).
// * A partition not led here gets NOT_LEADER_OR_FOLLOWER; an unknown one
//   UNKNOWN_TOPIC_OR_PARTITION.
// * The coordinator epoch is the one of the producer's last marker on the
//   partition, -1 before one.

func init() { regKey(61, 0, 0, handleDescribeProducers) }

func handleDescribeProducers(b *Broker, r *request) (kmsg.Response, error) {
	req := r.kreq.(*kmsg.DescribeProducersRequest)
	resp := req.ResponseKind().(*kmsg.DescribeProducersResponse)
	for _, rt := range req.Topics {
		st := kmsg.NewDescribeProducersResponseTopic()
		st.Topic = rt.Topic
		t, known := b.cluster.Topic(rt.Topic)
		denied := r.authzTopicErr(acl.OpRead, rt.Topic)
		for _, idx := range rt.Partitions {
			sp := kmsg.NewDescribeProducersResponseTopicPartition()
			sp.Partition = idx
			p, code := b.leaderPartition(t, known, idx)
			if !known {
				code = errUnknownTopicOrPart
			}
			if denied != 0 {
				code = denied
			}
			if code != 0 {
				sp.ErrorCode = code
			} else {
				sp.ActiveProducers = p.activeProducers()
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp, nil
}

// activeProducers lists the producers the partition has state for.
func (p *partition) activeProducers() []kmsg.DescribeProducersResponseTopicPartitionActiveProducer {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := []kmsg.DescribeProducersResponseTopicPartitionActiveProducer{}
	for pid, ps := range p.producers {
		ap := kmsg.NewDescribeProducersResponseTopicPartitionActiveProducer()
		ap.ProducerID, ap.ProducerEpoch, ap.LastSequence, ap.LastTimestamp = pid, int32(ps.epoch), ps.lastSeq, ps.lastTs
		ap.CoordinatorEpoch, ap.CurrentTxnStartOffset = ps.coordEpoch, -1
		if first, open := p.txn.ongoing[pid]; open {
			ap.CurrentTxnStartOffset = first
		}
		out = append(out, ap)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ProducerID < out[j].ProducerID })
	return out
}
