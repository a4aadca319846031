package broker

import (
	"github.com/osprey-kafka/osprey/broker/acl"
	"github.com/osprey-kafka/osprey/broker/txn"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// DescribeTransactions: v0
//
// Behavior:
// * Describes transactional ids this broker coordinates: state (Kafka's
//   names: Empty, Ongoing, PrepareCommit, …), producer id and epoch,
//   timeout, start time (-1 with no transaction open) and the partitions
//   of the open transaction.
// * An id coordinated elsewhere gets NOT_COORDINATOR; an unknown one
//   TRANSACTIONAL_ID_NOT_FOUND.

func init() { regKey(65, 0, 0, handleDescribeTransactions) }

func handleDescribeTransactions(b *Broker, r *request) (kmsg.Response, error) {
	req := r.kreq.(*kmsg.DescribeTransactionsRequest)
	resp := req.ResponseKind().(*kmsg.DescribeTransactionsResponse)
	for _, id := range req.TransactionalIDs {
		st := kmsg.NewDescribeTransactionsResponseTransactionState()
		st.TransactionalID = id
		st.ProducerID, st.ProducerEpoch, st.StartTimestamp = -1, -1, -1
		m, code := b.txns.describe(id)
		if denied := r.authzTxnIDErr(acl.OpDescribe, id); denied != 0 {
			code = denied
		}
		st.ErrorCode = code
		if code == 0 {
			st.State, st.TimeoutMillis, st.StartTimestamp = m.State.String(), m.TimeoutMs, m.StartMs
			st.ProducerID, st.ProducerEpoch = m.ProducerID, m.Epoch
			st.Topics = describeTxnTopics(m.Partitions)
		}
		resp.TransactionStates = append(resp.TransactionStates, st)
	}
	return resp, nil
}

func describeTxnTopics(tps []txn.TP) []kmsg.DescribeTransactionsResponseTransactionStateTopic {
	var out []kmsg.DescribeTransactionsResponseTransactionStateTopic
	for _, tp := range tps {
		if n := len(out); n == 0 || out[n-1].Topic != tp.Topic {
			t := kmsg.NewDescribeTransactionsResponseTransactionStateTopic()
			t.Topic = tp.Topic
			out = append(out, t)
		}
		last := &out[len(out)-1]
		last.Partitions = append(last.Partitions, tp.Partition)
	}
	return out
}
