package broker

import (
	"github.com/osprey-kafka/osprey/broker/txn"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// InitProducerID: v0-4
//
// Behavior:
// * Idempotent producers (no transactional id) get a fresh producer id
//   with epoch 0.
// * A producer that passes its current id and epoch (v3+, KIP-360) gets the
//   same id with the epoch bumped, so it can reset its sequences after an
//   OUT_OF_ORDER_SEQUENCE_NUMBER or UNKNOWN_PRODUCER_ID.
// * A transactional id is served by its transaction coordinator
//   (txn_coordinator.go): the first call allocates a producer id, later
//   ones bump its epoch, fencing the older producer instance; an open
//   transaction is aborted first (CONCURRENT_TRANSACTIONS until it is); a
//   producer passing an id and epoch that are not the latest is fenced
//   (PRODUCER_FENCED, INVALID_PRODUCER_EPOCH before v4). A timeout above
//   transaction.max.timeout.ms gets INVALID_TRANSACTION_TIMEOUT.
//
// Version notes:
// * v2: flexible; v3: ProducerID/ProducerEpoch for epoch bumps;
//   v4: PRODUCER_FENCED.

func init() { regKey(22, 0, 4, handleInitProducerID) }

func handleInitProducerID(b *Broker, r *request) (kmsg.Response, error) {
	req := r.kreq.(*kmsg.InitProducerIDRequest)
	resp := req.ResponseKind().(*kmsg.InitProducerIDResponse)
	if code := r.initProducerDenied(req.TransactionalID); code != 0 {
		resp.ProducerID, resp.ProducerEpoch, resp.ErrorCode = -1, -1, code
		return resp, nil
	}
	if req.TransactionalID != nil {
		pid, epoch, code := b.txns.initProducer(*req.TransactionalID, req.TransactionTimeoutMillis, req.ProducerID, req.ProducerEpoch)
		resp.ProducerID, resp.ProducerEpoch, resp.ErrorCode = pid, epoch, txn.FencedCode(code, req.Version, 4)
		return resp, nil
	}
	if req.ProducerID >= 0 && req.ProducerEpoch >= 0 && req.ProducerEpoch < 1<<15-1 {
		resp.ProducerID, resp.ProducerEpoch = req.ProducerID, req.ProducerEpoch+1
		return resp, nil
	}
	resp.ProducerID, resp.ProducerEpoch = b.pids.allocate(), 0
	return resp, nil
}
