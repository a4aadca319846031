package server

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/osprey-kafka/osprey/server/service"
)

// registerOps adds the partition operations: reassignments (plan, execute, watch, cancel) and
// preferred leader elections. Every change needs the operator role and is audited by the service.
func (s *Server) registerOps(api *gin.RouterGroup) {
	api.GET("/reassignments", s.listAllReassignments)
	api.GET("/clusters/:cluster/reassignments", s.listReassignments)
	api.POST("/clusters/:cluster/reassignments/plan", s.require(service.RoleOperator, "reassignment.plan"), s.planReassignment)
	api.POST("/clusters/:cluster/reassignments", s.require(service.RoleOperator, "reassignment.execute"), s.executeReassignment)
	api.DELETE("/clusters/:cluster/reassignments", s.require(service.RoleOperator, "reassignment.cancel"), s.cancelReassignment)
	api.POST("/clusters/:cluster/elections", s.require(service.RoleOperator, "election.preferred"), s.electLeaders)
}

func (s *Server) listReassignments(c *gin.Context) {
	v, err := s.svc.Reassignments(c.Request.Context(), c.Param("cluster"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

// clusterReassignments is one cluster's part of GET /reassignments.
type clusterReassignments struct {
	Cluster string `json:"cluster"`
	service.ReassignmentsView
	// Error says why this cluster's state is missing (not polled yet, unreachable); the others still show.
	Error string `json:"error,omitempty"`
}

// listAllReassignments shows every cluster's reassignments on one page. Clusters are asked in parallel,
// each within a few seconds, so one unreachable cluster delays the page by that bound at most.
func (s *Server) listAllReassignments(c *gin.Context) {
	clusters := s.svc.Clusters()
	out := make([]clusterReassignments, len(clusters))
	var wg sync.WaitGroup
	for i, cl := range clusters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(c.Request.Context(), perClusterTimeout)
			defer cancel()
			v, err := s.svc.Reassignments(ctx, cl.Name)
			row := clusterReassignments{Cluster: cl.Name, ReassignmentsView: v}
			if err != nil {
				row.Error = err.Error()
				s.opts.Logger.Debug("reassignments of a cluster", "cluster", cl.Name, "err", err)
			}
			if row.Items == nil {
				row.Items = []service.OngoingReassignment{}
			}
			if row.History == nil {
				row.History = []service.ReassignmentRecord{}
			}
			out[i] = row
		}()
	}
	wg.Wait()
	c.JSON(http.StatusOK, newList(out, len(out)))
}

// perClusterTimeout bounds each cluster's part of the cross-cluster reassignment page.
const perClusterTimeout = 5 * time.Second

type planRequest struct {
	Topics            []string `json:"topics"`
	Brokers           []int32  `json:"brokers"`
	ReplicationFactor int      `json:"replicationFactor"`
}

func (s *Server) planReassignment(c *gin.Context) {
	var req planRequest
	if !bindJSON(c, &req) {
		return
	}
	plan, err := s.svc.PlanReassignment(c.Request.Context(), c.Param("cluster"), req.Topics, req.Brokers, req.ReplicationFactor)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, plan)
}

// executeRequest starts a reassignment from a plan (as returned by /plan) or from explicit partitions.
type executeRequest struct {
	Plan                *service.ReassignmentPlan `json:"plan"`
	Partitions          []service.PartitionMove   `json:"partitions"`
	ThrottleBytesPerSec int64                     `json:"throttleBytesPerSec"`
}

func (s *Server) executeReassignment(c *gin.Context) {
	var req executeRequest
	if !bindJSON(c, &req) {
		return
	}
	cluster := c.Param("cluster")
	moves := req.Partitions
	switch {
	case req.Plan != nil && len(req.Partitions) > 0:
		writeError(c, http.StatusBadRequest, "bad_request", "send either plan or partitions, not both")
		return
	case req.Plan != nil:
		if req.Plan.Cluster != "" && req.Plan.Cluster != cluster {
			writeError(c, http.StatusBadRequest, "bad_request", "the plan is for cluster "+quote(req.Plan.Cluster)+", not "+quote(cluster))
			return
		}
		moves = service.MovesFromPlan(*req.Plan)
		if len(moves) == 0 {
			writeError(c, http.StatusBadRequest, "nothing_to_move", "the plan changes no partition")
			return
		}
	}
	res, err := s.svc.ExecuteReassignment(c.Request.Context(), callerOf(c), cluster, moves, req.ThrottleBytesPerSec)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusAccepted, res)
}

func (s *Server) cancelReassignment(c *gin.Context) {
	res, err := s.svc.CancelReassignment(c.Request.Context(), callerOf(c), c.Param("cluster"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, res)
}

func (s *Server) electLeaders(c *gin.Context) {
	var scope service.ElectionScope
	if !bindJSON(c, &scope) {
		return
	}
	res, err := s.svc.ElectPreferred(c.Request.Context(), callerOf(c), c.Param("cluster"), scope)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, res)
}
