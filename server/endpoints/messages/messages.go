// Package messages serves reading a topic's records and producing a test record.
package messages

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
		api.Op(http.MethodGet, "/api/v1/clusters/:cluster/topics/:topic/messages", func(c *gin.Context, in *browseIn) (api.List[service.MessageView], error) {
			q := service.BrowseQuery{Partition: in.Partition, Mode: in.Mode, Offset: in.Offset, Timestamp: in.Timestamp, Tail: in.Tail}
			if in.Limit != nil {
				if *in.Limit < 1 {
					return api.List[service.MessageView]{}, api.BadRequest("limit must be at least 1", "param", "limit")
				}
				q.Limit = int(*in.Limit)
			}
			msgs, err := svc.BrowseMessages(c.Request.Context(), api.CallerOf(c), in.Cluster, in.Topic, q)
			return api.NewList(msgs, len(msgs)), err
		}, api.Doc("messages", "Read messages (bounded; text, JSON or hex, never HTML)"),
			api.Errors(http.StatusBadGateway, http.StatusGatewayTimeout)),

		api.Op(http.MethodPost, "/api/v1/clusters/:cluster/topics/:topic/messages", func(c *gin.Context, in *ProduceRequest) (service.ProduceResult, error) {
			return svc.ProduceMessage(c.Request.Context(), api.CallerOf(c), in.Cluster, in.Topic, in.ProduceRequest)
		}, api.Doc("messages", "Produce a test message"),
			api.Needs(service.RoleOperator, "topic.produce"), api.Status(http.StatusCreated),
			api.Errors(http.StatusConflict, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout)),

		searchEndpoint(svc),
		exportEndpoint(svc),
		api.Op(http.MethodPost, "/api/v1/clusters/:cluster/topics/:topic/messages/redrive", func(c *gin.Context, in *RedriveRequest) (service.RedriveResult, error) {
			return svc.Redrive(c.Request.Context(), api.CallerOf(c), in.Cluster, in.Topic, in.RedriveRequest)
		}, api.Doc("messages", "Copy the records a search selects to another topic, headers kept; dryRun counts them and their target partitions"),
			api.Needs(service.RoleAdmin, "topic.redrive"), api.Errors(http.StatusConflict, http.StatusTooManyRequests, http.StatusBadGateway)),
	)
	declareMasking(r, svc)
}

// browseIn selects the records to read. Mode is checked by the service, not by an enum: a wrong
// mode is refused with the invalid_query code the message browser translates, like the other
// contradictory selections.
type browseIn struct {
	params.TopicPath
	Partition *int32 `query:"partition" json:"-" description:"Read one partition; every partition when absent"`
	Mode      string `query:"mode" json:"-" pattern:"^(offset|timestamp|tail)$" description:"The selection the caller chose (offset, timestamp or tail); its parameter must then be given"`
	Offset    *int64 `query:"offset" json:"-" minimum:"0" description:"Start at this offset (needs partition)"`
	Timestamp *int64 `query:"timestamp" json:"-" minimum:"0" description:"Start at the first record at or after this time, in milliseconds since the epoch"`
	Tail      *int64 `query:"tail" json:"-" minimum:"1" maximum:"500" description:"Read the last this many records"`
	Limit     *int32 `query:"limit" json:"-" minimum:"1" maximum:"500" description:"Records to read at most (default 50)"`
}

// ProduceRequest is the input of producing a test record: the body holds the record.
type ProduceRequest struct {
	params.TopicPath
	service.ProduceRequest
}
