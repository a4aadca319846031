package messages

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/osprey-kafka/osprey/server/api"
	"github.com/osprey-kafka/osprey/server/service"
)

// declareMasking adds the masking rules' endpoints: admin business, every change audited.
func declareMasking(r *api.Registry, svc *service.Service) {
	r.Add(
		api.Op(http.MethodGet, "/api/v1/masking/rules", func(c *gin.Context, _ *struct{}) (api.List[service.MaskingRule], error) {
			rules, err := svc.MaskingRules(c.Request.Context())
			return api.NewList(rules, len(rules)), err
		}, api.Doc("messages", "Masking rules applied to records before they leave the server"), api.Needs(service.RoleAdmin, "masking.list")),

		api.Op(http.MethodPost, "/api/v1/masking/rules", func(c *gin.Context, in *service.MaskingRuleInput) (service.MaskingRule, error) {
			return svc.SaveMaskingRule(c.Request.Context(), api.CallerOf(c), 0, *in)
		}, api.Doc("messages", "Create a masking rule"), api.Needs(service.RoleAdmin, "masking.create"),
			api.Status(http.StatusCreated), api.Errors(http.StatusConflict)),

		api.Op(http.MethodPut, "/api/v1/masking/rules/:id", func(c *gin.Context, in *MaskingRuleUpdate) (service.MaskingRule, error) {
			return svc.SaveMaskingRule(c.Request.Context(), api.CallerOf(c), in.ID, in.MaskingRuleInput)
		}, api.Doc("messages", "Replace a masking rule"), api.Needs(service.RoleAdmin, "masking.update"), api.Errors(http.StatusConflict)),

		api.Op(http.MethodDelete, "/api/v1/masking/rules/:id", func(c *gin.Context, in *MaskingRuleID) (api.NoContent, error) {
			return api.NoContent{}, svc.DeleteMaskingRule(c.Request.Context(), api.CallerOf(c), in.ID)
		}, api.Doc("messages", "Delete a masking rule"), api.Needs(service.RoleAdmin, "masking.delete")),
	)
}

// MaskingRuleID names a rule in the path.
type MaskingRuleID struct {
	ID int64 `path:"id" json:"-" minimum:"1"`
}

// MaskingRuleUpdate is a rule's new content.
type MaskingRuleUpdate struct {
	MaskingRuleID
	service.MaskingRuleInput
}
