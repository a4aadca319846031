// Package users serves the user accounts, API tokens and the audit log: all admin business except
// tokens, which any operator may issue for itself.
package users

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/osprey-kafka/osprey/server/api"
	"github.com/osprey-kafka/osprey/server/service"
)

// Declare adds the area's endpoints.
func Declare(r *api.Registry, svc *service.Service) {
	r.Add(
		api.Op(http.MethodGet, "/api/v1/users", func(c *gin.Context, _ *struct{}) (api.List[service.UserView], error) {
			us, err := svc.Users(c.Request.Context())
			return api.NewList(us, len(us)), err
		}, api.Doc("auth", "User accounts"), api.Needs(service.RoleAdmin, "user.list")),

		api.Op(http.MethodPost, "/api/v1/users", func(c *gin.Context, in *NewUser) (service.UserView, error) {
			return svc.AddUser(c.Request.Context(), api.CallerOf(c), in.Username, in.Password, in.Role)
		}, api.Doc("auth", "Create a user (viewer, operator or admin)"), api.Needs(service.RoleAdmin, "user.create"),
			api.Status(http.StatusCreated), api.Errors(http.StatusConflict)),

		api.Op(http.MethodDelete, "/api/v1/users/:id/sessions", func(c *gin.Context, in *userID) (service.SessionsEnded, error) {
			n, err := svc.EndUserSessions(c.Request.Context(), api.CallerOf(c), in.ID)
			return service.SessionsEnded{Ended: n}, err
		}, api.Doc("auth", "Sign a user out everywhere: end every session of the user (its API tokens stay valid)"),
			api.Needs(service.RoleAdmin, "user.sessions.delete"), api.Errors(http.StatusNotFound)),

		api.Op(http.MethodPost, "/api/v1/tokens", func(c *gin.Context, in *NewToken) (service.NewAPIToken, error) {
			return svc.IssueAPIToken(c.Request.Context(), api.CallerOf(c), in.Name, in.Role, in.TTL)
		}, api.Doc("auth", "Issue an API token (never above the caller's role)"), api.Needs(service.RoleOperator, "token.create"),
			api.Status(http.StatusCreated)),

		api.Op(http.MethodGet, "/api/v1/role-grants", func(c *gin.Context, _ *struct{}) (api.List[service.RoleGrant], error) {
			gs, err := svc.RoleGrants(c.Request.Context())
			return api.NewList(gs, len(gs)), err
		}, api.Doc("auth", "Role grants: roles given per cluster (or * for all) to users, directory groups and API tokens"),
			api.Needs(service.RoleAdmin, "grant.list")),

		api.Op(http.MethodPost, "/api/v1/role-grants", func(c *gin.Context, in *NewGrant) (service.RoleGrant, error) {
			return svc.AddRoleGrant(c.Request.Context(), api.CallerOf(c), service.RoleGrant{SubjectKind: in.SubjectKind,
				Subject: in.Subject, Cluster: in.Cluster, Role: in.Role})
		}, api.Doc("auth", "Grant a role on a cluster (or * for all); it holds from the next request on"),
			api.Needs(service.RoleAdmin, "grant.create"), api.Status(http.StatusCreated), api.Errors(http.StatusNotFound, http.StatusConflict)),

		api.Op(http.MethodDelete, "/api/v1/role-grants/:id", func(c *gin.Context, in *grantID) (api.NoContent, error) {
			return api.NoContent{}, svc.DeleteRoleGrant(c.Request.Context(), api.CallerOf(c), in.ID)
		}, api.Doc("auth", "Remove a role grant"), api.Needs(service.RoleAdmin, "grant.delete"), api.Errors(http.StatusNotFound)),
	)
	declareAudit(r, svc)
}

// NewUser is a user account to create.
type NewUser struct {
	Username string `json:"username" required:"true" minLength:"2" maxLength:"64" description:"2 to 64 characters without spaces or ':'"`
	Password string `json:"password" required:"true" format:"password" minLength:"8" maxLength:"72"`
	Role     string `json:"role" required:"true" enum:"viewer,operator,admin"`
}

// NewToken is an API token to issue.
type NewToken struct {
	Name string `json:"name" required:"true" minLength:"1" maxLength:"100"`
	Role string `json:"role,omitempty" enum:"viewer,operator,admin" description:"At most the caller's role; the caller's role when empty"`
	TTL  string `json:"ttl,omitempty" description:"A duration such as 720h; the token does not expire when empty"`
}

// NewGrant is a role to give a user, a directory group or an API token on a cluster.
type NewGrant struct {
	SubjectKind string `json:"subjectKind" required:"true" enum:"user,group,token"`
	Subject     string `json:"subject" required:"true" minLength:"1" maxLength:"255" description:"A username, a directory group (DN or cn) or an API token's name"`
	Cluster     string `json:"cluster" required:"true" minLength:"1" description:"A cluster's name, or * for every cluster"`
	Role        string `json:"role" required:"true" enum:"viewer,operator,admin"`
}

type grantID struct {
	ID int64 `path:"id" json:"-" minimum:"1" description:"Grant id"`
}

type userID struct {
	ID int64 `path:"id" json:"-" minimum:"1" description:"The user's id"`
}
