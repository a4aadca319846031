package broker

import (
	"github.com/osprey-kafka/osprey/broker/acl"
	"github.com/osprey-kafka/osprey/broker/txn"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// AddOffsetsToTxn: v0-3
//
// Behavior:
// * Adds the group's __consumer_offsets partition to the producer's open
//   transaction, so that its TxnOffsetCommit offsets are committed or
//   discarded by the transaction's marker on that partition.
// * Errors as AddPartitionsToTxn.
//
// Version notes:
// * v2: PRODUCER_FENCED; v3: flexible.

func init() { regKey(25, 0, 3, handleAddOffsetsToTxn) }

func handleAddOffsetsToTxn(b *Broker, r *request) (kmsg.Response, error) {
	req := r.kreq.(*kmsg.AddOffsetsToTxnRequest)
	resp := req.ResponseKind().(*kmsg.AddOffsetsToTxnResponse)
	if code := r.authzTxnIDErr(acl.OpWrite, req.TransactionalID); code != 0 {
		resp.ErrorCode = code
		return resp, nil
	}
	if code := r.authzGroupErr(acl.OpRead, req.Group); code != 0 {
		resp.ErrorCode = code
		return resp, nil
	}
	if req.Group == "" {
		resp.ErrorCode = errInvalidGroupID
		return resp, nil
	}
	tp := txn.TP{Topic: offsetsTopic, Partition: groupPartition(req.Group, b.groups.partitions())}
	code := b.txns.addPartitions(req.TransactionalID, req.ProducerID, req.ProducerEpoch, []txn.TP{tp})
	resp.ErrorCode = txn.FencedCode(code, req.Version, 2)
	return resp, nil
}
