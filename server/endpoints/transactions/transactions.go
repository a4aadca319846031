// Package transactions serves who writes to a topic (its partitions' idempotent and transactional
// producers) and a cluster's transactions, with the abort of a hanging one.
package transactions

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/osprey-kafka/osprey/server/api"
	"github.com/osprey-kafka/osprey/server/endpoints/params"
	"github.com/osprey-kafka/osprey/server/service"
)

// Declare adds the area's endpoints.
func Declare(r *api.Registry, svc *service.Service) {
	r.Add(
		api.Op(http.MethodGet, "/api/v1/clusters/:cluster/topics/:topic/producers", func(c *gin.Context, in *params.TopicPath) (service.TopicProducers, error) {
			return svc.TopicProducers(c.Request.Context(), in.Cluster, in.Topic)
		}, api.Doc("topics", "A topic's producers per partition (DescribeProducers at each leader): producer id, epoch, last sequence, last timestamp, coordinator epoch, open transaction's first offset"),
			api.Errors(http.StatusNotFound, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout)),

		api.Op(http.MethodGet, "/api/v1/clusters/:cluster/transactions", func(c *gin.Context, in *params.ClusterPath) (service.TransactionsView, error) {
			return svc.Transactions(c.Request.Context(), in.Cluster)
		}, api.Doc("transactions", "Transactional ids (ListTransactions at every broker, DescribeTransactions at their coordinators): state, producer id and epoch, timeout, duration, partitions; hanging when open longer than transaction.max.timeout.ms"),
			api.Errors(http.StatusNotFound, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout)),

		api.Op(http.MethodPost, "/api/v1/clusters/:cluster/transactions/abort", func(c *gin.Context, in *AbortTransactionRequest) (api.NoContent, error) {
			return api.NoContent{}, svc.AbortTransaction(c.Request.Context(), api.CallerOf(c), in.Cluster, in.AbortTransactionRequest)
		}, api.Doc("transactions", "Abort a partition's open (hanging) transaction as kafka-transactions.sh abort does: an abort marker written to the partition's leader with the producer's epoch from DescribeProducers"),
			api.Needs(service.RoleAdmin, "transaction.abort"), api.Errors(http.StatusNotFound, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout)),
	)
}

// AbortTransactionRequest is the input of a transaction's abort: the body names the partition and, when several
// producers have a transaction open there, the producer.
type AbortTransactionRequest struct {
	params.ClusterPath
	service.AbortTransactionRequest
}
