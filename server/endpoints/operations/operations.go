// Package operations serves the partition operations: reassignments (plan, execute, watch, cancel)
// and preferred leader elections. Every change needs the operator role; the service audits it.
package operations

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/osprey-kafka/osprey/server/api"
	"github.com/osprey-kafka/osprey/server/endpoints/params"
	"github.com/osprey-kafka/osprey/server/service"
)

const tag = "operations"

// Declare adds the area's endpoints.
func Declare(r *api.Registry, svc *service.Service) {
	r.Add(
		api.Op(http.MethodGet, "/api/v1/reassignments", func(c *gin.Context, _ *struct{}) (api.List[service.ClusterReassignments], error) {
			rows := svc.AllReassignments(c.Request.Context())
			return api.NewList(rows, len(rows)), nil
		}, api.Doc(tag, "Every cluster's reassignments: ongoing partitions with progress, and history")),

		api.Op(http.MethodGet, "/api/v1/clusters/:cluster/reassignments", func(c *gin.Context, in *params.ClusterPath) (service.ReassignmentsView, error) {
			return svc.Reassignments(c.Request.Context(), in.Cluster)
		}, api.Doc(tag, "Ongoing partition moves with progress (target replicas in ISR / total) and recorded history; marks finished ones completed"),
			api.Errors(http.StatusBadGateway, http.StatusServiceUnavailable)),

		api.Op(http.MethodPost, "/api/v1/clusters/:cluster/reassignments/plan", func(c *gin.Context, in *PlanRequest) (service.ReassignmentPlan, error) {
			return svc.PlanReassignment(c.Request.Context(), in.Cluster, in.Topics, in.Brokers, in.ReplicationFactor)
		}, api.Doc(tag, "Generate a balanced, rack-aware plan for topics over chosen brokers, optionally with a new replication factor"),
			api.Needs(service.RoleOperator, "reassignment.plan"), api.Errors(http.StatusServiceUnavailable)),

		api.Op(http.MethodPost, "/api/v1/clusters/:cluster/reassignments", func(c *gin.Context, in *ExecuteRequest) (service.ExecuteResult, error) {
			moves, err := in.moves()
			if err != nil {
				return service.ExecuteResult{}, err
			}
			return svc.ExecuteReassignment(c.Request.Context(), api.CallerOf(c), in.Cluster, moves, in.ThrottleBytesPerSec)
		}, api.Doc(tag, "Execute a plan (or explicit partitions) with an optional replication throttle"),
			api.Needs(service.RoleOperator, "reassignment.execute"), api.Status(http.StatusAccepted),
			api.Errors(http.StatusConflict, http.StatusBadGateway, http.StatusServiceUnavailable)),

		api.Op(http.MethodDelete, "/api/v1/clusters/:cluster/reassignments", func(c *gin.Context, in *params.ClusterPath) (service.CancelResult, error) {
			return svc.CancelReassignment(c.Request.Context(), api.CallerOf(c), in.Cluster)
		}, api.Doc(tag, "Cancel every ongoing partition move"),
			api.Needs(service.RoleOperator, "reassignment.cancel"),
			api.Errors(http.StatusConflict, http.StatusBadGateway, http.StatusServiceUnavailable)),

		api.Op(http.MethodPost, "/api/v1/clusters/:cluster/elections", func(c *gin.Context, in *ElectionRequest) (service.ElectionResult, error) {
			return svc.ElectPreferred(c.Request.Context(), api.CallerOf(c), in.Cluster, in.ElectionScope)
		}, api.Doc(tag, "Preferred leader election for all partitions ({}), a topic, or listed partitions"),
			api.Needs(service.RoleOperator, "election.preferred"), api.Errors(http.StatusBadGateway, http.StatusServiceUnavailable)),
	)
}

// PlanRequest asks for a reassignment plan.
type PlanRequest struct {
	params.ClusterPath
	Topics  []string `json:"topics" description:"Topics to lay out again"`
	Brokers []int32  `json:"brokers" description:"Brokers the replicas may go to"`
	// ReplicationFactor 0 keeps each partition's current factor.
	ReplicationFactor int `json:"replicationFactor" description:"New replication factor; 0 or absent keeps each partition's current one"`
}

// ExecuteRequest starts a reassignment from a plan (as returned by /plan) or from explicit partitions.
type ExecuteRequest struct {
	params.ClusterPath
	Plan                *service.ReassignmentPlan `json:"plan" description:"A plan as returned by the plan endpoint; give this or partitions"`
	Partitions          []service.PartitionMove   `json:"partitions" description:"Explicit target replicas; give this or plan"`
	ThrottleBytesPerSec int64                     `json:"throttleBytesPerSec" description:"Replication throttle in bytes per second while the move runs; 0 or absent for none"`
}

// moves are the partition moves the request asks for.
func (in *ExecuteRequest) moves() ([]service.PartitionMove, error) {
	switch {
	case in.Plan != nil && len(in.Partitions) > 0:
		return nil, api.BadRequest("send either plan or partitions, not both")
	case in.Plan != nil:
		if in.Plan.Cluster != "" && in.Plan.Cluster != in.Cluster {
			return nil, api.BadRequest("the plan is for cluster " + quote(in.Plan.Cluster) + ", not " + quote(in.Cluster))
		}
		moves := service.MovesFromPlan(*in.Plan)
		if len(moves) == 0 {
			return nil, &service.UserError{Status: http.StatusBadRequest, Code: "nothing_to_move", Message: "the plan changes no partition"}
		}
		return moves, nil
	}
	return in.Partitions, nil
}

// ElectionRequest says which partitions to elect preferred leaders for: listed partitions, else one
// topic, else ({}) all of them.
type ElectionRequest struct {
	params.ClusterPath
	service.ElectionScope
}

// quote bounds a user-supplied name before echoing it in a message.
func quote(s string) string {
	if len(s) > 100 {
		s = s[:100] + "…"
	}
	return strconv.Quote(s)
}
