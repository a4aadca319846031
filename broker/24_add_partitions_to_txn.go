package broker

import (
	"github.com/osprey-kafka/osprey/broker/txn"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// AddPartitionsToTxn: v0-3
//
// Behavior:
// * The producer's coordinator adds the partitions to its open
//   transaction (opening one if none is), writing the new state to
//   __transaction_state before answering.
// * Partitions of unknown topics get UNKNOWN_TOPIC_OR_PARTITION and the
//   others OPERATION_NOT_ATTEMPTED (nothing is added), as in Kafka.
// * A transaction being ended gets CONCURRENT_TRANSACTIONS; an old epoch
//   PRODUCER_FENCED (INVALID_PRODUCER_EPOCH before v2); an unknown id or
//   another producer id INVALID_PRODUCER_ID_MAPPING.
//
// Version notes:
// * v2: PRODUCER_FENCED; v3: flexible.
// * v4+ (batched requests from brokers, KIP-890 verification) are not
//   served.

func init() { regKey(24, 0, 3, handleAddPartitionsToTxn) }

func handleAddPartitionsToTxn(b *Broker, r *request) (kmsg.Response, error) {
	req := r.kreq.(*kmsg.AddPartitionsToTxnRequest)
	resp := req.ResponseKind().(*kmsg.AddPartitionsToTxnResponse)
	var tps []txn.TP
	unknown := false
	for _, rt := range req.Topics {
		t, ok := b.cluster.Topic(rt.Topic)
		for _, p := range rt.Partitions {
			if !ok || p < 0 || int(p) >= len(t.Partitions) {
				unknown = true
			}
			tps = append(tps, txn.TP{Topic: rt.Topic, Partition: p})
		}
	}
	code := int16(0)
	if !unknown {
		code = txn.FencedCode(b.txns.addPartitions(req.TransactionalID, req.ProducerID, req.ProducerEpoch, tps), req.Version, 2)
	}
	for _, rt := range req.Topics {
		st := kmsg.NewAddPartitionsToTxnResponseTopic()
		st.Topic = rt.Topic
		t, ok := b.cluster.Topic(rt.Topic)
		for _, p := range rt.Partitions {
			sp := kmsg.NewAddPartitionsToTxnResponseTopicPartition()
			sp.Partition, sp.ErrorCode = p, code
			if unknown {
				sp.ErrorCode = errOperationNotAttempted
				if !ok || p < 0 || int(p) >= len(t.Partitions) {
					sp.ErrorCode = errUnknownTopicOrPart
				}
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp, nil
}
