package server

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/osprey-kafka/osprey/alert"
	"github.com/osprey-kafka/osprey/server/service"
)

// registerAlerts adds the alerting API. Rules, channels, events and active alerts are readable by anyone
// who can read the console (channels with every secret masked: robot tokens in URLs, signing secrets,
// secret headers, the SMTP password); every change needs the operator role and is audited.
func (s *Server) registerAlerts(api *gin.RouterGroup) {
	a := api.Group("/alerts")
	a.GET("/rules", s.alertsOn, s.listAlertRules)
	a.POST("/rules", s.alertsOn, s.require(service.RoleOperator, "alert.rule.create"), s.createAlertRule)
	a.PUT("/rules/:id", s.alertsOn, s.require(service.RoleOperator, "alert.rule.update"), s.updateAlertRule)
	a.DELETE("/rules/:id", s.alertsOn, s.require(service.RoleOperator, "alert.rule.delete"), s.deleteAlertRule)
	a.GET("/channels", s.alertsOn, s.listAlertChannels)
	a.POST("/channels", s.alertsOn, s.require(service.RoleOperator, "alert.channel.create"), s.createAlertChannel)
	a.PUT("/channels/:id", s.alertsOn, s.require(service.RoleOperator, "alert.channel.update"), s.updateAlertChannel)
	a.DELETE("/channels/:id", s.alertsOn, s.require(service.RoleOperator, "alert.channel.delete"), s.deleteAlertChannel)
	a.POST("/channels/:id/test", s.alertsOn, s.require(service.RoleOperator, "alert.channel.test"), s.testAlertChannel)
	a.GET("/events", s.alertsOn, s.listAlertEvents)
	a.GET("/active", s.alertsOn, s.listActiveAlerts)
}

// alertsOn answers 503 when this console runs without the alert evaluator.
func (s *Server) alertsOn(c *gin.Context) {
	if s.opts.Alerts == nil {
		writeError(c, http.StatusServiceUnavailable, "alerts_disabled", "alerting is not running in this console")
		return
	}
	c.Next()
}

func idParam(c *gin.Context) (int64, bool) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		writeError(c, http.StatusBadRequest, "bad_request", "id must be a positive number")
		return 0, false
	}
	return id, true
}

func (s *Server) listAlertRules(c *gin.Context) {
	rules, err := s.opts.Alerts.ListRules(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, newList(rules, len(rules)))
}

func (s *Server) createAlertRule(c *gin.Context) {
	var in alert.RuleInput
	if !bindJSON(c, &in) {
		return
	}
	var r alert.Rule
	err := s.svc.Audited(c.Request.Context(), callerOf(c), "alert.rule.create", in.Cluster, in.Name, in, func() (err error) {
		r, err = s.opts.Alerts.CreateRule(c.Request.Context(), in)
		return err
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, r)
}

func (s *Server) updateAlertRule(c *gin.Context) {
	id, ok := idParam(c)
	if !ok {
		return
	}
	var in alert.RuleInput
	if !bindJSON(c, &in) {
		return
	}
	var r alert.Rule
	err := s.svc.Audited(c.Request.Context(), callerOf(c), "alert.rule.update", in.Cluster, c.Param("id"), in, func() (err error) {
		r, err = s.opts.Alerts.UpdateRule(c.Request.Context(), id, in)
		return err
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, r)
}

func (s *Server) deleteAlertRule(c *gin.Context) {
	id, ok := idParam(c)
	if !ok {
		return
	}
	err := s.svc.Audited(c.Request.Context(), callerOf(c), "alert.rule.delete", "", c.Param("id"), nil, func() error {
		return s.opts.Alerts.DeleteRule(c.Request.Context(), id)
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *Server) listAlertChannels(c *gin.Context) {
	chs, err := s.opts.Alerts.ListChannels(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, newList(chs, len(chs)))
}

// channelAudit keeps channel configs (URLs with tokens, passwords) out of the audit log.
func channelAudit(in alert.ChannelInput) map[string]any {
	return map[string]any{"name": in.Name, "type": in.Type, "enabled": in.Enabled}
}

func (s *Server) createAlertChannel(c *gin.Context) {
	var in alert.ChannelInput
	if !bindJSON(c, &in) {
		return
	}
	var id int64
	err := s.svc.Audited(c.Request.Context(), callerOf(c), "alert.channel.create", "", in.Name, channelAudit(in), func() (err error) {
		id, err = s.opts.Alerts.CreateChannel(c.Request.Context(), in)
		return err
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	ch, err := s.opts.Alerts.GetChannel(c.Request.Context(), id)
	if err != nil {
		c.JSON(http.StatusCreated, gin.H{"id": id})
		return
	}
	c.JSON(http.StatusCreated, ch)
}

func (s *Server) updateAlertChannel(c *gin.Context) {
	id, ok := idParam(c)
	if !ok {
		return
	}
	var in alert.ChannelInput
	if !bindJSON(c, &in) {
		return
	}
	var ch alert.Channel
	err := s.svc.Audited(c.Request.Context(), callerOf(c), "alert.channel.update", "", c.Param("id"), channelAudit(in), func() (err error) {
		ch, err = s.opts.Alerts.UpdateChannel(c.Request.Context(), id, in)
		return err
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, ch)
}

func (s *Server) deleteAlertChannel(c *gin.Context) {
	id, ok := idParam(c)
	if !ok {
		return
	}
	err := s.svc.Audited(c.Request.Context(), callerOf(c), "alert.channel.delete", "", c.Param("id"), nil, func() error {
		return s.opts.Alerts.DeleteChannel(c.Request.Context(), id)
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// testAlertChannel sends a test notification now. A delivery failure is not an API failure: it
// answers 200 with delivered=false and the receiver's error, so the UI can show it.
func (s *Server) testAlertChannel(c *gin.Context) {
	id, ok := idParam(c)
	if !ok {
		return
	}
	if _, err := s.opts.Alerts.GetChannel(c.Request.Context(), id); err != nil {
		s.fail(c, err)
		return
	}
	var sendErr error
	_ = s.svc.Audited(c.Request.Context(), callerOf(c), "alert.channel.test", "", c.Param("id"), nil, func() error {
		sendErr = s.opts.Alerts.TestChannel(c.Request.Context(), id)
		return sendErr
	})
	if sendErr != nil {
		c.JSON(http.StatusOK, gin.H{"delivered": false, "error": sendErr.Error()})
		return
	}
	c.JSON(http.StatusOK, gin.H{"delivered": true})
}

func (s *Server) listAlertEvents(c *gin.Context) {
	limit, offset, ok := pageParams(c)
	if !ok {
		return
	}
	evs, total, err := s.opts.Alerts.Events(c.Request.Context(), limit, offset)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, newList(evs, int(total)))
}

func (s *Server) listActiveAlerts(c *gin.Context) {
	act := s.opts.Alerts.Active()
	c.JSON(http.StatusOK, newList(act, len(act)))
}
