package server

import (
	"github.com/osprey-kafka/osprey/alert"
	"github.com/osprey-kafka/osprey/server/api"
	"github.com/osprey-kafka/osprey/server/endpoints/alerts"
	authep "github.com/osprey-kafka/osprey/server/endpoints/auth"
	"github.com/osprey-kafka/osprey/server/endpoints/availability"
	"github.com/osprey-kafka/osprey/server/endpoints/clusters"
	"github.com/osprey-kafka/osprey/server/endpoints/events"
	"github.com/osprey-kafka/osprey/server/endpoints/groups"
	"github.com/osprey-kafka/osprey/server/endpoints/health"
	"github.com/osprey-kafka/osprey/server/endpoints/housekeeping"
	"github.com/osprey-kafka/osprey/server/endpoints/imports"
	"github.com/osprey-kafka/osprey/server/endpoints/messages"
	"github.com/osprey-kafka/osprey/server/endpoints/operations"
	"github.com/osprey-kafka/osprey/server/endpoints/quorum"
	"github.com/osprey-kafka/osprey/server/endpoints/runtimeclusters"
	"github.com/osprey-kafka/osprey/server/endpoints/security"
	"github.com/osprey-kafka/osprey/server/endpoints/series"
	"github.com/osprey-kafka/osprey/server/endpoints/storage"
	"github.com/osprey-kafka/osprey/server/endpoints/topics"
	"github.com/osprey-kafka/osprey/server/endpoints/transactions"
	"github.com/osprey-kafka/osprey/server/endpoints/users"
	"github.com/osprey-kafka/osprey/server/endpoints/zookeeper"
	"github.com/osprey-kafka/osprey/server/service"
)

// declare gathers every area's endpoint declarations: adding an area is one line here.
func declare(s *Server) *api.Registry {
	r := &api.Registry{}
	clusters.Declare(r, s.svc)
	health.Declare(r, s.healthOptions())
	events.Declare(r, s.ext().hub, s.svc)
	operations.Declare(r, s.svc)
	runtimeclusters.Declare(r, s.svc)
	topics.Declare(r, s.svc)
	groups.Declare(r, s.svc)
	messages.Declare(r, s.svc)
	zookeeper.Declare(r, s.svc)
	quorum.Declare(r, s.svc)
	series.Declare(r, s.svc)
	availability.Declare(r, s.svc)
	housekeeping.Declare(r, s.svc)
	storage.Declare(r, s.svc)
	transactions.Declare(r, s.svc)
	security.Declare(r, s.svc)
	authep.Declare(r, s.svc, authep.Options{ReadOnly: s.opts.ReadOnly})
	users.Declare(r, s.svc)
	imports.Declare(r, s.svc)
	// The alert service is read per request: a console without the evaluator (nil) answers 503.
	alerts.Declare(r, service.NewAlerts(s.svc, func() *alert.Service { return s.opts.Alerts }))
	return r
}
