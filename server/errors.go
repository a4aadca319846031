package server

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/go-sql-driver/mysql"

	apidecl "github.com/osprey-kafka/osprey/server/api"
	"github.com/osprey-kafka/osprey/server/service"
)

// writeError answers the API's one error shape (api.ErrorBody) from the middleware, which runs
// outside the declared endpoints.
func writeError(c *gin.Context, status int, code, message string) {
	writeErrorParams(c, status, code, message, nil)
}

func writeErrorParams(c *gin.Context, status int, code, message string, params map[string]any) {
	c.AbortWithStatusJSON(status, apidecl.ErrorBody{Error: apidecl.ErrorDetail{Code: code, Message: message, Params: params}})
}

// databaseDown says whether an unexpected error is the database not answering: the console's own
// writes report it unavailable, or the request's query lost its connection.
func (s *Server) databaseDown(err error) bool {
	if st := s.svc.DatabaseStatus(); st != nil && !st.Available {
		return true
	}
	return errors.Is(err, driver.ErrBadConn) || errors.Is(err, mysql.ErrInvalidConn)
}

// fail maps a service error to its HTTP status; unexpected errors are logged and reported as 500
// without their internal detail.
func (s *Server) fail(c *gin.Context, err error) {
	var ue *service.UserError
	switch {
	case errors.Is(err, service.ErrUnknownCluster):
		if name := c.Param("cluster"); name != "" {
			writeErrorParams(c, http.StatusNotFound, "cluster_not_found", fmt.Sprintf("no cluster named %q", name), map[string]any{"cluster": name})
		} else {
			writeError(c, http.StatusNotFound, "cluster_not_found", err.Error())
		}
	case errors.As(err, &ue):
		switch {
		case ue.Status >= http.StatusInternalServerError:
			// Kafka or ZooKeeper failed the call: the operator looking at the log should see it too.
			s.opts.Logger.Warn("request failed upstream", "method", c.Request.Method, "path", c.Request.URL.Path,
				"status", ue.Status, "code", ue.Code, "err", ue.Message, "cause", ue.Cause)
		case ue.Cause != nil:
			// The answer says what to fix in a sentence; the full chain (the broker's own message,
			// the parse error) is kept here.
			s.opts.Logger.Info("request refused", "method", c.Request.Method, "path", c.Request.URL.Path,
				"status", ue.Status, "code", ue.Code, "err", ue.Message, "cause", ue.Cause)
		}
		writeErrorParams(c, ue.Status, ue.Code, ue.Message, ue.Params)
	case s.databaseDown(err):
		// Pages from snapshots still answer; what needs the database fails fast with one code the
		// SPA shows as a banner, instead of an "internal error" per request.
		s.opts.Logger.Warn("request failed: the database does not answer", "path", c.Request.URL.Path, "err", err)
		writeError(c, http.StatusServiceUnavailable, "database_unavailable", "the console's database does not answer; pages from the latest snapshots still work, history and changes do not")
	default:
		s.opts.Logger.Error("request failed", "path", c.Request.URL.Path, "err", err)
		writeError(c, http.StatusInternalServerError, "internal", "internal error; the console's log has the details")
	}
}
