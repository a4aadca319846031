// Package clusters serves the cluster list, one cluster's overview and its brokers.
package clusters

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
		api.Op(http.MethodGet, "/api/v1/clusters", func(c *gin.Context, in *params.InternalQuery) (api.List[service.ClusterSummary], error) {
			items := svc.ClusterSummaries(in.Internal)
			return api.NewList(items, len(items)), nil
		}, api.Doc("clusters", "Every cluster with its latest figures (internal topics left out of the topic totals unless internal=true)")),

		api.Op(http.MethodGet, "/api/v1/clusters/:cluster", func(c *gin.Context, in *clusterIn) (service.ClusterSummary, error) {
			return svc.ClusterSummary(in.Cluster, in.Internal)
		}, api.Doc("clusters", "One cluster's overview (internal topics left out of the topic totals unless internal=true)")),

		api.Op(http.MethodGet, "/api/v1/clusters/:cluster/brokers", func(c *gin.Context, in *params.ClusterPath) (api.List[service.BrokerRow], error) {
			rows, err := svc.Brokers(in.Cluster)
			return api.NewList(rows, len(rows)), err
		}, api.Doc("brokers", "Brokers from the latest snapshot")),
	)
}

type clusterIn struct {
	params.ClusterPath
	params.InternalQuery
}
