// Package groups serves the consumer group list, one group, offset resets and group deletion.
package groups

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
		api.Op(http.MethodGet, "/api/v1/clusters/:cluster/groups", func(c *gin.Context, in *listIn) (api.List[service.GroupRow], error) {
			q, err := in.Query()
			if err != nil {
				return api.List[service.GroupRow]{}, err
			}
			rows, total, err := svc.Groups(in.Cluster, q)
			return api.NewList(rows, total), err
		}, api.Doc("groups", "Consumer groups with lag"), api.Errors(http.StatusServiceUnavailable)),

		api.Op(http.MethodGet, "/api/v1/clusters/:cluster/groups/:group", func(c *gin.Context, in *params.GroupPath) (service.GroupDetail, error) {
			return svc.Group(in.Cluster, in.Group)
		}, api.Doc("groups", "A group: members, per-partition committed/end/lag/lag seconds, status"), api.Errors(http.StatusServiceUnavailable)),

		api.Op(http.MethodDelete, "/api/v1/clusters/:cluster/groups/:group", func(c *gin.Context, in *params.GroupPath) (api.NoContent, error) {
			return api.NoContent{}, svc.DeleteGroup(c.Request.Context(), api.CallerOf(c), in.Cluster, in.Group)
		}, api.Doc("groups", "Delete a group"),
			api.Needs(service.RoleAdmin, "group.delete"), api.Errors(http.StatusConflict, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout)),

		api.Op(http.MethodPost, "/api/v1/clusters/:cluster/groups/:group/offsets", func(c *gin.Context, in *OffsetResetRequest) (OffsetResetResult, error) {
			changes, err := svc.ResetOffsets(c.Request.Context(), api.CallerOf(c), in.Cluster, in.Group, in.ResetOffsetsRequest)
			if err != nil {
				return OffsetResetResult{}, err
			}
			if changes == nil {
				changes = []service.OffsetChange{}
			}
			return OffsetResetResult{DryRun: in.DryRun, Items: changes, Total: len(changes)}, nil
		}, api.Doc("groups", "Reset offsets (earliest, latest, offset, timestamp, shift-by); refused while the group is active"),
			api.Needs(service.RoleOperator, "group.offsets.reset"), api.Errors(http.StatusConflict, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout)),

		api.Op(http.MethodPost, "/api/v1/clusters/:cluster/groups/:group/share-offsets", func(c *gin.Context, in *OffsetResetRequest) (OffsetResetResult, error) {
			changes, err := svc.ResetShareOffsets(c.Request.Context(), api.CallerOf(c), in.Cluster, in.Group, in.ResetOffsetsRequest)
			if err != nil {
				return OffsetResetResult{}, err
			}
			if changes == nil {
				changes = []service.OffsetChange{}
			}
			return OffsetResetResult{DryRun: in.DryRun, Items: changes, Total: len(changes)}, nil
		}, api.Doc("groups", "Reset a share group's share-partition start offsets (AlterShareGroupOffsets; same strategies as offsets); refused while the group has members, as Kafka requires"),
			api.Needs(service.RoleAdmin, "group.share_offsets.reset"), api.Errors(http.StatusConflict, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout)),

		api.Op(http.MethodDelete, "/api/v1/clusters/:cluster/groups/:group/share-offsets", func(c *gin.Context, in *ShareOffsetsDelete) (ShareOffsetsDeleted, error) {
			var named []string
			if in.Topic != "" {
				named = []string{in.Topic}
			}
			topics, err := svc.DeleteShareOffsets(c.Request.Context(), api.CallerOf(c), in.Cluster, in.Group, named)
			return ShareOffsetsDeleted{Topics: topics}, err
		}, api.Doc("groups", "Delete a share group's share-partitions of a topic, of all its topics when none is named (DeleteShareGroupOffsets); refused while the group has members"),
			api.Needs(service.RoleAdmin, "group.share_offsets.delete"), api.Errors(http.StatusConflict, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout)),
	)
}

// ShareOffsetsDelete names the share group and the topic whose share-partitions go.
type ShareOffsetsDelete struct {
	params.GroupPath
	Topic string `query:"topic" json:"-" description:"The topic whose share-partitions are deleted (default: every topic of the group)"`
}

// ShareOffsetsDeleted lists the topics whose share-partitions were deleted.
type ShareOffsetsDeleted struct {
	Topics []string `json:"topics"`
}

type listIn struct {
	params.ClusterPath
	params.Listing
}

// OffsetResetRequest is the input of an offset reset: the body says which offsets move where.
type OffsetResetRequest struct {
	params.GroupPath
	service.ResetOffsetsRequest
}

// OffsetResetResult is the answer to an offset reset: each partition's offset before and after,
// committed or (DryRun) only computed.
type OffsetResetResult struct {
	DryRun bool                   `json:"dryRun"`
	Items  []service.OffsetChange `json:"items"`
	Total  int                    `json:"total"`
}
