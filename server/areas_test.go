package server

import (
	"github.com/gin-gonic/gin"

	apidecl "github.com/osprey-kafka/osprey/server/api"
)

// mountAreas serves only the given areas' declarations on e, guarded and failing as New mounts
// them, for tests that build their own engine around one area.
func (s *Server) mountAreas(e *gin.Engine, declare ...func(*apidecl.Registry)) {
	r := &apidecl.Registry{}
	for _, d := range declare {
		d(r)
	}
	r.Mount(e, apidecl.Hooks{Guard: s.require, Fail: s.fail})
}

// openAPIPath turns a Gin path into the document's /a/{b} form.
func openAPIPath(p string) string { return apidecl.OpenAPIPath(p) }
