package broker

import (
	"github.com/osprey-kafka/osprey/broker/acl"
	"github.com/osprey-kafka/osprey/broker/txn"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// AddPartitionsToTxn: v0-5
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
// * v4+ (KIP-890's verification): several transactions per request, as partition
//   leaders send them; VerifyOnly answers, per partition, whether it is in
//   the producer's open transaction (0) or not (INVALID_TXN_STATE; a stale
//   epoch INVALID_PRODUCER_EPOCH), adding nothing. Leaders of this runtime
//   verify a producer's first transactional batch on a partition, so that a
//   late write of a fenced or finished transaction cannot open a
//   transaction nobody will end (a "hanging" one).
//
// Version notes:
// * v2: PRODUCER_FENCED; v3: flexible; v4: batched, VerifyOnly; v5: same
//   fields (transaction version 2 errors).

func init() { regKey(24, 0, 5, handleAddPartitionsToTxn) }

func handleAddPartitionsToTxn(b *Broker, r *request) (kmsg.Response, error) {
	req := r.kreq.(*kmsg.AddPartitionsToTxnRequest)
	resp := req.ResponseKind().(*kmsg.AddPartitionsToTxnResponse)
	if req.Version >= 4 {
		// Batched: only brokers send it (produce verification).
		if code := r.authzClusterErr(acl.OpClusterAction); code != 0 {
			resp.ErrorCode = code
			return resp, nil
		}
		for _, rt := range req.Transactions {
			resp.Transactions = append(resp.Transactions, b.addPartitionsBatched(rt))
		}
		return resp, nil
	}
	var tps []txn.TP
	denied := r.addPartitionsDenied(req)
	unknown := len(denied) > 0 // nothing is added when one topic is refused
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
				if denied[rt.Topic] != 0 {
					sp.ErrorCode = denied[rt.Topic]
				}
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp, nil
}

// addPartitionsBatched serves one transaction of a v4+ request.
func (b *Broker) addPartitionsBatched(rt kmsg.AddPartitionsToTxnRequestTransaction) kmsg.AddPartitionsToTxnResponseTransaction {
	out := kmsg.NewAddPartitionsToTxnResponseTransaction()
	out.TransactionalID = rt.TransactionalID
	var tps []txn.TP
	for _, t := range rt.Topics {
		for _, p := range t.Partitions {
			tps = append(tps, txn.TP{Topic: t.Topic, Partition: p})
		}
	}
	var codes []int16
	if rt.VerifyOnly {
		codes = b.txns.verify(rt.TransactionalID, rt.ProducerID, rt.ProducerEpoch, tps)
	} else {
		code := b.txns.addPartitions(rt.TransactionalID, rt.ProducerID, rt.ProducerEpoch, tps)
		codes = make([]int16, len(tps))
		for i := range codes {
			codes[i] = code
		}
	}
	i := 0
	for _, t := range rt.Topics {
		ot := kmsg.NewAddPartitionsToTxnResponseTransactionTopic()
		ot.Topic = t.Topic
		for _, p := range t.Partitions {
			op := kmsg.NewAddPartitionsToTxnResponseTransactionTopicPartition()
			op.Partition, op.ErrorCode = p, codes[i]
			i++
			ot.Partitions = append(ot.Partitions, op)
		}
		out.Topics = append(out.Topics, ot)
	}
	return out
}
