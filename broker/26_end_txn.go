package broker

import (
	"context"
	"time"

	"github.com/osprey-kafka/osprey/broker/acl"
	"github.com/osprey-kafka/osprey/broker/txn"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// EndTxn: v0-3
//
// Behavior:
// * Commits or aborts the producer's open transaction: the coordinator
//   writes PrepareCommit/PrepareAbort, a marker to every partition of the
//   transaction (WriteTxnMarkers to their leaders), then
//   CompleteCommit/CompleteAbort. The answer waits for the markers (up to
//   30 s; after that the decision stands and the markers are retried), so
//   a consumer reading right after a commit sees it.
// * A retry of an end already done succeeds; the other end of a finished
//   transaction, or an end with no transaction, gets INVALID_TXN_STATE.
//
// Version notes:
// * v2: PRODUCER_FENCED; v3: flexible.
// * v4+ (transaction version 2, epoch bump per transaction) are not served.

func init() { regKey(26, 0, 3, handleEndTxn) }

// endTxnWait bounds how long EndTxn waits for its markers.
const endTxnWait = 30 * time.Second

func handleEndTxn(b *Broker, r *request) (kmsg.Response, error) {
	req := r.kreq.(*kmsg.EndTxnRequest)
	resp := req.ResponseKind().(*kmsg.EndTxnResponse)
	if code := r.authzTxnIDErr(acl.OpWrite, req.TransactionalID); code != 0 {
		resp.ErrorCode = code
		return resp, nil
	}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		ctx, cancel := context.WithTimeout(b.ctx, endTxnWait)
		defer cancel()
		code := b.txns.endTxn(ctx, req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Commit)
		resp.ErrorCode = txn.FencedCode(code, req.Version, 2)
		r.reply(resp)
	}()
	return nil, errDeferred
}
