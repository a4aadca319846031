package server

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/osprey-kafka/osprey/server/service"
)

// registerRuntime adds the runtime-cluster API: clusters the console stands up with its own brokers.
// Reading is open; standing clusters up, tearing them down and stopping brokers need the admin role.
func (s *Server) registerRuntime(api *gin.RouterGroup) {
	r := api.Group("/runtime/clusters")
	r.GET("", s.listRuntime)
	r.POST("", s.require(service.RoleAdmin, "runtime.create"), s.createRuntime)
	r.GET("/:name", s.getRuntime)
	r.DELETE("/:name", s.require(service.RoleAdmin, "runtime.delete"), s.deleteRuntime)
	r.POST("/:name/brokers/:id/:action", s.require(service.RoleAdmin, "runtime.broker"), s.runtimeBrokerAction)
}

func (s *Server) listRuntime(c *gin.Context) {
	items := s.svc.RuntimeClusters()
	c.JSON(http.StatusOK, newList(items, len(items)))
}

func (s *Server) getRuntime(c *gin.Context) {
	v, err := s.svc.RuntimeCluster(c.Param("name"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

func (s *Server) createRuntime(c *gin.Context) {
	var req service.RuntimeRequest
	if !bindJSON(c, &req) {
		return
	}
	v, err := s.svc.CreateRuntimeCluster(c.Request.Context(), callerOf(c), req)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, v)
}

func (s *Server) deleteRuntime(c *gin.Context) {
	if err := s.svc.DeleteRuntimeCluster(c.Request.Context(), callerOf(c), c.Param("name")); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *Server) runtimeBrokerAction(c *gin.Context) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 32)
	if err != nil {
		writeError(c, http.StatusBadRequest, "bad_request", "broker id must be a number")
		return
	}
	v, err := s.svc.BrokerAction(c.Request.Context(), callerOf(c), c.Param("name"), int32(id), c.Param("action"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, v)
}
