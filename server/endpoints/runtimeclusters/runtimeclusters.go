// Package runtimeclusters serves the clusters the console stands up with its own brokers (the
// "runtime" area; named so that it does not shadow the standard library's runtime). Reading is open;
// standing clusters up, tearing them down and acting on brokers need the admin role.
package runtimeclusters

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/osprey-kafka/osprey/server/api"
	"github.com/osprey-kafka/osprey/server/service"
)

const tag = "runtime"

// Declare adds the area's endpoints.
func Declare(r *api.Registry, svc *service.Service) {
	r.Add(
		api.Op(http.MethodGet, "/api/v1/runtime/clusters", func(c *gin.Context, _ *struct{}) (api.List[service.RuntimeView], error) {
			items := svc.RuntimeClusters()
			return api.NewList(items, len(items)), nil
		}, api.Doc(tag, "Clusters the console stood up with its own brokers")),

		api.Op(http.MethodPost, "/api/v1/runtime/clusters", func(c *gin.Context, in *service.RuntimeRequest) (service.RuntimeView, error) {
			return svc.CreateRuntimeCluster(c.Request.Context(), api.CallerOf(c), *in)
		}, api.Doc(tag, "Stand up a cluster"), api.Needs(service.RoleAdmin, "runtime.create"),
			api.Status(http.StatusCreated), api.Errors(http.StatusConflict, http.StatusServiceUnavailable)),

		api.Op(http.MethodGet, "/api/v1/runtime/clusters/:name", func(c *gin.Context, in *NamePath) (service.RuntimeView, error) {
			return svc.RuntimeCluster(in.Name)
		}, api.Doc(tag, "One runtime cluster with its brokers' state")),

		api.Op(http.MethodDelete, "/api/v1/runtime/clusters/:name", func(c *gin.Context, in *NamePath) (api.NoContent, error) {
			return api.NoContent{}, svc.DeleteRuntimeCluster(c.Request.Context(), api.CallerOf(c), in.Name)
		}, api.Doc(tag, "Tear a runtime cluster down"), api.Needs(service.RoleAdmin, "runtime.delete")),

		api.Op(http.MethodPost, "/api/v1/runtime/clusters/:name/brokers/:id/:action", func(c *gin.Context, in *BrokerActionPath) (service.RuntimeView, error) {
			return svc.BrokerAction(c.Request.Context(), api.CallerOf(c), in.Name, in.ID, in.Action)
		}, api.Doc(tag, "Start, stop, kill or restart one broker (action: start|stop|kill|restart)"),
			api.Needs(service.RoleAdmin, "runtime.broker"), api.Errors(http.StatusConflict)),
	)
}

// NamePath is the {name} of a runtime cluster.
type NamePath struct {
	Name string `path:"name" json:"-" description:"Runtime cluster name"`
}

// BrokerActionPath names one broker of a runtime cluster and what to do with it.
type BrokerActionPath struct {
	NamePath
	ID     int32  `path:"id" json:"-" description:"Broker id"`
	Action string `path:"action" json:"-" enum:"start,stop,kill,restart" invalid:"invalid_action" description:"start, stop (gracefully), kill or restart the broker"`
}
