// Package storage serves a cluster's storage forecast: per broker log directory the used, total
// and usable bytes, the growth rate and the days until full; per topic its size and the size it
// settles at under its retention.
package storage

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
		api.Op(http.MethodGet, "/api/v1/clusters/:cluster/storage", func(c *gin.Context, in *params.ClusterPath) (service.StorageView, error) {
			// The answer is encoded once per poll (service.StorageJSON); the registry sends
			// nothing more once the body is written.
			body, err := svc.StorageJSON(in.Cluster)
			if err != nil {
				return service.StorageView{}, err
			}
			c.Data(http.StatusOK, "application/json; charset=utf-8", body)
			return service.StorageView{}, nil
		}, api.Doc("storage", "Storage forecast: each broker log directory's used, total and usable bytes, growth per day and days until full; each topic's size on disk and the size it settles at under its retention"),
			api.Errors(http.StatusNotFound, http.StatusServiceUnavailable)),
	)
}
