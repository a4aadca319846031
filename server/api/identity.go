package api

import (
	"github.com/gin-gonic/gin"

	"github.com/osprey-kafka/osprey/server/service"
)

const ctxIdentity = "osprey.identity"

// SetIdentity records who the caller is; the server's identify middleware calls it once per request.
func SetIdentity(c *gin.Context, id service.Identity) { c.Set(ctxIdentity, id) }

// IdentityOf is the caller's identity (Anonymous when none was set).
func IdentityOf(c *gin.Context) service.Identity {
	if v, ok := c.Get(ctxIdentity); ok {
		return v.(service.Identity)
	}
	return service.Anonymous
}

// CallerOf is what the service needs to know of the caller: identity and address, for the audit log.
func CallerOf(c *gin.Context) service.Caller {
	return service.Caller{Identity: IdentityOf(c), RemoteAddr: c.ClientIP(), UserAgent: c.Request.UserAgent()}
}
