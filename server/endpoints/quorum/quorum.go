// Package quorum serves a KRaft cluster's metadata quorum: its state from the latest poll and its
// stored history.
package quorum

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/osprey-kafka/osprey/server/api"
	"github.com/osprey-kafka/osprey/server/endpoints/params"
	"github.com/osprey-kafka/osprey/server/endpoints/series"
	"github.com/osprey-kafka/osprey/server/service"
)

// Declare adds the area's endpoints.
func Declare(r *api.Registry, svc *service.Service) {
	r.Add(
		api.Op(http.MethodGet, "/api/v1/clusters/:cluster/quorum", func(c *gin.Context, in *params.ClusterPath) (service.QuorumView, error) {
			return svc.Quorum(in.Cluster)
		}, api.Doc("quorum", "KRaft quorum: leader (the active controller), epoch, high watermark, voters and observers with their lag, listeners, finalized features, fenced brokers"),
			api.Errors(http.StatusNotFound, http.StatusServiceUnavailable)),

		api.Op(http.MethodGet, "/api/v1/clusters/:cluster/quorum/history", func(c *gin.Context, in *historyIn) (service.QuorumHistoryView, error) {
			q, err := series.Window{From: in.From, To: in.To}.Query()
			if err != nil {
				return service.QuorumHistoryView{}, err
			}
			return svc.QuorumHistory(c.Request.Context(), in.Cluster, q.From, q.To)
		}, api.Doc("quorum", "KRaft quorum history: leader, epoch and the largest voter lag per poll, and every leader change"),
			api.Errors(http.StatusServiceUnavailable)),
	)
}

type historyIn struct {
	params.ClusterPath
	From string `query:"from" json:"-" description:"Start, RFC 3339 or Unix seconds (default an hour ago)"`
	To   string `query:"to" json:"-" description:"End, RFC 3339 or Unix seconds (default now)"`
}
