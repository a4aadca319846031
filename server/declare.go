package server

import (
	"github.com/osprey-kafka/osprey/server/api"
	"github.com/osprey-kafka/osprey/server/endpoints/clusters"
	"github.com/osprey-kafka/osprey/server/endpoints/operations"
)

// declare gathers every area's endpoint declarations: adding an area is one line here.
func declare(s *Server) *api.Registry {
	r := &api.Registry{}
	clusters.Declare(r, s.svc)
	operations.Declare(r, s.svc)
	return r
}
