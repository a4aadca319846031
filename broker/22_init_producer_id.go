package broker

import "github.com/twmb/franz-go/pkg/kmsg"

// InitProducerID: v0-4
//
// Behavior:
// * Idempotent producers (no transactional id) get a fresh producer id
//   with epoch 0.
// * A producer that passes its current id and epoch (v3+, KIP-360) gets the
//   same id with the epoch bumped, so it can reset its sequences after an
//   OUT_OF_ORDER_SEQUENCE_NUMBER or UNKNOWN_PRODUCER_ID.
// * Transactions are not supported: a transactional id gets
//   COORDINATOR_NOT_AVAILABLE.
//
// Version notes:
// * v2: flexible; v3: ProducerID/ProducerEpoch for epoch bumps.

func init() { regKey(22, 0, 4, handleInitProducerID) }

func handleInitProducerID(b *Broker, r *request) (kmsg.Response, error) {
	req := r.kreq.(*kmsg.InitProducerIDRequest)
	resp := req.ResponseKind().(*kmsg.InitProducerIDResponse)
	if req.TransactionalID != nil {
		resp.ErrorCode = errCoordinatorNotAvail
		resp.ProducerID, resp.ProducerEpoch = -1, -1
		return resp, nil
	}
	if req.ProducerID >= 0 && req.ProducerEpoch >= 0 && req.ProducerEpoch < 1<<15-1 {
		resp.ProducerID, resp.ProducerEpoch = req.ProducerID, req.ProducerEpoch+1
		return resp, nil
	}
	resp.ProducerID, resp.ProducerEpoch = b.pids.allocate(), 0
	return resp, nil
}
