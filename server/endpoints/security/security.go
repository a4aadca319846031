// Package security serves a cluster's access control: its ACLs (list, create, delete, and "may P do O
// on R?" decided from them), its SCRAM users and its client quotas. Every change needs the admin role
// and is audited; passwords are never stored, logged or returned (a generated one is returned once).
package security

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/osprey-kafka/osprey/server/api"
	"github.com/osprey-kafka/osprey/server/endpoints/params"
	"github.com/osprey-kafka/osprey/server/service"
)

var kafkaStatuses = []int{http.StatusNotFound, http.StatusConflict, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout}

// Declare adds the area's endpoints.
func Declare(r *api.Registry, svc *service.Service) {
	const acls = "/api/v1/clusters/:cluster/acls"
	r.Add(
		api.Op(http.MethodGet, acls, func(c *gin.Context, in *ACLListQuery) (service.ACLList, error) {
			return svc.ACLs(c.Request.Context(), in.Cluster, service.ACLFilter{Principal: in.Principal, ResourceType: in.ResourceType, ResourceName: in.ResourceName, PatternType: in.PatternType})
		}, api.Doc("security", "The cluster's ACL bindings (DescribeAcls), filtered by principal, resource type, resource name and pattern type; securityDisabled when the cluster has no authorizer"),
			api.Errors(kafkaStatuses...)),

		api.Op(http.MethodPost, acls, func(c *gin.Context, in *CreateACLsInput) (service.CreateACLsResult, error) {
			return svc.CreateACLs(c.Request.Context(), api.CallerOf(c), in.Cluster, in.CreateACLsRequest)
		}, api.Doc("security", "Create up to 50 ACL bindings (CreateAcls); every binding is checked first and nothing is created when one is refused"),
			api.Needs(service.RoleAdmin, "acl.create"), api.Status(http.StatusCreated), api.Errors(kafkaStatuses...)),

		api.Op(http.MethodPost, acls+"/delete", func(c *gin.Context, in *DeleteACLInput) (service.DeleteACLResult, error) {
			return svc.DeleteACL(c.Request.Context(), api.CallerOf(c), in.Cluster, in.ACLBinding)
		}, api.Doc("security", "Delete exactly one ACL binding (DeleteAcls with a filter naming every field); 404 acl_not_found when the cluster has no such binding"),
			api.Needs(service.RoleAdmin, "acl.delete"), api.Errors(kafkaStatuses...)),

		api.Op(http.MethodGet, acls+"/check", func(c *gin.Context, in *ACLCheckQuery) (service.ACLDecision, error) {
			return svc.CheckACL(c.Request.Context(), in.Cluster, service.ACLCheck{Principal: in.Principal, Host: in.Host, Operation: in.Operation, ResourceType: in.ResourceType, ResourceName: in.ResourceName})
		}, api.Doc("security", "May the principal do the operation on the resource (from the host)? Decided from the cluster's ACLs with Kafka's authorizer rules (super.users, DENY wins, implied operations, patterns, allow.everyone.if.no.acl.found from the brokers' config), naming the ACL or rule that decided"),
			api.Errors(kafkaStatuses...)),

		api.Op(http.MethodGet, "/api/v1/clusters/:cluster/scram-users", func(c *gin.Context, in *params.ClusterPath) (service.ScramUsers, error) {
			return svc.ScramUsers(c.Request.Context(), in.Cluster)
		}, api.Doc("security", "SCRAM users (DescribeUserScramCredentials): names, mechanisms and iteration counts"), api.Errors(kafkaStatuses...)),

		api.Op(http.MethodPut, "/api/v1/clusters/:cluster/scram-users/:user", func(c *gin.Context, in *ScramUpsertInput) (service.ScramUpsertResult, error) {
			return svc.UpsertScramUser(c.Request.Context(), api.CallerOf(c), in.Cluster, in.User, in.ScramUpsertRequest)
		}, api.Doc("security", "Create a SCRAM user's credential or rotate its password (AlterUserScramCredentials; salt and salted password made by the console). A password the console generates is returned once; none is stored or logged"),
			api.Needs(service.RoleAdmin, "scram.upsert"), api.Errors(kafkaStatuses...)),

		api.Op(http.MethodDelete, "/api/v1/clusters/:cluster/scram-users/:user", func(c *gin.Context, in *ScramDeleteInput) (api.NoContent, error) {
			return api.NoContent{}, svc.DeleteScramUser(c.Request.Context(), api.CallerOf(c), in.Cluster, in.User, in.Mechanism)
		}, api.Doc("security", "Delete a SCRAM user's credential for one mechanism, or for all of them when mechanism is absent"),
			api.Needs(service.RoleAdmin, "scram.delete"), api.Errors(kafkaStatuses...)),

		api.Op(http.MethodGet, "/api/v1/clusters/:cluster/quotas", func(c *gin.Context, in *params.ClusterPath) (service.Quotas, error) {
			return svc.Quotas(c.Request.Context(), in.Cluster)
		}, api.Doc("security", "Client quotas (DescribeClientQuotas) per user, client id, user and client id, and the defaults"), api.Errors(kafkaStatuses...)),

		api.Op(http.MethodPut, "/api/v1/clusters/:cluster/quotas", func(c *gin.Context, in *AlterQuotasInput) (api.NoContent, error) {
			return api.NoContent{}, svc.AlterQuotas(c.Request.Context(), api.CallerOf(c), in.Cluster, in.AlterQuotasRequest)
		}, api.Doc("security", "Set or remove an entity's producer_byte_rate, consumer_byte_rate, request_percentage, controller_mutation_rate (AlterClientQuotas)"),
			api.Needs(service.RoleAdmin, "quota.alter"), api.Errors(kafkaStatuses...)),
	)
}

// ACLListQuery filters the ACL listing.
type ACLListQuery struct {
	params.ClusterPath
	Principal    string `query:"principal" json:"-" description:"Only bindings for this principal (User:alice)"`
	ResourceType string `query:"resourceType" json:"-" enum:"TOPIC,GROUP,CLUSTER,TRANSACTIONAL_ID,DELEGATION_TOKEN,USER" invalid:"acl_resource_type_invalid"`
	ResourceName string `query:"resourceName" json:"-" description:"Only bindings whose pattern is this name"`
	PatternType  string `query:"patternType" json:"-" enum:"LITERAL,PREFIXED" invalid:"acl_pattern_invalid"`
}

// ACLCheckQuery is the question "may principal do operation on resource from host?".
type ACLCheckQuery struct {
	params.ClusterPath
	Principal    string `query:"principal" json:"-" required:"true" description:"Type:name, e.g. User:alice"`
	Host         string `query:"host" json:"-" description:"The client's address; absent for no particular host (only ACLs for host * match)"`
	Operation    string `query:"operation" json:"-" required:"true" description:"READ, WRITE, DESCRIBE… (Kafka's names)"`
	ResourceType string `query:"resourceType" json:"-" required:"true" description:"TOPIC, GROUP, CLUSTER, TRANSACTIONAL_ID, DELEGATION_TOKEN or USER"`
	ResourceName string `query:"resourceName" json:"-" required:"true" description:"The resource's name (kafka-cluster for CLUSTER)"`
}

// CreateACLsInput is the cluster and the bindings to create.
type CreateACLsInput struct {
	params.ClusterPath
	service.CreateACLsRequest
}

// DeleteACLInput is the cluster and the exact binding to delete.
type DeleteACLInput struct {
	params.ClusterPath
	service.ACLBinding
}

// UserPath is the {user} path parameter of a SCRAM user.
type UserPath struct {
	params.ClusterPath
	User string `path:"user" json:"-" description:"The SCRAM user's name"`
}

// ScramUpsertInput is the user and its new credential.
type ScramUpsertInput struct {
	UserPath
	service.ScramUpsertRequest
}

// ScramDeleteInput is the user and, optionally, the one mechanism to delete.
type ScramDeleteInput struct {
	UserPath
	Mechanism string `query:"mechanism" json:"-" enum:"SCRAM-SHA-256,SCRAM-SHA-512" invalid:"scram_mechanism_invalid" description:"Delete only this mechanism's credential"`
}

// AlterQuotasInput is the cluster and the quota change.
type AlterQuotasInput struct {
	params.ClusterPath
	service.AlterQuotasRequest
}
