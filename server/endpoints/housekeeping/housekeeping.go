// Package housekeeping serves the housekeeping page: idle and unconsumed topics, stale empty
// groups and never-written partitions, and their deletion (dry run first, then confirm).
package housekeeping

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
		api.Op(http.MethodGet, "/api/v1/clusters/:cluster/housekeeping", func(c *gin.Context, in *listIn) (service.Housekeeping, error) {
			return svc.Housekeeping(c.Request.Context(), in.Cluster, service.HousekeepingQuery{IdleDays: in.IdleDays, EmptyDays: in.EmptyDays})
		}, api.Doc("housekeeping", "Idle topics (no produce for idleDays), topics no group consumes, empty groups without a commit for emptyDays, never-written partitions"),
			api.Errors(http.StatusServiceUnavailable)),

		api.Op(http.MethodPost, "/api/v1/clusters/:cluster/housekeeping/delete", func(c *gin.Context, in *CleanupIn) (service.CleanupResult, error) {
			return svc.Cleanup(c.Request.Context(), api.CallerOf(c), in.Cluster, in.CleanupRequest)
		}, api.Doc("housekeeping", "Delete topics and groups: a dry run (the default) answers the plan and a token; the same selection with dryRun false and that token deletes"),
			api.Needs(service.RoleAdmin, "housekeeping.delete"),
			api.Errors(http.StatusConflict, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout)),
	)
}

type listIn struct {
	params.ClusterPath
	IdleDays  int `query:"idleDays" json:"-" minimum:"1" maximum:"3650" description:"Days without produce that make a topic idle (default 7)"`
	EmptyDays int `query:"emptyDays" json:"-" minimum:"1" maximum:"3650" description:"Days without a commit that make an empty group stale (default 7)"`
}

// CleanupIn is the cluster and the selection to delete.
type CleanupIn struct {
	params.ClusterPath
	service.CleanupRequest
}
