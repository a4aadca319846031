package server

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/osprey-kafka/osprey/server/service"
)

// errorBody is the one error shape of the API: {"error": {"code": "...", "message": "..."}}.
// Message is written for the user; internal causes are logged, never returned.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func writeError(c *gin.Context, status int, code, message string) {
	c.AbortWithStatusJSON(status, errorBody{Error: errorDetail{Code: code, Message: message}})
}

// list is the API's shape for collections.
type list[T any] struct {
	Items []T `json:"items"`
	Total int `json:"total"`
}

func newList[T any](items []T, total int) list[T] {
	if items == nil {
		items = []T{}
	}
	return list[T]{Items: items, Total: total}
}

// fail maps a service error to its HTTP status; unexpected errors are logged and reported as 500
// without their internal detail.
func (s *Server) fail(c *gin.Context, err error) {
	var ue *service.UserError
	switch {
	case errors.Is(err, service.ErrUnknownCluster):
		writeError(c, http.StatusNotFound, "cluster_not_found", err.Error())
	case errors.As(err, &ue):
		writeError(c, ue.Status, ue.Code, ue.Message)
	default:
		s.opts.Logger.Error("request failed", "path", c.Request.URL.Path, "err", err)
		writeError(c, http.StatusInternalServerError, "internal", "internal error; the console's log has the details")
	}
}
