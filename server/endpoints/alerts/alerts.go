// Package alerts serves the alerting API: rules, notification channels (with a test send), the
// alert history and the alerts active now. Everything is readable by anyone who can read the
// console (channels with every secret masked); every change needs the operator role and is
// audited. A console running without the alert evaluator answers 503 alerts_disabled.
package alerts

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/osprey-kafka/osprey/server/api"
	"github.com/osprey-kafka/osprey/server/endpoints/params"
	"github.com/osprey-kafka/osprey/server/service"
)

// Declare adds the area's endpoints.
func Declare(r *api.Registry, svc *service.Alerts) {
	const base = "/api/v1/alerts"
	r.Add(
		api.Op(http.MethodGet, base+"/rules", func(c *gin.Context, _ *struct{}) (api.List[service.AlertRule], error) {
			rules, err := svc.Rules(c.Request.Context())
			return api.NewList(rules, len(rules)), err
		}, api.Doc("alerts", "Alert rules (consumer lag, lag seconds, Burrow-style status, cluster health)"),
			api.Errors(http.StatusServiceUnavailable)),

		api.Op(http.MethodPost, base+"/rules", func(c *gin.Context, in *service.AlertRuleInput) (service.AlertRule, error) {
			return svc.CreateRule(c.Request.Context(), api.CallerOf(c), *in)
		}, api.Doc("alerts", "Create an alert rule"), api.Needs(service.RoleOperator, "alert.rule.create"),
			api.Status(http.StatusCreated), api.Errors(http.StatusConflict, http.StatusServiceUnavailable)),

		api.Op(http.MethodPut, base+"/rules/:id", func(c *gin.Context, in *ruleIn) (service.AlertRule, error) {
			if err := in.Check(); err != nil {
				return service.AlertRule{}, err
			}
			return svc.UpdateRule(c.Request.Context(), api.CallerOf(c), in.ID, in.AlertRuleInput)
		}, api.Doc("alerts", "Replace an alert rule"), api.Needs(service.RoleOperator, "alert.rule.update"),
			api.Errors(http.StatusConflict, http.StatusServiceUnavailable)),

		api.Op(http.MethodDelete, base+"/rules/:id", func(c *gin.Context, in *idPath) (api.NoContent, error) {
			if err := in.Check(); err != nil {
				return api.NoContent{}, err
			}
			return api.NoContent{}, svc.DeleteRule(c.Request.Context(), api.CallerOf(c), in.ID)
		}, api.Doc("alerts", "Delete an alert rule"), api.Needs(service.RoleOperator, "alert.rule.delete"),
			api.Errors(http.StatusServiceUnavailable)),

		api.Op(http.MethodGet, base+"/channels", func(c *gin.Context, _ *struct{}) (api.List[service.AlertChannel], error) {
			chs, err := svc.Channels(c.Request.Context())
			return api.NewList(chs, len(chs)), err
		}, api.Doc("alerts", "Notification channels (webhook, e-mail, Slack, DingTalk, WeCom, Feishu); secrets hidden"),
			api.Errors(http.StatusServiceUnavailable)),

		api.Op(http.MethodPost, base+"/channels", func(c *gin.Context, in *service.AlertChannelInput) (service.AlertChannel, error) {
			return svc.CreateChannel(c.Request.Context(), api.CallerOf(c), *in)
		}, api.Doc("alerts", "Create a notification channel"), api.Needs(service.RoleOperator, "alert.channel.create"),
			api.Status(http.StatusCreated), api.Errors(http.StatusConflict, http.StatusServiceUnavailable)),

		api.Op(http.MethodPut, base+"/channels/:id", func(c *gin.Context, in *channelIn) (service.AlertChannel, error) {
			if err := in.Check(); err != nil {
				return service.AlertChannel{}, err
			}
			return svc.UpdateChannel(c.Request.Context(), api.CallerOf(c), in.ID, in.AlertChannelInput)
		}, api.Doc("alerts", "Replace a notification channel"), api.Needs(service.RoleOperator, "alert.channel.update"),
			api.Errors(http.StatusConflict, http.StatusServiceUnavailable)),

		api.Op(http.MethodDelete, base+"/channels/:id", func(c *gin.Context, in *idPath) (api.NoContent, error) {
			if err := in.Check(); err != nil {
				return api.NoContent{}, err
			}
			return api.NoContent{}, svc.DeleteChannel(c.Request.Context(), api.CallerOf(c), in.ID)
		}, api.Doc("alerts", "Delete a notification channel"), api.Needs(service.RoleOperator, "alert.channel.delete"),
			api.Errors(http.StatusServiceUnavailable)),

		api.Op(http.MethodPost, base+"/channels/:id/test", func(c *gin.Context, in *idPath) (service.ChannelTestResult, error) {
			if err := in.Check(); err != nil {
				return service.ChannelTestResult{}, err
			}
			return svc.TestChannel(c.Request.Context(), api.CallerOf(c), in.ID)
		}, api.Doc("alerts", "Send a test notification through a channel"), api.Needs(service.RoleOperator, "alert.channel.test"),
			api.Errors(http.StatusServiceUnavailable)),

		api.Op(http.MethodGet, base+"/events", func(c *gin.Context, in *params.Page) (api.List[service.AlertEvent], error) {
			limit, offset, err := in.Resolve()
			if err != nil {
				return api.List[service.AlertEvent]{}, err
			}
			evs, total, err := svc.Events(c.Request.Context(), limit, offset)
			return api.NewList(evs, total), err
		}, api.Doc("alerts", "Alert history, newest first"), api.Errors(http.StatusServiceUnavailable)),

		api.Op(http.MethodGet, base+"/active", func(c *gin.Context, _ *struct{}) (api.List[service.ActiveAlert], error) {
			act, err := svc.Active()
			return api.NewList(act, len(act)), err
		}, api.Doc("alerts", "Alerts firing now"), api.Errors(http.StatusServiceUnavailable)),
	)
}

// idPath is the {id} of a rule or channel.
type idPath struct {
	ID int64 `path:"id" json:"-" minimum:"1" description:"Rule or channel id"`
}

// Check refuses ids that no row can have, with the message the page shows.
func (p idPath) Check() error {
	if p.ID <= 0 {
		return api.BadRequest("id must be a positive number", "param", "id")
	}
	return nil
}

// ruleIn and channelIn are the id and the body of a replacement; the document shows the body as
// the same input type as the creation's (inline, referring to it) rather than as a type of its own.
type ruleIn struct {
	idPath
	service.AlertRuleInput `refer:"true"`
}

// InlineJSONSchema keeps the wrapper out of the document's named schemas.
func (ruleIn) InlineJSONSchema() {}

type channelIn struct {
	idPath
	service.AlertChannelInput `refer:"true"`
}

// InlineJSONSchema keeps the wrapper out of the document's named schemas.
func (channelIn) InlineJSONSchema() {}
