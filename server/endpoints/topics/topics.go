// Package topics serves the topic list, one topic, and the topic changes: create, delete, configs
// and added partitions.
package topics

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/osprey-kafka/osprey/server/api"
	"github.com/osprey-kafka/osprey/server/endpoints/params"
	"github.com/osprey-kafka/osprey/server/service"
)

// Declare adds the area's endpoints.
func Declare(r *api.Registry, svc *service.Service) {
	configs := func(c *gin.Context, in params.TopicPath) (api.List[service.TopicConfig], error) {
		cfgs, err := svc.TopicConfigs(c.Request.Context(), in.Cluster, in.Topic)
		return api.NewList(cfgs, len(cfgs)), err
	}
	r.Add(
		api.Op(http.MethodGet, "/api/v1/clusters/:cluster/topics", func(c *gin.Context, in *listIn) (api.List[service.TopicRow], error) {
			q, err := in.Query()
			if err != nil {
				return api.List[service.TopicRow]{}, err
			}
			q.Internal = in.Internal
			rows, total, err := svc.Topics(in.Cluster, q)
			return api.NewList(rows, total), err
		}, api.Doc("topics", "Topics with skew and under-replicated columns (search, sort, pagination)")),

		api.Op(http.MethodPost, "/api/v1/clusters/:cluster/topics", func(c *gin.Context, in *CreateTopicRequest) (service.TopicDetail, error) {
			if err := svc.CreateTopic(c.Request.Context(), api.CallerOf(c), in.Cluster, in.CreateTopicRequest); err != nil {
				return service.TopicDetail{}, err
			}
			return svc.CreatedTopic(in.Cluster, in.CreateTopicRequest), nil
		}, api.Doc("topics", "Create a topic (name, partitions, replication factor, configs)"),
			api.Needs(service.RoleOperator, "topic.create"), api.Status(http.StatusCreated), api.Errors(http.StatusConflict, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout)),

		api.Op(http.MethodGet, "/api/v1/clusters/:cluster/topics/:topic", func(c *gin.Context, in *params.TopicPath) (service.TopicDetail, error) {
			return svc.Topic(in.Cluster, in.Topic)
		}, api.Doc("topics", "A topic: partitions (leader, replicas, ISR, offsets, size), configs, skew"), api.Errors(http.StatusServiceUnavailable)),

		api.Op(http.MethodDelete, "/api/v1/clusters/:cluster/topics/:topic", func(c *gin.Context, in *params.TopicPath) (api.NoContent, error) {
			return api.NoContent{}, svc.DeleteTopic(c.Request.Context(), api.CallerOf(c), in.Cluster, in.Topic)
		}, api.Doc("topics", "Delete a topic (internal topics refused)"),
			api.Needs(service.RoleAdmin, "topic.delete"), api.Errors(http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout)),

		api.Op(http.MethodGet, "/api/v1/clusters/:cluster/topics/:topic/configs", func(c *gin.Context, in *params.TopicPath) (api.List[service.TopicConfig], error) {
			return configs(c, *in)
		}, api.Doc("topics", "A topic's configs"), api.Errors(http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout)),

		api.Op(http.MethodPatch, "/api/v1/clusters/:cluster/topics/:topic/configs", func(c *gin.Context, in *AlterConfigsRequest) (api.List[service.TopicConfig], error) {
			if err := svc.AlterTopicConfigs(c.Request.Context(), api.CallerOf(c), in.Cluster, in.Topic, in.AlterConfigsRequest); err != nil {
				return api.List[service.TopicConfig]{}, err
			}
			return configs(c, in.TopicPath)
		}, api.Doc("topics", "Set or reset topic configs"),
			api.Needs(service.RoleOperator, "topic.configs"), api.Errors(http.StatusConflict, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout)),

		api.Op(http.MethodPost, "/api/v1/clusters/:cluster/topics/:topic/partitions", func(c *gin.Context, in *AddPartitionsRequest) (service.TopicDetail, error) {
			if err := svc.AddPartitions(c.Request.Context(), api.CallerOf(c), in.Cluster, in.Topic, in.Partitions); err != nil {
				return service.TopicDetail{}, err
			}
			return svc.Topic(in.Cluster, in.Topic)
		}, api.Doc("topics", "Add partitions"),
			api.Needs(service.RoleOperator, "topic.partitions"), api.Errors(http.StatusConflict, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout)),
	)
}

type listIn struct {
	params.ClusterPath
	params.InternalQuery
	params.Listing
}

// CreateTopicRequest is the input of a topic's creation: the body names the topic, its partitions,
// replication factor and configs.
type CreateTopicRequest struct {
	params.ClusterPath
	service.CreateTopicRequest
}

// AlterConfigsRequest is the input of a configs change: the body lists configs to set and to reset.
type AlterConfigsRequest struct {
	params.TopicPath
	service.AlterConfigsRequest
}

// AddPartitionsRequest is the input of adding partitions.
type AddPartitionsRequest struct {
	params.TopicPath
	Partitions int32 `json:"partitions" required:"true" description:"The topic's new partition count (more than it has now)"`
}
