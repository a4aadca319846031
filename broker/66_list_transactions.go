package broker

import (
	"regexp"
	"slices"
	"sort"
	"time"

	"github.com/osprey-kafka/osprey/broker/acl"
	"github.com/osprey-kafka/osprey/broker/txn"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// ListTransactions: v0-2
//
// Behavior:
// * Lists the transactional ids this broker coordinates (those of the
//   __transaction_state partitions it leads), filtered by state names
//   (unknown names are returned in UnknownStateFilters), producer ids,
//   and (v1+, KIP-994) DurationFilterMillis: only transactions started at
//   least that long ago; ids without an open transaction have no start
//   and pass it, as in Kafka.
// * v2: TransactionalIDPattern, a regular expression the id must match (Go
//   syntax, which agrees with Java's for ordinary patterns); a pattern that
//   does not compile gets INVALID_REGULAR_EXPRESSION.
//
// Version notes:
// * v1: duration filter; v2: id pattern. All flexible.

func init() { regKey(66, 0, 2, handleListTransactions) }

func handleListTransactions(b *Broker, r *request) (kmsg.Response, error) {
	req := r.kreq.(*kmsg.ListTransactionsRequest)
	resp := req.ResponseKind().(*kmsg.ListTransactionsResponse)
	states := map[string]bool{}
	for _, s := range req.StateFilters {
		if !validTxnStateName(s) {
			resp.UnknownStateFilters = append(resp.UnknownStateFilters, s)
			continue
		}
		states[s] = true
	}
	var pattern *regexp.Regexp
	if req.Version >= 2 && req.TransactionalIDPattern != nil && *req.TransactionalIDPattern != "" {
		re, err := regexp.Compile(*req.TransactionalIDPattern)
		if err != nil {
			resp.ErrorCode = errInvalidRegularExpression
			return resp, nil
		}
		pattern = re
	}
	all, code := b.txns.list()
	if code != 0 {
		resp.ErrorCode = code
		return resp, nil
	}
	now := time.Now().UnixMilli()
	for _, m := range all {
		switch {
		case len(req.StateFilters) > 0 && !states[m.State.String()]:
			continue
		case len(req.ProducerIDFilters) > 0 && !slices.Contains(req.ProducerIDFilters, m.ProducerID):
			continue
		case req.Version >= 1 && req.DurationFilterMillis >= 0 && now-m.StartMs < req.DurationFilterMillis:
			continue
		case pattern != nil && !pattern.MatchString(m.TxnID):
			continue
		case !r.authorizeTxnID(acl.OpDescribe, m.TxnID):
			continue // listed only to those who may describe it
		}
		st := kmsg.NewListTransactionsResponseTransactionState()
		st.TransactionalID, st.ProducerID, st.TransactionState = m.TxnID, m.ProducerID, m.State.String()
		resp.TransactionStates = append(resp.TransactionStates, st)
	}
	sort.Slice(resp.TransactionStates, func(i, j int) bool {
		return resp.TransactionStates[i].TransactionalID < resp.TransactionStates[j].TransactionalID
	})
	return resp, nil
}

func validTxnStateName(s string) bool {
	for st := txn.Empty; st <= txn.PrepareEpochFence; st++ {
		if st.String() == s {
			return true
		}
	}
	return false
}
